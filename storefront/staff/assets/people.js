// The venue's staff accounts: role (clerk/lead), disable and enable, add a new one.
import { clearMessage, h, onLangChange, showMessage, showProblem, t, uuid } from '/assets/core.js';
import { requireStaff, staffApi, venuePath } from './staff.js';
import './admin.js';  // the lead pages' strings

const ctx = await requireStaff({ lead: true });
const root = document.getElementById('people');
const message = document.getElementById('message');
let staff = [];

async function change(username, body) {
  clearMessage(message);
  try {
    await staffApi(venuePath(ctx, `/staff/${encodeURIComponent(username)}`), { method: 'PUT', body });
    await load();
    showMessage(message, 'success', t('admin.saved'));
  } catch (error) { showProblem(message, error); await load(); }
}

function render() {
  root.replaceChildren(h('div', { class: 'table-scroll' }, h('table', { class: 'admin-table' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('admin.username')), h('th', { scope: 'col' }, t('admin.role')),
      h('th', { scope: 'col' }, t('admin.status')))),
    h('tbody', {}, staff.map((account, i) => {
      const self = account.username === ctx.username;
      return h('tr', { dataset: { username: account.username } },
        h('td', {}, account.username, self ? ` ${t('admin.you')}` : ''),
        h('td', {}, h('select', { id: `role-${i}`, 'aria-label': `${t('admin.role')}: ${account.username}`, disabled: self,
          onchange: (e) => change(account.username, { role: e.target.value }) },
          ['clerk', 'lead'].map((role) => h('option', { value: role, selected: account.role === role }, t(`staff.role_${role}`))))),
        h('td', {}, h('span', { class: `badge ${account.enabled ? 'badge-published' : 'badge-cancelled'}` },
          account.enabled ? t('admin.enabled') : t('admin.disabled')), ' ',
          self ? null : h('button', { type: 'button', class: 'button button-small', id: `toggle-${i}`,
            onclick: () => change(account.username, { enabled: !account.enabled }) },
            `${account.enabled ? t('admin.disable') : t('admin.enable')}: ${account.username}`)));
    })))));
}

async function load() {
  staff = (await staffApi(venuePath(ctx, '/staff'))).staff;
  render();
}

if (ctx) {
  const form = document.getElementById('invite-form');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMessage(message);
    try {
      await staffApi(venuePath(ctx, '/staff'), { method: 'POST', headers: { 'Idempotency-Key': uuid() },
        body: { username: form.username.value.trim(), password: form.password.value, role: form.role.value } });
      form.reset();
      await load();
      showMessage(message, 'success', t('admin.saved'));
    } catch (error) { showProblem(message, error); }
  });
  try { await load(); } catch (error) { showProblem(message, error); }
  onLangChange(render);
}
