// Order confirmation: poll the basket until paid/expired, then show the tickets.
import {
  initPage, onLangChange, t, h, api, loadJson, formatMoney, formatDateTime, applyAccent,
  showMessage, showProblem, param, getBasketToken, clearBasket, ApiProblem
} from './core.js';

const POLL_MS = 1500;
const MAX_WAIT_MS = 60000;
// Download links are signed for 5 minutes: ask for fresh ones before they lapse.
const DOCUMENTS_REFRESH_MS = 4 * 60 * 1000;

const basketId = param('basket') || '';
const headingEl = document.getElementById('order-heading');
const statusEl = document.getElementById('order-status');
const statusTextEl = document.getElementById('order-status-text');
const ordersEl = document.getElementById('orders');
const messageEl = document.getElementById('message');

const state = { basket: null, phase: 'loading', venues: new Map(), started: Date.now(), timer: null, documents: new Map() };

function setStatus(phase) {
  state.phase = phase;
  statusEl.dataset.status = phase;
  const key = {
    loading: 'order.processing', open: 'order.open', paid: 'order.paid', expired: 'order.expired',
    timeout: 'order.still_processing', no_token: 'order.no_token', missing: 'order.missing', error: 'common.unknown_error'
  }[phase] || 'order.processing';
  statusTextEl.textContent = t(key);
  const done = !['loading', 'open'].includes(phase);
  statusEl.classList.toggle('is-done', done);
  headingEl.textContent = phase === 'paid' ? t('order.thanks') : t('order.heading');
  document.title = `${headingEl.textContent} — ${t('site.title')}`;
  if (phase === 'timeout') {
    showMessage(messageEl, 'warning', h('p', {}, h('a', { href: location.href, class: 'button' }, t('order.refresh'))));
    messageEl.setAttribute('role', 'status');
  }
}

function venueName(slug) {
  return state.venues.get(slug)?.name || slug;
}

function ticketCard(ticket) {
  const venue = state.venues.get(ticket.venue);
  const card = h('li', { class: 'ticket', dataset: { ticketId: ticket.ticket_id } },
    h('div', { class: 'ticket-info' },
      h('p', { class: 'ticket-venue' }, venueName(ticket.venue)),
      h('h3', { class: 'ticket-title' }, ticket.event_title),
      ticket.starts_at ? h('p', { class: 'ticket-date' }, h('time', { datetime: ticket.starts_at }, formatDateTime(ticket.starts_at))) : null,
      h('p', { class: 'ticket-type' }, [ticket.label, ticket.amount !== undefined ? formatMoney(ticket.amount) : ''].filter(Boolean).join(' · '))),
    h('div', { class: 'ticket-stub' },
      h('p', { class: 'ticket-code-label' }, t('order.code')),
      h('p', { class: 'ticket-code', dataset: { code: ticket.code }, 'aria-label': `${t('order.code')}: ${String(ticket.code).split('').join(' ')}` }, ticket.code)));
  applyAccent(card, venue?.brand_color);
  return card;
}

// The order's PDF and .ics links, and whether its confirmation mail went out.
function documentsBlock(order) {
  const delivery = state.documents.get(order.order_id);
  const files = delivery?.documents || [];
  const mailKey = { sent: 'order.mail_sent', failed: 'order.mail_failed' }[delivery?.mail] || 'order.mail_pending';
  return h('div', { class: 'order-documents', dataset: { mail: delivery?.mail || 'pending' } },
    h('h3', {}, t('order.documents')),
    files.length
      ? h('ul', { class: 'document-list' }, files.map((file) => h('li', {},
          h('a', { href: file.url, class: 'button document-link', dataset: { kind: file.kind }, target: '_blank', rel: 'noopener' },
            file.kind === 'pdf' ? t('order.pdf') : t('order.ics', { name: file.name })))))
      : h('p', { class: 'notice' }, t('order.documents_pending')),
    h('p', { class: 'mail-state' }, t(mailKey)));
}

