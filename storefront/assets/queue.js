// The waiting room of a high-demand on-sale (docs/onsale.md): countdown, the
// buyer's request, joining the line, the place in line, the result.
//
// Before the opening nothing here needs the API: the countdown comes from the
// catalogue's opens_at and the line's progress from the static status file.
// The API is asked for the buyer's own entry once the line has been served past
// it (told by the status file: its draw or its join's sequence number, see
// turnKnown) and, once, for its place, at a random moment within a few seconds
// of it being known, unless the status file has answered first.
import {
  initPage, onLangChange, t, tn, h, api, loadJson, formatMoney, formatDateTime, formatTime, formatCountdown,
  applyAccent, showProblem, showMessage, clearMessage, param, uuid, addHold, getBasket, isSlug,
  rememberBuyerSession, buyerSession, ApiProblem, renderPriceTypeInputs
} from './core.js';
import { drawFor, turnFromStatus } from './queue-turn.js';

const STATUS_EVERY_MS = 1500;      // the status file is cached 1 s at the edge
const DEFAULT_POLL_MS = 2000;      // until the API says otherwise (poll_after_ms)
const SLOW_CHECK_MS = 120000;      // a fallback ask, only while the status file stands still
const STATUS_STILL_MS = 30000;     // the inlet rewrites the file at least every 5 s: 30 s unchanged means stuck
const PREQUEUE_CHECK_MS = 30000;   // before the draw, the entry cannot change much
const STATUS_STALE_MS = 10000;     // without a status file for this long, ask the API instead
const MAX_BACKOFF_MS = 15000;
const POSITION_ASK_SPREAD_MS = 10000; // the place is asked for once, spread so a line's opening is no herd

const venueSlug = param('venue') || '';
const eventId = param('event') || '';
const performanceId = param('performance') || '';

const ENTRY_KEY = `loket.queue.${venueSlug}.${performanceId}`;          // localStorage: survives reloads
const DONE_KEY = `loket.queue.done.${venueSlug}.${performanceId}`;      // localStorage: the hold it gave
const PENDING_KEY = `loket.queue.pending.${venueSlug}.${performanceId}`; // sessionStorage: Idempotency-Key

const $ = (id) => document.getElementById(id);
const els = {
  back: $('back'), article: $('event'), queue: $('queue'), countdownLine: $('countdown-line'),
  countdown: $('countdown'), opensAt: $('opens-at'), openNow: $('open-now'), soldOut: $('sold-out'),
  form: $('join-form'), maxHint: $('max-hint'), priceTypes: $('price-types'), total: $('total'), join: $('join'),
  waiting: $('waiting'), request: $('request'), queueState: $('queue-state'), position: $('position'),
  progressWrap: $('progress-wrap'), progress: $('progress'), message: $('message'), result: $('queue-result')
};

const state = {
  event: null, performance: null, onsale: null, opensAt: NaN,
  status: null, statusAt: 0, statusFailedSince: 0, statusChangedAt: 0,
  entry: null,            // {entry_id, queue_token, buyer_session, tickets, pre_queue, sequence_number}
  draw: null,             // {key, value}: this entry's draw, once the status file reveals the key
  positionAskAt: 0,       // when to ask for the place (0: not yet known to be numbered)
  answer: null,           // the last GET answer for the entry
  mode: 'loading',        // loading | pick | waiting | done | unavailable
  joining: false, entryBusy: false, entryNotBefore: 0, lastEntryAt: 0, failures: 0, wasOpen: false,
  result: null            // {kind: 'held', hold} | {kind: 'refused', reason}
};

/* ---------- storage ---------- */
function readJson(storage, key) {
  try { return JSON.parse(storage.getItem(key) || 'null'); } catch { return null; }
}
function writeJson(storage, key, value) {
  try { storage.setItem(key, JSON.stringify(value)); } catch { /* storage unavailable */ }
}
function removeKey(storage, key) {
  try { storage.removeItem(key); } catch { /* storage unavailable */ }
}

