// The dashboard's arithmetic, kept apart from the page so it is tested on its own: what the hash
// query says (period, department, comparison), the months of a period, which events a bar stands
// for, and the figures derived from the departments report (idle departments, plan items).
import type { Schemas } from './api/client';

/** What the period is compared with; `none` in the link and the select, no `compare` to the API. */
export type Compare = 'previous_year' | 'previous_period' | 'none';
export const COMPARES: readonly Compare[] = ['previous_year', 'previous_period', 'none'];

export interface DashboardQuery {
  from: string;
  to: string;
  /** One department's (and its subtree's) events; '' for all. */
  department: string;
  compare: Compare;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function isCompare(v: string | null): v is Compare {
  return v === 'none' || v === 'previous_year' || v === 'previous_period';
}

/**
 * The dashboard's view from its hash query; what is missing or malformed falls back to the start
 * of this year to today, all departments, compared with the year before.
 */
export function readQuery(query: URLSearchParams, today: string): DashboardQuery {
  const from = query.get('from') ?? '';
  const to = query.get('to') ?? '';
  const compare = query.get('compare');
  return {
    from: DATE_RE.test(from) ? from : `${today.slice(0, 4)}-01-01`,
    to: DATE_RE.test(to) ? to : today,
    department: query.get('department_id') ?? '',
    compare: isCompare(compare) ? compare : 'previous_year',
  };
}

/** The hash query that reproduces the view. */
export function queryParams(q: DashboardQuery): Record<string, string> {
  const out: Record<string, string> = { from: q.from, to: q.to };
  if (q.department) out.department_id = q.department;
  out.compare = q.compare;
  return out;
}

/** Every month (`YYYY-MM`) a period touches, in order, so months with nothing held show as 0. */
export function monthsOf(from: string, to: string): string[] {
  let y = Number(from.slice(0, 4));
  let m = Number(from.slice(5, 7));
  const endY = Number(to.slice(0, 4));
  const endM = Number(to.slice(5, 7));
  const out: string[] = [];
  while ((y < endY || (y === endY && m <= endM)) && out.length < 1200) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    m += 1;
    if (m > 12) {
      m = 1;
      y += 1;
    }
  }
  return out;
}

function lastDay(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** The days of `month` that lie within the period: the `from`/`to` that list a month bar's events. */
export function monthWithin(month: string, from: string, to: string): { from: string; to: string } {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  const first = `${month}-01`;
  const last = `${month}-${String(lastDay(y, m)).padStart(2, '0')}`;
  return { from: first < from ? from : first, to: last > to ? to : last };
}

type MonthRow = Schemas['MonthRow'];

/** A figure of each month of `months`, 0 for a month the report has no row for. */
export function monthSeries(rows: readonly MonthRow[], months: readonly string[], field: 'events_held' | 'participants_total'): number[] {
  const by = new Map(rows.map((r) => [r.month, r[field]]));
  return months.map((m) => by.get(m) ?? 0);
}

type DepartmentRow = Schemas['DepartmentActivity'];

/** Departments that neither led nor partnered in a held event of the period. */
export function idleDepartments<T extends Pick<DepartmentRow, 'events_held' | 'events_partnered'>>(rows: readonly T[]): T[] {
  return rows.filter((r) => r.events_held === 0 && r.events_partnered === 0);
}

export interface PlanCounts {
  due: number;
  done: number;
  open: number;
  overdue: number;
}

/** The plan items due within the period, summed over the departments responsible for them. */
export function planCounts(rows: readonly Pick<DepartmentRow, 'plan_items_due' | 'plan_items_done' | 'plan_items_overdue'>[]): PlanCounts {
  let due = 0;
  let done = 0;
  let overdue = 0;
  for (const r of rows) {
    due += r.plan_items_due;
    done += r.plan_items_done;
    overdue += r.plan_items_overdue;
  }
  return { due, done, overdue, open: Math.max(0, due - done - overdue) };
}

/** The change from `before` to `now` as a signed whole percentage, or null when there was nothing before. */
export function change(now: number, before: number): number | null {
  if (before === 0) return null;
  return Math.round(((now - before) / before) * 100);
}
