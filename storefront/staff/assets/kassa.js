// The counter: sell in four steps (performance -> tickets -> payment -> print or mail), the clerk's
// cash drawer, and finding an order to reprint, mail, or cancel and refund. Keyboard: 1-9, +/-, Enter,
// Esc, C/K/L, P, N, "/".
import { ApiProblem, clearMessage, formatDateTime, formatMoney, h, onLangChange, renderPriceTypeInputs, showMessage,
  showProblem, t, uuid } from '/assets/core.js';
import { requireStaff, staffApi, venuePath } from './staff.js';

const ctx = await requireStaff();
const $ = (id) => document.getElementById(id);
const message = $('message');
const sale = { performance: null, quantities: {}, method: null, key: null, result: null };
let performances = [];
let shift = null;

/** "12,50" or "12.5" or "12" -> 1250 cents; null when it is not an amount. */
export function parseEuros(text) {
  const clean = String(text ?? '').trim().replace(/\s|€/g, '').replace(',', '.');
  if (!/^\d+(\.\d{1,2})?$/.test(clean)) return null;
  return Math.round(Number(clean) * 100);
}

const api = (path, options) => staffApi(venuePath(ctx, path), options);

/* ---------- the cash drawer ---------- */
async function loadShift() {
  shift = (await api('/box-office/shift')).shift;
  renderShift();
}

function renderShift() {
  $('open-form').hidden = Boolean(shift);
  $('till-open').hidden = !shift;
  $('sale').hidden = !shift;
  if (shift) {
    $('till-summary').textContent = t('kassa.till_summary', {
      float: formatMoney(shift.float), sales: formatMoney(shift.cash_sales), refunds: formatMoney(shift.cash_refunds),
      expected: formatMoney(shift.expected) });
  }
}

$('open-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const float = parseEuros($('float').value);
  if (float === null) return showMessage(message, 'error', t('kassa.not_an_amount'));
  try {
    shift = (await api('/box-office/shift', { method: 'POST', body: { float } })).shift;
    clearMessage(message);
    $('closed-result').hidden = true;
    renderShift();
    await loadPerformances();
  } catch (error) {
    if (error instanceof ApiProblem && error.is('/till-already-open')) { await loadShift(); await loadPerformances(); return; }
    showProblem(message, error);
  }
});

$('close-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const counted = parseEuros($('counted').value);
  if (counted === null) return showMessage(message, 'error', t('kassa.not_an_amount'));
  try {
    const closed = (await api('/box-office/shift/close', { method: 'POST', body: { counted } })).shift;
    shift = null;
    renderShift();
    const result = $('closed-result');
    result.hidden = false;
    result.textContent = t('kassa.closed', { expected: formatMoney(closed.expected), counted: formatMoney(closed.counted),
      difference: formatMoney(closed.difference) });
    result.dataset.difference = String(closed.difference);
  } catch (error) { showProblem(message, error); }
});

/* ---------- step 1: the performance ---------- */
async function loadPerformances() {
  const answer = await api('/box-office/performances');
  performances = answer.performances;
  renderPerformances();
}

function renderPerformances() {
  const choice = (p, n) => h('li', {}, h('button', {
    type: 'button', class: 'button kassa-choice', dataset: { performance: p.performance_id },
    onclick: () => choosePerformance(p)
  }, n <= 9 ? h('kbd', {}, String(n)) : null, ` ${p.title}`,
  h('small', {}, `${formatDateTime(p.starts_at)} · ${p.hall} · ${t('kassa.places_left', { n: p.available })}`)));
  const today = performances.filter((p) => p.today);
  const coming = performances.filter((p) => !p.today);
  $('today').replaceChildren(...(today.length ? today.map((p, i) => choice(p, i + 1)) : [h('li', { class: 'muted' }, t('kassa.none_today'))]));
  $('coming').replaceChildren(...coming.map((p, i) => choice(p, today.length + i + 1)));
}

