// "My tickets" without an account: ask for a one-time link by e-mail; the link
// (in the URL's fragment, so it never reaches a server log) is exchanged once
// for a short session kept in this tab only; the page then shows the buyer's
// tickets at every venue and can ask a venue to send a confirmation again.
import {
  initPage, onLangChange, getLang, t, h, api, loadJson, formatMoney, formatDateTime, applyAccent,
  showMessage, showProblem, clearMessage, uuid, ApiProblem
} from './core.js';

const SESSION_KEY = 'loket.my-tickets.session';
const SESSION_HEADER = 'X-My-Tickets-Session';

const messageEl = document.getElementById('message');
const askEl = document.getElementById('ask');
const formEl = document.getElementById('ask-form');
const emailEl = document.getElementById('email');
const emailErrorEl = document.getElementById('email-error');
const askButton = document.getElementById('ask-button');
const mineEl = document.getElementById('mine');
const whoEl = document.getElementById('mine-who');
const ordersEl = document.getElementById('orders');
const forgetButton = document.getElementById('forget');

const state = { mine: null, venues: new Map(), askKey: null, askedFor: '', resendKeys: new Map(), message: null };

function session() {
  try { return sessionStorage.getItem(SESSION_KEY); } catch { return null; }
}
function keepSession(value) {
  try { sessionStorage.setItem(SESSION_KEY, value); } catch { /* this tab only then */ }
}
function forgetSession() {
  try { sessionStorage.removeItem(SESSION_KEY); } catch { /* nothing kept */ }
}

/* A message that follows the language switch: (kind, key, vars), or a problem. */
function say(kind, key, vars = {}) {
  state.message = { kind, key, vars };
  showMessage(messageEl, kind, t(key, vars));
}

/* Where this page has better words than the storefront's for a problem type (problem.* in i18n.js). */
const PAGE_PROBLEMS = {
  '/not-authenticated': 'mine.session_expired',
  '/validation-error': 'mine.email_invalid',
  '/not-found': 'mine.order_unknown'
};

function sayProblem(problem) {
  if (problem instanceof ApiProblem && problem.is('/rate-limited')) {
    const minutes = Math.max(1, Math.ceil(Number(problem.extra.retry_after || 60) / 60));
    say('warning', 'mine.rate_limited', { minutes });
    return;
  }
  const own = problem instanceof ApiProblem && Object.entries(PAGE_PROBLEMS).find(([suffix]) => problem.is(suffix));
  if (own) { say('error', own[1]); return; }
  state.message = { problem };
  showProblem(messageEl, problem);
}

/* A call with the session failed; a session the API no longer takes is forgotten. */
function sayFailure(err) {
  if (err instanceof ApiProblem && err.status === 401) {
    forgetSession();
    state.mine = null;
    showAsk();
  }
  sayProblem(err);
}

function showAsk() {
  mineEl.hidden = true;
  askEl.hidden = false;
}

/* ---------- asking for a link ---------- */
async function ask(event) {
  event.preventDefault();
  const email = emailEl.value.trim();
  emailErrorEl.hidden = true;
  emailEl.removeAttribute('aria-invalid');
  if (!email || !emailEl.checkValidity()) {
    emailErrorEl.textContent = t('mine.email_invalid');
    emailErrorEl.hidden = false;
    emailEl.setAttribute('aria-invalid', 'true');
    emailEl.focus();
    return;
  }
  // A retry of the same request (a lost answer) keeps its key: no second mail.
  if (state.askedFor !== email) { state.askKey = uuid(); state.askedFor = email; }
  askButton.disabled = true;
  clearMessage(messageEl);
  try {
    await api('/api/my-tickets/link', {
      method: 'POST', body: { email, language: getLang() }, headers: { 'Idempotency-Key': state.askKey }
    });
    say('success', 'mine.link_sent', { minutes: 15 });
    state.askedFor = '';
  } catch (err) {
    sayProblem(err);
  } finally {
    askButton.disabled = false;
  }
}

