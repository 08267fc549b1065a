// Basket: holds grouped by venue with countdowns, remove, checkout.
import {
  initPage, onLangChange, getLang, t, h, api, loadJson, formatMoney, formatDateTime, formatCountdown,
  applyAccent, showProblem, showMessage, clearMessage, param, uuid, getBasket, replaceHold,
  removeHold, storeBasketToken, getBasketToken, ApiProblem, withLang, problemText, fieldErrorMessage
} from './core.js';

const basketEl = document.getElementById('basket');
const checkoutSection = document.getElementById('checkout-section');
const formEl = document.getElementById('checkout-form');
const nameEl = document.getElementById('buyer-name');
const emailEl = document.getElementById('buyer-email');
const checkoutBtn = document.getElementById('checkout');
const messageEl = document.getElementById('message');
const noticesEl = document.getElementById('notices');
const cancelledEl = document.getElementById('cancelled');

const PENDING_KEY = 'loket.checkout.pending';
// The basket whose payment page the buyer went to: if they come back without
// paying (cancel or the back button), its reservations are taken back for them.
const PAYING_KEY = 'loket.checkout.paying';
const state = { venues: new Map(), titles: new Map(), ready: false, busy: false, navigating: false, notices: [] };

function holdUrl(hold) {
  return `/api/holds/${encodeURIComponent(hold.venue)}/${encodeURIComponent(hold.hold_id)}`;
}

/** The event's title in the page's language where the catalogue has it (a hold keeps the Dutch one). */
function eventTitle(hold) {
  const titles = state.titles.get(`${hold.venue}/${hold.event_id}`) || {};
  return titles[getLang()] || hold.event_title || titles.nl || hold.event_id || hold.hold_id;
}

function holdTitle(hold) {
  const when = hold.starts_at ? ` (${formatDateTime(hold.starts_at)})` : '';
  return `${eventTitle(hold)}${when}`;
}

function isExpired(hold, now = Date.now()) {
  if (!hold.expires_at) return false;
  const t0 = new Date(hold.expires_at).getTime();
  return Number.isFinite(t0) && t0 <= now;
}

function addNotice(text) {
  state.notices.push(text);
  noticesEl.replaceChildren(...state.notices.map((n) => h('p', {}, n)));
  noticesEl.hidden = false;
}

function drop(hold, reasonKey = 'basket.dropped') {
  removeHold(hold.venue, hold.hold_id);
  addNotice(t(reasonKey, { title: holdTitle(hold) }));
}

/* ---------- validation against the API ---------- */
async function revalidate(hold) {
  try {
    const fresh = await api(holdUrl(hold));
    if (fresh && ['held', 'checkout'].includes(fresh.status) && !isExpired(fresh)) {
      replaceHold({ ...hold, ...fresh });
      return true;
    }
    drop(hold);
    return false;
  } catch (err) {
    if (err instanceof ApiProblem && (err.status === 404 || err.status === 410)) {
      drop(hold);
      return false;
    }
    return true; // network or server trouble: keep it, the countdown still applies
  }
}

async function revalidateAll() {
  const holds = getBasket();
  const results = await Promise.all(holds.map(async (hold) => ({ hold, ok: await revalidate(hold) })));
  return results.filter((r) => !r.ok).map((r) => r.hold);
}

async function loadVenues() {
  try {
    const data = await loadJson('/catalogue/network.json');
    for (const v of data?.venues || []) state.venues.set(v.slug, v);
    for (const e of data?.events || []) state.titles.set(`${e.venue}/${e.event_id}`, e.titles || {});
  } catch { /* names fall back to the slug */ }
}

/* ---------- rendering ---------- */
function render() {
  const holds = getBasket();
  basketEl.setAttribute('aria-busy', 'false');
  if (!holds.length) {
    basketEl.replaceChildren(
      h('p', { class: 'empty' }, t('basket.empty')),
      h('p', {}, h('a', { href: withLang('/index.html'), class: 'button' }, t('basket.continue'))));
    checkoutSection.hidden = true;
    return;
  }
  const groups = new Map();
  for (const hold of holds) {
    if (!groups.has(hold.venue)) groups.set(hold.venue, []);
    groups.get(hold.venue).push(hold);
  }
  const sections = [...groups.entries()].map(([slug, list]) => {
    const venue = state.venues.get(slug);
    const section = h('section', { class: 'venue-group', 'aria-label': venue?.name || slug },
      h('h2', { class: 'venue-group-title' }, venue?.name || slug),
      h('ul', { class: 'hold-list' }, list.map(holdItem)));
    applyAccent(section, venue?.brand_color);
    return section;
  });
  const total = holds.reduce((sum, x) => sum + (Number(x.total) || 0), 0);
  basketEl.replaceChildren(
    ...sections,
    h('p', { class: 'basket-total' }, `${t('basket.total')}: `, h('strong', { id: 'basket-total' }, formatMoney(total))));
  checkoutSection.hidden = false;
  tick();
}

