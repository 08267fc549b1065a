// The staff pages' shell: sign-in guard, the API with the staff token, header and nav by role,
// problems in the page's language. Builds on the storefront's core.js and i18n.js.
//
// The token lives in sessionStorage: box-office PCs are shared, so closing the tab signs out.
import { STRINGS, LANGS } from '/assets/i18n.js';
import { api, ApiProblem, applyI18n, getLang, h, initPage, onLangChange, setLang, showProblem, t, withLang } from '/assets/core.js';
import { STAFF_STRINGS } from './staff-strings.js';

for (const lang of LANGS) Object.assign(STRINGS[lang], STAFF_STRINGS[lang]);

export const SIGN_IN_PAGE = '/staff/sign-in.html';
const SESSION_KEY = 'loket.staff';

/* What each role sees, in this order; `lead: true` pages are the venue lead's only. */
export const PAGES = [
  { key: 'kassa', href: '/staff/kassa.html' },
  { key: 'door', href: '/staff/door.html' },
  { key: 'report', href: '/staff/report.html' },
  { key: 'events', href: '/staff/events.html', lead: true },
  { key: 'sales', href: '/staff/sales.html', lead: true },
  { key: 'people', href: '/staff/people.html', lead: true },
  { key: 'privacy', href: '/staff/privacy.html', lead: true },
];

function readSession() {
  try { return JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); } catch { return null; }
}
function writeSession(value) {
  try { sessionStorage.setItem(SESSION_KEY, JSON.stringify(value)); } catch { /* private mode: signed in for this page only */ }
}
export function forgetSession() {
  try { sessionStorage.removeItem(SESSION_KEY); } catch { /* nothing kept */ }
}

/** Where to go back to after signing in: only a path on this site. */
function safeNext(raw) {
  return typeof raw === 'string' && raw.startsWith('/') && !raw.startsWith('//') ? raw : '/staff/index.html';
}

export function goToSignIn(reason = '') {
  const next = `${location.pathname}${location.search}`;
  const url = new URL(SIGN_IN_PAGE, location.href);
  url.searchParams.set('next', next);
  url.searchParams.set('lang', getLang());
  if (reason) url.searchParams.set('reason', reason);
  location.assign(`${url.pathname}${url.search}`);
}

/** Username + password -> a session kept in this tab; answers the staff member. */
export async function signIn(username, password) {
  const answer = await api('/api/staff/session', { method: 'POST', body: { username, password } });
  const session = { token: answer.id_token, expires_at: Date.now() + (answer.expires_in - 30) * 1000 };
  writeSession(session);
  session.me = await staffApi('/api/staff/me');
  writeSession(session);
  return session;
}

export function signOut() {
  forgetSession();
  location.assign(withLang(`${SIGN_IN_PAGE}?reason=signed-out`));
}

/** The API with the staff token; a refused or expired sign-in sends the user to sign in again. */
export async function staffApi(path, options = {}) {
  const session = readSession();
  const headers = { ...(options.headers || {}) };
  if (session?.token) headers.Authorization = `Bearer ${session.token}`;
  try {
    return await api(path, { ...options, headers });
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401 && path !== '/api/staff/session') {
      forgetSession();
      goToSignIn('expired');
    }
    throw error;
  }
}

/** The venue's API: `venueApi(ctx, '/orders')` -> /api/venues/{venue}/orders. */
export function venuePath(ctx, path) {
  return `/api/venues/${encodeURIComponent(ctx.venue)}${path}`;
}

async function venueNames() {
  try {
    const network = await api('/catalogue/network.json');
    return Object.fromEntries((network?.venues || []).map((v) => [v.slug, v.name]));
  } catch { return {}; }
}

/**
 * The guard every staff page calls first: signed in (else to sign-in and back), for one venue
 * (?venue= or the only one), with the role the page needs. Renders the header; answers
 * { venue, venueName, role, username } or null when the page cannot be used.
 */
export async function requireStaff({ lead = false } = {}) {
  initPage();
  const session = readSession();
  if (!session?.token || !session.me || session.expires_at < Date.now()) {
    forgetSession();
    goToSignIn(session ? 'expired' : '');
    return null;
  }
  const venues = session.me.venues || {};
  const slugs = Object.keys(venues).sort();
  const asked = new URLSearchParams(location.search).get('venue') || session.venue;
  const venue = slugs.includes(asked) ? asked : (slugs.length === 1 ? slugs[0] : null);
  if (venue && session.venue !== venue) writeSession({ ...session, venue });
  const names = await venueNames();
  const ctx = { venue, venueName: venue ? (names[venue] || venue) : '', role: venue ? venues[venue] : null,
    username: session.me.username, venues: slugs.map((slug) => ({ slug, name: names[slug] || slug, role: venues[slug] })) };
  renderHeader(ctx);
  onLangChange(() => renderHeader(ctx));
  applyI18n();
  if (!venue) return ctx.venues.length ? { ...ctx, choose: true } : refuse('staff.no_venue');
  if (lead && ctx.role !== 'lead') {  // a lead's page: to the start page, which says why
    location.replace(withLang(`/staff/index.html?${new URLSearchParams({ venue, reason: 'lead-only' })}`));
    return null;
  }
  return ctx;
}

function refuse(key) {
  const main = document.getElementById('main');
  main?.replaceChildren(h('p', { class: 'message message-warning' }, t(key)),
    h('p', {}, h('a', { class: 'button', href: withLang('/staff/index.html') }, t('staff.home'))));
  return null;
}

/** The pages this role may open (the start page's tiles and the nav). */
export function pagesFor(role) {
  return PAGES.filter((page) => !page.lead || role === 'lead');
}

function renderHeader(ctx) {
  const header = document.getElementById('staff-header');
  if (!header) return;
  const here = location.pathname;
  const link = (href, label) => h('a', { class: 'nav-link', href: withLang(href), 'aria-current': here === href ? 'page' : null }, label);
  const lang = h('div', { class: 'lang-switch', role: 'group', 'aria-label': t('nav.language') },
    LANGS.map((code) => h('button', { type: 'button', lang: code, dataset: { lang: code }, 'aria-pressed': String(code === getLang()),
      onclick: () => setLang(code) }, code.toUpperCase())));
  header.replaceChildren(h('div', { class: 'wrap header-inner' },
    h('a', { class: 'brand', href: withLang('/staff/index.html') }, `Loket · ${ctx.venueName || t('staff.nav')}`),
    h('nav', { class: 'header-nav', 'aria-label': t('staff.nav') },
      ctx.role ? pagesFor(ctx.role).map((page) => link(page.href, t(`staff.tile.${page.key}`))) : null,
      h('span', { class: 'staff-user muted' }, t('staff.signed_in_as', { user: ctx.username })),
      lang,
      h('button', { type: 'button', class: 'button button-small staff-signout', onclick: signOut }, t('staff.signout')))));
}

/** A problem in the page's language (by its stable type), into a message element. */
export { showProblem };
export { t, h, withLang, getLang };