/* ---------- showing the tickets ---------- */
function venueName(order) {
  return state.venues.get(order.venue)?.name || order.venue_name || order.venue;
}

function ticketItem(ticket, order) {
  const item = h('li', { class: 'ticket', dataset: { ticketId: ticket.ticket_id } },
    h('div', { class: 'ticket-info' },
      h('h4', { class: 'ticket-title' }, ticket.event_title),
      h('p', { class: 'ticket-date' }, h('time', { datetime: ticket.starts_at }, formatDateTime(ticket.starts_at))),
      h('p', { class: 'ticket-type' }, [ticket.label, formatMoney(ticket.amount)].filter(Boolean).join(' · ')),
      ticket.used ? h('p', { class: 'badge' }, t('mine.used')) : null),
    h('div', { class: 'ticket-stub' },
      h('p', { class: 'ticket-code-label' }, t('order.code')),
      h('p', { class: 'ticket-code', dataset: { code: ticket.code } }, ticket.code)));
  applyAccent(item, order.brand_color);
  return item;
}

function orderSection(order) {
  const tickets = Array.isArray(order.tickets) ? order.tickets : [];
  const resend = h('button', { type: 'button', class: 'button button-secondary resend', dataset: { order: order.order_id } },
    t('mine.resend'));
  resend.addEventListener('click', () => resendConfirmation(order, resend));
  const files = h('div', { class: 'order-documents', id: `documents-${order.order_id}` });
  const showFiles = h('button', { type: 'button', class: 'button button-secondary documents', 'aria-controls': files.id },
    t('mine.documents'));
  showFiles.addEventListener('click', () => showDocuments(order, showFiles, files));
  const section = h('section', { class: 'order', 'aria-labelledby': `order-${order.order_id}` },
    h('h3', { class: 'order-venue', id: `order-${order.order_id}` }, venueName(order)),
    h('p', { class: 'muted order-id' }, t('order.order', { id: order.order_id }),
      order.paid_at ? ` · ${t('mine.paid_on', { date: formatDateTime(order.paid_at) })}` : ''),
    tickets.length ? h('ul', { class: 'ticket-list' }, tickets.map((ticket) => ticketItem(ticket, order)))
      : h('p', { class: 'notice' }, t('order.tickets_pending')),
    h('p', { class: 'order-total' }, `${t('basket.total')}: `, h('strong', {}, formatMoney(order.total))),
    h('p', { class: 'order-actions' }, showFiles, ' ', resend),
    files);
  applyAccent(section, order.brand_color);
  return section;
}

/* ---------- the buyer's own data, one venue at a time (docs/privacy.md) ---------- */
// This page's own words (Dutch first); kept here rather than in the shared i18n.js.
const DATA_WORDS = {
  nl: { heading: 'Je gegevens per huis', intro: 'Elk huis bewaart je gegevens apart. Download wat een huis over jou bewaart; elk huis antwoordt voor zichzelf.',
        download: 'Mijn gegevens bij {venue} downloaden', ready: 'Je gegevens bij {venue} zijn gedownload.',
        consent: 'Ik wil nieuws van {venue} per e-mail ontvangen (alleen van dit huis).', consent_saved: 'Je keuze voor {venue} is bewaard.' },
  fr: { heading: 'Vos données par maison', intro: 'Chaque maison garde vos données séparément. Téléchargez ce qu’une maison garde sur vous ; chacune répond pour elle-même.',
        download: 'Télécharger mes données chez {venue}', ready: 'Vos données chez {venue} ont été téléchargées.',
        consent: 'Je veux recevoir les nouvelles de {venue} par e-mail (de cette maison seulement).', consent_saved: 'Votre choix pour {venue} est enregistré.' },
  en: { heading: 'Your data per venue', intro: 'Each venue keeps your data separately. Download what a venue keeps about you; each venue answers for itself.',
        download: 'Download my data at {venue}', ready: 'Your data at {venue} was downloaded.',
        consent: 'I want news from {venue} by e-mail (from this venue only).', consent_saved: 'Your choice for {venue} is saved.' }
};
function dataWord(key, vars = {}) {
  const words = DATA_WORDS[getLang()] || DATA_WORDS.nl;
  return words[key].replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}
