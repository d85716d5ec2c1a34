// The dashboard's drill-down (`#/dashboard/tree?from=…&to=…&parent_id=…`): from the top of the
// caller's reach, one row per department below, each rolling up its whole subtree
// (reports/departments?parent_id=…: events held, participants, unique people counted once across
// the subtree, verified, flagged); a row's name opens the level below it, a breadcrumb leads back
// up. The department itself shows its own events in a row of their own (include_descendants=false),
// and a department with nothing below shows just those. The section sets `data-ready` once its
// requests have answered.
import { useEffect, useState } from 'preact/hooks';
import '../../i18n/dashboard';
import { api, isProblem, type Schemas } from '../../api/client';
import { enumLabel, errorText, formatNumber, t, type MessageKey } from '../../i18n';
import { departmentName, go, hashLink, loadDepartments, useApp, useHashQuery, type Department } from '../../state';
import { todayIn } from '../../time';
import { DataTable, Notice, problemText, type FieldErrors } from '../../components/ui';
import { readQuery } from '../../dashboard';
import { ancestry, drillAt, roots, treeOrder } from '../../tree';

type Row = Schemas['DepartmentActivity'];

interface Level {
  /** The rolled-up rows of the departments just below (active ones). */
  children: Row[];
  /** The department's own figures, its subtree left out. */
  own: Row | null;
  /** The department with its whole subtree, from its parent's roll-up; null at the top of the reach. */
  total: Row | null;
}

const FIGURES = ['events_held', 'participants_total', 'unique_people', 'events_verified', 'events_flagged'] as const;
const HEADERS: readonly MessageKey[] = ['dashboard.department', 'drill.col.events_held', 'drill.col.participants', 'drill.col.unique_people', 'drill.col.verified', 'drill.col.flagged'];

/** The view's hash: the period, and where the drill-down stands. */
function link(from: string, to: string, at?: string | null): string {
  return hashLink('/dashboard/tree', { from, to, parent_id: at ?? undefined });
}

function periodErrors(problem: unknown): FieldErrors {
  const out: FieldErrors = {};
  for (const e of isProblem(problem) ? (problem.errors ?? []) : []) {
    const own = `dashboard.error.${e.field}.${e.code}` as MessageKey;
    const text = t(own);
    (out[e.field] ??= []).push(text === own ? errorText(e.code, e.message) : text);
  }
  return out;
}

type Failure = { status: number; problem: unknown };

async function rows(query: Record<string, string | boolean | undefined>): Promise<Row[] | Failure> {
  const r = await api.GET('/api/v1/reports/departments', { params: { query } });
  if (!r.data || typeof r.data === 'string') return { status: r.response.status, problem: r.error };
  return r.data.items;
}

async function loadLevel(at: Department, hasChildren: boolean, parentVisible: boolean, from: string, to: string): Promise<Level | Failure> {
  const [children, own, siblings] = await Promise.all([
    hasChildren ? rows({ from, to, parent_id: at.id }) : Promise.resolve([]),
    rows({ from, to, department_id: at.id, include_descendants: false }),
    parentVisible && at.parent_id ? rows({ from, to, parent_id: at.parent_id }) : Promise.resolve([]),
  ]);
  for (const x of [children, own, siblings]) if (!Array.isArray(x)) return x;
  const list = (x: Row[] | Failure) => (Array.isArray(x) ? x : []);
  return {
    children: list(children),
    own: list(own).find((r) => r.department_id === at.id) ?? null,
    total: list(siblings).find((r) => r.department_id === at.id) ?? null,
  };
}

