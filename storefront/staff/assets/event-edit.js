// One event: texts per language (tabs), details, prices in euros, picture, performances with
// Brussels date/time pickers, and publish / take off / cancel / delete with a confirmation.
import { clearMessage, formatDateTime, formatMoney, h, pictureSources, showMessage, showProblem, t, uuid, withLang } from '/assets/core.js';
import { requireStaff, staffApi, venuePath } from './staff.js';
import { confirmAction, eurosText, fromPicker, parseEuros, statusOf, toPicker } from './admin.js';

const GENRES = ['classical', 'jazz', 'pop-rock', 'electronic', 'world', 'theatre', 'dance', 'comedy', 'family', 'tour', 'festival', 'other'];
const LANGUAGES = ['nl', 'fr', 'en'];
const ctx = await requireStaff({ lead: true });
const root = document.getElementById('editor');
const message = document.getElementById('message');
const params = new URLSearchParams(location.search);
let event = null;
let prices = [];
// One key per thing being created: a retried click or a lost answer never makes a second one.
const createKey = uuid();
let performanceKey = uuid();

const field = (id, label, input, hint) => h('div', { class: 'field' }, h('label', { for: id }, label), input,
  hint ? h('p', { class: 'muted', id: `${id}-hint` }, hint) : null);
const text = (id, value = '', attrs = {}) => h('input', { id, type: 'text', value: value ?? '', ...attrs });
const eventPath = (suffix = '') => venuePath(ctx, `/events/${encodeURIComponent(event.event_id)}${suffix}`);

function codeFor(label) {
  const base = label.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9+-]+/g, '-')
    .replace(/^-+|-+$/g, '').slice(0, 16) || 'prijs';
  let code = base; let n = 2;
  while (prices.some((p) => p.code === code)) code = `${base}-${n++}`;
  return code;
}

function textsSection() {
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('admin.texts') });
  const panels = LANGUAGES.map((lang) => {
    const own = lang === 'nl' ? { title: event?.title, description: event?.description } : (event?.translations?.[lang] || {});
    return h('div', { role: 'tabpanel', id: `panel-${lang}`, 'aria-labelledby': `tab-${lang}`, hidden: lang !== 'nl' },
      lang === 'nl' ? null : h('p', { class: 'muted' }, t('admin.optional_lang')),
      field(`title-${lang}`, t('admin.title'), text(`title-${lang}`, own.title, { lang, required: lang === 'nl', maxlength: 200 })),
      field(`description-${lang}`, t('admin.description'), h('textarea', { id: `description-${lang}`, lang, maxlength: 4000 }, own.description || '')));
  });
  const select = (lang) => {
    for (const other of LANGUAGES) {
      const chosen = other === lang;
      document.getElementById(`tab-${other}`).setAttribute('aria-selected', String(chosen));
      document.getElementById(`tab-${other}`).tabIndex = chosen ? 0 : -1;
      document.getElementById(`panel-${other}`).hidden = !chosen;
    }
  };
  LANGUAGES.forEach((lang, i) => tabs.append(h('button', { type: 'button', role: 'tab', id: `tab-${lang}`, 'aria-controls': `panel-${lang}`,
    'aria-selected': String(lang === 'nl'), tabIndex: lang === 'nl' ? 0 : -1, onclick: () => select(lang),
    onkeydown: (e) => {  // arrows move between the tabs, as a tab list should
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const next = LANGUAGES[(i + (e.key === 'ArrowRight' ? 1 : LANGUAGES.length - 1)) % LANGUAGES.length];
      select(next); document.getElementById(`tab-${next}`).focus();
    } }, t(`admin.lang.${lang}`))));
  return h('section', {}, h('h2', {}, t('admin.texts')), tabs, ...panels);
}

function detailsSection() {
  const genre = h('select', { id: 'genre' }, GENRES.map((g) => h('option', { value: g, selected: (event?.genre || 'other') === g }, t(`genre.${g}`))));
  return h('section', {}, h('h2', {}, t('admin.details')), h('div', { class: 'grid-fields' },
    field('hall', t('admin.hall'), text('hall', event?.hall, { required: true, maxlength: 200 })),
    field('genre', t('admin.genre'), genre),
    field('category', t('admin.category'), text('category', event?.category, { maxlength: 40 })),
    field('duration', t('admin.duration'), h('input', { id: 'duration', type: 'number', min: 1, max: 1440, value: event?.duration_minutes ?? '' })),
    field('age', t('admin.age'), h('input', { id: 'age', type: 'number', min: 0, max: 21, value: event?.age_advice ?? '' }))));
}

