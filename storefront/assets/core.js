// Shared helpers: i18n, formatting, basket storage, API access, page chrome.
import { STRINGS, LANGS, DEFAULT_LANG } from './i18n.js';

/* ---------- i18n ---------- */
const LANG_KEY = 'loket.lang';
const INTL_LOCALES = { nl: 'nl-BE', fr: 'fr-BE', en: 'en-GB' };

function safeGet(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}
function safeSet(key, value) {
  try { localStorage.setItem(key, value); } catch { /* storage unavailable */ }
}
function safeRemove(key) {
  try { localStorage.removeItem(key); } catch { /* storage unavailable */ }
}

/* The language is in the URL (?lang=fr), so a shared link opens in the
   language it was shared in; without it, the buyer's last choice, then Dutch. */
export function getLang() {
  const fromUrl = new URLSearchParams(location.search).get('lang');
  if (LANGS.includes(fromUrl)) return fromUrl;
  const stored = safeGet(LANG_KEY);
  return LANGS.includes(stored) ? stored : DEFAULT_LANG;
}

export function setLang(lang) {
  if (!LANGS.includes(lang)) return;
  safeSet(LANG_KEY, lang);
  const url = new URL(location.href);
  url.searchParams.set('lang', lang);
  history.replaceState(history.state, '', url);
  applyI18n();
  document.dispatchEvent(new CustomEvent('loket:lang', { detail: { lang } }));
}

/** A link within the storefront that keeps the page's language. */
export function withLang(href) {
  const url = new URL(href, location.href);
  if (url.origin !== location.origin || !/\.html$|\/$/.test(url.pathname)) return href;
  url.searchParams.set('lang', getLang());
  return `${url.pathname}${url.search}${url.hash}`;
}

/** Translate a key, replacing {placeholders}. Falls back to Dutch, then to the key. */
export function t(key, vars = {}) {
  const lang = getLang();
  let s = STRINGS[lang]?.[key] ?? STRINGS[DEFAULT_LANG][key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Simple count-based choice: uses `<key>_one` when n === 1. */
export function tn(key, n, vars = {}) {
  const oneKey = `${key}_one`;
  const useOne = n === 1 && (STRINGS[getLang()]?.[oneKey] || STRINGS[DEFAULT_LANG][oneKey]);
  return t(useOne ? oneKey : key, { n, ...vars });
}

export function onLangChange(callback) {
  document.addEventListener('loket:lang', callback);
}

/** Apply translations to static markup: data-i18n (text), data-i18n-placeholder, data-i18n-aria-label, data-i18n-title. */
export function applyI18n(root = document) {
  const lang = getLang();
  document.documentElement.lang = lang;
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  root.querySelectorAll('[data-i18n-aria-label]').forEach((el) => { el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel)); });
  const titleKey = document.documentElement.dataset.titleKey;
  document.title = titleKey ? `${t(titleKey)} — ${t('site.title')}` : t('site.title');
  document.querySelectorAll('[data-lang]').forEach((btn) => {
    btn.setAttribute('aria-pressed', String(btn.dataset.lang === lang));
  });
  root.querySelectorAll('a[href^="/"]').forEach((a) => { a.setAttribute('href', withLang(a.getAttribute('href'))); });
  updateBasketCount();
}

/* ---------- formatting ---------- */
const money = new Intl.NumberFormat('nl-BE', { style: 'currency', currency: 'EUR' });

/** Integer euro cents → "€ 12,00" (Dutch style, regardless of UI language). */
export function formatMoney(cents) {
  if (cents === null || cents === undefined || Number.isNaN(Number(cents))) return '';
  return money.format(Number(cents) / 100);
}

export function intlLocale() {
  return INTL_LOCALES[getLang()] || 'nl-BE';
}