function storedEntry() {
  const e = readJson(localStorage, ENTRY_KEY);
  return e && typeof e.entry_id === 'string' && typeof e.queue_token === 'string' ? e : null;
}
function saveEntry() { writeJson(localStorage, ENTRY_KEY, state.entry); }
function forgetEntry() {
  state.entry = null;
  state.answer = null;
  state.draw = null;
  state.positionAskAt = 0;
  removeKey(localStorage, ENTRY_KEY);
}

/** One Idempotency-Key per request body, kept for the tab: a reload or a retry sends the same one. */
function idempotencyKey(body) {
  const pending = readJson(sessionStorage, PENDING_KEY);
  if (pending && pending.body === body && typeof pending.key === 'string') return pending.key;
  const key = uuid();
  writeJson(sessionStorage, PENDING_KEY, { body, key });
  return key;
}

/* ---------- time and the line ---------- */
function isOpen(now = Date.now()) {
  return state.status?.open === true || !(now < state.opensAt);
}

function statusFresh(now = Date.now()) {
  return Boolean(state.status) && now - state.statusAt < STATUS_STALE_MS;
}

/** How far the line has been admitted: the status file is fresher than the last entry answer. */
function serving() {
  const fromStatus = statusFresh() && Number.isFinite(state.status.serving) ? state.status.serving : null;
  const fromEntry = Number.isFinite(state.answer?.serving) ? state.answer.serving : null;
  if (fromStatus === null) return fromEntry;
  return fromEntry === null ? fromStatus : Math.max(fromStatus, fromEntry);
}

function position() {
  const p = state.answer?.position;
  return state.answer?.state === 'waiting' && Number.isFinite(p) ? p : null;
}

/** Buyers still ahead: positions count from 1 and `serving` is how many were admitted, so
    ahead = position - serving - 1; taken from the API's own answer when it gives one. */
function aheadOf(pos, srv) {
  const a = state.answer;
  if (srv === null) return Number.isFinite(a?.ahead) ? a.ahead : null;
  let offset = 1;
  if (Number.isFinite(a?.ahead) && Number.isFinite(a?.serving) && a.ahead > 0) offset = pos - a.serving - a.ahead;
  return Math.max(0, pos - srv - offset);
}

function soldOut() {
  // An admitted buyer's places are covered (docs/onsale.md): sold out is for those still waiting.
  const pos = position();
  const srv = serving();
  if (pos !== null && srv !== null && srv >= pos) return false;
  return state.status?.sold_out === true || state.answer?.sold_out === true;
}

function pollAfter() {
  const ms = Number(state.answer?.poll_after_ms);
  return Number.isFinite(ms) && ms >= 500 ? Math.min(ms, 60000) : DEFAULT_POLL_MS;
}

/* ---------- rendering ---------- */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text; // the live region speaks only on a change
}

function ticketsText(tickets) {
  const labels = new Map((state.event?.price_types || []).map((pt) => [pt.code, pt.label || pt.code]));
  return (tickets || []).map((x) => t('basket.tickets_line', { qty: x.quantity, label: labels.get(x.price_type) || x.price_type })).join(', ');
}

function renderEvent() {
  const ev = state.event;
  const venue = ev.venue || {};
  applyAccent(document.body, venue.brand_color);
  document.title = `${t('queue.title')}: ${ev.title} — ${t('site.title')}`;
  els.article.replaceChildren(
    h('p', { class: 'venue-tag' }, venue.name || venueSlug, venue.city ? h('span', { class: 'muted' }, ` · ${venue.city}`) : null),
    h('h1', {}, ev.title),
    state.performance
      ? h('p', { class: 'event-meta' }, h('time', { datetime: state.performance.starts_at }, formatDateTime(state.performance.starts_at)),
        ev.hall ? h('span', {}, `${t('event.hall')}: ${ev.hall}`) : null)
      : null);
  els.article.setAttribute('aria-busy', 'false');
}

function renderOpening() {
  const now = Date.now();
  const open = isOpen(now);
  const opensAt = state.onsale.opens_at;
  els.countdownLine.hidden = open;
  if (!open) setText(els.countdown, formatCountdown(state.opensAt - now));
  els.opensAt.textContent = t('queue.opens_at', { date: formatDateTime(opensAt) });
  els.opensAt.hidden = open;
  els.openNow.hidden = !open;
  setText(els.openNow, t('queue.open_now'));
}

