import { describe, expect, it } from 'vitest';
import { formatDate, formatMonth, formatSpan, formatInstant, instantToLocal, kazakhDate, localToInstant, offsetMinutes, todayIn } from '../../src/time';

const ALMATY = 'Asia/Almaty';

describe('local date and time to an RFC 3339 instant', () => {
  it('uses +06:00 in Almaty before Kazakhstan moved its clocks on 2024-03-01', () => {
    expect(localToInstant('2024-02-29', '10:00', ALMATY)).toBe('2024-02-29T10:00:00+06:00');
  });

  it('uses +05:00 in Almaty from 2024-03-01 on', () => {
    expect(localToInstant('2024-03-01', '10:00', ALMATY)).toBe('2024-03-01T10:00:00+05:00');
    expect(localToInstant('2026-12-01', '15:00', ALMATY)).toBe('2026-12-01T15:00:00+05:00');
  });

  it('gives an instant that parses back to the same UTC moment', () => {
    expect(Date.parse(localToInstant('2024-02-29', '22:30', ALMATY) ?? '')).toBe(Date.UTC(2024, 1, 29, 16, 30));
    expect(Date.parse(localToInstant('2024-03-01', '00:30', ALMATY) ?? '')).toBe(Date.UTC(2024, 1, 29, 19, 30));
  });

  it('takes the first occurrence of the hour Almaty lived twice when clocks went back at midnight', () => {
    // 2024-03-01 00:00 at +06:00 became 2024-02-29 23:00 at +05:00.
    expect(localToInstant('2024-02-29', '23:30', ALMATY)).toBe('2024-02-29T23:30:00+06:00');
  });

  it('follows a zone with daylight saving time, so the offset is never a constant', () => {
    expect(localToInstant('2024-01-15', '12:00', 'Europe/Berlin')).toBe('2024-01-15T12:00:00+01:00');
    expect(localToInstant('2024-07-15', '12:00', 'Europe/Berlin')).toBe('2024-07-15T12:00:00+02:00');
    expect(localToInstant('2024-07-15', '12:00', 'America/New_York')).toBe('2024-07-15T12:00:00-04:00');
  });

  it('refuses a malformed date or time instead of guessing', () => {
    expect(localToInstant('2024-3-1', '10:00', ALMATY)).toBeNull();
    expect(localToInstant('2024-03-01', '', ALMATY)).toBeNull();
  });
});

describe('an instant to the local date and time of the registry', () => {
  it('shows a UTC instant of February 2024 at UTC+6', () => {
    expect(instantToLocal('2024-02-29T04:00:00Z', ALMATY)).toEqual({ date: '2024-02-29', time: '10:00' });
  });

  it('shows a UTC instant of March 2024 at UTC+5', () => {
    expect(instantToLocal('2024-03-14T05:00:00Z', ALMATY)).toEqual({ date: '2024-03-14', time: '10:00' });
  });

  it('moves to the next local day when UTC is still on the previous one', () => {
    expect(instantToLocal('2024-03-13T20:30:00Z', ALMATY)).toEqual({ date: '2024-03-14', time: '01:30' });
  });

  it('round-trips across the change of offset', () => {
    for (const [date, time] of [
      ['2024-02-29', '23:59'],
      ['2024-03-01', '00:00'],
      ['2023-12-31', '18:00'],
    ] as const) {
      expect(instantToLocal(localToInstant(date, time, ALMATY) ?? '', ALMATY)).toEqual({ date, time });
    }
  });

  it('reports the offsets in minutes on both sides of 2024-03-01', () => {
    expect(offsetMinutes(Date.UTC(2024, 1, 28, 12), ALMATY)).toBe(360);
    expect(offsetMinutes(Date.UTC(2024, 2, 2, 12), ALMATY)).toBe(300);
  });

  it("answers today's date in the zone, not in UTC", () => {
    // 2024-03-14 20:00 UTC is already 2024-03-15 01:00 in Almaty.
    expect(todayIn(ALMATY, Date.UTC(2024, 2, 14, 20))).toBe('2024-03-15');
  });

  it('formats the local time in the chosen language', () => {
    const instant = '2024-03-14T05:00:00Z';
    expect(formatInstant(instant, ALMATY, 'en')).toContain('10:00');
    expect(formatInstant(instant, ALMATY, 'en')).toContain('Mar');
    expect(formatInstant(instant, ALMATY, 'ru')).toMatch(/мар/);
    expect(formatInstant(instant, ALMATY, 'kk')).toMatch(/нау/i);
  });

  it('writes Kazakh dates with Kazakh month names where the browser has no Kazakh data', () => {
    expect(kazakhDate('2024-03-14', '10:00')).toBe('2024 ж. 14 наурыз, 10:00');
    expect(kazakhDate('2024-08-01')).toBe('2024 ж. 1 тамыз');
  });

  it('formats a calendar date without shifting it by a time zone', () => {
    expect(formatDate('2024-12-31', 'en')).toContain('31');
    expect(formatDate('2024-12-31', 'en')).toContain('2024');
  });

  it('names the date once when an event starts and ends on the same local day', () => {
    const span = formatSpan('2024-03-14T05:00:00Z', '2024-03-14T07:00:00Z', ALMATY, 'en');
    expect(span.endsWith('10:00–12:00')).toBe(true);
    expect(span.match(/2024/g)).toHaveLength(1);
  });
});

describe('months named in the chosen language', () => {
  it('Kazakh, Russian and English name March 2024 each in their own words', () => {
    expect(formatMonth('2024-03', 'kk')).toMatch(/2024.*нау/i);
    expect(formatMonth('2024-03', 'ru')).toMatch(/^мар/i);
    expect(formatMonth('2024-03', 'en')).toBe('Mar 2024');
    expect(formatMonth('2024-03', 'en', false)).toBe('March');
  });
});