function holdItem(hold) {
  const lines = Array.isArray(hold.lines) ? hold.lines : [];
  const remove = h('button', {
    type: 'button', class: 'button button-small button-secondary remove-hold',
    'aria-label': t('basket.remove_label', { title: eventTitle(hold) }),
    dataset: { holdId: hold.hold_id, venue: hold.venue }
  }, t('basket.remove'));
  remove.addEventListener('click', () => removeClicked(hold, remove));
  return h('li', { class: 'hold', dataset: { holdId: hold.hold_id } },
    h('div', { class: 'hold-main' },
      h('h3', { class: 'hold-title' }, eventTitle(hold)),
      hold.starts_at ? h('p', { class: 'hold-date' }, h('time', { datetime: hold.starts_at }, formatDateTime(hold.starts_at))) : null,
      h('ul', { class: 'hold-lines' }, lines.map((l) => h('li', {},
        t('basket.tickets_line', { qty: l.quantity, label: l.label || l.price_type }),
        ' — ', formatMoney((Number(l.unit_amount) || 0) * (Number(l.quantity) || 0))))),
      h('p', { class: 'countdown', dataset: { expires: hold.expires_at || '' } })),
    h('div', { class: 'hold-side' },
      h('p', { class: 'hold-total' }, formatMoney(hold.total)),
      remove));
}

/* ---------- countdowns ---------- */
function tick() {
  const now = Date.now();
  let expired = false;
  basketEl.querySelectorAll('.countdown').forEach((el) => {
    const at = new Date(el.dataset.expires).getTime();
    if (!Number.isFinite(at)) { el.textContent = ''; return; }
    const left = at - now;
    if (left <= 0) { expired = true; el.textContent = t('basket.expired'); return; }
    el.textContent = t('basket.expires_in', { time: formatCountdown(left) });
    el.classList.toggle('is-urgent', left < 120000);
  });
  if (expired && state.ready) {
    for (const hold of getBasket()) if (isExpired(hold, now)) drop(hold);
    render();
  }
}

/* ---------- remove ---------- */
async function removeClicked(hold, button) {
  clearMessage(messageEl);
  button.disabled = true;
  try {
    await api(holdUrl(hold), { method: 'DELETE' });
  } catch (err) {
    if (!(err instanceof ApiProblem) || !(err.status === 404 || err.status === 410)) {
      button.disabled = false;
      showProblem(messageEl, err);
      return;
    }
  }
  removeHold(hold.venue, hold.hold_id);
  addNotice(t('basket.removed', { title: eventTitle(hold) }));
  render();
}

/* ---------- checkout ---------- */
function pendingKey(body) {
  let pending = null;
  try { pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || 'null'); } catch { pending = null; }
  if (pending && pending.body === body && pending.key) return pending.key;
  const key = uuid();
  try { sessionStorage.setItem(PENDING_KEY, JSON.stringify({ body, key })); } catch { /* ignore */ }
  return key;
}

function forgetPending() {
  try { sessionStorage.removeItem(PENDING_KEY); } catch { /* ignore */ }
}

function setFieldError(input, message) {
  const errEl = document.getElementById(`${input.id}-error`);
  input.setAttribute('aria-invalid', message ? 'true' : 'false');
  if (errEl) {
    errEl.textContent = message || '';
    errEl.hidden = !message;
  }
}

function validateForm() {
  const name = nameEl.value.trim();
  const email = emailEl.value.trim();
  const nameError = name ? '' : t('basket.name_required');
  const emailError = /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? '' : t('basket.email_invalid');
  setFieldError(nameEl, nameError);
  setFieldError(emailEl, emailError);
  if (nameError) nameEl.focus();
  else if (emailError) emailEl.focus();
  return nameError || emailError ? null : { name, email };
}

function expiredHoldsFromProblem(problem) {
  const ids = new Set();
  const extra = problem.extra || {};
  if (extra.hold_id) ids.add(extra.hold_id);
  for (const x of [].concat(extra.holds || [], extra.expired_holds || [])) {
    if (typeof x === 'string') ids.add(x);
    else if (x?.hold_id) ids.add(x.hold_id);
  }
  for (const e of problem.errors) {
    for (const hold of getBasket()) {
      if ((e.field && e.field.includes(hold.hold_id)) || (e.message && e.message.includes(hold.hold_id))) ids.add(hold.hold_id);
    }
    const m = /holds\[(\d+)\]/.exec(e.field || '');
    if (m && problem.sentHolds?.[Number(m[1])]) ids.add(problem.sentHolds[Number(m[1])].hold_id);
  }
  return getBasket().filter((x) => ids.has(x.hold_id));
}

