// Network catalogue: venue filter chips, search, event cards.
import {
  initPage, onLangChange, t, tn, h, loadJson, formatMoney, formatDateTime,
  applyAccent, showProblem, param
} from './core.js';

const state = { venues: [], events: [], venue: param('venue') || '', query: param('q') || '', loaded: false };

const chipsEl = document.getElementById('venue-chips');
const searchEl = document.getElementById('search');
const listEl = document.getElementById('events');
const countEl = document.getElementById('result-count');
const messageEl = document.getElementById('message');

function venueBySlug(slug) {
  return state.venues.find((v) => v.slug === slug);
}

function normalise(s) {
  return String(s ?? '').toLocaleLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

function matches(event) {
  if (state.venue && event.venue !== state.venue) return false;
  const q = normalise(state.query.trim());
  if (!q) return true;
  const venue = venueBySlug(event.venue);
  const haystack = normalise([event.title, event.category, event.hall, venue?.name, venue?.city].join(' '));
  return q.split(/\s+/).every((word) => haystack.includes(word));
}

function eventHref(event) {
  const qs = new URLSearchParams({ venue: event.venue, event: event.event_id });
  return `/event.html?${qs}`;
}

function syncUrl() {
  const qs = new URLSearchParams();
  if (state.venue) qs.set('venue', state.venue);
  if (state.query.trim()) qs.set('q', state.query.trim());
  const s = qs.toString();
  history.replaceState(null, '', s ? `?${s}` : location.pathname);
}

function renderChips() {
  const chip = (slug, label, color) => {
    const btn = h('button', {
      type: 'button', class: 'chip', 'aria-pressed': String(state.venue === slug), dataset: { venue: slug }
    }, label);
    if (color) applyAccent(btn, color);
    btn.addEventListener('click', () => {
      state.venue = slug;
      syncUrl();
      renderChips();
      renderEvents();
    });
    return btn;
  };
  chipsEl.replaceChildren(
    chip('', t('index.all')),
    ...state.venues.map((v) => chip(v.slug, v.name, v.brand_color))
  );
}

function card(event) {
  const venue = venueBySlug(event.venue);
  const date = event.first_performance ? formatDateTime(event.first_performance) : t('index.date_tbc');
  const li = h('li', { class: `event-card${event.sold_out ? ' is-sold-out' : ''}` },
    h('a', { href: eventHref(event), class: 'event-card-link' },
      h('span', { class: 'event-card-venue' }, venue?.name || event.venue),
      h('h2', { class: 'event-card-title' }, event.title),
      h('span', { class: 'event-card-meta' },
        [event.hall, event.category].filter(Boolean).join(' · ')),
      h('span', { class: 'event-card-date' },
        event.first_performance ? h('time', { datetime: event.first_performance }, date) : date,
        event.performance_count > 1 ? h('span', { class: 'muted' }, ` (${tn('index.performances', event.performance_count)})`) : null),
      h('span', { class: 'event-card-footer' },
        event.from_price !== null && event.from_price !== undefined
          ? h('span', { class: 'event-card-price' }, t('index.from', { price: formatMoney(event.from_price) }))
          : h('span'),
        event.sold_out ? h('span', { class: 'badge badge-sold-out' }, t('common.sold_out')) : null)
    )
  );
  applyAccent(li, venue?.brand_color);
  return li;
}

function renderEvents() {
  if (!state.loaded) return;
  const visible = state.events.filter(matches);
  listEl.replaceChildren(...visible.map(card));
  listEl.setAttribute('aria-busy', 'false');
  countEl.textContent = visible.length ? tn('index.results', visible.length) : t('index.none');
}

function sortEvents(events) {
  return [...events].sort((a, b) => {
    if (!a.first_performance && !b.first_performance) return a.title.localeCompare(b.title);
    if (!a.first_performance) return 1;
    if (!b.first_performance) return -1;
    return new Date(a.first_performance) - new Date(b.first_performance);
  });
}

async function load() {
  countEl.textContent = t('common.loading');
  try {
    const data = await loadJson('/catalogue/network.json');
    state.venues = Array.isArray(data?.venues) ? data.venues : [];
    state.events = sortEvents(Array.isArray(data?.events) ? data.events : []);
    if (state.venue && !venueBySlug(state.venue)) state.venue = '';
    state.loaded = true;
    renderChips();
    renderEvents();
  } catch (err) {
    countEl.textContent = '';
    listEl.setAttribute('aria-busy', 'false');
    showProblem(messageEl, { message: t('common.load_error') });
    console.error(err);
  }
}

initPage();
searchEl.value = state.query;
searchEl.addEventListener('input', () => {
  state.query = searchEl.value;
  syncUrl();
  renderEvents();
});
onLangChange(() => {
  if (state.loaded) { renderChips(); renderEvents(); }
});
load();