const myDataEl = document.getElementById('my-data');
// The version of the consent sentence above: stored with the buyer's choice, so a venue knows what was agreed to.
const CONSENT_TEXT_VERSION = '2026-11';

async function saveConsent(venue, name, box) {
  box.disabled = true;
  try {
    await api(`/api/my-tickets/${encodeURIComponent(venue)}/consent`, {
      method: 'PUT', headers: { [SESSION_HEADER]: session() },
      body: { marketing: box.checked, text_version: CONSENT_TEXT_VERSION }
    });
    showMessage(messageEl, 'success', dataWord('consent_saved', { venue: name }));
  } catch (err) {
    box.checked = !box.checked;
    sayFailure(err);
  } finally {
    box.disabled = false;
  }
}

function consentBox(venue, name) {
  const id = `consent-${venue}`;
  const box = h('input', { type: 'checkbox', id, class: 'consent', dataset: { venue } });
  box.addEventListener('change', () => saveConsent(venue, name, box));
  api(`/api/my-tickets/${encodeURIComponent(venue)}/consent`, { headers: { [SESSION_HEADER]: session() } })
    .then((consent) => { box.checked = Boolean(consent?.marketing); })
    .catch(() => { /* unchecked: nothing was agreed to */ });
  return h('p', { class: 'consent-field' }, box, ' ', h('label', { for: id }, dataWord('consent', { venue: name })));
}

