// The dashboard (`#/dashboard?from=…&to=…&department_id=…&compare=…`) and the commission's brief,
// its print view (`#/dashboard/print?…`): the figures of reports/summary for a period beside the
// compared period's, and one chart a section with its numbers as a table under it. A bar, or a
// number in a table, opens the events list filtered to the events it counts. The page sets
// `data-ready` once every request has answered and every chart is drawn.
import { useEffect, useState } from 'preact/hooks';
import '../../i18n/dashboard';
import { api, isProblem, loadRegistry, type Schemas } from '../../api/client';
import { enumLabel, errorText, formatNumber, t, type MessageKey } from '../../i18n';
import { departmentName, go, hashLink, useApp, useDepartments, useHashQuery } from '../../state';
import { formatDate, formatMonth, todayIn } from '../../time';
import { DataTable, DepartmentOptions, Notice, problemText, type FieldErrors } from '../../components/ui';
import { AUDIENCES, BASES, KINDS } from '../../enums';
import { COMPARES, change, idleDepartments, monthSeries, monthWithin, monthsOf, planCounts, queryParams, readQuery, rowsOf, type DashboardQuery, type PlanCounts, type QueryParam } from '../../dashboard';
import { BarChart, type Series } from './BarChart';
import { Drill } from './Drill';

type Summary = Schemas['Summary'];
type DepartmentActivity = Schemas['DepartmentActivity'];

interface Data {
  summary: Summary;
  previous: Summary | null;
  departments: DepartmentActivity[];
  registry: string;
}

type Period = { from: string; to: string };

/** The words of the view's parameters, for a message that names them. */
const PARAM_LABEL: Record<QueryParam, MessageKey> = { from: 'events.from', to: 'events.to', department_id: 'dashboard.department', compare: 'dashboard.compare' };

/** A period the API refused (422), by the field it names: the dashboard's words for it, the code's, or the API's. */
function periodErrors(problem: unknown): FieldErrors {
  const out: FieldErrors = {};
  for (const e of isProblem(problem) ? (problem.errors ?? []) : []) {
    const own = `dashboard.error.${e.field}.${e.code}` as MessageKey;
    const text = t(own);
    (out[e.field] ??= []).push(text === own ? errorText(e.code, e.message) : text);
  }
  return out;
}

function period(from: string, to: string, lang: Parameters<typeof formatDate>[1]): string {
  return `${formatDate(from, lang)} – ${formatDate(to, lang)}`;
}

/** The events a bar counts: held, in `within`, of the department the view is narrowed to. */
function eventsLink(q: DashboardQuery, within: Period, extra: Record<string, string> = {}): string {
  return hashLink('/events', { status: 'held', from: within.from, to: within.to, department_id: q.department, ...extra });
}

async function loadData(q: DashboardQuery): Promise<Data | { status: number; problem: unknown }> {
  const base = { from: q.from, to: q.to, department_id: q.department || undefined };
  const compare = q.compare === 'none' ? undefined : q.compare;
  const [summary, departments, registry] = await Promise.all([
    api.GET('/api/v1/reports/summary', { params: { query: { ...base, compare } } }),
    // Every active department, idle ones included; the view's department narrows the events, not the rows.
    api.GET('/api/v1/reports/departments', { params: { query: { from: q.from, to: q.to, compare } } }),
    loadRegistry(),
  ]);
  // The reports also answer CSV; asked without `format`, they answer JSON.
  if (!summary.data || typeof summary.data === 'string') return { status: summary.response.status, problem: summary.error };
  if (!departments.data || typeof departments.data === 'string') return { status: departments.response.status, problem: departments.error };
  const s: Summary = summary.data;
  return {
    summary: s,
    previous: s.previous ?? null,
    departments: departments.data.items,
    registry: registry?.name ?? t('app.name'),
  };
}

export function Dashboard(props: { print?: boolean; view?: string }) {
  if (props.view === 'tree') return <TreeView />;
  return <Overview print={props.print} />;
}

