// Sales per performance, refreshed every 10 s: sold, in a basket, available, revenue per price and channel.
import { formatDateTime, formatMoney, formatTime, h, onLangChange, showProblem, clearMessage, t } from '/assets/core.js';
import { requireStaff, staffApi, venuePath } from './staff.js';
import './admin.js';  // the lead pages' strings

const REFRESH_MS = 10000;
const ctx = await requireStaff({ lead: true });
const root = document.getElementById('sales');
const message = document.getElementById('message');
let lines = [];
let refreshedAt = null;

const figure = (label, value, key) => h('div', { dataset: { figure: key } }, h('span', { class: 'muted' }, label), h('strong', {}, value));

function render() {
  document.getElementById('refreshed').textContent = refreshedAt ? t('admin.refreshed', { time: formatTime(refreshedAt) }) : '';
  if (!lines.length) { root.replaceChildren(h('p', {}, t('admin.no_sales'))); return; }
  root.replaceChildren(...lines.map((line) => h('section', { class: 'row-card', dataset: { performance: line.performance_id } },
    h('h2', {}, `${line.title} · ${formatDateTime(line.starts_at)}`,
      line.cancelled ? h('span', { class: 'badge badge-cancelled' }, t('admin.status.cancelled')) : null),
    h('p', { class: 'muted' }, line.hall),
    h('div', { class: 'figures' }, figure(t('admin.sold'), line.sold, 'sold'), figure(t('admin.held'), line.held, 'held'),
      figure(t('admin.available'), line.available, 'available'), figure(t('admin.capacity'), line.capacity, 'capacity'),
      figure(t('admin.revenue'), formatMoney(line.revenue), 'revenue')),
    line.by_price_type.length ? h('div', { class: 'table-scroll' }, h('table', { class: 'admin-table' },
      h('caption', { class: 'visually-hidden' }, `${t('admin.by_price_type')} / ${t('admin.by_channel')}`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('admin.by_price_type')), h('th', { scope: 'col', class: 'num' }, t('admin.sold')),
        h('th', { scope: 'col', class: 'num' }, t('admin.revenue')))),
      h('tbody', {},
        line.by_price_type.map((p) => h('tr', { dataset: { priceType: p.price_type } }, h('td', {}, p.label),
          h('td', { class: 'num' }, p.quantity), h('td', { class: 'num' }, formatMoney(p.revenue)))),
        line.by_channel.map((c) => h('tr', { dataset: { channel: c.channel } }, h('td', {}, `${t('admin.by_channel')}: ${t(`admin.channel.${c.channel}`)}`),
          h('td', { class: 'num' }, c.quantity), h('td', { class: 'num' }, formatMoney(c.revenue))))))) : null)));
}

async function refresh() {
  try {
    lines = (await staffApi(venuePath(ctx, '/sales'))).performances.filter((l) => l.published || l.sold || l.held);
    refreshedAt = new Date().toISOString();
    clearMessage(message);
    render();
  } catch (error) { showProblem(message, error); }
}

if (ctx) {
  await refresh();
  onLangChange(render);
  // Refresh while the page is visible; a hidden tab does not poll.
  setInterval(() => { if (document.visibilityState === 'visible') refresh(); }, REFRESH_MS);
}