function pricesSection() {
  const rows = h('div', { id: 'prices' });
  const draw = () => rows.replaceChildren(...prices.map((price, i) => h('div', { class: 'row-card grid-fields', dataset: { code: price.code } },
    field(`price-label-${i}`, t('admin.price_label'), text(`price-label-${i}`, price.label, { maxlength: 200,
      oninput: (e) => { price.label = e.target.value; } })),
    field(`price-amount-${i}`, t('admin.price_amount'), text(`price-amount-${i}`, price.amount == null ? '' : eurosText(price.amount),
      { inputmode: 'decimal', autocomplete: 'off', oninput: (e) => { price.amountText = e.target.value; } })),
    h('div', {}, ['online', 'box-office'].map((channel) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', checked: (price.channels || ['online', 'box-office']).includes(channel), onchange: (e) => {
        const set = new Set(price.channels || ['online', 'box-office']);
        if (e.target.checked) set.add(channel); else set.delete(channel);
        price.channels = [...set];
      } }), channel === 'online' ? t('admin.price_online') : t('admin.price_box_office'))),
    prices.length > 1 ? h('button', { type: 'button', class: 'button button-secondary', onclick: () => { prices.splice(i, 1); draw(); } },
      `${t('admin.remove')}: ${price.label || ''}`) : null))));
  draw();
  return h('section', {}, h('h2', {}, t('admin.prices')), h('p', { class: 'muted' }, t('admin.price_note')), rows,
    h('button', { type: 'button', class: 'button button-secondary', id: 'add-price', onclick: () => {
      prices.push({ code: null, label: '', amount: null, channels: ['online', 'box-office'] }); draw();
      document.getElementById(`price-label-${prices.length - 1}`).focus();
    } }, t('admin.add_price')));
}

function body() {
  const value = (id) => document.getElementById(id).value.trim();
  const number = (id) => (value(id) === '' ? null : Number(value(id)));
  let bad = null;
  const priceTypes = prices.map((price, i) => {
    const input = document.getElementById(`price-amount-${i}`);
    const cents = parseEuros(input.value);
    input.setAttribute('aria-invalid', String(cents === null));
    if (cents === null && !bad) bad = input;
    const label = price.label.trim();
    if (!price.code) price.code = codeFor(label);
    return { code: price.code, label, amount: cents, channels: price.channels || ['online', 'box-office'] };
  });
  if (bad) { showMessage(message, 'error', t('admin.bad_amount')); bad.focus(); return null; }
  const translations = {};
  for (const lang of ['fr', 'en']) {
    if (value(`title-${lang}`)) translations[lang] = { title: value(`title-${lang}`), description: value(`description-${lang}`) };
  }
  return { title: value('title-nl'), description: value('description-nl'), hall: value('hall'), category: value('category'),
    genre: value('genre'), duration_minutes: number('duration'), age_advice: number('age'), translations, price_types: priceTypes };
}

async function save(e) {
  e.preventDefault();
  clearMessage(message);
  const sent = body();
  if (!sent) return;
  try {
    if (!event) {
      const created = await staffApi(venuePath(ctx, '/events'), { method: 'POST', body: sent, headers: { 'Idempotency-Key': createKey } });
      location.assign(withLang(`/staff/event-edit.html?${new URLSearchParams({ venue: ctx.venue, event: created.event_id, saved: '1' })}`));
      return;
    }
    event = { ...event, ...(await staffApi(eventPath(), { method: 'PUT', body: sent })) };
    render();
    showMessage(message, 'success', t('admin.saved'));
  } catch (error) { showProblem(message, error); }
  message.focus?.();
}

