// The lead's privacy page (docs/privacy.md): export or anonymise one person at this venue,
// the retention policy with a dry run, and the audit log. API: /api/venues/{venue}/privacy/*.
import { STRINGS, LANGS } from '/assets/i18n.js';
import { applyI18n, clearMessage, formatDateTime, h, onLangChange, showMessage, showProblem, t } from '/assets/core.js';
import { requireStaff, staffApi, venuePath } from './staff.js';
import { confirmAction } from './admin.js';

const PRIVACY_STRINGS = {
  nl: {
    'privacy.heading': 'Privacy', 'privacy.person_heading': 'Een persoon: inzage of wissen',
    'privacy.email': 'E-mailadres waarmee gekocht werd', 'privacy.export': 'Gegevens exporteren',
    'privacy.erase': 'Anonimiseren', 'privacy.exported': '{orders} bestelling(en) van deze persoon; het bestand is gedownload.',
    'privacy.erase_confirm': 'Naam en e-mailadres van {email} worden bij dit huis gewist. Bedragen en tickets blijven geldig. Dit kan niet ongedaan worden.',
    'privacy.erased': 'Geanonimiseerd: {orders} bestelling(en).', 'privacy.retention_heading': 'Bewaartermijn',
    'privacy.retention_rule': 'Kopers worden geanonimiseerd {months} maanden na hun laatste voorstelling. Het netwerk staat {min} tot {max} maanden toe (standaard {default}).',
    'privacy.months': 'Maanden na de laatste voorstelling', 'privacy.save': 'Bewaren', 'privacy.saved': 'Bewaartermijn bewaard.',
    'privacy.dry_run': 'Proefrun: wie valt eronder?', 'privacy.dry_run_result': '{count} koper(s) vallen nu buiten de termijn (grens: {cutoff}). Er is niets gewijzigd.',
    'privacy.audit_heading': 'Wie las persoonsgegevens', 'privacy.when': 'Wanneer', 'privacy.who': 'Wie',
    'privacy.what': 'Wat', 'privacy.where': 'Vanwaar', 'privacy.none': 'Nog niets gelezen.'
  },
  fr: {
    'privacy.heading': 'Vie privée', 'privacy.person_heading': 'Une personne : accès ou effacement',
    'privacy.email': 'Adresse e-mail utilisée pour l’achat', 'privacy.export': 'Exporter les données',
    'privacy.erase': 'Anonymiser', 'privacy.exported': '{orders} commande(s) de cette personne ; le fichier a été téléchargé.',
    'privacy.erase_confirm': 'Le nom et l’adresse de {email} seront effacés dans cette maison. Montants et billets restent valables. C’est irréversible.',
    'privacy.erased': 'Anonymisé : {orders} commande(s).', 'privacy.retention_heading': 'Durée de conservation',
    'privacy.retention_rule': 'Les acheteurs sont anonymisés {months} mois après leur dernière représentation. Le réseau permet {min} à {max} mois (par défaut {default}).',
    'privacy.months': 'Mois après la dernière représentation', 'privacy.save': 'Enregistrer', 'privacy.saved': 'Durée enregistrée.',
    'privacy.dry_run': 'Essai : qui est concerné ?', 'privacy.dry_run_result': '{count} acheteur(s) dépassent la durée (limite : {cutoff}). Rien n’a été modifié.',
    'privacy.audit_heading': 'Qui a lu des données personnelles', 'privacy.when': 'Quand', 'privacy.who': 'Qui',
    'privacy.what': 'Quoi', 'privacy.where': 'D’où', 'privacy.none': 'Rien n’a encore été lu.'
  },
  en: {
    'privacy.heading': 'Privacy', 'privacy.person_heading': 'One person: access or erasure',
    'privacy.email': 'E-mail address they bought with', 'privacy.export': 'Export their data',
    'privacy.erase': 'Anonymise', 'privacy.exported': '{orders} order(s) of this person; the file was downloaded.',
    'privacy.erase_confirm': 'The name and address of {email} will be erased at this venue. Amounts and tickets stay valid. This cannot be undone.',
    'privacy.erased': 'Anonymised: {orders} order(s).', 'privacy.retention_heading': 'Retention',
    'privacy.retention_rule': 'Buyers are anonymised {months} months after their last performance. The network allows {min} to {max} months (default {default}).',
    'privacy.months': 'Months after the last performance', 'privacy.save': 'Save', 'privacy.saved': 'Retention saved.',
    'privacy.dry_run': 'Dry run: who is past it?', 'privacy.dry_run_result': '{count} buyer(s) are past the limit now (cutoff: {cutoff}). Nothing was changed.',
    'privacy.audit_heading': 'Who read personal data', 'privacy.when': 'When', 'privacy.who': 'Who',
    'privacy.what': 'What', 'privacy.where': 'From where', 'privacy.none': 'Nothing read yet.'
  }
};
for (const lang of LANGS) Object.assign(STRINGS[lang], PRIVACY_STRINGS[lang]);
applyI18n();

