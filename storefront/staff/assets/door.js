// The door: choose the performance and name the entrance once, then scan tickets with the camera or
// type their code. Every scan answers full screen (green valid, orange already used, red other
// performance / not valid). Offline scans are kept in this browser with their nonce and time and
// checked when the connection returns; offline the door can only say "saved, not checked", because
// checking a ticket's signature needs the venue's secret, which never leaves the server (docs/staff.md).
import { STRINGS, LANGS } from '/assets/i18n.js';
import { ApiProblem, applyI18n, formatDateTime, formatTime, h, onLangChange, showMessage, showProblem, t, uuid } from '/assets/core.js';
import { requireStaff, staffApi, venuePath } from './staff.js';
import { DOOR_STRINGS } from './door-strings.js';

for (const lang of LANGS) Object.assign(STRINGS[lang], DOOR_STRINGS[lang]);

const REFRESH_MS = 5000;          // the check-in list and counts, and a pending sync, while the page is open
const SAME_CODE_PAUSE_MS = 4000;  // a ticket held in front of the camera is scanned once, not every frame
const VALID_SHOWN_MS = 2000;      // green goes away by itself; a refusal stays until the door person taps
const DECODER = '/staff/assets/vendor/jsQR.min.js';

const $ = (id) => document.getElementById(id);
const els = {
  message: $('message'), setup: $('setup'), performance: $('performance'), doorName: $('door-name'),
  scanner: $('scanner'), heading: $('scanning-heading'), doorLabel: $('door-label'), connection: $('connection'),
  queued: $('queued'), change: $('change'), codeForm: $('code-form'), code: $('code'), camera: $('camera'),
  cameraMessage: $('camera-message'), video: $('video'), counts: $('counts'), syncMessage: $('sync-message'),
  checkIns: $('check-ins'), duplicates: $('duplicates'), verdict: $('verdict'), verdictWord: $('verdict-word'),
  verdictText: $('verdict-text'), verdictNext: $('verdict-next'),
};

const ctx = await requireStaff();
let performances = [];
let chosen = null;        // { performance, door }
let lastList = null;
let lastVerdict = null;   // re-rendered when the language changes
let stream = null;
let lastDecoded = { code: '', at: 0 };
let inFlight = false;
let syncing = false;
let audio = null;
let dismissTimer = 0;

const setupKey = () => `loket.door.setup.${ctx.venue}`;
const queueKey = () => `loket.door.queue.${ctx.venue}`;

function readJson(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key) || 'null') ?? fallback; } catch { return fallback; }
}
function writeJson(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* storage full or off: kept in memory only */ }
}
let queue = [];

/* ---------- choosing the performance and the door ---------- */
const brusselsDay = (iso) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels' }).format(new Date(iso));

function renderSetup() {
  const today = brusselsDay(new Date().toISOString());
  const option = (p) => h('option', { value: p.performance_id }, `${formatDateTime(p.starts_at)} · ${p.event_title}`);
  const todays = performances.filter((p) => brusselsDay(p.starts_at) <= today);
  const later = performances.filter((p) => brusselsDay(p.starts_at) > today);
  const selected = els.performance.value || chosen?.performance.performance_id;
  els.performance.replaceChildren(
    todays.length ? h('optgroup', { label: t('door.today') }, todays.map(option)) : null,
    later.length ? h('optgroup', { label: t('door.later') }, later.map(option)) : null);
  if (selected) els.performance.value = selected;
}

async function loadPerformances() {
  const answer = await staffApi(venuePath(ctx, '/door/performances'));
  performances = answer.performances || [];
  if (!performances.length) {
    els.message.hidden = false;
    els.message.className = 'message message-warning';
    els.message.textContent = t('door.none');
    return;
  }
  const saved = readJson(setupKey(), null);
  els.doorName.value = saved?.door || '';
  renderSetup();
  const again = saved && performances.find((p) => p.performance_id === saved.performance_id);
  if (again && saved.door) {
    els.performance.value = again.performance_id;
    start(again, saved.door);
  } else {
    els.setup.hidden = false;
    els.performance.focus();
  }
}

function start(performance, door) {
  chosen = { performance, door };
  writeJson(setupKey(), { performance_id: performance.performance_id, door });
  els.setup.hidden = true;
  els.scanner.hidden = false;
  renderScannerHeading();
  els.code.focus();
  refresh();
}

