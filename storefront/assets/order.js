// Order confirmation: poll the basket until paid/expired, then show the tickets.
import {
  initPage, onLangChange, t, h, api, loadJson, formatMoney, formatDateTime, applyAccent,
  showMessage, showProblem, param, getBasketToken, clearBasket, ApiProblem
} from './core.js';

const POLL_MS = 1500;
const MAX_WAIT_MS = 60000;

const basketId = param('basket') || '';
const headingEl = document.getElementById('order-heading');
const statusEl = document.getElementById('order-status');
const statusTextEl = document.getElementById('order-status-text');
const ordersEl = document.getElementById('orders');
const messageEl = document.getElementById('message');

const state = { basket: null, phase: 'loading', venues: new Map(), started: Date.now(), timer: null };

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