/** The two views of the dashboard: the overview and the drill-down by department level. */
function Tabs({ q, current }: { q: Pick<DashboardQuery, 'from' | 'to'> & Partial<DashboardQuery>; current: 'overview' | 'tree' }) {
  const tabs = [
    { id: 'overview', key: 'dashboard.tab.overview', href: hashLink('/dashboard', { from: q.from, to: q.to, department_id: q.department, compare: q.compare }) },
    { id: 'tree', key: 'dashboard.tab.tree', href: hashLink('/dashboard/tree', { from: q.from, to: q.to }) },
  ] as const;
  return (
    <nav class="tabs" aria-label={t('dashboard.tabs')}>
      {tabs.map((x) => (
        <a key={x.id} class="button" href={x.href} aria-current={x.id === current ? 'page' : undefined}>
          {t(x.key)}
        </a>
      ))}
    </nav>
  );
}

function TreeView() {
  const { tz } = useApp();
  const q = readQuery(useHashQuery(), todayIn(tz));
  return (
    <section class="dashboard">
      <h1>{t('dashboard.title')}</h1>
      <Tabs q={q} current="tree" />
      <Drill />
    </section>
  );
}

function Overview(props: { print?: boolean }) {
  const { tz } = useApp();
  const query = useHashQuery();
  const q = readQuery(query, todayIn(tz));
  const key = JSON.stringify(q);
  const [data, setData] = useState<Data | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<FieldErrors>({});
  const [drawn, setDrawn] = useState<{ key: string; n: number }>({ key: '', n: 0 });
  const [loadedKey, setLoadedKey] = useState('');

  useEffect(() => {
    let live = true;
    setError(null);
    setFields({});
    // Another view: nothing of the last one is shown (or linked) while this one loads.
    setData(null);
    loadData(q)
      .then((d) => {
        if (!live) return;
        if ('status' in d) {
          const marked = d.status === 422 ? periodErrors(d.problem) : {};
          setFields(marked);
          // The brief has no fields to mark: its notice says what the period's fields would.
          const words = Object.entries(marked).map(([f, m]) => `${t(PARAM_LABEL[f as QueryParam] ?? 'dashboard.view')}: ${m.join(' ')}`);
          setError(words.length && props.print ? words.join(' ') : problemText(d.status, d.problem));
        } else {
          setData(d);
          setLoadedKey(key);
        }
      })
      .catch(() => live && setError(t('common.network_error')));
    return () => {
      live = false;
    };
  }, [key]);

  const onDrawn = () => setDrawn((d) => (d.key === key ? { key, n: d.n + 1 } : { key, n: 1 }));
  const ready = !!data && loadedKey === key && drawn.key === key && drawn.n >= CHART_COUNT;

  return (
    <section class={props.print ? 'brief' : 'dashboard'} data-ready={ready ? 'true' : undefined}>
      {props.print ? <BriefHead q={q} data={data} /> : <Filters q={q} errors={fields} />}
      {q.rejected.length > 0 && <Notice kind="info">{t('dashboard.rejected', { params: q.rejected.map((p) => t(PARAM_LABEL[p])).join(', ') })}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      {!data && !error && <p class="loading">{t('app.loading')}</p>}
      {data && <Report q={q} data={data} print={!!props.print} onDrawn={onDrawn} />}
    </section>
  );
}

/** A period field's error under it, and the field marked with it. */
function invalid(errors: string[] | undefined, id: string) {
  return errors?.length ? { 'aria-invalid': true, 'aria-describedby': id } : {};
}

function Filters({ q, errors }: { q: DashboardQuery; errors: FieldErrors }) {
  const { lang } = useApp();
  const departments = useDepartments();
  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [JSON.stringify(q)]);
  const set = (k: keyof DashboardQuery) => (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <>
      <div class="page-head">
        <h1>{t('dashboard.title')}</h1>
        <a class="button" href={hashLink('/dashboard/print', queryParams(q))}>
          {t('dashboard.print_view')}
        </a>
      </div>
      <Tabs q={q} current="overview" />
      <form
        class="filters"
        aria-label={t('dashboard.view')}
        onSubmit={(e) => {
          e.preventDefault();
          go(hashLink('/dashboard', queryParams(draft)).slice(1));
        }}
      >
        <div class={`field${errors.from ? ' invalid' : ''}`}>
          <label for="dashboard-from">{t('events.from')}</label>
          <input id="dashboard-from" type="date" required min="1900-01-01" max={draft.to || '2100-12-31'} value={draft.from} onInput={set('from')} {...invalid(errors.from, 'dashboard-from-err')} />
          {errors.from && (
            <p class="error" id="dashboard-from-err">
              {errors.from.join(' ')}
            </p>
          )}
        </div>
        <div class={`field${errors.to ? ' invalid' : ''}`}>
          <label for="dashboard-to">{t('events.to')}</label>
          <input id="dashboard-to" type="date" required min={draft.from || '1900-01-01'} max="2100-12-31" value={draft.to} onInput={set('to')} {...invalid(errors.to, 'dashboard-to-err')} />
          {errors.to && (
            <p class="error" id="dashboard-to-err">
              {errors.to.join(' ')}
            </p>
          )}
        </div>
        <label class="field">
          <span>{t('dashboard.department')}</span>
          <select value={draft.department} onChange={set('department')}>
            <option value="">{t('events.all')}</option>
            <DepartmentOptions departments={departments} lang={lang} />
          </select>
        </label>
        <label class="field">
          <span>{t('dashboard.compare')}</span>
          <select value={draft.compare} onChange={set('compare')}>
            {COMPARES.map((c) => (
              <option key={c} value={c}>
                {t(`dashboard.compare.${c}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <div class="filter-actions">
          <button type="submit" class="primary">
            {t('common.apply')}
          </button>
        </div>
      </form>
    </>
  );
}

function BriefHead({ q, data }: { q: DashboardQuery; data: Data | null }) {
  const { lang, tz } = useApp();
  const departments = useDepartments();
  const dept = departments.find((d) => d.id === q.department);
  return (
    <>
      <div class="page-head no-print">
        <a href={hashLink('/dashboard', queryParams(q))}>{t('dashboard.back')}</a>
        <button type="button" class="primary" onClick={() => print()}>
          {t('dashboard.print')}
        </button>
      </div>
      <p class="brief-registry">{data?.registry ?? ''}</p>
      <h1>{t('brief.title')}</h1>
      <dl class="details">
        <dt>{t('brief.period')}</dt>
        <dd data-brief="period">{period(q.from, q.to, lang)}</dd>
        {data?.previous && (
          <>
            <dt>{t('brief.compared')}</dt>
            <dd data-brief="compared">{period(data.previous.from, data.previous.to, lang)}</dd>
          </>
        )}
        <dt>{t('dashboard.department')}</dt>
        <dd>{dept ? departmentName(dept, lang) : t('events.all')}</dd>
        <dt>{t('brief.printed')}</dt>
        <dd data-brief="printed">{formatDate(todayIn(tz), lang)}</dd>
      </dl>
    </>
  );
}

/** How many charts the report draws; `data-ready` waits for all of them. */
const CHART_COUNT = 7;

function Report({ q, data, print, onDrawn }: { q: DashboardQuery; data: Data; print: boolean; onDrawn: () => void }) {
  const { lang } = useApp();
  const departments = useDepartments();
  const byId = new Map(departments.map((d) => [d.id, d]));
  const { summary, previous } = data;
  const name = (row: { department_id: string; name_kk: string }) => departmentName(byId.get(row.department_id), lang) || row.name_kk;
  // A chosen department: its own row of the departments report, not every department's.
  const own = rowsOf(data.departments, q.department);
  const idle = idleDepartments(own);
  const plan = planCounts(own);
  const nav = print ? undefined : (href: string) => go(href.slice(1));
  const shared = { print, onDrawn, nav };
  const cur = t('dashboard.series.current');
  const prev = t('dashboard.series.previous');

  return (
    <>
      <Headline summary={summary} previous={previous} />
      <section class="idle" aria-labelledby="idle-h">
        <h2 id="idle-h">{t('dashboard.idle')}</h2>
        <p data-figure="idle">{idle.length ? idle.map(name).join('; ') : q.department && own[0] ? t('dashboard.idle_active', { name: name(own[0]) }) : t('dashboard.idle_none')}</p>
      </section>
      {MONTH_CHARTS.map(([id, title, field]) => (
        <MonthSection key={id} id={id} title={t(title)} field={field} q={q} summary={summary} previous={previous} labels={[cur, prev]} {...shared} />
      ))}
      <DepartmentSection q={q} rows={data.departments} name={name} comparing={!!previous} {...shared} />
      <CategorySection
        id="kind"
        title={t('dashboard.chart.kind')}
        head="event.kind"
        peopleHead="dashboard.col.participants"
        rows={KINDS.map((k) => {
          const r = summary.by_kind.find((x) => x.kind === k);
          return { label: enumLabel('kind', k), events: r?.events_held ?? 0, people: r?.participants_total ?? 0, href: eventsLink(q, summary, { kind: k }) };
        })}
        {...shared}
      />
      <CategorySection
        id="audience"
        title={t('dashboard.chart.audience')}
        head="event.audiences"
        peopleHead="dashboard.col.counted"
        rows={AUDIENCES.map((a) => {
          const r = summary.by_audience.find((x) => x.audience === a);
          return { label: enumLabel('audience', a), events: r?.events_held ?? 0, people: r?.participants_counted ?? 0, href: eventsLink(q, summary, { audience: a }) };
        })}
        {...shared}
      />
      <BasisSection summary={summary} print={print} onDrawn={onDrawn} />
      <PlanSection plan={plan} print={print} onDrawn={onDrawn} />
    </>
  );
}

const MONTH_CHARTS = [
  ['month-events', 'dashboard.chart.month_events', 'events_held'],
  ['month-people', 'dashboard.chart.month_people', 'participants_total'],
] as const;

/**
 * The headline figures: the summary's own, then how much of what was held the policy department
 * verified (the figures a commission can rely on), what is not verified (held less verified:
 * unverified or rejected), and how many held events carry a flag.
 */
const HEADLINE = {
  events_held: (s: Summary) => s.events_held,
  participants_total: (s: Summary) => s.participants_total,
  unique_people: (s: Summary) => s.unique_people,
  events_planned: (s: Summary) => s.events_planned,
  events_cancelled: (s: Summary) => s.events_cancelled,
  events_verified: (s: Summary) => s.events_verified,
  events_unverified: (s: Summary) => s.events_held - s.events_verified,
  participants_verified: (s: Summary) => s.participants_verified,
  participants_unverified: (s: Summary) => s.participants_total - s.participants_verified,
  events_flagged: (s: Summary) => s.events_flagged,
} as const;

function Headline({ summary, previous }: { summary: Summary; previous: Summary | null }) {
  return (
    <section aria-labelledby="headline-h">
      <h2 id="headline-h">{t('dashboard.figures')}</h2>
      <DataTable
        label={t('dashboard.figures')}
        headers={previous ? ['dashboard.col.figure', 'dashboard.col.current', 'dashboard.col.previous', 'dashboard.col.change'] : ['dashboard.col.figure', 'dashboard.col.current']}
      >
        {(Object.keys(HEADLINE) as (keyof typeof HEADLINE)[]).map((f) => {
          const value = HEADLINE[f];
          const diff = previous ? change(value(summary), value(previous)) : null;
          return (
            <tr key={f} data-figure={f}>
              <th scope="row">{t(`dashboard.figure.${f}`)}</th>
              <td class="num now">{formatNumber(value(summary))}</td>
              {previous && <td class="num before">{formatNumber(value(previous))}</td>}
              {previous && <td class="num">{diff === null ? t('common.none') : `${diff > 0 ? '+' : ''}${formatNumber(diff)} %`}</td>}
            </tr>
          );
        })}
      </DataTable>
    </section>
  );
}

/** The id of a chart's caption, which its canvas is described by. */
const captionId = (chart: string) => `${chart}-cap`;

/** A chart's section: heading, the chart, and its numbers as a table (open in the brief). */
function ChartSection(props: { id: string; title: string; note?: string; print: boolean; chart: preact.ComponentChildren; table: preact.ComponentChildren }) {
  return (
    <section class="chart-section" data-chart={props.id} aria-labelledby={`${props.id}-h`}>
      <h2 id={`${props.id}-h`}>{props.title}</h2>
      <figure>
        {props.chart}
        <figcaption id={captionId(props.id)}>
          {props.title}
          {props.note && <span class="note"> {props.note}</span>}
        </figcaption>
      </figure>
      <details open={props.print}>
        <summary>{t('dashboard.as_table', { chart: props.title })}</summary>
        {props.table}
      </details>
    </section>
  );
}

/** A number that opens the events it counts (a plain number in the brief, or when 0). */
function Count({ n, href, print }: { n: number; href?: string; print: boolean }) {
  if (print || !href || n === 0) return <>{formatNumber(n)}</>;
  return <a href={href}>{formatNumber(n)}</a>;
}

function MonthSection(props: {
  id: string;
  title: string;
  field: 'events_held' | 'participants_total';
  q: DashboardQuery;
  summary: Summary;
  previous: Summary | null;
  labels: [string, string];
  print: boolean;
  onDrawn: () => void;
  nav?: (href: string) => void;
}) {
  const { lang } = useApp();
  const { q, summary, previous, field } = props;
  const months = monthsOf(summary.from, summary.to);
  const before = previous ? monthsOf(previous.from, previous.to) : [];
  const now = monthSeries(summary.by_month, months, field);
  const then = previous ? monthSeries(previous.by_month, before, field) : [];
  // The n-th month beside the n-th compared month (previous_period), or the month a year before
  // (previous_year); a compared period with more months than this one adds positions of its own.
  const rows = Math.max(months.length, before.length);
  const axis = months.map((m) => formatMonth(m, lang, months[0]?.slice(0, 4) !== months[months.length - 1]?.slice(0, 4)));
  const named = (ms: string[]) => ms.map((m) => formatMonth(m, lang));
  const series: Series[] = [{ label: `${props.labels[0]} (${period(summary.from, summary.to, lang)})`, data: now, fill: 'solid', names: named(months) }];
  if (previous) series.push({ label: `${props.labels[1]} (${period(previous.from, previous.to, lang)})`, data: then, fill: 'hatched', names: named(before) });
  const link = (month: string | undefined, p: Period) => (month ? eventsLink(q, monthWithin(month, p.from, p.to)) : undefined);
  return (
    <ChartSection
      id={props.id}
      title={props.title}
      print={props.print}
      chart={
        <BarChart
          label={props.title}
          describedBy={captionId(props.id)}
          labels={Array.from({ length: rows }, (_, i) => axis[i] ?? formatMonth(before[i] ?? '', lang))}
          series={series}
          onDrawn={props.onDrawn}
          onBar={props.nav && ((i, s) => {
            const href = s === 0 ? link(months[i], summary) : previous && link(before[i], previous);
            if (href) props.nav?.(href);
          })}
        />
      }
      table={
        <DataTable
          label={props.title}
          headers={previous ? ['dashboard.col.month', 'dashboard.col.current', 'dashboard.col.previous_month', 'dashboard.col.previous'] : ['dashboard.col.month', 'dashboard.col.current']}
        >
          {Array.from({ length: rows }, (_, i) => (
            <tr key={i} data-month={months[i]} data-previous-month={before[i]}>
              <th scope="row">{formatMonth(months[i] ?? before[i] ?? '', lang)}</th>
              <td class="num now">{months[i] ? <Count n={now[i] ?? 0} href={link(months[i], summary)} print={props.print} /> : ''}</td>
              {previous && <td>{before[i] ? formatMonth(before[i], lang) : ''}</td>}
              {previous && <td class="num before">{before[i] ? <Count n={then[i] ?? 0} href={link(before[i], previous)} print={props.print} /> : ''}</td>}
            </tr>
          ))}
        </DataTable>
      }
    />
  );
}

function DepartmentSection(props: {
  q: DashboardQuery;
  rows: DepartmentActivity[];
  name: (row: DepartmentActivity) => string;
  comparing: boolean;
  print: boolean;
  onDrawn: () => void;
  nav?: (href: string) => void;
}) {
  const { q, rows } = props;
  const title = t('dashboard.chart.department');
  const href = (r: DepartmentActivity) => eventsLink({ ...q, department: r.department_id }, q);
  return (
    <ChartSection
      id="department"
      title={title}
      note={t('dashboard.chart.department_note')}
      print={props.print}
      chart={
        <BarChart
          label={title}
          describedBy={captionId('department')}
          horizontal
          labels={rows.map(props.name)}
          series={[
            { label: t('dashboard.col.led'), data: rows.map((r) => r.events_held), fill: 'solid' },
            { label: t('dashboard.col.partnered'), data: rows.map((r) => r.events_partnered), fill: 'dotted' },
          ]}
          onDrawn={props.onDrawn}
          onBar={props.nav && ((i) => rows[i] && props.nav?.(href(rows[i])))}
        />
      }
      table={
        <DataTable
          label={title}
          headers={[
            'dashboard.department',
            'dashboard.col.led',
            'dashboard.col.partnered',
            'dashboard.col.participants',
            'dashboard.col.verified',
            'dashboard.col.participants_verified',
            'dashboard.col.flagged',
            ...(props.comparing ? (['dashboard.col.led_previous'] as const) : []),
            'dashboard.col.plan_done_due',
          ]}
        >
          {rows.map((r) => {
            const before = r.previous;
            return (
              <tr key={r.department_id} data-department={r.code}>
                <th scope="row">{props.print || r.events_held + r.events_partnered === 0 ? props.name(r) : <a href={href(r)}>{props.name(r)}</a>}</th>
                <td class="num now">{formatNumber(r.events_held)}</td>
                <td class="num">{formatNumber(r.events_partnered)}</td>
                <td class="num">{formatNumber(r.participants_total)}</td>
                <td class="num" data-col="verified">{formatNumber(r.events_verified)}</td>
                <td class="num" data-col="participants_verified">{formatNumber(r.participants_verified)}</td>
                <td class="num" data-col="flagged">{formatNumber(r.events_flagged)}</td>
                {props.comparing && <td class="num before">{before ? formatNumber(before.events_held) : t('common.none')}</td>}
                <td class="num">
                  {formatNumber(r.plan_items_done)}/{formatNumber(r.plan_items_due)}
                </td>
              </tr>
            );
          })}
        </DataTable>
      }
    />
  );
}

function CategorySection(props: {
  id: string;
  title: string;
  head: MessageKey;
  peopleHead: MessageKey;
  rows: { label: string; events: number; people: number; href: string }[];
  print: boolean;
  onDrawn: () => void;
  nav?: (href: string) => void;
}) {
  return (
    <ChartSection
      id={props.id}
      title={props.title}
      print={props.print}
      chart={
        <BarChart
          label={props.title}
          describedBy={captionId(props.id)}
          labels={props.rows.map((r) => r.label)}
          series={[{ label: t('dashboard.col.events'), data: props.rows.map((r) => r.events), fill: 'solid' }]}
          onDrawn={props.onDrawn}
          onBar={props.nav && ((i) => props.rows[i] && props.rows[i].events > 0 && props.nav?.(props.rows[i].href))}
        />
      }
      table={
        <DataTable label={props.title} headers={[props.head, 'dashboard.col.events', props.peopleHead]}>
          {props.rows.map((r) => (
            <tr key={r.label}>
              <th scope="row">{r.label}</th>
              <td class="num now">
                <Count n={r.events} href={r.href} print={props.print} />
              </td>
              <td class="num">{formatNumber(r.people)}</td>
            </tr>
          ))}
        </DataTable>
      }
    />
  );
}

function BasisSection({ summary, print, onDrawn }: { summary: Summary; print: boolean; onDrawn: () => void }) {
  const title = t('dashboard.chart.basis');
  const total = BASES.reduce((s, b) => s + summary.participants_by_basis[b], 0);
  return (
    <ChartSection
      id="basis"
      title={title}
      print={print}
      chart={<BarChart label={title} describedBy={captionId('basis')} labels={BASES.map((b) => enumLabel('basis', b))} series={[{ label: t('dashboard.col.participants'), data: BASES.map((b) => summary.participants_by_basis[b]), fill: 'solid' }]} onDrawn={onDrawn} />}
      table={
        <DataTable label={title} headers={['dashboard.col.basis', 'dashboard.col.participants', 'dashboard.col.share']}>
          {BASES.map((b) => (
            <tr key={b} data-basis={b}>
              <th scope="row">{enumLabel('basis', b)}</th>
              <td class="num now">{formatNumber(summary.participants_by_basis[b])}</td>
              <td class="num">{total ? `${formatNumber(Math.round((summary.participants_by_basis[b] / total) * 100))} %` : t('common.none')}</td>
            </tr>
          ))}
        </DataTable>
      }
    />
  );
}

function PlanSection({ plan, print, onDrawn }: { plan: PlanCounts; print: boolean; onDrawn: () => void }) {
  const title = t('dashboard.chart.plan');
  const statuses = ['done', 'open', 'overdue'] as const;
  return (
    <ChartSection
      id="plan"
      title={title}
      print={print}
      chart={<BarChart label={title} describedBy={captionId('plan')} labels={statuses.map((s) => enumLabel('item_status', s))} series={[{ label: t('dashboard.col.plan_items'), data: statuses.map((s) => plan[s]), fill: 'solid' }]} onDrawn={onDrawn} />}
      table={
        <DataTable label={title} headers={['item.status', 'dashboard.col.plan_items']}>
          {statuses.map((s) => (
            <tr key={s} data-status={s}>
              <th scope="row">{enumLabel('item_status', s)}</th>
              <td class="num now">{formatNumber(plan[s])}</td>
            </tr>
          ))}
        </DataTable>
      }
    />
  );
}