async function downloadMyData(venue, name, button) {
  button.disabled = true;
  try {
    const exported = await api(`/api/my-tickets/${encodeURIComponent(venue)}/privacy/export`, {
      headers: { [SESSION_HEADER]: session() }
    });
    const file = new Blob([JSON.stringify(exported, null, 2)], { type: 'application/json' });
    const link = h('a', { href: URL.createObjectURL(file), download: `${venue}-mijn-gegevens.json`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    showMessage(messageEl, 'success', dataWord('ready', { venue: name }));
  } catch (err) {
    sayFailure(err);
  } finally {
    button.disabled = false;
  }
}

function renderMyData(orders) {
  const venues = [...new Map(orders.map((order) => [order.venue, venueName(order)])).entries()];
  myDataEl.hidden = venues.length === 0;
  document.getElementById('my-data-heading').textContent = dataWord('heading');
  document.getElementById('my-data-intro').textContent = dataWord('intro');
  document.getElementById('my-data-venues').replaceChildren(...venues.map(([venue, name]) => {
    const button = h('button', { type: 'button', class: 'button button-secondary my-data-download', dataset: { venue } },
      dataWord('download', { venue: name }));
    button.addEventListener('click', () => downloadMyData(venue, name, button));
    return h('li', {}, button, consentBox(venue, name));
  }));
}

function render() {
  const mine = state.mine;
  if (!mine) return;
  askEl.hidden = true;
  mineEl.hidden = false;
  whoEl.textContent = t('mine.for', { email: mine.email });
  const orders = Array.isArray(mine.orders) ? mine.orders : [];
  ordersEl.replaceChildren(
    ...(orders.length ? orders.map(orderSection) : [h('p', { class: 'notice' }, t('mine.none'))]),
    ...(mine.unavailable?.length ? [h('p', { class: 'message message-warning' }, t('mine.unavailable'))] : []));
  renderMyData(orders);
}

async function loadTickets() {
  try {
    state.mine = await api('/api/my-tickets', { headers: { [SESSION_HEADER]: session() } });
    render();
  } catch (err) {
    sayFailure(err);
  }
}

/* The PDF and .ics as links signed for a few minutes: fetched when asked for, so they are fresh. */
async function showDocuments(order, button, files) {
  button.disabled = true;
  try {
    const found = await api(`/api/my-tickets/${encodeURIComponent(order.venue)}/orders/${encodeURIComponent(order.order_id)}/documents`, {
      headers: { [SESSION_HEADER]: session() }
    });
    const docs = Array.isArray(found?.documents) ? found.documents : [];
    files.replaceChildren(docs.length
      ? h('ul', { class: 'document-list' }, docs.map((d) => h('li', {},
        h('a', { class: 'button document-link', href: d.url, dataset: { kind: d.kind } },
          d.kind === 'pdf' ? t('order.pdf') : t('order.ics', { name: d.name })))))
      : h('p', { class: 'notice' }, t('order.documents_pending')));
    files.querySelector('a')?.focus();
  } catch (err) {
    sayFailure(err);
  } finally {
    button.disabled = false;
  }
}

async function resendConfirmation(order, button) {
  if (!state.resendKeys.has(order.order_id)) state.resendKeys.set(order.order_id, uuid());
  button.disabled = true;
  try {
    await api(`/api/my-tickets/${encodeURIComponent(order.venue)}/orders/${encodeURIComponent(order.order_id)}/resend`, {
      method: 'POST', headers: { [SESSION_HEADER]: session(), 'Idempotency-Key': state.resendKeys.get(order.order_id) }
    });
    state.resendKeys.delete(order.order_id);
    say('success', 'mine.resent', { venue: venueName(order) });
  } catch (err) {
    if (err instanceof ApiProblem && !err.isNetwork && err.status !== 503) state.resendKeys.delete(order.order_id);
    sayFailure(err);
  } finally {
    button.disabled = false;
  }
}

/* ---------- using the link ---------- */
function linkFromFragment() {
  const match = /(?:^#|&)link=([A-Za-z0-9_-]+)/.exec(location.hash);
  return match ? match[1] : null;
}

const OPEN_ATTEMPTS = 3;

function retryable(err) {
  return err instanceof ApiProblem && (err.isNetwork || err.status >= 500);
}

async function useLink(link) {
  // Out of the address bar and the history at once: the link is spent now.
  history.replaceState(null, '', location.pathname + location.search);
  // A lost answer is asked again with the same key: the server lets only that retry use the link again.
  const key = uuid();
  for (let attempt = 1; ; attempt += 1) {
    try {
      const opened = await api('/api/my-tickets/session', { method: 'POST', body: { link }, headers: { 'Idempotency-Key': key } });
      keepSession(opened.session);
      await loadTickets();
      return;
    } catch (err) {
      if (attempt < OPEN_ATTEMPTS && retryable(err)) {
        await new Promise((resolve) => { setTimeout(resolve, 500 * attempt); });
        continue;
      }
      showAsk();
      sayProblem(err);
      return;
    }
  }
}

async function boot() {
  initPage();  // the language comes from the link's ?lang= (core.js)
  formEl.addEventListener('submit', ask);
  forgetButton.addEventListener('click', () => {
    forgetSession();
    state.mine = null;
    ordersEl.replaceChildren();
    showAsk();
    say('info', 'mine.forgotten');
    emailEl.focus();
  });
  loadJson('/catalogue/network.json')
    .then((data) => { for (const v of data?.venues || []) state.venues.set(v.slug, v); render(); })
    .catch(() => { /* the API's venue names then */ });
  const link = linkFromFragment();
  if (link) {
    await useLink(link);
  } else if (session()) {
    await loadTickets();
  } else {
    showAsk();
  }
}

onLangChange(() => {
  render();
  if (state.message?.problem) showProblem(messageEl, state.message.problem);
  else if (state.message) showMessage(messageEl, state.message.kind, t(state.message.key, state.message.vars));
});
boot();