function showStep(n) {
  for (const step of [1, 2, 3, 4]) $(`step-${step}`).hidden = step !== n;
  document.querySelectorAll('.kassa-steps li').forEach((li) => {
    if (Number(li.dataset.step) === n) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
  });
  sale.step = n;
}

function choosePerformance(performance) {
  sale.performance = performance;
  $('chosen').textContent = `${performance.title} · ${formatDateTime(performance.starts_at)}`;
  $('price-types').replaceChildren();  // a new sale starts at zero (the helper keeps amounts already typed)
  renderPriceTypeInputs($('price-types'), performance.price_types, { max: Math.min(20, performance.available), onChange: updateTotal });
  updateTotal();
  showStep(2);
  $('price-types').querySelector('button.stepper:nth-of-type(2)')?.focus();
}

/* ---------- step 2: the tickets ---------- */
function quantities() {
  return [...$('price-types').querySelectorAll('input[data-code]')]
    .map((input) => ({ price_type: input.dataset.code, quantity: Number.parseInt(input.value, 10) || 0 }))
    .filter((line) => line.quantity > 0);
}

function total() {
  const prices = Object.fromEntries(sale.performance.price_types.map((p) => [p.code, p.amount]));
  return quantities().reduce((sum, line) => sum + prices[line.price_type] * line.quantity, 0);
}

function updateTotal() {
  $('total').textContent = formatMoney(total());
  $('to-payment').disabled = quantities().length === 0;
}

$('back-1').addEventListener('click', () => showStep(1));
$('to-payment').addEventListener('click', toPayment);

function toPayment() {
  if (!quantities().length) return;
  sale.key = uuid();  // one sale, one key: a double tap or a retry after a dropped connection makes one order
  sale.method = null;
  $('pay-total').textContent = formatMoney(total());
  document.querySelectorAll('.kassa-method').forEach((b) => b.setAttribute('aria-checked', 'false'));
  $('cash-fields').hidden = $('card-fields').hidden = true;
  $('tendered').value = '';
  $('change').textContent = '';
  $('confirm').disabled = true;
  showStep(3);
  document.querySelector('.kassa-method')?.focus();
}

/* ---------- step 3: the payment ---------- */
function chooseMethod(method) {
  sale.method = method;
  document.querySelectorAll('.kassa-method').forEach((b) => b.setAttribute('aria-checked', String(b.dataset.method === method)));
  $('cash-fields').hidden = method !== 'cash';
  $('card-fields').hidden = method !== 'card';
  if (method === 'payment-link') $('buyer-fields').open = true;
  $('confirm').disabled = false;
  updateChange();
  (method === 'cash' ? $('tendered') : method === 'card' ? $('terminal-ref') : $('buyer-email')).focus();
}
document.querySelectorAll('.kassa-method').forEach((b) => b.addEventListener('click', () => chooseMethod(b.dataset.method)));

function updateChange() {
  if (sale.method !== 'cash') return;
  const tendered = parseEuros($('tendered').value);
  const due = total();
  $('change').textContent = tendered === null ? '' : tendered < due ? t('kassa.too_little')
    : t('kassa.change', { amount: formatMoney(tendered - due) });
}
$('tendered').addEventListener('input', updateChange);
$('back-2').addEventListener('click', () => showStep(2));
$('confirm').addEventListener('click', confirmSale);

async function confirmSale() {
  if (!sale.method || $('confirm').disabled) return;
  const body = { event_id: sale.performance.event_id, performance_id: sale.performance.performance_id,
    tickets: quantities(), method: sale.method, language: document.documentElement.lang || 'nl' };
  const tendered = parseEuros($('tendered').value);
  if (sale.method === 'cash' && tendered !== null) body.tendered = tendered;
  if (sale.method === 'card' && $('terminal-ref').value.trim()) body.terminal_reference = $('terminal-ref').value.trim();
  if ($('buyer-name').value.trim()) body.buyer_name = $('buyer-name').value.trim();
  if ($('buyer-email').value.trim()) body.buyer_email = $('buyer-email').value.trim();
  $('confirm').disabled = true;
  try {
    const result = await api('/box-office/sales', { method: 'POST', body, headers: { 'Idempotency-Key': sale.key } });
    clearMessage(message);
    showDone(result);
    loadShift();
    loadPerformances();
  } catch (error) {
    showProblem(message, error);
    $('confirm').disabled = false;  // the same key: trying again cannot sell twice
  }
}

