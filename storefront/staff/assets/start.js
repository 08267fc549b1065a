// The start page: one big tile per task this role may do (or, for staff of several venues, the venue first).
import { h, onLangChange, t, withLang } from '/assets/core.js';
import { pagesFor, requireStaff } from './staff.js';

const ctx = await requireStaff();
const tiles = document.getElementById('tiles');
const role = document.getElementById('role');

function render() {
  if (!ctx) return;
  if (ctx.choose) {
    role.textContent = t('staff.choose_venue');
    tiles.replaceChildren(...ctx.venues.map((v) => h('li', {},
      h('a', { class: 'tile', href: withLang(`/staff/index.html?venue=${encodeURIComponent(v.slug)}`) },
        h('span', { class: 'tile-title' }, v.name), t(`staff.role_${v.role}`)))));
    return;
  }
  role.textContent = `${ctx.venueName} · ${t(`staff.role_${ctx.role}`)}`;
  tiles.replaceChildren(...pagesFor(ctx.role).map((page) => h('li', {},
    h('a', { class: 'tile', href: withLang(page.href), dataset: { page: page.key } },
      h('span', { class: 'tile-title' }, t(`staff.tile.${page.key}`)), t(`staff.tile.${page.key}_text`)))));
}
render();
onLangChange(render);
// Sent here from a lead's page by the shell: say why.
if (ctx && new URLSearchParams(location.search).get('reason') === 'lead-only') {
  role.before(h('p', { class: 'message message-warning', role: 'status', id: 'lead-only' }, t('staff.no_role_lead')));
}
