import { describe, expect, test } from 'vitest';
import { change, idleDepartments, monthSeries, monthWithin, monthsOf, planCounts, queryParams, readQuery, rowsOf } from '../../src/dashboard';

describe('the dashboard view in the hash query', () => {
  test('missing or malformed values fall back to this year so far, all departments, the year before', () => {
    expect(readQuery(new URLSearchParams('from=2024-13&compare=weekly'), '2026-12-02')).toEqual({
      from: '2026-01-01',
      to: '2026-12-02',
      department: '',
      compare: 'previous_year',
      rejected: ['from', 'compare'],
    });
  });
  test('a day that does not exist, a year outside 1900 to 2100 or a department that is no UUID is refused by name', () => {
    const q = readQuery(new URLSearchParams('from=2024-02-30&to=2101-01-01&department_id=abc&compare=none'), '2026-12-02');
    expect(q).toEqual({ from: '2026-01-01', to: '2026-12-02', department: '', compare: 'none', rejected: ['from', 'to', 'department_id'] });
    expect(readQuery(new URLSearchParams('from=2024-02-29&to=1900-01-01'), '2026-12-02')).toMatchObject({ from: '2024-02-29', to: '1900-01-01', rejected: [] });
  });
  test('a view written to the query reads back the same', () => {
    const q = { from: '2024-01-01', to: '2024-08-31', department: '0b6f2c1e-7d4a-4c8e-9f3b-2a1d5e6c7b80', compare: 'none' as const };
    expect(readQuery(new URLSearchParams(queryParams(q)), '2026-12-02')).toEqual({ ...q, rejected: [] });
  });
  test("a chosen department's row alone, or every row", () => {
    const rows = [{ department_id: 'a' }, { department_id: 'b' }];
    expect(rowsOf(rows, 'b')).toEqual([{ department_id: 'b' }]);
    expect(rowsOf(rows, '')).toEqual(rows);
  });
});

describe('months of a period', () => {
  test('every month the period touches, across a new year', () => {
    expect(monthsOf('2023-11-15', '2024-02-01')).toEqual(['2023-11', '2023-12', '2024-01', '2024-02']);
  });
  test('a month bar lists only the days of that month inside the period', () => {
    expect(monthWithin('2024-02', '2024-02-10', '2024-08-31')).toEqual({ from: '2024-02-10', to: '2024-02-29' });
    expect(monthWithin('2023-02', '2023-01-01', '2023-12-31')).toEqual({ from: '2023-02-01', to: '2023-02-28' });
    expect(monthWithin('2024-08', '2024-01-01', '2024-08-20')).toEqual({ from: '2024-08-01', to: '2024-08-20' });
  });
  test('a month with no row in the report counts 0', () => {
    const rows = [{ month: '2024-03', events_held: 4, participants_total: 256 }];
    expect(monthSeries(rows, ['2024-02', '2024-03'], 'participants_total')).toEqual([0, 256]);
  });
});

describe('figures derived from the departments report', () => {
  test('idle means neither led nor partnered in a held event', () => {
    const rows = [
      { code: 'a', events_held: 0, events_partnered: 0 },
      { code: 'b', events_held: 0, events_partnered: 2 },
      { code: 'c', events_held: 3, events_partnered: 0 },
    ];
    expect(idleDepartments(rows).map((r) => r.code)).toEqual(['a']);
  });
  test('open plan items are the due ones neither done nor overdue', () => {
    const rows = [
      { plan_items_due: 3, plan_items_done: 1, plan_items_overdue: 1 },
      { plan_items_due: 2, plan_items_done: 0, plan_items_overdue: 0 },
    ];
    expect(planCounts(rows)).toEqual({ due: 5, done: 1, open: 3, overdue: 1 });
  });
  test('a change is a whole percentage, none when there was nothing before', () => {
    expect(change(30, 20)).toBe(50);
    expect(change(1, 3)).toBe(-67);
    expect(change(5, 0)).toBeNull();
  });
});
