// Dates in a search: "zaterdag", "vandaag", "dit weekend", "12 december",
// "12 déc.", "december 12", "12/12", "2026-12-12", "volgende week", a month
// name, in Dutch, French or English (whatever the page's language: people
// type what they think). Pure functions on 'YYYY-MM-DD' day strings in
// Brussels time, so they are tested without a page (tests/test_storefront_dates.py).

const MONTHS = [
  ['januari', 'janvier', 'january', 'jan', 'janv'],
  ['februari', 'fevrier', 'february', 'feb', 'fev', 'fevr'],
  ['maart', 'mars', 'march', 'mrt', 'mar'],
  ['april', 'avril', 'apr', 'avr'],
  ['mei', 'mai', 'may'],
  ['juni', 'juin', 'june', 'jun'],
  ['juli', 'juillet', 'july', 'jul', 'juil'],
  ['augustus', 'aout', 'august', 'aug'],
  ['september', 'septembre', 'sep', 'sept'],
  ['oktober', 'octobre', 'october', 'okt', 'oct'],
  ['november', 'novembre', 'nov'],
  ['december', 'decembre', 'dec']
];
// getUTCDay() order: Sunday first.
const WEEKDAYS = [
  ['zondag', 'dimanche', 'sunday', 'zo', 'dim', 'sun'],
  ['maandag', 'lundi', 'monday', 'ma', 'lun', 'mon'],
  ['dinsdag', 'mardi', 'tuesday', 'di', 'mar', 'tue', 'tues'],
  ['woensdag', 'mercredi', 'wednesday', 'wo', 'mer', 'wed'],
  ['donderdag', 'jeudi', 'thursday', 'do', 'jeu', 'thu', 'thurs'],
  ['vrijdag', 'vendredi', 'friday', 'vr', 'ven', 'fri'],
  ['zaterdag', 'samedi', 'saturday', 'za', 'sam', 'sat']
];
// Two-letter Dutch day abbreviations ("za", "do") are also ordinary words;
// they count as days only with a number ("za 12"), never alone.
const SHORT_DAY_MIN = 3;
const PHRASES = [
  [/\b(vandaag|aujourd'hui|aujourdhui|today|tonight|vanavond|ce soir)\b/, 'today'],
  [/\b(morgen|demain|tomorrow)\b/, 'tomorrow'],
  [/\b(dit weekend|ce week-?end|this weekend|weekend|week-end)\b/, 'weekend'],
  [/\b(volgende week|la semaine prochaine|semaine prochaine|next week)\b/, 'next-week'],
  [/\b(deze week|cette semaine|this week)\b/, 'this-week'],
  [/\b(volgende maand|le mois prochain|mois prochain|next month)\b/, 'next-month']
];

const DATE_WORDS = new Set(['op', 'om', 'le', 'la', 'les', 'on', 'at', 'in', 'en', 'the', 'this', 'dit', 'deze', 'ce', 'cette', 'a', 'van', 'du', 'of']);

export function normalise(text) {
  return String(text ?? '').toLocaleLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[’`]/g, "'");
}

const pad = (n) => String(n).padStart(2, '0');

/** 'YYYY-MM-DD' of a moment, in Brussels. */
export function brusselsDay(moment) {
  const d = moment instanceof Date ? moment : new Date(moment);
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels', year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(d);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

function toDate(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

export function addDays(day, n) {
  const d = toDate(day);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function weekday(day) {
  return toDate(day).getUTCDay();
}

function validDay(y, m, d) {
  if (!(m >= 1 && m <= 12 && d >= 1 && d <= 31)) return null;
  const day = `${y}-${pad(m)}-${pad(d)}`;
  return toDate(day).toISOString().slice(0, 10) === day ? day : null;
}

/** A day without a year means the next one to come (today included). */
function nextDay(today, m, d) {
  const year = Number(today.slice(0, 4));
  const thisYear = validDay(year, m, d);
  if (thisYear && thisYear >= today) return thisYear;
  return validDay(year + 1, m, d);
}

/** Saturday and Sunday of this weekend (today itself when it is Sunday). */
export function weekendOf(today) {
  const wd = weekday(today);
  if (wd === 0) return { from: today, to: today };
  const saturday = addDays(today, (6 - wd) % 7);
  return { from: saturday, to: addDays(saturday, 1) };
}

function monthIndex(word) {
  const w = word.replace(/\.$/, '');
  return MONTHS.findIndex((names) => names.includes(w));
}

function weekdayIndex(word, allowShort) {
  return WEEKDAYS.findIndex((names) => names.some((n) => n === word && (allowShort || n.length >= SHORT_DAY_MIN)));
}

function phraseRange(kind, today) {
  switch (kind) {
    case 'today': return { from: today, to: today };
    case 'tomorrow': { const d = addDays(today, 1); return { from: d, to: d }; }
    case 'weekend': return weekendOf(today);
    case 'this-week': return { from: today, to: addDays(today, (7 - weekday(today)) % 7) };
    case 'next-week': {
      const monday = addDays(today, ((8 - weekday(today)) % 7) || 7);
      return { from: monday, to: addDays(monday, 6) };
    }
    case 'next-month': {
      const [y, m] = today.split('-').map(Number);
      const first = m === 12 ? `${y + 1}-01-01` : `${y}-${pad(m + 1)}-01`;
      const [ny, nm] = first.split('-').map(Number);
      return { from: first, to: addDays(nm === 12 ? `${ny + 1}-01-01` : `${ny}-${pad(nm + 1)}-01`, -1) };
    }
    default: return null;
  }
}

function monthRange(today, month) {
  const year = Number(today.slice(0, 4));
  const thisMonthStart = `${year}-${pad(month + 1)}-01`;
  const start = thisMonthStart.slice(0, 7) >= today.slice(0, 7) ? thisMonthStart : `${year + 1}-${pad(month + 1)}-01`;
  const [y, m] = start.split('-').map(Number);
  const next = m === 12 ? `${y + 1}-01-01` : `${y}-${pad(m + 1)}-01`;
  return { from: start < today ? today : start, to: addDays(next, -1) };
}

/**
 * Split a search into the dates it names and the words left to match.
 * Returns { range: {from, to} | null, words: string[] } with days as 'YYYY-MM-DD'.
 */
export function parseDateQuery(text, today) {
  let rest = ` ${normalise(text).replace(/[,;]/g, ' ')} `;
  let range = null;
  const take = (found) => { if (found && !range) range = found; };

  for (const [pattern, kind] of PHRASES) {
    if (pattern.test(rest)) {
      take(phraseRange(kind, today));
      rest = rest.replace(pattern, ' ');
    }
  }
  // 2026-12-12
  rest = rest.replace(/\b(\d{4})-(\d{1,2})-(\d{1,2})\b/g, (m, y, mo, d) => {
    const day = validDay(Number(y), Number(mo), Number(d));
    if (!day) return m;
    take({ from: day, to: day });
    return ' ';
  });
  // 12/12/2026, 12-12-2026, 12.12.26, 12/12 (day first, as in Belgium)
  rest = rest.replace(/\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b/g, (m, d, mo, y) => {
    let day;
    if (y) day = validDay(y.length === 2 ? 2000 + Number(y) : Number(y), Number(mo), Number(d));
    else day = nextDay(today, Number(mo), Number(d));
    if (!day) return m;
    take({ from: day, to: day });
    return ' ';
  });
  // optional weekday, then "12 december [2026]" / "december 12 [2026]" / "le 12 déc."
  const word = "([a-z]+\\.?)";
  rest = rest.replace(new RegExp(`\\b(?:${word}\\s+)?(\\d{1,2})(?:e|er|de|ste|th|st|nd|rd)?\\s+${word}(?:\\s+(\\d{4}))?\\b`, 'g'),
    (m, wd, d, mon, y) => {
      const month = monthIndex(mon);
      if (month < 0) return m;
      const day = y ? validDay(Number(y), month + 1, Number(d)) : nextDay(today, month + 1, Number(d));
      if (!day) return m;
      take({ from: day, to: day });
      return wd && weekdayIndex(wd, true) < 0 ? ` ${wd} ` : ' ';
    });
  rest = rest.replace(new RegExp(`\\b${word}\\s+(\\d{1,2})(?:st|nd|rd|th)?(?:\\s+(\\d{4}))?\\b`, 'g'), (m, mon, d, y) => {
    const month = monthIndex(mon);
    if (month < 0) {
      // "za 12": a weekday and the day of the month
      const wd = weekdayIndex(mon, true);
      if (wd < 0) return m;
      const [ty, tm] = today.split('-').map(Number);
      let day = validDay(ty, tm, Number(d));
      if (!day || day < today) day = nextDay(today, tm === 12 ? 1 : tm + 1, Number(d));
      if (!day) return m;
      take({ from: day, to: day });
      return ' ';
    }
    const day = y ? validDay(Number(y), month + 1, Number(d)) : nextDay(today, month + 1, Number(d));
    if (!day) return m;
    take({ from: day, to: day });
    return ' ';
  });

  const words = [];
  for (const w of rest.split(/\s+/).filter((token) => /[a-z0-9]/.test(token))) {
    const wd = weekdayIndex(w, false);
    if (wd >= 0) {
      const day = addDays(today, (wd - weekday(today) + 7) % 7);
      take({ from: day, to: day });
      continue;
    }
    const month = monthIndex(w);
    if (month >= 0 && w.length >= 3) {
      take(monthRange(today, month));
      continue;
    }
    words.push(w);
  }
  // "op zaterdag", "le 12 décembre", "on saturday": the little words went with the date.
  return { range, words: range ? words.filter((w) => !DATE_WORDS.has(w)) : words };
}

/** Whether a day 'YYYY-MM-DD' lies in a range (either end may be missing). */
export function inRange(day, range) {
  if (!range) return true;
  return (!range.from || day >= range.from) && (!range.to || day <= range.to);
}