function imageSection() {
  const sources = pictureSources(event.image);
  const preview = h('img', { id: 'image-preview', class: 'preview', alt: t('admin.image_preview'), hidden: true });
  const file = h('input', { id: 'image-file', type: 'file', accept: 'image/png,image/jpeg', onchange: () => {
    const chosen = file.files[0];
    preview.hidden = !chosen;
    if (chosen) preview.src = URL.createObjectURL(chosen);
  } });
  const upload = h('button', { type: 'button', class: 'button button-secondary', id: 'image-upload', onclick: async () => {
    const chosen = file.files[0];
    if (!chosen) { file.focus(); return; }
    upload.disabled = true;
    try {
      event = { ...event, ...(await staffApi(eventPath('/image'), { method: 'PUT', body: chosen })) };
      render();
      showMessage(message, 'success', t('admin.image_uploaded'));
    } catch (error) { showProblem(message, error); } finally { upload.disabled = false; }
  } }, t('admin.image_upload'));
  return h('section', {}, h('h2', {}, t('admin.image')),
    sources ? h('figure', {}, h('img', { id: 'image-current', class: 'preview', src: sources.smallest, alt: t('admin.image_current') })) : null,
    field('image-file', t('admin.image_pick'), file), preview, upload);
}

function performanceFields(prefix, performance) {
  return [
    field(`${prefix}-starts`, t('admin.starts_at'), h('input', { id: `${prefix}-starts`, type: 'datetime-local', required: true,
      value: performance ? toPicker(performance.starts_at) : '' })),
    field(`${prefix}-capacity`, t('admin.capacity'), h('input', { id: `${prefix}-capacity`, type: 'number', min: 1, max: 100000, required: true,
      value: performance?.capacity ?? '' })),
    field(`${prefix}-quota`, t('admin.quota'), h('input', { id: `${prefix}-quota`, type: 'number', min: 0, value: performance?.box_office_quota ?? 0 })),
    field(`${prefix}-hall`, t('admin.hall_override'), text(`${prefix}-hall`, performance?.hall, { maxlength: 200 })),
  ];
}

function performanceBody(prefix) {
  const value = (name) => document.getElementById(`${prefix}-${name}`).value.trim();
  const sent = { starts_at: fromPicker(value('starts')), capacity: Number(value('capacity')), box_office_quota: Number(value('quota') || 0) };
  if (value('hall')) sent.hall = value('hall');
  return sent;
}

async function act(request, done) {
  clearMessage(message);
  try { const answer = await request(); await done(answer); } catch (error) { showProblem(message, error); }
}

function performancesSection() {
  const cancelled = Boolean(event.cancelled_at);
  const cards = (event.performances || []).map((p, i) => {
    const prefix = `perf-${i}`;
    const taken = p.capacity - p.available;
    const path = eventPath(`/performances/${encodeURIComponent(p.performance_id)}`);
    return h('div', { class: 'row-card', dataset: { performance: p.performance_id } },
      h('p', {}, h('strong', {}, formatDateTime(p.starts_at)), ' · ', t('admin.taken', { n: taken }),
        p.cancelled_at || cancelled ? h('span', { class: 'badge badge-cancelled' }, t('admin.status.cancelled')) : null),
      h('div', { class: 'grid-fields' }, ...performanceFields(prefix, p)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button button-primary', id: `${prefix}-save`, onclick: () => act(
          () => staffApi(path, { method: 'PUT', body: performanceBody(prefix) }),
          async () => { await reload(); showMessage(message, 'success', t('admin.saved')); }) }, t('admin.save')),
        p.cancelled_at || cancelled ? null : h('button', { type: 'button', class: 'button button-secondary', id: `${prefix}-cancel`, onclick: async () => {
          if (await confirmAction(t('admin.confirm_cancel_performance'))) {
            await act(() => staffApi(`${path}/cancel`, { method: 'POST' }), async (answer) => { await reload(); showCancelled(answer); });
          }
        } }, `${t('admin.cancel_performance')}: ${formatDateTime(p.starts_at)}`),
        taken ? null : h('button', { type: 'button', class: 'button button-secondary', id: `${prefix}-remove`, onclick: async () => {
          if (await confirmAction(t('admin.confirm_remove_performance'))) {
            await act(() => staffApi(path, { method: 'DELETE' }), async () => { await reload(); showMessage(message, 'success', t('admin.deleted_done')); });
          }
        } }, `${t('admin.remove')}: ${formatDateTime(p.starts_at)}`)));
  });
  return h('section', {}, h('h2', {}, t('admin.performances')), ...cards,
    cancelled ? null : h('div', { class: 'row-card' }, h('div', { class: 'grid-fields' }, ...performanceFields('new', null)),
      h('button', { type: 'button', class: 'button button-primary', id: 'add-performance', onclick: () => act(
        () => staffApi(eventPath('/performances'), { method: 'POST', body: performanceBody('new'), headers: { 'Idempotency-Key': performanceKey } }),
        async () => { performanceKey = uuid(); await reload(); showMessage(message, 'success', t('admin.saved')); }) }, t('admin.add_performance'))));
}

