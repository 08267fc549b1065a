// Orders, newest first, a page at a time; search by order number, name or e-mail (audited by the API).
import { clearMessage, formatDateTime, formatMoney, h, onLangChange, showProblem, t } from '/assets/core.js';
import { requireStaff, staffApi, venuePath } from './staff.js';
import './admin.js';  // the lead pages' strings

const PAGE_SIZE = 25;
const ctx = await requireStaff({ lead: true });
const root = document.getElementById('orders');
const message = document.getElementById('message');
const form = document.getElementById('search-form');
const previous = document.getElementById('previous');
const next = document.getElementById('next');
let page = { orders: [], next: null };
let cursors = [null];  // the cursor of each page seen, to go back

function render() {
  previous.hidden = cursors.length < 2;
  next.hidden = !page.next;
  if (!page.orders.length) { root.replaceChildren(h('p', {}, t('admin.no_orders'))); return; }
  const withBuyer = page.orders.some((o) => o.buyer);
  root.replaceChildren(h('div', { class: 'table-scroll' }, h('table', { class: 'admin-table', id: 'orders-table' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('admin.order')), h('th', { scope: 'col' }, t('admin.date')),
      h('th', { scope: 'col' }, t('admin.status')), h('th', { scope: 'col', class: 'num' }, t('admin.total')),
      withBuyer ? h('th', { scope: 'col' }, t('admin.buyer')) : null)),
    h('tbody', {}, page.orders.map((o) => h('tr', { dataset: { order: o.order_id } },
      h('td', {}, h('code', {}, o.order_id)), h('td', {}, formatDateTime(o.created_at)),
      h('td', {}, t(`admin.order_status.${o.status}`)), h('td', { class: 'num' }, formatMoney(o.total)),
      withBuyer ? h('td', {}, o.buyer ? `${o.buyer.name} · ${o.buyer.email}` : '') : null))))));
}

async function load(cursor) {
  clearMessage(message);
  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  const query = form.q.value.trim();
  if (query) q.set('q', query);
  if (cursor) q.set('cursor', cursor);
  try {
    page = await staffApi(venuePath(ctx, `/orders?${q}`));
    render();
  } catch (error) { showProblem(message, error); }
}

if (ctx) {
  form.q.value = new URLSearchParams(location.search).get('q') || '';
  form.addEventListener('submit', (e) => { e.preventDefault(); cursors = [null]; load(null); });
  next.addEventListener('click', () => { cursors.push(page.next); load(page.next); });
  previous.addEventListener('click', () => { cursors.pop(); load(cursors[cursors.length - 1]); });
  await load(null);
  onLangChange(render);
}