const ctx = await requireStaff({ lead: true });
const message = document.getElementById('message');
const emailInput = document.getElementById('person-email');
const personResult = document.getElementById('person-result');
const retentionResult = document.getElementById('retention-result');
const monthsInput = document.getElementById('retention-months');
let policy = null;
let entries = [];

function personBody() {
  if (!emailInput.checkValidity()) { emailInput.reportValidity(); return null; }
  return { email: emailInput.value.trim() };
}

async function exportPerson(event) {
  event.preventDefault();
  clearMessage(message);
  const body = personBody();
  if (!body) return;
  try {
    const exported = await staffApi(venuePath(ctx, '/privacy/exports'), { method: 'POST', body });
    const file = new Blob([JSON.stringify(exported, null, 2)], { type: 'application/json' });
    const link = h('a', { href: URL.createObjectURL(file), download: `${ctx.venue}-${exported.customer_id}.json`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    personResult.replaceChildren(h('p', { class: 'message message-success' }, t('privacy.exported', { orders: exported.orders.length })));
    await loadAudit();
  } catch (error) { personResult.replaceChildren(); showProblem(message, error); }
}

async function erasePerson() {
  clearMessage(message);
  const body = personBody();
  if (!body) return;
  if (!await confirmAction(t('privacy.erase_confirm', { email: body.email }), t('privacy.erase'))) return;
  try {
    const done = await staffApi(venuePath(ctx, '/privacy/erasures'), { method: 'POST', body: { ...body, confirm: true, reason: 'request of the person' } });
    personResult.replaceChildren(h('p', { class: 'message message-success' }, t('privacy.erased', { orders: done.order_ids.length })));
    await loadAudit();
  } catch (error) { personResult.replaceChildren(); showProblem(message, error); }
}

function renderPolicy() {
  if (!policy) return;
  document.getElementById('retention-rule').textContent = t('privacy.retention_rule', {
    months: policy.months, min: policy.min_months, max: policy.max_months, default: policy.network_default_months });
  monthsInput.min = policy.min_months;
  monthsInput.max = policy.max_months;
}

async function saveRetention(event) {
  event.preventDefault();
  clearMessage(message);
  try {
    policy = await staffApi(venuePath(ctx, '/privacy/retention'), { method: 'PUT', body: { months: Number(monthsInput.value) } });
    renderPolicy();
    showMessage(message, 'success', t('privacy.saved'));
  } catch (error) { showProblem(message, error); }
}

async function dryRun() {
  clearMessage(message);
  try {
    const report = await staffApi(venuePath(ctx, '/privacy/retention/run'), { method: 'POST', body: { dry_run: true } });
    retentionResult.replaceChildren(h('p', { class: 'message message-info' },
      t('privacy.dry_run_result', { count: report.count, cutoff: formatDateTime(report.cutoff) })));
  } catch (error) { showProblem(message, error); }
}

function renderAudit() {
  const root = document.getElementById('audit');
  if (!entries.length) { root.replaceChildren(h('p', { class: 'muted' }, t('privacy.none'))); return; }
  root.replaceChildren(h('div', { class: 'table-scroll' }, h('table', { class: 'admin-table' },
    h('thead', {}, h('tr', {}, ['when', 'who', 'what', 'where'].map((key) => h('th', { scope: 'col' }, t(`privacy.${key}`))))),
    h('tbody', {}, entries.map((entry) => h('tr', {},
      h('td', {}, h('time', { datetime: entry.at }, formatDateTime(entry.at))),
      h('td', {}, `${entry.actor} (${entry.role})`),
      h('td', {}, entry.action, ' ', h('span', { class: 'muted' }, Object.values(entry.subject || {}).flat().join(', '))),
      h('td', {}, entry.route)))))));
}

async function loadAudit() {
  entries = await staffApi(venuePath(ctx, '/audit?limit=100'));
  renderAudit();
}

if (ctx && !ctx.choose) {
  document.getElementById('person-form').addEventListener('submit', exportPerson);
  document.getElementById('erase').addEventListener('click', erasePerson);
  document.getElementById('retention-form').addEventListener('submit', saveRetention);
  document.getElementById('retention-dry-run').addEventListener('click', dryRun);
  onLangChange(() => { renderPolicy(); renderAudit(); });
  try {
    policy = await staffApi(venuePath(ctx, '/privacy/retention'));
    monthsInput.value = policy.months;
    renderPolicy();
    await loadAudit();
  } catch (error) { showProblem(message, error); }
}