async function checkout(e) {
  e.preventDefault();
  if (state.busy) return;
  clearMessage(messageEl);
  const buyer = validateForm();
  if (!buyer) return;
  const holds = getBasket();
  if (!holds.length) { render(); return; }
  const payload = { holds: holds.map((x) => ({ venue: x.venue, hold_id: x.hold_id })), buyer, locale: getLang() };
  const key = pendingKey(JSON.stringify(payload));

  state.busy = true;
  checkoutBtn.disabled = true;
  checkoutBtn.textContent = t('basket.checking_out');
  formEl.setAttribute('aria-busy', 'true');
  try {
    const res = await api('/api/checkout', { method: 'POST', body: payload, headers: { 'Idempotency-Key': key } });
    if (!res?.basket_id || !res?.checkout_url) throw new ApiProblem({ status: 500, detail: t('common.unknown_error') });
    storeBasketToken(res.basket_id, res.basket_token);
    try { sessionStorage.setItem(PAYING_KEY, res.basket_id); } catch { /* ignore */ }
    forgetPending();
    state.navigating = true; // keep the button disabled while navigating away
    location.href = res.checkout_url;
  } catch (err) {
    if (!(err instanceof ApiProblem) || !(err.isNetwork || err.status >= 500)) forgetPending();
    if (err instanceof ApiProblem && err.is('/hold-expired')) {
      err.sentHolds = payload.holds;
      const named = expiredHoldsFromProblem(err);
      named.forEach((hold) => removeHold(hold.venue, hold.hold_id));
      const others = await revalidateAll();
      const expired = [...named, ...others.filter((o) => !named.some((n) => n.hold_id === o.hold_id))];
      const titles = expired.map(holdTitle).join(', ');
      showMessage(messageEl, 'error', problemText(err), titles ? t('basket.hold_expired', { title: titles }) : '');
      render();
    } else {
      showProblem(messageEl, err);
      for (const fe of err?.errors || []) {
        if (/email/i.test(fe.field || '')) setFieldError(emailEl, fieldErrorMessage(fe));
        else if (/name/i.test(fe.field || '')) setFieldError(nameEl, fieldErrorMessage(fe));
      }
    }
  } finally {
    if (!state.navigating) {
      state.busy = false;
      checkoutBtn.disabled = false;
      checkoutBtn.textContent = t('basket.checkout');
      formEl.setAttribute('aria-busy', 'false');
    }
  }
}

/* ---------- boot ---------- */
/* Back from the payment page without paying: the payment is closed and the
   reservations are held for the buyer again (the API says for how long). */
async function takeBackFromPayment() {
  let basketId = param('cancelled');
  try { basketId = basketId || sessionStorage.getItem(PAYING_KEY); } catch { /* ignore */ }
  if (!basketId) return false;
  const token = getBasketToken(basketId);
  if (!token) return false;
  try {
    const basket = await api(`/api/baskets/${encodeURIComponent(basketId)}/abandon`,
      { method: 'POST', headers: { 'X-Basket-Token': token } });
    try { sessionStorage.removeItem(PAYING_KEY); } catch { /* ignore */ }
    if (!basket?.abandoned) { // paid after all (or being paid): show the order
      location.replace(withLang(`/order.html?basket=${encodeURIComponent(basketId)}`));
      return false;
    }
    return true;
  } catch {
    return false; // the hold checks below still show what is left
  }
}

async function boot() {
  initPage();
  const tookBack = await takeBackFromPayment();
  if (param('cancelled') || tookBack) cancelledEl.hidden = false;
  for (const hold of getBasket()) if (isExpired(hold)) drop(hold);
  await Promise.all([loadVenues(), revalidateAll()]);
  state.ready = true;
  render();
  setInterval(tick, 1000);
}

formEl.addEventListener('submit', checkout);
nameEl.addEventListener('input', () => setFieldError(nameEl, ''));
emailEl.addEventListener('input', () => setFieldError(emailEl, ''));
// Back from the payment page, the browser may show this page from its cache
// without running it: run it, so the reservations are taken back and shown truthfully.
window.addEventListener('pageshow', (e) => { if (e.persisted) location.reload(); });
window.addEventListener('storage', (e) => { if (e.key === 'loket.basket' && state.ready) render(); });
onLangChange(() => {
  if (state.ready) render();
  if (state.busy) checkoutBtn.textContent = t('basket.checking_out');
});
boot();
