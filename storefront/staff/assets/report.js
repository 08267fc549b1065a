// The day's counter: per payment method, per clerk and each cash drawer (a clerk sees their own).
import { formatDateTime, formatMoney, h, onLangChange, showProblem, t } from '/assets/core.js';
import { requireStaff, staffApi, venuePath } from './staff.js';

const ctx = await requireStaff();
const dayInput = document.getElementById('day');
const out = document.getElementById('report');
let report = null;

const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels' }).format(new Date());  // YYYY-MM-DD
dayInput.value = new URLSearchParams(location.search).get('day') || today;

function table(caption, head, rows) {
  return h('table', { class: 'report-table' }, h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, head.map(([label, num]) => h('th', { scope: 'col', class: num ? 'num' : null }, label)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', { class: 'num' }, c)))))));
}

const amounts = (b) => [String(b.orders), formatMoney(b.sales), formatMoney(b.refunds), formatMoney(b.net)];
const amountHead = () => [[t('report.orders'), true], [t('report.sales'), true], [t('report.refunds'), true], [t('report.net'), true]];

function render() {
  if (!report) return;
  if (!report.shifts.length) return out.replaceChildren(h('p', {}, t('report.none')));
  out.replaceChildren(
    h('p', { class: 'lead', id: 'day-total' }, t('report.total', { total: formatMoney(report.total) })),
    h('h2', {}, t('report.per_method')),
    table(t('report.per_method'), [[t('report.method')], ...amountHead()],
      Object.entries(report.per_method).map(([method, b]) => [t(`kassa.${method === 'payment-link' ? 'link' : method}`), ...amounts(b)])),
    h('h2', {}, t('report.per_clerk')),
    table(t('report.per_clerk'), [[t('report.clerk')], ...amountHead()],
      Object.entries(report.per_clerk).map(([clerk, b]) => [clerk, ...amounts(b)])),
    h('h2', {}, t('report.shifts')),
    table(t('report.shifts'), [[t('report.clerk')], [t('report.opened'), true], [t('report.float'), true], [t('report.expected'), true],
      [t('report.counted'), true], [t('report.difference'), true]],
    report.shifts.map((s) => [s.clerk, formatDateTime(s.opened_at, { weekday: undefined, year: undefined }), formatMoney(s.float),
      formatMoney(s.expected), s.counted === null ? t('report.still_open') : formatMoney(s.counted),
      s.difference === null ? '' : formatMoney(s.difference)])));
}

async function load() {
  try {
    report = await staffApi(venuePath(ctx, `/box-office/report?day=${encodeURIComponent(dayInput.value)}`));
    render();
  } catch (error) { showProblem(document.getElementById('message'), error); }
}

if (ctx) {
  document.getElementById('scope').hidden = ctx.role === 'lead';
  document.getElementById('day-form').addEventListener('submit', (e) => { e.preventDefault(); load(); });
  onLangChange(render);
  load();
}
