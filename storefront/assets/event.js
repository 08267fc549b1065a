// Event detail: performances with availability, quantities per price type, reserve (hold).
import {
  initPage, onLangChange, getLang, t, tn, h, api, loadJson, formatMoney, formatDateTime, formatTime,
  applyAccent, showProblem, showMessage, clearMessage, param, uuid, addHold, ApiProblem, renderPriceTypeInputs, withLang,
  pictureSources
} from './core.js';

const MAX_PER_TYPE = 10;
const MAX_PER_HOLD = 20;

const venueSlug = param('venue') || '';
const eventId = param('event') || '';

const articleEl = document.getElementById('event');
const bookingEl = document.getElementById('booking');
const formEl = document.getElementById('booking-form');
const perfListEl = document.getElementById('performances');
const ticketsEl = document.getElementById('tickets');
const legendEl = document.getElementById('tickets-legend');
const priceTypesEl = document.getElementById('price-types');
const totalEl = document.getElementById('total');
const reserveEl = document.getElementById('reserve');
const messageEl = document.getElementById('message');
const onsaleEl = document.getElementById('onsale');
const onsaleTextEl = document.getElementById('onsale-text');
const toQueueEl = document.getElementById('to-queue');
const confirmEl = document.getElementById('confirmation');

const state = { event: null, selected: param('performance') || '', busy: false, pending: null };

function validId(s) {
  return typeof s === 'string' && s.length > 0 && s.length <= 200 && !s.includes('/') && !s.includes('..');
}

function eventUrl() {
  return `/catalogue/events/${encodeURIComponent(venueSlug)}/${encodeURIComponent(eventId)}.json`;
}

function performance(id) {
  return state.event?.performances?.find((p) => p.performance_id === id);
}

/** A high-demand performance is sold only through its waiting room (docs/onsale.md). */
function onsale(p) {
  return Boolean(p && p.onsale && typeof p.onsale === 'object');
}

function selectable(p) {
  // The waiting room stays open at sold-out: places that come back go to the line.
  return Boolean(p) && (onsale(p) || p.availability !== 'sold_out');
}

function queueHref(p) {
  const qs = new URLSearchParams({ venue: venueSlug, event: eventId, performance: p.performance_id });
  return withLang(`/queue.html?${qs}`);
}

/* ---------- rendering ---------- */
/** Title and description in the page's language; Dutch (the event's own) when the venue gave no other. */
function textsOf(ev) {
  const texts = ev.texts || { nl: { title: ev.title, description: ev.description } };
  const lang = getLang();
  if (texts[lang]) return { ...texts[lang], lang, fallback: false };
  return { ...(texts.nl || { title: ev.title, description: ev.description }), lang: 'nl', fallback: lang !== 'nl' };
}

function heroImage(image) {
  const sources = pictureSources(image);
  if (!sources) return null;
  return h('img', {
    class: 'event-hero', src: sources.largest, srcset: sources.srcset,
    sizes: '(min-width: 1120px) 1088px, 100vw', alt: '', width: image.width, height: image.height, fetchpriority: 'high'
  });
}

function venueBlock(venue) {
  const name = venue.name || venueSlug;
  return h('div', { class: 'venue-block' },
    h('p', { class: 'venue-tag' },
      venue.logo ? h('img', { class: 'venue-logo', src: `/${venue.logo_small || venue.logo}`, alt: '', width: 48, height: 48 }) : null,
      venue.website ? h('a', { href: venue.website, rel: 'noopener' }, name) : name),
    venue.address_line
      ? h('address', { class: 'venue-address' },
        h('span', { class: 'visually-hidden' }, `${t('event.address')}: `), venue.address_line, ' · ',
        h('a', { class: 'map-link', href: venue.map_url, rel: 'noopener' }, t('event.map')))
      : (venue.city ? h('p', { class: 'muted' }, venue.city) : null));
}

function facts(ev) {
  const items = [];
  if (ev.genre) items.push(h('li', { class: 'genre' }, t(`genre.${ev.genre}`)));
  if (ev.hall) items.push(h('li', {}, `${t('event.hall')}: ${ev.hall}`));
  if (ev.duration_minutes) items.push(h('li', {}, t('event.duration', { n: ev.duration_minutes })));
  if (ev.age_advice !== null && ev.age_advice !== undefined) {
    items.push(h('li', {}, ev.age_advice > 0 ? t('event.age', { n: ev.age_advice }) : t('event.age_all')));
  }
  return h('ul', { class: 'event-facts', 'aria-label': t('event.facts') }, items);
}

