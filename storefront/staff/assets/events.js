// The venue's events: drafts, published, taken off the site, cancelled; a new one opens the editor.
import { h, onLangChange, showProblem, t, withLang } from '/assets/core.js';
import { requireStaff, staffApi, venuePath } from './staff.js';
import { statusOf } from './admin.js';

const ctx = await requireStaff({ lead: true });
const list = document.getElementById('events');
let events = [];

function editHref(event) {
  const q = new URLSearchParams({ venue: ctx.venue });
  if (event) q.set('event', event.event_id);
  return withLang(`/staff/event-edit.html?${q}`);
}

function render() {
  document.getElementById('new-event').href = editHref(null);
  if (!events.length) { list.replaceChildren(h('p', {}, t('admin.no_events'))); return; }
  const sorted = [...events].sort((a, b) => (b.created_at || '').localeCompare(a.created_at || ''));
  list.replaceChildren(h('div', { class: 'table-scroll' }, h('table', { class: 'admin-table' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('admin.title')), h('th', { scope: 'col' }, t('admin.status')),
      h('th', { scope: 'col' }, t('admin.hall')), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('admin.edit'))))),
    h('tbody', {}, sorted.map((event) => {
      const status = statusOf(event);
      return h('tr', { dataset: { event: event.event_id, status } },
        h('td', {}, event.title), h('td', {}, h('span', { class: `badge badge-${status}` }, t(`admin.status.${status}`))),
        h('td', {}, event.hall),
        h('td', {}, h('a', { class: 'button button-small', href: editHref(event), 'aria-label': `${t('admin.edit')}: ${event.title}` }, t('admin.edit'))));
    })))));
}

if (ctx) {
  try {
    events = await staffApi(venuePath(ctx, '/events'));
    render();
    onLangChange(render);
  } catch (error) {
    showProblem(document.getElementById('message'), error);
    list.replaceChildren();
  }
}
