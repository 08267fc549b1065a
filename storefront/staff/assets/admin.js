// What the lead's pages share: their strings, euros <-> cents, Brussels date/time pickers <-> ISO
// with offset, and a confirmation that says what will happen. The API and the guard are staff.js's.
import { STRINGS, LANGS } from '/assets/i18n.js';
import { h, t } from '/assets/core.js';
import { ADMIN_STRINGS } from './admin-strings.js';

for (const lang of LANGS) Object.assign(STRINGS[lang], ADMIN_STRINGS[lang]);

export const ZONE = 'Europe/Brussels';

/** "12,50", "12.50", "€ 12" -> 1250 cents; null when it is not an amount. */
export function parseEuros(text) {
  const clean = String(text ?? '').replace(/[€\s]/g, '').replace(',', '.');
  if (!/^\d{1,6}(\.\d{1,2})?$/.test(clean)) return null;
  const [whole, fraction = ''] = clean.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** 1250 -> "12,50" (for an input the lead edits). */
export function eurosText(cents) {
  return `${Math.floor(cents / 100)},${String(cents % 100).padStart(2, '0')}`;
}

function brusselsParts(date) {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(date);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}

/** An instant -> the "YYYY-MM-DDTHH:MM" a datetime-local picker shows for Brussels. */
export function toPicker(iso) {
  const p = brusselsParts(new Date(iso));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** A picker's Brussels wall time -> ISO with Brussels' offset on that day ("…T20:00:00+01:00"). */
export function fromPicker(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value || '');
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let offset = 0;
  for (let i = 0; i < 2; i += 1) {  // the offset at the instant itself (twice: around a DST change)
    const p = brusselsParts(new Date(wall - offset));
    offset = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute) - (wall - offset);
  }
  const minutes = Math.round(offset / 60000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** A modal that says what will happen; resolves true when the lead confirms. */
export function confirmAction(message, confirmLabel = t('admin.confirm')) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm-dialog', 'aria-labelledby': 'confirm-text' },
      h('p', { id: 'confirm-text' }, message),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button button-secondary', id: 'confirm-no' }, t('admin.keep')),
        h('button', { type: 'button', class: 'button button-primary', id: 'confirm-yes' }, confirmLabel)));
    const done = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    dialog.querySelector('#confirm-no').addEventListener('click', () => done(false));
    dialog.querySelector('#confirm-yes').addEventListener('click', () => done(true));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector('#confirm-no').focus();
  });
}

export function statusOf(event) {
  if (event.cancelled_at) return 'cancelled';
  if (event.published) return 'published';
  return event.first_published_at ? 'unpublished' : 'draft';
}