function renderScannerHeading() {
  if (!chosen) return;
  els.heading.textContent = `${chosen.performance.event_title} · ${formatDateTime(chosen.performance.starts_at)}`;
  els.doorLabel.textContent = t('door.at_door', { door: chosen.door });
}

els.setup.addEventListener('submit', (event) => {
  event.preventDefault();
  unlockSound();
  const performance = performances.find((p) => p.performance_id === els.performance.value);
  const door = els.doorName.value.trim();
  if (performance && door) start(performance, door);
});

els.change.addEventListener('click', () => {
  stopCamera();
  els.scanner.hidden = true;
  els.setup.hidden = false;
  renderSetup();
  els.performance.focus();
});

/* ---------- scanning ---------- */
els.codeForm.addEventListener('submit', (event) => {
  event.preventDefault();
  unlockSound();
  const code = els.code.value.trim().toUpperCase();
  if (code) scan(code, performance.now(), 'typed');
});

async function scan(code, startedAt, source) {
  if (inFlight || !chosen) return;
  inFlight = true;
  const attempt = { code, performance_id: chosen.performance.performance_id, door: chosen.door, nonce: uuid(),
    scanned_at: new Date().toISOString() };
  try {
    if (!navigator.onLine) {
      keepOffline(attempt);
      showVerdict({ result: 'offline' }, startedAt, source);
      return;
    }
    const answer = await checkOnce(attempt);
    showVerdict(answer, startedAt, source);
  } catch (error) {
    if (error instanceof ApiProblem && error.extra?.result) {
      showVerdict({ ...error.extra }, startedAt, source);
    } else if (error instanceof ApiProblem && error.isNetwork) {
      keepOffline(attempt);
      showVerdict({ result: 'offline' }, startedAt, source);
    } else if (error instanceof ApiProblem && error.is('/busy')) {
      showVerdict({ result: 'busy' }, startedAt, source);
    } else {
      showProblem(els.message, error);
    }
  } finally {
    inFlight = false;
    els.code.value = '';
  }
}

/** One scan; a dropped connection is retried once with the same nonce, which the server counts once. */
async function checkOnce(attempt) {
  const send = () => staffApi(venuePath(ctx, '/tickets/check'), { method: 'POST', body: attempt });
  try {
    return await send();
  } catch (error) {
    if (!(error instanceof ApiProblem && error.isNetwork) || !navigator.onLine) throw error;
    return send();
  }
}

function verdictTexts(answer) {
  switch (answer.result) {
    case 'valid':
      return [t('door.valid'), t('door.valid_text', { label: answer.label, title: answer.event_title })];
    case 'already_used':
      return [t('door.already_used'), t('door.already_used_text',
        { time: formatTime(answer.first_admitted_at), door: answer.first_door })];
    case 'other_performance':
      return [t('door.other_performance'), t('door.other_performance_text',
        { title: answer.event_title, when: formatDateTime(answer.ticket_starts_at) })];
    case 'invalid':
      return [t('door.invalid'), t(answer.reason === 'order_not_paid' ? 'door.invalid_not_paid' : 'door.invalid_unknown')];
    case 'offline':
      return [t('door.offline'), t('door.offline_text')];
    default:
      return [t('door.is_offline'), t('door.busy')];
  }
}

function showVerdict(answer, startedAt, source) {
  lastVerdict = answer;
  const [word, text] = verdictTexts(answer);
  els.verdict.dataset.result = answer.result;
  els.verdictWord.textContent = word;
  els.verdictText.textContent = text;
  els.verdict.hidden = false;
  // Scan to answer on screen, for the door's own measurement (tests read it).
  els.verdict.dataset.ms = String(Math.round(performance.now() - startedAt));
  els.verdict.dataset.source = source;
  els.verdictNext.focus();
  signal(answer.result);
  clearTimeout(dismissTimer);
  if (answer.result === 'valid') dismissTimer = setTimeout(dismissVerdict, VALID_SHOWN_MS);
  if (answer.result !== 'offline') refresh();
}

function dismissVerdict() {
  clearTimeout(dismissTimer);
  if (els.verdict.hidden) return;
  els.verdict.hidden = true;
  lastVerdict = null;
  els.code.focus();
}
els.verdict.addEventListener('click', dismissVerdict);
els.verdict.addEventListener('keydown', (event) => {
  if (['Enter', 'Escape', ' '].includes(event.key)) { event.preventDefault(); dismissVerdict(); }
});