function renderDetail() {
  const ev = state.event;
  const venue = ev.venue || {};
  const texts = textsOf(ev);
  applyAccent(document.body, venue.brand_color);
  document.title = `${texts.title} — ${t('site.title')}`;
  const paragraphs = String(texts.description || '').split(/\n{2,}/).map((s) => s.trim()).filter(Boolean);
  articleEl.replaceChildren(...[
    heroImage(ev.image),
    venueBlock(venue),
    h('h1', { lang: texts.lang }, texts.title),
    facts(ev),
    texts.fallback ? h('p', { class: 'notice', id: 'only-dutch' }, t('event.only_dutch')) : null,
    h('div', { class: 'event-description', lang: texts.lang }, paragraphs.map((p) => h('p', {}, p)))
  ].filter(Boolean));
  articleEl.setAttribute('aria-busy', 'false');
}

function availabilityBadge(av) {
  const key = ['available', 'few_left', 'sold_out'].includes(av) ? av : 'available';
  return h('span', { class: `badge badge-${key.replace('_', '-')}` }, t(`avail.${key}`));
}

function renderPerformances() {
  const perfs = Array.isArray(state.event.performances) ? state.event.performances : [];
  if (!selectable(performance(state.selected))) {
    state.selected = perfs.find(selectable)?.performance_id || '';
  }
  if (!perfs.length) {
    perfListEl.replaceChildren(h('li', { class: 'muted' }, t('event.no_performances')));
    return;
  }
  perfListEl.replaceChildren(...perfs.map((p) => {
    const id = `perf-${p.performance_id}`;
    const soldOut = !selectable(p);
    const input = h('input', {
      type: 'radio', name: 'performance', id, value: p.performance_id,
      checked: p.performance_id === state.selected, disabled: soldOut
    });
    input.addEventListener('change', () => {
      state.selected = p.performance_id;
      clearMessage(messageEl);
      renderTicketsLegend();
      updateTotal();
    });
    return h('li', { class: `performance${soldOut ? ' is-sold-out' : ''}` },
      input,
      h('label', { for: id },
        h('time', { datetime: p.starts_at }, formatDateTime(p.starts_at)),
        p.cancelled ? h('span', { class: 'badge badge-sold-out', dataset: { cancelled: '' } }, t('avail.cancelled'))
          : onsale(p) ? h('span', { class: 'badge badge-queue' }, t('event.onsale_badge')) : availabilityBadge(p.availability)));
  }));
}

function renderTicketsLegend() {
  const p = performance(state.selected);
  legendEl.textContent = p ? t('event.tickets_for', { date: formatDateTime(p.starts_at) }) : t('event.tickets');
}

function renderPriceTypes() {
  renderPriceTypeInputs(priceTypesEl, state.event.price_types, { max: MAX_PER_TYPE, onChange: updateTotal });
}

function renderBookingVisibility() {
  const perfs = state.event.performances || [];
  const anySelectable = perfs.some(selectable);
  bookingEl.hidden = false;
  ticketsEl.hidden = !anySelectable;
  if (perfs.length && !anySelectable) {
    const cancelled = perfs.every((p) => p.cancelled);
    perfListEl.after(h('p', { class: 'notice', id: cancelled ? 'all-cancelled' : 'all-sold-out' },
      t(cancelled ? 'event.all_cancelled' : 'event.all_sold_out')));
  }
}

function renderAll() {
  renderDetail();
  renderPerformances();
  renderPriceTypes();
  renderTicketsLegend();
  document.getElementById('all-sold-out')?.remove();
  renderBookingVisibility();
  updateTotal();
}

/* ---------- quantities ---------- */
/** Returns {tickets, count, total, error}. */
function collectTickets() {
  const types = state.event?.price_types || [];
  const tickets = [];
  let count = 0;
  let total = 0;
  let error = null;
  for (const pt of types) {
    const input = document.getElementById(`qty-${pt.code}`);
    const raw = (input?.value ?? '').trim();
    const n = raw === '' ? 0 : Number(raw);
    const valid = Number.isInteger(n) && n >= 0 && n <= MAX_PER_TYPE;
    input?.setAttribute('aria-invalid', String(!valid));
    if (!valid) { error = error || t('event.qty_invalid'); continue; }
    if (n > 0) {
      tickets.push({ price_type: pt.code, quantity: n });
      count += n;
      total += n * (Number(pt.amount) || 0);
    }
  }
  if (!error && count > MAX_PER_HOLD) error = t('event.qty_max', { n: MAX_PER_HOLD });
  return { tickets, count, total, error };
}

