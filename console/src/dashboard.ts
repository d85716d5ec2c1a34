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
  /** One department's events; '' for all. */
  department: string;
  compare: Compare;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A calendar day (`YYYY-MM-DD`, not 2024-02-30) in the years the API takes, 1900 to 2100. */
export function isDay(v: string): boolean {
  if (!DATE_RE.test(v)) return false;
  const y = Number(v.slice(0, 4));
  const m = Number(v.slice(5, 7));
  const d = Number(v.slice(8, 10));
  return y >= 1900 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= lastDay(y, m);
}

function isCompare(v: string | null): v is Compare {
  return v === 'none' || v === 'previous_year' || v === 'previous_period';
}

/** The parameters of the hash query a view reads. */
export type QueryParam = 'from' | 'to' | 'department_id' | 'compare';

/**
 * The dashboard's view from its hash query; what is missing or malformed falls back to the start
 * of this year to today, all departments, compared with the year before. `rejected` names the
 * parameters that were given but malformed, so the page can say it shows the default instead.
 */
export function readQuery(query: URLSearchParams, today: string): DashboardQuery & { rejected: QueryParam[] } {
  const from = query.get('from');
  const to = query.get('to');
  const department = query.get('department_id');
  const compare = query.get('compare');
  const rejected: QueryParam[] = [];
  if (from !== null && !isDay(from)) rejected.push('from');
  if (to !== null && !isDay(to)) rejected.push('to');
  if (department !== null && department !== '' && !UUID_RE.test(department)) rejected.push('department_id');
  if (compare !== null && !isCompare(compare)) rejected.push('compare');
  return {
    from: from !== null && isDay(from) ? from : `${today.slice(0, 4)}-01-01`,
    to: to !== null && isDay(to) ? to : today,
    department: department !== null && UUID_RE.test(department) ? department : '',
    compare: isCompare(compare) ? compare : 'previous_year',
    rejected,
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

/** The departments report's rows a view covers: every row, or the chosen department's alone. */
export function rowsOf<T extends Pick<DepartmentRow, 'department_id'>>(rows: readonly T[], department: string): T[] {
  return department ? rows.filter((r) => r.department_id === department) : [...rows];
}

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