function deliveryComplete() {
  const orders = Array.isArray(state.basket?.orders) ? state.basket.orders : [];
  return orders.length > 0 && orders.every((o) => {
    const delivery = state.documents.get(o.order_id);
    return delivery && delivery.documents.length > 0 && delivery.mail !== 'pending';
  });
}

async function pollDocuments(token, started = Date.now()) {
  try {
    const answer = await api(`/api/baskets/${encodeURIComponent(basketId)}/documents`, { headers: { 'X-Basket-Token': token } });
    for (const entry of answer?.orders || []) state.documents.set(entry.order_id, entry);
    renderOrders();
  } catch { /* keep the tickets shown; try again */ }
  if (deliveryComplete()) {
    setTimeout(() => pollDocuments(token, Date.now()), DOCUMENTS_REFRESH_MS);
  } else if (Date.now() - started < MAX_WAIT_MS) {
    setTimeout(() => pollDocuments(token, started), POLL_MS);
  }
}

function renderOrders() {
  const basket = state.basket;
  if (!basket || basket.status !== 'paid') { ordersEl.replaceChildren(); return; }
  const orders = Array.isArray(basket.orders) ? basket.orders : [];
  ordersEl.replaceChildren(
    ...orders.map((order) => {
      const tickets = Array.isArray(order.tickets) ? order.tickets : [];
      const section = h('section', { class: 'order', 'aria-label': venueName(order.venue) },
        h('h2', { class: 'order-venue' }, venueName(order.venue)),
        h('p', { class: 'muted order-id' }, t('order.order', { id: order.order_id })),
        tickets.length
          ? h('ul', { class: 'ticket-list' }, tickets.map(ticketCard))
          : h('p', { class: 'notice' }, t('order.tickets_pending')),
        documentsBlock(order),
        h('p', { class: 'order-total' }, `${t('basket.total')}: `, h('strong', {}, formatMoney(order.total))));
      applyAccent(section, state.venues.get(order.venue)?.brand_color);
      return section;
    }),
    h('p', { class: 'basket-total' }, `${t('order.total')}: `, h('strong', {}, formatMoney(basket.total))));
}

function allTicketsIssued(basket) {
  const orders = Array.isArray(basket.orders) ? basket.orders : [];
  return orders.length > 0 && orders.every((o) => Array.isArray(o.tickets) && o.tickets.length > 0);
}

async function poll(token) {
  let basket = null;
  try {
    basket = await api(`/api/baskets/${encodeURIComponent(basketId)}`, { headers: { 'X-Basket-Token': token } });
  } catch (err) {
    if (err instanceof ApiProblem && !err.isNetwork && err.status < 500 && err.status !== 429) {
      setStatus('error');
      showProblem(messageEl, err);
      return;
    }
    // transient trouble: keep polling until the deadline
  }
  if (basket) {
    state.basket = basket;
    if (basket.status === 'paid') {
      clearBasket();
      setStatus('paid');
      renderOrders();
      if (!state.documentsPolling) { state.documentsPolling = true; pollDocuments(token); }
      if (allTicketsIssued(basket)) return;
    } else if (basket.status === 'expired') {
      setStatus('expired');
      renderOrders();
      return;
    } else {
      setStatus('open');
    }
  }
  if (Date.now() - state.started >= MAX_WAIT_MS) {
    if (state.phase !== 'paid') setStatus('timeout');
    return;
  }
  state.timer = setTimeout(() => poll(token), POLL_MS);
}

async function boot() {
  initPage();
  if (!basketId) { setStatus('missing'); return; }
  const token = getBasketToken(basketId);
  if (!token) { setStatus('no_token'); return; }
  setStatus('loading');
  loadJson('/catalogue/network.json')
    .then((data) => {
      for (const v of data?.venues || []) state.venues.set(v.slug, v);
      renderOrders();
    })
    .catch(() => { /* slugs as fallback names */ });
  poll(token);
}

onLangChange(() => {
  setStatus(state.phase);
  renderOrders();
});
boot();