export function Drill() {
  const { tz, lang } = useApp();
  const query = useHashQuery();
  const q = readQuery(query, todayIn(tz));
  const wanted = query.get('parent_id');
  const [departments, setDepartments] = useState<Department[] | null>(null);
  const [level, setLevel] = useState<{ key: string; data: Level } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<FieldErrors>({});
  const [draft, setDraft] = useState({ from: q.from, to: q.to });
  useEffect(() => setDraft({ from: q.from, to: q.to }), [q.from, q.to]);
  useEffect(() => void loadDepartments().then(setDepartments), []);

  const list = departments ?? [];
  const nodes = treeOrder(list, lang);
  const node = new Map(nodes.map((n) => [n.department.id, n]));
  const { at, rejected } = drillAt(list, wanted);
  const here = at ? node.get(at) : undefined;
  const key = JSON.stringify([q.from, q.to, at]);

  useEffect(() => {
    if (!here) return;
    let live = true;
    setError(null);
    setFields({});
    const parentVisible = !!here.department.parent_id && node.has(here.department.parent_id);
    loadLevel(here.department, here.children.length > 0, parentVisible, q.from, q.to)
      .then((d) => {
        if (!live) return;
        if ('status' in d) {
          setFields(d.status === 422 ? periodErrors(d.problem) : {});
          setError(problemText(d.status, d.problem));
        } else setLevel({ key, data: d });
      })
      .catch(() => live && setError(t('common.network_error')));
    return () => {
      live = false;
    };
  }, [key, !!here]);

  const data = level?.key === key ? level.data : null;
  const trail = at ? ancestry(list, at) : [];
  const severalTops = roots(list).length > 1;
  const name = (r: Row) => departmentName(node.get(r.department_id)?.department, lang) || r.name_kk;
  const ready = departments !== null && (!here || !!data || !!error);

  return (
    <section class="drill" aria-labelledby="drill-h" data-ready={ready ? 'true' : undefined}>
      <h2 id="drill-h">{t('drill.title')}</h2>
      <form
        class="filters"
        aria-label={t('brief.period')}
        onSubmit={(e) => {
          e.preventDefault();
          go(link(draft.from, draft.to, at).slice(1));
        }}
      >
        {(['from', 'to'] as const).map((f) => (
          <div key={f} class={`field${fields[f] ? ' invalid' : ''}`}>
            <label for={`drill-${f}`}>{t(f === 'from' ? 'events.from' : 'events.to')}</label>
            <input
              id={`drill-${f}`}
              type="date"
              required
              min="1900-01-01"
              max="2100-12-31"
              value={draft[f]}
              onInput={(e) => setDraft({ ...draft, [f]: (e.currentTarget as HTMLInputElement).value })}
              {...(fields[f] ? { 'aria-invalid': true, 'aria-describedby': `drill-${f}-err` } : {})}
            />
            {fields[f] && (
              <p class="error" id={`drill-${f}-err`}>
                {fields[f].join(' ')}
              </p>
            )}
          </div>
        ))}
        <div class="filter-actions">
          <button type="submit" class="primary">
            {t('common.apply')}
          </button>
        </div>
      </form>
      <p class="hint">{t('drill.intro')}</p>
      {(rejected || q.rejected.length > 0) && <Notice kind="info">{t('dashboard.rejected', { params: [...(rejected ? [t('dashboard.department')] : []), ...q.rejected.map((p) => (p === 'from' ? t('events.from') : p === 'to' ? t('events.to') : p))].join(', ') })}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      {(trail.length > 0 || severalTops) && (
        <nav class="breadcrumb" aria-label={t('drill.breadcrumb')}>
          <ol>
            {severalTops && <li>{at ? <a href={link(q.from, q.to)}>{t('drill.top')}</a> : <span aria-current="page">{t('drill.top')}</span>}</li>}
            {trail.map((d, i) =>
              i === trail.length - 1 ? (
                <li key={d.id}>
                  <span aria-current="page">{departmentName(d, lang)}</span>
                </li>
              ) : (
                <li key={d.id}>
                  <a href={link(q.from, q.to, d.id)}>{departmentName(d, lang)}</a>
                </li>
              ),
            )}
          </ol>
        </nav>
      )}
      {departments === null && <p class="loading">{t('app.loading')}</p>}
      {departments !== null && !here && (
        <>
          <p>{t('drill.roots')}</p>
          <ul class="drill-tops">
            {nodes
              .filter((n) => n.depth === 0)
              .map((n) => (
                <li key={n.department.id} data-department={n.department.code}>
                  <a href={link(q.from, q.to, n.department.id)}>{departmentName(n.department, lang)}</a>{' '}
                  <span class="badge">{enumLabel('department_kind', n.department.kind)}</span>
                </li>
              ))}
          </ul>
        </>
      )}
      {here && !data && !error && <p class="loading">{t('app.loading')}</p>}
      {here && data && (
        <LevelTable
          at={here.department}
          data={data}
          name={name}
          below={(id) => node.get(id)?.children.length ?? 0}
          href={(id) => link(q.from, q.to, id)}
        />
      )}
    </section>
  );
}

function Figures({ row }: { row: Row | null }) {
  return (
    <>
      {FIGURES.map((f, i) => (
        <td key={f} class="num" data-col={f} data-label={t(HEADERS[i + 1] as MessageKey)}>
          {row ? formatNumber(row[f]) : t('common.none')}
        </td>
      ))}
    </>
  );
}

function LevelTable(props: { at: Department; data: Level; name: (r: Row) => string; below: (id: string) => number; href: (id: string) => string }) {
  const { lang } = useApp();
  const { at, data } = props;
  const atName = departmentName(at, lang);
  const leaf = data.children.length === 0;
  return (
    <>
      {leaf && <p data-leaf="true">{props.below(at.id) ? t('drill.empty') : t('drill.leaf', { name: atName })}</p>}
      <DataTable label={t('drill.table', { name: atName })} headers={HEADERS}>
        {data.children.map((r) => {
          const n = props.below(r.department_id);
          return (
            <tr key={r.department_id} data-department={r.code} data-level={r.level}>
              <th scope="row">
                <a href={props.href(r.department_id)}>{props.name(r)}</a>
                {n > 0 && <span class="below"> {t('drill.has_children', { n })}</span>}
              </th>
              <Figures row={r} />
            </tr>
          );
        })}
        <tr data-department={at.code} data-own="true" class={leaf ? undefined : 'own'}>
          <th scope="row">{leaf ? atName : t('drill.own', { name: atName })}</th>
          <Figures row={data.own} />
        </tr>
        {!leaf && data.total && (
          <tr data-department={at.code} data-total="true" class="total">
            <th scope="row">{t('drill.total', { name: atName })}</th>
            <Figures row={data.total} />
          </tr>
        )}
      </DataTable>
    </>
  );
}