/* ---------- sound and vibration, where the device has them ---------- */
function unlockSound() {
  if (audio || !window.AudioContext) return;
  try { audio = new AudioContext(); } catch { audio = null; }
}
function beep(frequency, at, length) {
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.frequency.value = frequency;
  gain.gain.value = 0.2;
  tone.connect(gain).connect(audio.destination);
  tone.start(audio.currentTime + at);
  tone.stop(audio.currentTime + at + length);
}
function signal(result) {
  const good = result === 'valid';
  navigator.vibrate?.(good ? 120 : [250, 100, 250]);
  if (!audio) return;
  if (good) beep(1320, 0, 0.12);
  else { beep(330, 0, 0.2); beep(330, 0.3, 0.2); }
}

/* ---------- offline: kept here, checked when the connection returns ---------- */
function keepOffline(attempt) {
  queue.push(attempt);
  writeJson(queueKey(), queue);
  renderConnection();
}

async function syncQueue() {
  if (syncing || !queue.length || !navigator.onLine) return;
  syncing = true;
  const batch = queue.slice(0, 200);
  try {
    const answer = await staffApi(venuePath(ctx, '/door/scans'), { method: 'POST', body: { scans: batch } });
    const checked = new Set(answer.results.map((r) => r.nonce));
    queue = readJson(queueKey(), queue).filter((s) => !checked.has(s.nonce));
    writeJson(queueKey(), queue);
    const valid = answer.results.filter((r) => r.result === 'valid').length;
    // The refused ones by name: someone got in offline with a ticket that was used, forged or for another day.
    const scanned = Object.fromEntries(batch.map((s) => [s.nonce, s]));
    const refused = answer.results.filter((r) => r.result !== 'valid').map((r) => h('li', { dataset: { result: r.result } },
      `${formatTime(scanned[r.nonce]?.scanned_at)} · ${scanned[r.nonce]?.door} · ${verdictTexts(r).join(' — ')}`));
    els.syncMessage.hidden = false;
    els.syncMessage.className = refused.length ? 'message message-warning' : 'message message-info';
    els.syncMessage.dataset.synced = String(answer.results.length);
    els.syncMessage.replaceChildren(
      h('p', {}, t('door.synced', { n: answer.results.length, valid, refused: answer.results.length - valid })),
      refused.length ? h('ul', {}, refused) : null);
  } catch (error) {
    // Scans whose time the server cannot accept (a device clock days off) would block the rest for
    // ever: they leave the queue, the message says so, and the others sync on the next round.
    const stale = new Set((error?.errors || []).filter((e) => e.code === 'scan_time_out_of_range')
      .map((e) => batch[Number(String(e.field).split('.')[1])]?.nonce));
    if (stale.size) {
      queue = readJson(queueKey(), queue).filter((s) => !stale.has(s.nonce));
      writeJson(queueKey(), queue);
      showMessage(els.syncMessage, 'warning', t('door.stale', { n: stale.size }));
    } else if (!(error instanceof ApiProblem && error.isNetwork)) {
      showProblem(els.syncMessage, error);
    }
  } finally {
    syncing = false;
    renderConnection();
  }
}

function renderConnection() {
  const online = navigator.onLine;
  els.connection.dataset.online = String(online);
  els.connection.textContent = online ? t('door.online') : t('door.is_offline');
  els.queued.hidden = queue.length === 0;
  els.queued.textContent = t('door.queued', { n: queue.length });
}

window.addEventListener('online', () => { renderConnection(); syncQueue().then(refresh); });
window.addEventListener('offline', renderConnection);

/* ---------- the check-in list and counts ---------- */
async function refresh() {
  if (!chosen || !navigator.onLine) return;
  try {
    const list = await staffApi(venuePath(ctx, `/door/performances/${encodeURIComponent(chosen.performance.performance_id)}`));
    if (list.performance_id === chosen.performance.performance_id) renderList(list);
  } catch { /* the next refresh tries again */ }
}