/* ---------- step 4: print or mail ---------- */
function showDone(result) {
  sale.result = result;
  showStep(4);
  const summary = $('done-summary');
  summary.textContent = result.method === 'cash' && result.change
    ? t('kassa.give_change', { amount: formatMoney(result.change) }) : t('kassa.sold', { n: result.quantity, total: formatMoney(result.total) });
  summary.dataset.order = result.order_id;
  showDocuments(result);
  $('mail-to').value = $('buyer-email').value.trim();
  summary.focus();
  if (result.status !== 'paid') waitForPayment(result.order_id);
}

function showDocuments(result) {
  const pdf = (result.documents || []).find((d) => d.kind === 'pdf');
  $('print').hidden = !pdf;
  if (pdf) $('print').href = pdf.url;
  const wait = $('link-wait');
  wait.hidden = result.status === 'paid';
  if (result.checkout_url && result.status !== 'paid') {
    wait.replaceChildren(t('kassa.link_wait'), ' ', h('a', { href: result.checkout_url, target: '_blank', rel: 'noopener' }, t('kassa.link_open')));
  }
}

async function waitForPayment(orderId) {
  const deadline = Date.now() + 30 * 60 * 1000;
  while (Date.now() < deadline && sale.result?.order_id === orderId && sale.result.status !== 'paid') {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    try {
      const result = await api(`/box-office/orders/${encodeURIComponent(orderId)}`);
      if (result.status === 'paid' && result.documents.length) {
        sale.result = { ...sale.result, ...result };
        $('done-summary').textContent = t('kassa.link_paid');
        showDocuments(sale.result);
        loadShift();
      }
    } catch { /* keep waiting */ }
  }
}

$('new-sale').addEventListener('click', newSale);
function newSale() {
  sale.performance = null;
  sale.result = null;
  $('buyer-name').value = $('buyer-email').value = $('terminal-ref').value = '';
  $('buyer-fields').open = false;
  showStep(1);
  document.querySelector('.kassa-choice')?.focus();
}

const mailKeys = new Map();  // one key per order and address: a double tap or a retry sends one mail
async function mailTickets(orderId, email, statusEl) {
  const which = `${orderId} ${email}`;
  if (!mailKeys.has(which)) mailKeys.set(which, uuid());
  try {
    await api(`/box-office/orders/${encodeURIComponent(orderId)}/mail`, { method: 'POST',
      body: { email, language: document.documentElement.lang || 'nl' }, headers: { 'Idempotency-Key': mailKeys.get(which) } });
    showMessage(statusEl, 'success', t('kassa.mailed', { email }));
  } catch (error) { showProblem(statusEl, error); }
}

$('mail-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (sale.result && $('mail-to').value.trim()) mailTickets(sale.result.order_id, $('mail-to').value.trim(), message);
});

/* ---------- finding an order ---------- */
$('find-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = $('find-q').value.trim();
  try {
    const answer = await api(`/box-office/search?q=${encodeURIComponent(q)}&page=kassa`);
    renderFound(answer.orders);
  } catch (error) { showProblem(message, error); }
});

