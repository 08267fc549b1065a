// Network catalogue: filters (when, venue, genre), a search that understands
// dates, event cards with picture and availability. Every filter is in the
// URL (with the language), so a shared or reloaded link shows the same list.
import {
  initPage, onLangChange, getLang, t, tn, h, loadJson, formatMoney, formatDateTime,
  applyAccent, showProblem, param, withLang, pictureSources
} from './core.js';
import { parseDateQuery, brusselsDay, weekendOf, inRange, normalise } from './datesearch.js';

const WHEN = ['', 'today', 'weekend', 'range'];
const GENRES = ['classical', 'jazz', 'pop-rock', 'electronic', 'world', 'theatre', 'dance', 'comedy', 'family', 'tour',
  'festival', 'other'];

const state = {
  venues: [], events: [], loaded: false,
  venue: param('venue') || '', genre: param('genre') || '', query: param('q') || '',
  when: WHEN.includes(param('when')) ? param('when') : '', from: param('from') || '', to: param('to') || ''
};
if (!state.when && (state.from || state.to)) state.when = 'range';

const formEl = document.getElementById('filters');
const searchEl = document.getElementById('search');
const datesFoundEl = document.getElementById('dates-found');
const whenChipsEl = document.getElementById('when-chips');
const rangeEl = document.getElementById('date-range');
const fromEl = document.getElementById('date-from');
const toEl = document.getElementById('date-to');
const venueEl = document.getElementById('venue-filter');
const genreEl = document.getElementById('genre-filter');
const listEl = document.getElementById('events');
const countEl = document.getElementById('result-count');
const messageEl = document.getElementById('message');
const venuesEl = document.getElementById('venues');

const venueBySlug = (slug) => state.venues.find((v) => v.slug === slug);
const today = () => brusselsDay(new Date());

/** The event's title in the page's language, and whether it fell back to Dutch. */
function titleOf(event) {
  const titles = event.titles || {};
  const lang = getLang();
  if (titles[lang]) return { text: titles[lang], lang, fallback: false };
  return { text: titles.nl || event.title, lang: 'nl', fallback: lang !== 'nl' };
}

/** The days asked for: the date filter and any date in the search, both must hold. */
function ranges() {
  const now = today();
  const out = [];
  if (state.when === 'today') out.push({ from: now, to: now });
  if (state.when === 'weekend') out.push(weekendOf(now));
  if (state.when === 'range' && (state.from || state.to)) out.push({ from: state.from, to: state.to });
  const parsed = parseDateQuery(state.query, now);
  if (parsed.range) out.push(parsed.range);
  return { ranges: out, words: parsed.words, searched: parsed.range };
}

/** Performances still to come (or started today) that fall in every range. */
function matchingPerformances(event, wanted) {
  const now = today();
  const performances = event.performances || (event.first_performance ? [{ starts_at: event.first_performance }] : []);
  return performances.filter((p) => {
    const day = brusselsDay(p.starts_at);
    return day >= now && wanted.every((r) => inRange(day, r));
  });
}

function matches(event, wanted, words) {
  if (state.venue && event.venue !== state.venue) return null;
  if (state.genre && event.genre !== state.genre) return null;
  const performances = matchingPerformances(event, wanted);
  if (wanted.length && !performances.length) return null;
  if (words.length) {
    const venue = venueBySlug(event.venue);
    const haystack = normalise([...Object.values(event.titles || {}), event.title, event.category, event.hall,
      event.genre ? t(`genre.${event.genre}`) : '', venue?.name, venue?.city].join(' '));
    if (!words.every((word) => haystack.includes(word))) return null;
  }
  return performances;
}

function eventHref(event) {
  const qs = new URLSearchParams({ venue: event.venue, event: event.event_id });
  return withLang(`/event.html?${qs}`);
}

function syncUrl() {
  const qs = new URLSearchParams();
  for (const key of ['venue', 'genre', 'when']) if (state[key]) qs.set(key, state[key]);
  if (state.when === 'range') {
    if (state.from) qs.set('from', state.from);
    if (state.to) qs.set('to', state.to);
  }
  if (state.query.trim()) qs.set('q', state.query.trim());
  qs.set('lang', getLang());
  history.replaceState(null, '', `?${qs}`);
}

function renderWhen() {
  whenChipsEl.replaceChildren(...WHEN.map((when) => {
    const label = t({ '': 'index.when_all', today: 'index.when_today', weekend: 'index.when_weekend', range: 'index.when_range' }[when]);
    const chip = h('button', { type: 'button', class: 'chip', 'aria-pressed': String(state.when === when), dataset: { when } }, label);
    chip.addEventListener('click', () => {
      state.when = when;
      update();
      if (when === 'range') fromEl.focus();
    });
    return chip;
  }));
  rangeEl.hidden = state.when !== 'range';
  fromEl.value = state.from;
  toEl.value = state.to;
}

function renderSelects() {
  const option = (value, label, selected) => h('option', { value, selected }, label);
  venueEl.replaceChildren(option('', t('index.all'), !state.venue),
    ...state.venues.map((v) => option(v.slug, v.name, state.venue === v.slug)));
  const present = new Set(state.events.map((e) => e.genre).filter(Boolean));
  genreEl.replaceChildren(option('', t('index.genre_all'), !state.genre),
    ...GENRES.filter((g) => present.has(g)).map((g) => option(g, t(`genre.${g}`), state.genre === g)));
}

function picture(image, alt, sizes) {
  const sources = pictureSources(image);
  if (!sources) return null;
  return h('img', {
    class: 'event-card-image', src: sources.smallest, srcset: sources.srcset,
    sizes, alt, width: image.width, height: image.height, loading: 'lazy', decoding: 'async'
  });
}