function showCancelled(answer) {
  const orders = answer.affected_orders || [];
  showMessage(message, 'warning', t('admin.cancelled_done', { n: orders.length }),
    ...(orders.length ? [h('ul', { id: 'to-refund', 'aria-label': t('admin.to_refund') }, orders.map((o) => h('li', {},
      h('a', { href: withLang(`/staff/orders.html?${new URLSearchParams({ venue: ctx.venue, q: o.order_id })}`) }, o.order_id),
      ` · ${formatMoney(o.total)} · ${t(`admin.order_status.${o.status}`)}`)))] : []));
}

function actionsSection() {
  const status = statusOf(event);
  const button = (id, label, confirmText, request, done) => h('button', { type: 'button', id,
    class: id === 'publish' ? 'button button-primary' : 'button button-secondary', onclick: async () => {
      if (await confirmAction(confirmText)) await act(request, done);
    } }, label);
  const post = (suffix) => () => staffApi(eventPath(suffix), { method: 'POST' });
  return h('section', {}, h('h2', {}, t('admin.actions')), h('div', { class: 'actions' },
    status === 'published' ? h('a', { class: 'button button-secondary', id: 'view-on-site',
      href: withLang(`/event.html?${new URLSearchParams({ venue: ctx.venue, event: event.event_id })}`) }, t('admin.view_on_site')) : null,
    status === 'draft' || status === 'unpublished' ? button('publish', t('admin.publish'), t('admin.confirm_publish'), post('/publish'),
      async () => { await reload(); showMessage(message, 'success', t('admin.published_done')); }) : null,
    status === 'published' ? button('unpublish', t('admin.unpublish'), t('admin.confirm_unpublish'), post('/unpublish'),
      async () => { await reload(); showMessage(message, 'success', t('admin.unpublished_done')); }) : null,
    status !== 'cancelled' ? button('cancel-event', t('admin.cancel_event'), t('admin.confirm_cancel'), post('/cancel'),
      async (answer) => { await reload(); showCancelled(answer); }) : null,
    status === 'draft' ? button('delete', t('admin.delete'), t('admin.confirm_delete'), () => staffApi(eventPath(), { method: 'DELETE' }),
      () => location.assign(withLang(`/staff/events.html?venue=${encodeURIComponent(ctx.venue)}`))) : null));
}

function render() {
  prices = (event?.price_types || [{ code: 'normaal', label: 'Normaal', amount: null }]).map((p) => ({ ...p }));
  document.getElementById('heading').textContent = event ? `${t('admin.editor_edit')}: ${event.title}` : t('admin.editor_new');
  const status = event ? statusOf(event) : 'draft';
  document.getElementById('status-line').replaceChildren(h('span', { class: `badge badge-${status}`, id: 'status' }, t(`admin.status.${status}`)));
  const form = h('form', { id: 'event-form', novalidate: true, onsubmit: save }, textsSection(), detailsSection(), pricesSection(),
    h('button', { type: 'submit', class: 'button button-primary', id: 'save' }, t('admin.save')));
  root.replaceChildren(form, ...(event ? [imageSection(), performancesSection(), actionsSection()] : []));
}

async function reload() {
  event = await staffApi(eventPath());
  render();
}

if (ctx) {
  try {
    if (params.get('event')) {
      event = { event_id: params.get('event') };
      await reload();
      if (params.get('saved')) showMessage(message, 'success', t('admin.saved'));
    } else {
      render();
    }
  } catch (error) {
    showProblem(message, error);
    root.replaceChildren();
  }
}