function renderFound(orders) {
  const list = $('found');
  if (!orders.length) return list.replaceChildren(h('li', { class: 'muted' }, t('kassa.nothing_found')));
  list.replaceChildren(...orders.map((order) => {
    const status = h('div', { class: 'message', role: 'status', hidden: true });
    const lines = order.lines.map((l) => `${l.quantity} × ${l.label} · ${l.event_title} · ${formatDateTime(l.starts_at)}`);
    const buyer = order.buyer ? [order.buyer.name, order.buyer.email].filter(Boolean).join(' · ') : '';
    const reprint = h('button', { type: 'button', class: 'button button-small', onclick: async () => {
      try {
        const docs = await api(`/box-office/orders/${encodeURIComponent(order.order_id)}`);
        const pdf = docs.documents.find((d) => d.kind === 'pdf');
        if (pdf) window.open(pdf.url, '_blank', 'noopener'); else showMessage(status, 'warning', t('kassa.no_documents'));
      } catch (error) { showProblem(status, error); }
    } }, t('kassa.reprint'));
    const mailInput = h('input', { type: 'email', 'aria-label': t('kassa.mail_to'), value: order.buyer?.email || '' });
    const mail = h('button', { type: 'button', class: 'button button-small',
      onclick: () => mailInput.value.trim() && mailTickets(order.order_id, mailInput.value.trim(), status) }, t('kassa.mail'));
    const cancel = h('button', { type: 'button', class: 'button button-small', dataset: { cancel: order.order_id }, onclick: async () => {
      if (!window.confirm(t('kassa.cancel_confirm', { total: formatMoney(order.total) }))) return;
      try {
        const done = await api(`/box-office/orders/${encodeURIComponent(order.order_id)}/cancel`, { method: 'POST' });
        showMessage(status, 'success', t(`kassa.refunded_${done.method === 'payment-link' ? 'link' : done.method}`, { total: formatMoney(done.refunded) }));
        loadShift();
        loadPerformances();
      } catch (error) { showProblem(status, error); }
    } }, t('kassa.cancel'));
    return h('li', { dataset: { order: order.order_id } },
      h('strong', {}, `${order.order_id.slice(0, 12)} · ${formatMoney(order.total)} · ${t(`kassa.status_${order.status}`)}`),
      buyer ? h('div', {}, buyer) : null,
      h('ul', {}, lines.map((line) => h('li', {}, line))),
      order.status === 'paid' ? h('div', { class: 'kassa-actions' }, reprint, mailInput, mail, order.channel === 'box-office' ? cancel : null) : null,
      status);
  }));
}

/* ---------- keyboard ---------- */
document.addEventListener('keydown', (e) => {
  const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes(e.target.tagName);
  if (e.key === 'Escape' && sale.step > 1 && sale.step < 4) { showStep(sale.step - 1); return; }
  if (e.key === 'Enter' && typing && sale.step === 3 && e.target.closest('#step-3')) { e.preventDefault(); confirmSale(); return; }
  // Enter moves on from the tickets wherever the focus is (not only from a field): a stepper must not add one more.
  if (e.key === 'Enter' && sale.step === 2 && e.target.id !== 'back-1') { e.preventDefault(); toPayment(); return; }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === '/') { e.preventDefault(); $('find-q').focus(); return; }
  if (sale.step === 1 && /^[1-9]$/.test(e.key)) {
    const buttons = document.querySelectorAll('.kassa-choice');
    buttons[Number(e.key) - 1]?.click();
  } else if (sale.step === 2 && (e.key === '+' || e.key === '-')) {
    const steppers = $('price-types').querySelectorAll('.price-type')[0]?.querySelectorAll('.stepper');
    steppers?.[e.key === '+' ? 1 : 0]?.click();
  } else if (sale.step === 3 && ['c', 'k', 'l'].includes(e.key.toLowerCase())) {
    e.preventDefault();  // the letter chooses; it is not typed into the field that gets the focus
    chooseMethod({ c: 'cash', k: 'card', l: 'payment-link' }[e.key.toLowerCase()]);
  } else if (sale.step === 4 && e.key.toLowerCase() === 'p' && !$('print').hidden) {
    $('print').click();
  } else if (sale.step === 4 && e.key.toLowerCase() === 'n') {
    newSale();
  }
});

if (ctx) {
  showStep(1);
  onLangChange(() => { renderShift(); renderPerformances(); });
  try {
    await loadShift();
    if (shift) await loadPerformances();
  } catch (error) {
    if (!(error instanceof ApiProblem && error.status === 401)) showProblem(message, error);
  }
}