function renderSoldOut() {
  const show = soldOut() && state.mode !== 'done' && state.mode !== 'unavailable';
  els.soldOut.hidden = !show;
  if (show) setText(els.soldOut, state.mode === 'waiting' ? t('queue.sold_out') : t('queue.sold_out_join'));
}

function renderWaiting() {
  const answer = state.answer;
  const now = Date.now();
  els.request.textContent = state.entry?.tickets?.length ? t('queue.request', { tickets: ticketsText(state.entry.tickets) }) : '';
  const pos = position();
  const srv = serving();
  let text;
  if (!answer || answer.state === 'queued' || pos === null) {
    text = isOpen(now) ? t('queue.state_numbering') : t('queue.state_prequeue', { time: formatTime(state.onsale.opens_at) });
  } else if (srv !== null && srv >= pos) {
    text = t('queue.state_turn');
  } else {
    text = t('queue.state_waiting');
  }
  setText(els.queueState, text);
  els.queueState.dataset.state = answer?.state || 'queued';
  if (pos === null) {
    els.position.hidden = true;
    els.progressWrap.hidden = true;
    return;
  }
  const ahead = aheadOf(pos, srv);
  setText(els.position, ahead === null
    ? t('queue.position_only', { position: pos.toLocaleString() })
    : t('queue.position', { position: pos.toLocaleString(), ahead: ahead.toLocaleString() }));
  els.position.hidden = false;
  els.position.dataset.position = String(pos);
  if (srv !== null) {
    // Progress since this page first knew the place: the bar moves however far back the place is.
    if (!Number.isFinite(state.entry.serving_start) || state.entry.serving_start > srv) {
      state.entry.serving_start = Math.min(srv, pos);
      saveEntry();
    }
    const span = pos - state.entry.serving_start;
    const pct = span <= 0 ? 100 : Math.round(Math.min(1, Math.max(0, (srv - state.entry.serving_start) / span)) * 100);
    els.progress.value = pct;
    els.progress.textContent = `${pct}%`;
    els.progressWrap.hidden = false;
  }
}

function renderResult() {
  const r = state.result;
  if (!r) { clearMessage(els.result); return; }
  if (r.kind === 'held') {
    const hold = r.hold || {};
    const n = Number.isFinite(hold.quantity) ? hold.quantity : (hold.lines || []).reduce((s, l) => s + (Number(l.quantity) || 0), 0);
    showMessage(els.result, 'success',
      h('p', {}, h('strong', {}, t('queue.held'))),
      h('p', {}, tn('event.reserved', n, { title: hold.event_title || state.event?.title || '' })),
      r.asked > n ? h('p', { id: 'held-fewer' }, t('queue.held_fewer', { asked: r.asked, n })) : '',
      hold.expires_at ? h('p', {}, t('event.reserved_hint', { time: formatTime(hold.expires_at) })) : '',
      h('p', {}, h('a', { href: '/basket.html', class: 'button button-primary', id: 'to-basket' }, t('event.to_basket'))));
  } else {
    const key = ['not_enough_places'].includes(r.reason) ? r.reason : 'other';
    showMessage(els.result, 'error',
      h('p', {}, h('strong', {}, t('queue.refused'))),
      h('p', { id: 'refused-reason' }, t(`queue.reason.${key}`)),
      h('p', {}, h('a', { href: eventHref(), class: 'button' }, t('queue.back'))));
  }
  els.result.dataset.result = r.kind;
}

function render() {
  if (!state.event || state.mode === 'loading') return;
  renderEvent();
  if (state.mode === 'unavailable') {
    els.queue.hidden = true;
    return;
  }
  els.queue.hidden = false;
  els.maxHint.textContent = t('queue.max', { n: state.onsale.max_tickets_per_buyer });
  renderOpening();
  $('opening').hidden = state.mode === 'done';
  els.form.hidden = state.mode !== 'pick';
  els.waiting.hidden = state.mode !== 'waiting';
  if (state.mode === 'waiting') renderWaiting();
  renderSoldOut();
  renderResult();
  if (state.mode === 'pick') updateTotal();
}