function availabilityBadge(level) {
  if (level === 'sold_out') return h('span', { class: 'badge badge-sold-out' }, t('avail.sold_out'));
  if (level === 'few_left') return h('span', { class: 'badge badge-few-left' }, t('avail.few_left'));
  return null;
}

function card(event, performances, index) {
  const venue = venueBySlug(event.venue);
  const title = titleOf(event);
  const next = performances[0] || (event.performances || [])[0] || { starts_at: event.first_performance };
  const level = performances.length
    ? (performances.some((p) => p.availability === 'available') ? 'available'
      : performances.some((p) => p.availability === 'few_left') ? 'few_left' : 'sold_out')
    : event.availability;
  const date = next?.starts_at ? formatDateTime(next.starts_at) : t('index.date_tbc');
  const image = picture(event.image, '', '(min-width: 820px) 360px, 100vw');
  // The first row of pictures is what the buyer sees first: load it at once.
  if (image && index < 3) { image.removeAttribute('loading'); image.setAttribute('fetchpriority', index === 0 ? 'high' : 'auto'); }
  const li = h('li', { class: `event-card${level === 'sold_out' ? ' is-sold-out' : ''}`, dataset: { event: event.event_id, availability: level || '' } },
    image,
    h('a', { href: eventHref(event), class: 'event-card-link' },
      h('span', { class: 'event-card-venue' }, venue?.name || event.venue),
      h('h2', { class: 'event-card-title', lang: title.lang },
        title.text, title.fallback ? h('abbr', { class: 'lang-fallback', title: t('event.only_dutch') }, t('index.only_dutch')) : null),
      h('span', { class: 'event-card-meta' },
        [event.genre ? t(`genre.${event.genre}`) : event.category, event.hall].filter(Boolean).join(' · ')),
      h('span', { class: 'event-card-date' },
        next?.starts_at ? h('time', { datetime: next.starts_at }, date) : date,
        event.performance_count > 1 ? h('span', { class: 'muted' }, ` (${tn('index.performances', event.performance_count)})`) : null),
      h('span', { class: 'event-card-footer' },
        event.from_price !== null && event.from_price !== undefined
          ? h('span', { class: 'event-card-price' }, t('index.from', { price: formatMoney(event.from_price) }))
          : h('span'),
        event.cancelled ? h('span', { class: 'badge badge-sold-out' }, t('avail.cancelled')) : availabilityBadge(level))));
  applyAccent(li, venue?.brand_color);
  return li;
}

function formatRange(range) {
  const fmt = (day) => formatDateTime(`${day}T12:00:00Z`, { hour: undefined, minute: undefined, year: undefined });
  return range.from === range.to ? fmt(range.from) : `${fmt(range.from)} – ${fmt(range.to)}`;
}

function renderEvents() {
  if (!state.loaded) return;
  const { ranges: wanted, words, searched } = ranges();
  datesFoundEl.textContent = searched ? t('index.dates_found', { range: formatRange(searched) }) : '';
  const visible = [];
  for (const event of state.events) {
    const performances = matches(event, wanted, words);
    if (performances) visible.push(card(event, performances, visible.length));
  }
  listEl.replaceChildren(...visible);
  listEl.setAttribute('aria-busy', 'false');
  countEl.textContent = visible.length ? tn('index.results', visible.length) : t('index.none');
}

/** Every venue with its address and map link (from its profile in the catalogue). */
function renderVenues() {
  venuesEl.replaceChildren(...state.venues.map((v) => {
    const li = h('li', { class: 'venue-card', dataset: { venue: v.slug } },
      v.logo ? h('img', { class: 'venue-logo', src: `/${v.logo_small || v.logo}`, alt: '', width: 48, height: 48 }) : null,
      h('div', {},
        h('h3', {}, v.website ? h('a', { href: v.website, rel: 'noopener' }, v.name) : v.name),
        v.address_line ? h('address', { class: 'venue-address' }, v.address_line) : (v.city ? h('p', {}, v.city) : null),
        v.map_url ? h('a', { class: 'map-link', href: v.map_url, rel: 'noopener',
          'aria-label': `${t('event.map')}: ${v.name}` }, t('event.map')) : null));
    applyAccent(li, v.brand_color);
    return li;
  }));
}

function update() {
  syncUrl();
  renderWhen();
  renderEvents();
}

async function load() {
  countEl.textContent = t('common.loading');
  try {
    const data = await loadJson('/catalogue/network.json');
    state.venues = Array.isArray(data?.venues) ? data.venues : [];
    state.events = (Array.isArray(data?.events) ? data.events : [])
      .sort((a, b) => String(a.first_performance || '9').localeCompare(String(b.first_performance || '9')));
    if (state.venue && !venueBySlug(state.venue)) state.venue = '';
    state.loaded = true;
    renderSelects();
    renderWhen();
    renderEvents();
    renderVenues();
  } catch (err) {
    countEl.textContent = '';
    listEl.setAttribute('aria-busy', 'false');
    showProblem(messageEl, { message: t('common.load_error') });
    console.error(err);
  }
}

initPage();
searchEl.value = state.query;
searchEl.addEventListener('input', () => { state.query = searchEl.value; syncUrl(); renderEvents(); });
formEl.addEventListener('submit', (e) => e.preventDefault());
venueEl.addEventListener('change', () => { state.venue = venueEl.value; update(); });
genreEl.addEventListener('change', () => { state.genre = genreEl.value; update(); });
for (const [input, key] of [[fromEl, 'from'], [toEl, 'to']]) {
  input.addEventListener('change', () => { state[key] = input.value; update(); });
}
onLangChange(() => {
  if (state.loaded) { renderSelects(); update(); renderVenues(); }
});
renderWhen();
load();