function renderList(list) {
  lastList = list;
  els.counts.textContent = t('door.counts', { admitted: list.admitted, sold: list.sold });
  els.counts.dataset.admitted = String(list.admitted);
  els.counts.dataset.sold = String(list.sold);
  const table = (rows, withLabel) => h('table', { class: 'door-table' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('door.col_time')), h('th', { scope: 'col' }, t('door.col_door')),
      h('th', { scope: 'col' }, t('door.col_ticket')))),
    h('tbody', {}, rows.slice(0, 50).map((row) => h('tr', { dataset: { ticket: row.ticket_id } },
      h('td', {}, formatTime(row.admitted_at)), h('td', {}, row.door),
      h('td', {}, withLabel ? `${row.label} · ${row.ticket_id}` : row.ticket_id)))));
  els.checkIns.replaceChildren(list.check_ins.length ? table(list.check_ins, true) : h('p', { class: 'muted' }, t('door.list_empty')));
  els.duplicates.replaceChildren(...(list.duplicates.length
    ? [h('h2', {}, t('door.duplicates_heading')), table(list.duplicates, false)] : []));
}

setInterval(() => {
  if (document.hidden) return;
  renderConnection();
  syncQueue().then(refresh);
}, REFRESH_MS);

/* ---------- the camera ---------- */
els.camera.addEventListener('click', () => { unlockSound(); stream ? stopCamera() : startCamera(); });

function loadDecoder() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  return new Promise((resolve, reject) => {
    document.head.append(h('script', { src: DECODER, onload: () => resolve(window.jsQR), onerror: reject }));
  });
}

async function startCamera() {
  els.cameraMessage.textContent = '';
  if (!navigator.mediaDevices?.getUserMedia) { els.cameraMessage.textContent = t('door.camera_missing'); return; }
  try {
    const [media] = await Promise.all([
      navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false }), loadDecoder()]);
    stream = media;
  } catch (error) {
    els.cameraMessage.textContent = t(error?.name === 'NotFoundError' ? 'door.camera_missing' : 'door.camera_refused');
    return;
  }
  els.video.srcObject = stream;
  els.video.hidden = false;
  await els.video.play().catch(() => {});
  els.camera.setAttribute('aria-pressed', 'true');
  els.camera.textContent = t('door.camera_off');
  els.cameraMessage.textContent = t('door.camera_hint');
  requestAnimationFrame(readFrame);
}

function stopCamera() {
  stream?.getTracks().forEach((track) => track.stop());
  stream = null;
  els.video.hidden = true;
  els.camera.setAttribute('aria-pressed', 'false');
  els.camera.textContent = t('door.camera_on');
}

const canvas = document.createElement('canvas');
const drawing = canvas.getContext('2d', { willReadFrequently: true });

function readFrame() {
  if (!stream) return;
  const video = els.video;
  if (video.readyState >= 2 && els.verdict.hidden && !inFlight && video.videoWidth) {
    const startedAt = performance.now();
    const scale = Math.min(1, 800 / video.videoWidth);  // enough pixels for a ticket's code, few enough for a phone
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    drawing.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = drawing.getImageData(0, 0, canvas.width, canvas.height);
    const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' });
    video.dataset.framesRead = String(Number(video.dataset.framesRead || 0) + 1);
    const code = found?.data?.trim().toUpperCase();
    const repeated = code === lastDecoded.code && Date.now() - lastDecoded.at < SAME_CODE_PAUSE_MS;
    if (code) lastDecoded = { code, at: Date.now() };
    if (code && !repeated) scan(code, startedAt, 'camera');
  }
  requestAnimationFrame(readFrame);
}

/* ---------- start ---------- */
if (ctx?.choose) {  // staff of several venues: which venue's door first
  els.message.hidden = false;
  els.message.className = 'message message-info';
  els.message.replaceChildren(h('p', {}, t('staff.choose_venue')), h('ul', {}, ctx.venues.map((v) => h('li', {},
    h('a', { class: 'button button-secondary', href: `/staff/door.html?venue=${encodeURIComponent(v.slug)}` }, v.name)))));
  applyI18n();
} else if (ctx) {
  queue = readJson(queueKey(), []);
  els.camera.textContent = t('door.camera_on');
  renderConnection();
  onLangChange(() => {
    renderSetup();
    renderScannerHeading();
    renderConnection();
    if (lastList) renderList(lastList);
    if (lastVerdict) [els.verdictWord.textContent, els.verdictText.textContent] = verdictTexts(lastVerdict);
    els.camera.textContent = t(stream ? 'door.camera_off' : 'door.camera_on');
    applyI18n();
  });
  applyI18n();
  loadPerformances().then(syncQueue).catch((error) => showProblem(els.message, error));
}