/* ---------- the ticket picker ---------- */
function maxTickets() {
  const n = Number(state.onsale?.max_tickets_per_buyer);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

function renderPriceTypes() {
  renderPriceTypeInputs(els.priceTypes, state.event.price_types, { max: maxTickets(), hint: 'max-hint', onChange: updateTotal });
}

/** Returns {tickets, count, total, error}. */
function collectTickets() {
  const max = maxTickets();
  const tickets = [];
  let count = 0;
  let total = 0;
  let error = null;
  for (const pt of state.event?.price_types || []) {
    const input = document.getElementById(`qty-${pt.code}`);
    const raw = (input?.value ?? '').trim();
    const n = raw === '' ? 0 : Number(raw);
    const valid = Number.isInteger(n) && n >= 0 && n <= max;
    input?.setAttribute('aria-invalid', String(!valid));
    if (!valid) { error = error || t('queue.qty_invalid', { n: max }); continue; }
    if (n > 0) {
      tickets.push({ price_type: pt.code, quantity: n });
      count += n;
      total += n * (Number(pt.amount) || 0);
    }
  }
  if (!error && count > max) error = t('queue.qty_max', { n: max });
  return { tickets, count, total, error };
}

function updateTotal() {
  const { total } = collectTickets();
  els.total.textContent = formatMoney(total);
  els.join.disabled = state.joining;
}

/* ---------- joining ---------- */
function joinUrl() {
  return `/api/queue/${encodeURIComponent(venueSlug)}/${encodeURIComponent(eventId)}/${encodeURIComponent(performanceId)}`;
}

async function join(e) {
  e.preventDefault();
  if (state.joining || state.mode !== 'pick') return;
  clearMessage(els.message);
  const { tickets, count, error } = collectTickets();
  if (error) { showMessage(els.message, 'error', error); return; }
  if (!count) { showMessage(els.message, 'error', t('event.qty_zero')); return; }
  const payload = { tickets };
  const key = idempotencyKey(JSON.stringify({ venue: venueSlug, event: eventId, performance: performanceId, ...payload }));
  state.joining = true;
  els.join.disabled = true;
  els.join.textContent = t('queue.joining');
  els.form.setAttribute('aria-busy', 'true');
  try {
    const answer = await api(joinUrl(), { method: 'POST', body: payload, headers: { 'Idempotency-Key': key } });
    if (!answer?.entry_id || !answer?.queue_token) throw new ApiProblem({ status: 500, detail: t('common.unknown_error') });
    rememberBuyerSession(answer.buyer_session);
    state.entry = {
      entry_id: answer.entry_id, queue_token: answer.queue_token, joined_at_ms: answer.joined_at_ms,
      buyer_session: answer.buyer_session || buyerSession(), tickets,
      pre_queue: answer.pre_queue === true, sequence_number: answer.sequence_number || null
    };
    saveEntry();
    removeKey(sessionStorage, PENDING_KEY);
    state.answer = { state: answer.state || 'queued' };
    state.mode = 'waiting';
    state.entryNotBefore = 0;
    state.lastEntryAt = 0;
    state.draw = null;
    state.positionAskAt = 0;
    render();
    pollEntryIfDue();
  } catch (err) {
    // Keep the key only when the outcome is unknown: a retry must not join twice.
    if (!(err instanceof ApiProblem) || !(err.isNetwork || err.status >= 500)) removeKey(sessionStorage, PENDING_KEY);
    showProblem(els.message, err);
  } finally {
    state.joining = false;
    els.join.textContent = t('queue.join');
    els.form.setAttribute('aria-busy', 'false');
    updateTotal();
  }
}

/* ---------- polling ---------- */
async function pollStatus() {
  if (state.mode === 'done' || state.mode === 'unavailable') return;
  const url = state.onsale?.status_url;
  try {
    // A normal fetch: the edge caches the file for a second, which is what keeps this cheap.
    const res = await fetch(url, { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`status ${res.status}`);
    const data = await res.json();
    if (data && typeof data === 'object') {
      if (data.updated_at !== state.status?.updated_at) state.statusChangedAt = Date.now();
      state.status = data;
      state.statusAt = Date.now();
      state.statusFailedSince = 0;
      if (state.entry?.pre_queue) await learnDraw(data.draw_key).catch(() => {});
    }
  } catch {
    if (!state.statusFailedSince) state.statusFailedSince = Date.now(); // not written yet, or offline
  }
  if (state.mode !== 'done' && state.mode !== 'unavailable') {
    render();
    pollEntryIfDue();
  }
}

/** Learn this entry's draw once the status file reveals the draw key. */
async function learnDraw(key) {
  if (!key || state.draw?.key === key || !state.entry?.entry_id) return;
  state.draw = { key, value: await drawFor(key, state.entry.entry_id) };
}

function turnKnown(status) {
  const draw = status?.draw_key && state.draw?.key === status.draw_key ? state.draw.value : null;
  return turnFromStatus(status, state.entry, draw);
}

/** Whether the buyer's own entry should be asked for now (docs/onsale.md). */
function entryWanted(now) {
  if (state.mode !== 'waiting' || !state.entry) return false;
  const pos = position();
  const status = statusFresh(now) ? state.status : null;
  const turn = turnKnown(status);
  if (turn === 'served') return true;
  // Should the line's file stand still (its inlet stuck), ask now and then instead.
  const slowCheck = now - state.lastEntryAt >= SLOW_CHECK_MS && now - state.statusChangedAt >= STATUS_STILL_MS;
  if (turn === 'not_admitted') return slowCheck; // the sold-out notice says it; the file says if places return
  if (pos === null) {
    // The status file says up to when joins have their place: ask for ours once, at a
    // random moment within a few seconds, unless the file answers first.
    if (status && Number.isFinite(status.numbered_until_ms) && Number.isFinite(state.entry.joined_at_ms)) {
      if (status.open && status.numbered_until_ms >= state.entry.joined_at_ms && !state.positionAskAt) {
        state.positionAskAt = now + Math.random() * POSITION_ASK_SPREAD_MS;
      }
      return (state.positionAskAt && now >= state.positionAskAt) || slowCheck;
    }
    if (isOpen(now)) return true;
    // In the pre-queue the place is drawn at the opening: look only now and then.
    return now - state.lastEntryAt >= PREQUEUE_CHECK_MS;
  }
  // Our result is known once the line has been served up to our place.
  if (status && Number.isFinite(status.served_until)) {
    return status.served_until >= pos || slowCheck;
  }
  const srv = serving();
  if (srv !== null && srv >= pos) return true;
  return !statusFresh(now); // no status file to follow: follow the entry itself
}

async function pollEntryIfDue() {
  const now = Date.now();
  if (state.entryBusy || now < state.entryNotBefore || !entryWanted(now)) return;
  state.entryBusy = true;
  state.lastEntryAt = now;
  const entry = state.entry;
  try {
    const answer = await api(`/api/queue/${encodeURIComponent(venueSlug)}/entries/${encodeURIComponent(entry.entry_id)}`, {
      headers: { 'X-Queue-Token': entry.queue_token, 'X-Buyer-Session': entry.buyer_session || buyerSession() || '' }
    });
    if (state.entry !== entry) return; // forgotten meanwhile
    state.failures = 0;
    clearMessage(els.message);
    state.answer = answer || {};
    if (typeof answer?.queue_token === 'string' && answer.queue_token && answer.queue_token !== entry.queue_token) {
      entry.queue_token = answer.queue_token; // a renewed token
      saveEntry();
    }
    state.entryNotBefore = Date.now() + pollAfter();
    if (answer?.state === 'held' && answer.hold) finishHeld(answer.hold);
    else if (answer?.state === 'refused') finishRefused(answer.reason);
    else render();
  } catch (err) {
    if (state.entry !== entry) return;
    if (err instanceof ApiProblem && [401, 403, 404, 410].includes(err.status)) {
      // The line does not know this entry (or this token) any more: join again.
      forgetEntry();
      state.mode = 'pick';
      showMessage(els.message, 'error', err.detail || '', t('queue.entry_lost'));
      render();
      return;
    }
    state.failures += 1;
    state.entryNotBefore = Date.now() + Math.min(MAX_BACKOFF_MS, pollAfter() * 2 ** state.failures);
    if (state.failures >= 3) showProblem(els.message, err);
  } finally {
    state.entryBusy = false;
  }
}

function eventHref() {
  const qs = new URLSearchParams({ venue: venueSlug, event: eventId, performance: performanceId });
  return `/event.html?${qs}`;
}

function finishHeld(hold) {
  addHold(hold); // into the basket, exactly like a reservation made on the event page
  // The last places go to the next buyer even when fewer than asked.
  const asked = (state.entry?.tickets || []).reduce((sum, x) => sum + (Number(x.quantity) || 0), 0);
  writeJson(localStorage, DONE_KEY, { hold_id: hold.hold_id, venue: hold.venue, asked });
  forgetEntry();
  state.mode = 'done';
  state.result = { kind: 'held', hold, asked };
  render();
  els.result.querySelector('#to-basket')?.focus();
}

function finishRefused(reason) {
  forgetEntry();
  state.mode = 'done';
  state.result = { kind: 'refused', reason };
  render();
  els.result.focus();
}

/* ---------- boot ---------- */
function unavailable(text) {
  state.mode = 'unavailable';
  if (state.event) render();
  else {
    els.article.replaceChildren(h('h1', {}, text));
    els.article.setAttribute('aria-busy', 'false');
  }
  showMessage(els.message, 'error', h('p', {}, text), h('p', {}, h('a', { href: eventHref() }, t('queue.back'))));
}

function restoreDone() {
  const done = readJson(localStorage, DONE_KEY);
  if (!done) return false;
  const hold = getBasket().find((x) => x.hold_id === done.hold_id && x.venue === done.venue);
  if (!hold) { removeKey(localStorage, DONE_KEY); return false; }
  state.mode = 'done';
  state.result = { kind: 'held', hold, asked: Number(done.asked) || 0 };
  return true;
}

function validStatusUrl(url) {
  return typeof url === 'string' && url.startsWith('/catalogue/') && !url.includes('..') && !url.includes('//');
}

async function load() {
  els.back.href = eventHref();
  if (![venueSlug, eventId, performanceId].every(isSlug)) {
    unavailable(t('event.not_found'));
    return;
  }
  try {
    state.event = await loadJson(`/catalogue/events/${encodeURIComponent(venueSlug)}/${encodeURIComponent(eventId)}.json`);
  } catch (err) {
    const notFound = err instanceof ApiProblem && (err.status === 404 || err.status === 403);
    unavailable(notFound ? t('event.not_found') : t('common.load_error'));
    return;
  }
  state.performance = (state.event?.performances || []).find((p) => p.performance_id === performanceId) || null;
  state.onsale = state.performance?.onsale;
  state.opensAt = new Date(state.onsale?.opens_at).getTime();
  if (!state.performance) { unavailable(t('event.not_found')); return; }
  if (!state.onsale || typeof state.onsale !== 'object' || !validStatusUrl(state.onsale.status_url)) {
    unavailable(t('queue.not_onsale'));
    return;
  }
  renderPriceTypes();
  state.entry = storedEntry();
  if (state.entry) state.mode = 'waiting';
  else if (!restoreDone()) state.mode = 'pick';
  render();
  pollStatus();
  setInterval(pollStatus, STATUS_EVERY_MS);
  setInterval(tick, 250);
}

/** Every quarter second: the countdown, and the entry when it is due. Nothing here touches the network
    unless an entry poll is due. */
function tick() {
  if (state.mode === 'loading' || state.mode === 'unavailable') return;
  const now = Date.now();
  const open = isOpen(now);
  if (open && !state.wasOpen && state.mode === 'waiting' && position() === null) {
    // Everyone in the pre-queue looks at the same moment: spread the first look over a second.
    state.entryNotBefore = Math.max(state.entryNotBefore, now + Math.random() * 1000);
  }
  state.wasOpen = open;
  renderOpening();
  if (state.mode === 'waiting') {
    renderWaiting();
    pollEntryIfDue();
  }
}

initPage();
els.form.addEventListener('submit', join);
onLangChange(() => {
  if (!state.event) return;
  renderPriceTypes();
  render();
  els.join.textContent = state.joining ? t('queue.joining') : t('queue.join');
});
load();