function parseDate(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDateTime(iso, opts = {}) {
  const d = parseDate(iso);
  if (!d) return '';
  return new Intl.DateTimeFormat(intlLocale(), {
    timeZone: 'Europe/Brussels', weekday: 'short', day: 'numeric', month: 'long', year: 'numeric',
    hour: '2-digit', minute: '2-digit', ...opts
  }).format(d);
}

export function formatTime(iso) {
  const d = parseDate(iso);
  if (!d) return '';
  return new Intl.DateTimeFormat(intlLocale(), { timeZone: 'Europe/Brussels', hour: '2-digit', minute: '2-digit' }).format(d);
}

/** Milliseconds → "m:ss" (or "h:mm:ss"). */
export function formatCountdown(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/* ---------- colours ---------- */
const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;

export function safeColor(value, fallback = '#1f4e79') {
  return typeof value === 'string' && HEX.test(value.trim()) ? value.trim() : fallback;
}

function luminance(hex) {
  let h = hex.slice(1);
  if (h.length === 3) h = h.split('').map((c) => c + c).join('');
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Text colour (black/white) with the best contrast on the given background. */
export function contrastText(hex) {
  const L = luminance(safeColor(hex));
  return (L + 0.05) / 0.05 > 1.05 / (L + 0.05) ? '#111111' : '#ffffff';
}

/** Set --accent / --accent-text custom properties on an element. */
export function applyAccent(el, color) {
  const c = safeColor(color);
  el.style.setProperty('--accent', c);
  el.style.setProperty('--accent-text', contrastText(c));
}

/* ---------- DOM ---------- */
/** Tiny element builder; strings become text nodes (never HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export function isSlug(value) {
  return typeof value === 'string' && value.length <= 200 && SLUG.test(value) && !value.includes('..');
}

/* ---------- basket storage ---------- */
const BASKET_KEY = 'loket.basket';

export function getBasket() {
  try {
    const list = JSON.parse(safeGet(BASKET_KEY) || '[]');
    return Array.isArray(list) ? list.filter((x) => x && x.hold_id && x.venue) : [];
  } catch {
    return [];
  }
}

export function saveBasket(list) {
  safeSet(BASKET_KEY, JSON.stringify(list));
  updateBasketCount();
}

export function addHold(hold) {
  const list = getBasket().filter((x) => !(x.hold_id === hold.hold_id && x.venue === hold.venue));
  list.push(hold);
  saveBasket(list);
}

export function replaceHold(hold) {
  saveBasket(getBasket().map((x) => (x.hold_id === hold.hold_id && x.venue === hold.venue ? hold : x)));
}

export function removeHold(venue, holdId) {
  saveBasket(getBasket().filter((x) => !(x.hold_id === holdId && x.venue === venue)));
}

export function clearBasket() {
  safeRemove(BASKET_KEY);
  updateBasketCount();
}

export function holdQuantity(hold) {
  if (Number.isFinite(hold.quantity)) return hold.quantity;
  return (hold.lines || []).reduce((sum, l) => sum + (Number(l.quantity) || 0), 0);
}

export function basketTicketCount() {
  return getBasket().reduce((sum, hold) => sum + holdQuantity(hold), 0);
}

export function updateBasketCount() {
  const el = document.getElementById('basket-count');
  if (!el) return;
  const n = basketTicketCount();
  el.textContent = String(n);
  el.dataset.count = String(n);
  const link = el.closest('a');
  if (link) link.setAttribute('aria-label', `${t('nav.basket')}: ${t('nav.basket_count', { n })}`);
}

export function storeBasketToken(basketId, token) {
  safeSet(`loket.basket.${basketId}`, token);
}

export function getBasketToken(basketId) {
  return safeGet(`loket.basket.${basketId}`);
}

/* ---------- API ---------- */
export class ApiProblem extends Error {
  constructor({ status = 0, type = 'about:blank', title = '', detail = '', errors = [], ...extra } = {}) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.type = type;
    this.title = title;
    this.detail = detail;
    this.errors = Array.isArray(errors) ? errors : [];
    this.extra = extra;
  }
  /** True when the problem type ends with the given suffix, e.g. '/sold-out'. */
  is(suffix) {
    return typeof this.type === 'string' && this.type.endsWith(suffix);
  }
  get isNetwork() { return this.status === 0; }
}

export function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * fetch() wrapper: JSON in/out, RFC 9457 problems thrown as ApiProblem.
 * Returns parsed JSON, or null for 204 / empty bodies.
 */
/* The buyer session: handed out with the first reservation, sent with every
   API call after it; reservations belong to the session that made them. */
const BUYER_SESSION_KEY = 'loket.buyer';
const BUYER_SESSION_HEADER = 'X-Buyer-Session';

export function forgetBuyerSession() {
  safeRemove(BUYER_SESSION_KEY);
}

/** The buyer session this browser holds, or null. */
export function buyerSession() {
  return safeGet(BUYER_SESSION_KEY);
}

/** Keep a buyer session handed out in an answer's body (the header is kept by api() itself). */
export function rememberBuyerSession(session) {
  if (typeof session === 'string' && session) safeSet(BUYER_SESSION_KEY, session);
}

/* Calls that may start a new buyer session when the one sent was not issued by this Loket. */
function startsSession(path, method) {
  return method === 'POST' && (path === '/api/holds' || path.startsWith('/api/queue/'));
}

export async function api(path, { method = 'GET', body, headers = {}, signal } = {}, retried = false) {
  const init = { method, headers: { Accept: 'application/json, application/problem+json', ...headers }, signal, cache: 'no-store' };
  // A caller may name the session itself (a queue entry belongs to the session that joined).
  const explicit = Object.keys(headers).some((k) => k.toLowerCase() === BUYER_SESSION_HEADER.toLowerCase());
  const session = path.startsWith('/api/') && !explicit ? safeGet(BUYER_SESSION_KEY) : null;
  if (session) init.headers[BUYER_SESSION_HEADER] = session;
  if (body instanceof Blob) {  // an upload (a picture) goes as it is, with its own type
    init.headers['Content-Type'] = body.type || 'application/octet-stream';
    init.body = body;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiProblem({ status: 0, title: 'network', detail: t('common.network_error') });
  }
  const issued = res.headers.get(BUYER_SESSION_HEADER);
  if (issued && issued !== session && !explicit) safeSet(BUYER_SESSION_KEY, issued);
  if (res.status === 401 && session && !retried && startsSession(path, method)) {
    // A session this Loket did not issue (e.g. a local stack that restarted): start a new one.
    forgetBuyerSession();
    return api(path, { method, body, headers, signal }, true);
  }
  const text = await res.text().catch(() => '');
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const p = data && typeof data === 'object' ? data : {};
    throw new ApiProblem({
      ...p,
      status: res.status,
      type: p.type || 'about:blank',
      title: p.title || res.statusText,
      detail: p.detail || p.title || t('common.unknown_error')
    });
  }
  return data;
}

/** Load static catalogue JSON (path relative to the site root). */
export async function loadJson(path) {
  return api(path.startsWith('/') ? path : `/${path}`);
}

const PROBLEM_BASE = 'https://loket.dev/problems/';

function translated(key) {
  return STRINGS[getLang()]?.[key] ?? null;
}

/** A problem in the page's language: by its stable `type` (and each field
    error by its `code`); the API's English `detail` only when the page has no
    words for this type. */
export function problemText(problem) {
  if (!(problem instanceof ApiProblem)) return problem?.message || t('common.unknown_error');
  if (problem.isNetwork) return t('common.network_error');
  const slug = typeof problem.type === 'string' && problem.type.startsWith(PROBLEM_BASE)
    ? problem.type.slice(PROBLEM_BASE.length) : '';
  return (slug && translated(`problem.${slug}`)) || problem.detail || t('common.unknown_error');
}

/** What is wrong with one field, in the page's language where the page knows the error's code. */
export function fieldErrorMessage(error) {
  return translated(`field_error.${error.code}`) ?? error.message ?? '';
}

function fieldErrorText(error) {
  const field = error.field ? (translated(`field.${error.field}`) ?? error.field) : '';
  return field ? `${field}: ${fieldErrorMessage(error)}` : fieldErrorMessage(error);
}

/** Render a problem (what went wrong + field messages) into a message element. */
export function showProblem(el, problem) {
  el.replaceChildren();
  el.className = 'message message-error';
  el.hidden = false;
  const text = problemText(problem);
  el.append(h('p', {}, text));
  el.dataset.problem = problem instanceof ApiProblem ? problem.type : '';
  const errors = problem instanceof ApiProblem ? problem.errors : [];
  if (errors.length) el.append(h('ul', {}, errors.map((e) => h('li', {}, fieldErrorText(e)))));
}

export function showMessage(el, kind, ...content) {
  el.replaceChildren(...content.map((c) => (typeof c === 'string' ? h('p', {}, c) : c)));
  el.className = `message message-${kind}`;
  el.hidden = false;
}

export function clearMessage(el) {
  el.replaceChildren();
  el.className = 'message';
  el.hidden = true;
}

/** An uploaded picture in the catalogue (`{key}-{width}.{format}` per width):
    its smallest and largest file and the srcset that lets the browser choose. */
export function pictureSources(image) {
  if (!image || !Array.isArray(image.widths) || !image.widths.length) return null;
  const widths = [...image.widths].sort((a, b) => a - b);
  const file = (w) => `/${image.key}-${w}.${image.format}`;
  return { smallest: file(widths[0]), largest: file(widths[widths.length - 1]),
    srcset: widths.map((w) => `${file(w)} ${w}w`).join(', ') };
}

/* ---------- page chrome ---------- */
export function initPage() {
  const fromUrl = new URLSearchParams(location.search).get('lang');
  if (LANGS.includes(fromUrl)) safeSet(LANG_KEY, fromUrl);  // pages reached without it (back from payment) keep it
  document.querySelectorAll('[data-lang]').forEach((btn) => {
    btn.addEventListener('click', () => setLang(btn.dataset.lang));
  });
  window.addEventListener('storage', (e) => {
    if (e.key === BASKET_KEY) updateBasketCount();
    if (e.key === LANG_KEY) applyI18n();
  });
  applyI18n();
}


/** One quantity input per price type into `container`, keeping the amounts already typed
    (the event page and the waiting room). `hint`: the id of an extra description, if any. */
export function renderPriceTypeInputs(container, priceTypes, { max, hint = '', onChange }) {
  const previous = {};
  container.querySelectorAll('input[data-code]').forEach((input) => { previous[input.dataset.code] = input.value; });
  const types = Array.isArray(priceTypes) ? priceTypes : [];
  container.replaceChildren(...types.map((pt) => {
    const id = `qty-${pt.code}`;
    const input = h('input', {
      type: 'number', id, name: id, min: 0, max, step: 1, inputmode: 'numeric',
      value: String(previous[pt.code] ?? 0), 'aria-describedby': `${id}-price${hint ? ` ${hint}` : ''}`,
      dataset: { code: pt.code }
    });
    input.addEventListener('input', onChange);
    input.addEventListener('change', onChange);
    // Steppers: 44 px targets for a thumb, each names what it changes.
    const step = (delta, symbol, labelKey) => h('button', {
      type: 'button', class: 'stepper', 'aria-controls': id,
      'aria-label': t(labelKey, { label: pt.label || pt.code }),
      onclick: () => {
        const now = Number.parseInt(input.value, 10);
        input.value = String(Math.min(max, Math.max(0, (Number.isFinite(now) ? now : 0) + delta)));
        onChange();
      }
    }, symbol);
    return h('div', { class: 'price-type' },
      h('label', { for: id }, pt.label || pt.code),
      h('span', { class: 'price', id: `${id}-price` }, formatMoney(pt.amount), h('span', { class: 'visually-hidden' }, ` ${t('event.each')}`)),
      h('span', { class: 'quantity' }, step(-1, '−', 'event.fewer'), input, step(1, '+', 'event.more')));
  }));
}
