// The registry's time zone: staff type a local date and time; the API wants an RFC 3339 instant
// with the offset that zone had on that day (Kazakhstan moved from UTC+6 to UTC+5 on 2024-03-01),
// so offsets come from the browser's tz database, never from a constant.
import { locale, type Lang } from './i18n';

export const DEFAULT_TIMEZONE = 'Asia/Almaty';

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormatters.set(timeZone, f);
  }
  return f;
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(epochMs: number, timeZone: string): Wall {
  const parts: Record<string, number> = {};
  for (const p of partsFormatter(timeZone).formatToParts(new Date(epochMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** The zone's offset from UTC at that instant, in minutes (Almaty in 2024-02: +360). */
export function offsetMinutes(epochMs: number, timeZone: string): number {
  const w = wallClock(epochMs, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(epochMs / 1000) * 1000) / 60000);
}

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, '0');
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  return `${sign}${pad(Math.trunc(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * A local date (`YYYY-MM-DD`) and time (`HH:MM`) in `timeZone` as an RFC 3339 instant with the
 * offset in force then, e.g. `2024-02-29T10:00:00+06:00`; null when either is not well formed.
 */
export function localToInstant(date: string, time: string, timeZone: string): string | null {
  const d = DATE_RE.exec(date);
  const tm = TIME_RE.exec(time);
  if (!d || !tm) return null;
  const [y, mo, da] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const [h, mi, s] = [Number(tm[1]), Number(tm[2]), Number(tm[3] ?? 0)];
  const wallAsUtc = Date.UTC(y, mo - 1, da, h, mi, s);
  // The offset depends on the instant we are looking for. Try the offsets in force a day before
  // and a day after: in an overlap (Almaty's 23:00–24:00 on 2024-02-29 happened twice) both fit
  // and the first occurrence wins; in a gap neither fits and the earlier offset is kept.
  const DAY = 86400000;
  const fits = [offsetMinutes(wallAsUtc - DAY, timeZone), offsetMinutes(wallAsUtc + DAY, timeZone)]
    .map((o) => ({ o, at: wallAsUtc - o * 60000 }))
    .filter((c) => offsetMinutes(c.at, timeZone) === c.o)
    .sort((a, b) => a.at - b.at);
  const offset = fits[0]?.o ?? offsetMinutes(wallAsUtc - DAY, timeZone);
  return `${pad(y, 4)}-${pad(mo)}-${pad(da)}T${pad(h)}:${pad(mi)}:${pad(s)}${formatOffset(offset)}`;
}

/** An instant as its local date (`YYYY-MM-DD`) and time (`HH:MM`) in `timeZone`. */
export function instantToLocal(instant: string, timeZone: string): { date: string; time: string } {
  const w = wallClock(Date.parse(instant), timeZone);
  return {
    date: `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`,
    time: `${pad(w.hour)}:${pad(w.minute)}`,
  };
}

/** Today's date in `timeZone`. */
export function todayIn(timeZone: string, now: number = Date.now()): string {
  return instantToLocal(new Date(now).toISOString(), timeZone).date;
}

const KK_MONTHS = ['қаңтар', 'ақпан', 'наурыз', 'сәуір', 'мамыр', 'маусым', 'шілде', 'тамыз', 'қыркүйек', 'қазан', 'қараша', 'желтоқсан'];

let kazakhData: boolean | undefined;
/**
 * Whether this browser's Intl has Kazakh month names. Chromium ships a reduced ICU that claims
 * `kk` and then prints `2024 M08 22`, so the console writes Kazakh dates itself there.
 */
export function intlHasKazakh(): boolean {
  kazakhData ??= /[а-яәғқңөұүһі]/i.test(new Intl.DateTimeFormat('kk-KZ', { month: 'long', timeZone: 'UTC' }).format(0));
  return kazakhData;
}

/** A month (`YYYY-MM`) named in the chosen language: `наурыз 2024`, `март 2024 г.`, `Mar 2024`. */
export function formatMonth(month: string, lang?: Lang, withYear = true): string {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return month;
  const [y, mo] = [Number(m[1]), Number(m[2])];
  if (locale(lang) === 'kk-KZ' && !intlHasKazakh()) {
    const name = KK_MONTHS[mo - 1] ?? '';
    return withYear ? `${y} ж. ${name}` : name;
  }
  return new Intl.DateTimeFormat(locale(lang), {
    timeZone: 'UTC',
    month: withYear ? 'short' : 'long',
    ...(withYear ? { year: 'numeric' } : {}),
  }).format(new Date(Date.UTC(y, mo - 1, 1)));
}

/** A Kazakh date as Kazakh writes it: `2024 ж. 14 наурыз`, the time after a comma. */
export function kazakhDate(date: string, time?: string): string {
  const d = DATE_RE.exec(date);
  if (!d) return date;
  const text = `${d[1]} ж. ${Number(d[3])} ${KK_MONTHS[Number(d[2]) - 1] ?? ''}`;
  return time ? `${text}, ${time}` : text;
}

/** An instant for people: date and time in the registry's zone, in the chosen language. */
export function formatInstant(instant: string, timeZone: string, lang?: Lang): string {
  if (locale(lang) === 'kk-KZ' && !intlHasKazakh()) {
    const local = instantToLocal(instant, timeZone);
    return kazakhDate(local.date, local.time);
  }
  return new Intl.DateTimeFormat(locale(lang), {
    timeZone,
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(instant));
}

/** A calendar date (`YYYY-MM-DD`) for people, in the chosen language. */
export function formatDate(date: string, lang?: Lang): string {
  const d = DATE_RE.exec(date);
  if (!d) return date;
  if (locale(lang) === 'kk-KZ' && !intlHasKazakh()) return kazakhDate(date);
  return new Intl.DateTimeFormat(locale(lang), { timeZone: 'UTC', dateStyle: 'medium' }).format(
    new Date(Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]))),
  );
}

/** A start and end for people: the date once when both fall on the same local day. */
export function formatSpan(start: string, end: string, timeZone: string, lang?: Lang): string {
  const s = instantToLocal(start, timeZone);
  const e = instantToLocal(end, timeZone);
  if (s.date === e.date) return `${formatInstant(start, timeZone, lang)}–${e.time}`;
  return `${formatInstant(start, timeZone, lang)} – ${formatInstant(end, timeZone, lang)}`;
}