/* A high-demand performance leads to its waiting room instead of the reserve button. */
function renderOnsale() {
  const p = performance(state.selected);
  const queued = onsale(p);
  onsaleEl.hidden = !queued;
  priceTypesEl.hidden = queued;
  totalEl.closest('.total-line').hidden = queued;
  reserveEl.hidden = queued;
  if (!queued) return;
  const opensAt = p.onsale.opens_at;
  const open = !opensAt || new Date(opensAt).getTime() <= Date.now();
  onsaleTextEl.textContent = open ? t('event.onsale_open') : t('event.onsale_note', { date: formatDateTime(opensAt) });
  toQueueEl.href = queueHref(p);
  toQueueEl.textContent = t('event.to_queue');
}

function updateTotal() {
  const { total } = collectTickets();
  totalEl.textContent = formatMoney(total);
  const p = performance(state.selected);
  reserveEl.disabled = state.busy || !selectable(p) || onsale(p);
  renderOnsale();
}

/* ---------- reserve ---------- */
function idempotencyKeyFor(payload) {
  const body = JSON.stringify(payload);
  if (state.pending && state.pending.body === body) return state.pending.key;
  state.pending = { body, key: uuid() };
  return state.pending.key;
}

async function refreshEvent() {
  try {
    state.event = await loadJson(eventUrl());
    renderAll();
  } catch { /* keep what we have */ }
}

async function reserve(e) {
  e.preventDefault();
  if (state.busy) return;
  clearMessage(messageEl);
  clearMessage(confirmEl);
  const p = performance(state.selected);
  if (!selectable(p)) { showMessage(messageEl, 'error', t('event.choose_first')); return; }
  if (onsale(p)) { location.href = queueHref(p); return; }
  const { tickets, count, error } = collectTickets();
  if (error) { showMessage(messageEl, 'error', error); return; }
  if (!count) { showMessage(messageEl, 'error', t('event.qty_zero')); return; }

  const payload = { venue: venueSlug, event_id: eventId, performance_id: p.performance_id, tickets };
  const key = idempotencyKeyFor(payload);
  state.busy = true;
  reserveEl.disabled = true;
  reserveEl.textContent = t('event.reserving');
  formEl.setAttribute('aria-busy', 'true');
  try {
    const hold = await api('/api/holds', { method: 'POST', body: payload, headers: { 'Idempotency-Key': key } });
    state.pending = null;
    addHold(hold);
    priceTypesEl.querySelectorAll('input[data-code]').forEach((input) => { input.value = '0'; });
    const n = Number.isFinite(hold?.quantity) ? hold.quantity : count;
    showMessage(confirmEl, 'success',
      h('p', {}, h('strong', {}, tn('event.reserved', n, { title: textsOf(state.event).title }))),
      hold?.expires_at ? h('p', {}, t('event.reserved_hint', { time: formatTime(hold.expires_at) })) : '',
      h('p', {}, h('a', { href: withLang('/basket.html'), class: 'button button-primary', id: 'to-basket' }, t('event.to_basket'))));
    confirmEl.querySelector('#to-basket')?.focus();
  } catch (err) {
    // Only keep the key for retries of the very same request when the outcome is unknown.
    if (!(err instanceof ApiProblem) || !(err.isNetwork || err.status >= 500)) state.pending = null;
    showProblem(messageEl, err);
    if (err instanceof ApiProblem && (err.is('/sold-out') || err.status === 409)) refreshEvent();
  } finally {
    state.busy = false;
    reserveEl.textContent = t('event.reserve');
    formEl.setAttribute('aria-busy', 'false');
    updateTotal();
  }
}

/* ---------- boot ---------- */
async function load() {
  if (!validId(venueSlug) || !validId(eventId)) {
    articleEl.replaceChildren(h('h1', {}, t('event.not_found')));
    articleEl.setAttribute('aria-busy', 'false');
    return;
  }
  try {
    state.event = await loadJson(eventUrl());
    if (!state.event || typeof state.event !== 'object') throw new ApiProblem({ status: 404 });
    renderAll();
  } catch (err) {
    const notFound = err instanceof ApiProblem && (err.status === 404 || err.status === 403);
    articleEl.replaceChildren(h('h1', {}, notFound ? t('event.not_found') : t('common.load_error')));
    articleEl.setAttribute('aria-busy', 'false');
    console.error(err);
  }
}

initPage();
formEl.addEventListener('submit', reserve);
onLangChange(() => {
  if (state.event) {
    renderAll();
    reserveEl.textContent = state.busy ? t('event.reserving') : t('event.reserve');
  }
});
load();
