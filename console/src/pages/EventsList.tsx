// The list staff open on: their department's events (led or partnered), newest first, over all
// periods, with filters (a flag and the verification too) and search; "show more" follows the
// cursor. Filters given in the hash (`#/events?from=…&kind=…&flag=…`, as the dashboard's bars
// link) replace the opening ones. A card shows a held event's verification and any flags.
import { useEffect, useState } from 'preact/hooks';
import { api, type Schemas } from '../api/client';
import { enumLabel, formatNumber, t } from '../i18n';
import { departmentName, useApp, useDepartments, useHashQuery, useOutboxEntries } from '../state';
import { formatInstant } from '../time';
import { hasScope } from '../session';
import { DepartmentOptions, Notice, problemText } from '../components/ui';
import { AUDIENCES, FLAGS, KINDS, STATUSES, VERIFICATIONS } from '../enums';
import { FlagBadges, VerificationBadge } from '../components/Flags';

type EventRecord = Schemas['EventResponse'];
type ListItem = Schemas['EventListItem'];

interface Filters {
  mine: boolean;
  /** One department's events (led or partnered); when set, `mine` is ignored. */
  department: string;
  from: string;
  to: string;
  kind: string;
  status: string;
  audience: string;
  flag: string;
  verification: string;
  q: string;
}

/** Filters start folded on a phone, where they would fill the first screen. */
const WIDE = () => globalThis.matchMedia?.('(min-width: 40rem)').matches ?? true;

const EMPTY: Filters = { mine: true, department: '', from: '', to: '', kind: '', status: '', audience: '', flag: '', verification: '', q: '' };

const LINKED = ['from', 'to', 'department_id', 'kind', 'status', 'audience', 'flag', 'verification', 'q'] as const;

/** The filters a link carries in the hash query, or null when it carries none. */
function linkedFilters(query: URLSearchParams): Filters | null {
  if (!LINKED.some((k) => query.get(k))) return null;
  const v = (k: (typeof LINKED)[number]) => query.get(k) ?? '';
  return { ...EMPTY, mine: false, department: v('department_id'), from: v('from'), to: v('to'), kind: v('kind'), status: v('status'), audience: v('audience'), flag: v('flag'), verification: v('verification'), q: v('q') };
}

function isEvent(item: ListItem): item is EventRecord {
  return !('deleted' in item && item.deleted);
}

export function EventsList() {
  const { me, tz, lang } = useApp();
  const departments = useDepartments();
  // Organisers open on their own department's work; readers (viewers, coordinators, admins) on all.
  const initial: Filters = { ...EMPTY, mine: hasScope(me, 'events:write') && !hasScope(me, 'admin') };
  const query = useHashQuery();
  const opening = linkedFilters(query) ?? initial;
  const [draft, setDraft] = useState<Filters>(opening);
  const [filters, setFilters] = useState<Filters>(opening);
  const queryText = query.toString();
  const [seenQuery, setSeenQuery] = useState(queryText);
  useEffect(() => {
    if (queryText === seenQuery) return;
    setSeenQuery(queryText);
    const linked = linkedFilters(query) ?? initial;
    setDraft(linked);
    setFilters(linked);
  }, [queryText]);
  const [items, setItems] = useState<EventRecord[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  const load = async (f: Filters, after: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const r = await api.GET('/api/v1/events', {
        params: {
          query: {
            limit: 50,
            cursor: after ?? undefined,
            department_id: f.department || (f.mine ? me.department_id : undefined),
            from: f.from || undefined,
            to: f.to || undefined,
            kind: (f.kind || undefined) as Schemas['EventKind'] | undefined,
            status: (f.status || undefined) as Schemas['EventStatus'] | undefined,
            audience: (f.audience || undefined) as Schemas['Audience'] | undefined,
            flag: (f.flag || undefined) as Schemas['Flag'] | undefined,
            verification: (f.verification || undefined) as Schemas['VerificationStatus'] | undefined,
            q: f.q.trim() || undefined,
            sort: '-starts_at',
          },
        },
      });
      if (!r.data) {
        setError(problemText(r.response.status, r.error));
        return;
      }
      const page = r.data.items.filter(isEvent);
      setItems((prev) => (after ? [...prev, ...page] : page));
      setCursor(r.data.next_cursor ?? null);
    } catch {
      setError(t('common.network_error'));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load(filters, null);
  }, [filters]);

  // When queued writes land (the connection came back), the list shows them.
  const waiting = useOutboxEntries().length;
  const [seen, setSeen] = useState(waiting);
  useEffect(() => {
    if (waiting < seen) void load(filters, null);
    setSeen(waiting);
  }, [waiting]);

  const set = (k: keyof Filters) => (e: Event) => {
    const el = e.currentTarget as HTMLInputElement;
    setDraft({ ...draft, [k]: el.type === 'checkbox' ? el.checked : el.value });
  };
  const byId = new Map(departments.map((d) => [d.id, d]));

  return (
    <section>
      <div class="page-head">
        <h1>{t('events.title')}</h1>
        {hasScope(me, 'events:write') && (
          <a class="button primary" href="#/events/new">
            {t('nav.new_event')}
          </a>
        )}
      </div>
      <details class="filters-box" open={WIDE()}>
        <summary>{t('events.filters')}</summary>
      <form
        class="filters"
        aria-label={t('events.filters')}
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        <label class="field">
          <span>{t('events.scope')}</span>
          <select
            value={draft.department || (draft.mine ? 'mine' : 'all')}
            onChange={(e) => {
              const v = (e.currentTarget as HTMLSelectElement).value;
              setDraft({ ...draft, mine: v === 'mine', department: v === 'mine' || v === 'all' ? '' : v });
            }}
          >
            <option value="mine">{t('events.mine')}</option>
            <option value="all">{t('events.all')}</option>
            <DepartmentOptions departments={departments} lang={lang} />
          </select>
        </label>
        <label class="field">
          <span>{t('events.q')}</span>
          <input type="search" value={draft.q} onInput={set('q')} />
        </label>
        <label class="field">
          <span>{t('events.from')}</span>
          <input type="date" value={draft.from} onInput={set('from')} />
        </label>
        <label class="field">
          <span>{t('events.to')}</span>
          <input type="date" value={draft.to} onInput={set('to')} />
        </label>
        <label class="field">
          <span>{t('event.kind')}</span>
          <select value={draft.kind} onChange={set('kind')}>
            <option value="">{t('common.any')}</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {enumLabel('kind', k)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('event.status')}</span>
          <select value={draft.status} onChange={set('status')}>
            <option value="">{t('common.any')}</option>
            {STATUSES.map((k) => (
              <option key={k} value={k}>
                {enumLabel('status', k)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('event.audiences')}</span>
          <select value={draft.audience} onChange={set('audience')}>
            <option value="">{t('common.any')}</option>
            {AUDIENCES.map((k) => (
              <option key={k} value={k}>
                {enumLabel('audience', k)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('events.flag')}</span>
          <select value={draft.flag} onChange={set('flag')}>
            <option value="">{t('common.any')}</option>
            {FLAGS.map((k) => (
              <option key={k} value={k}>
                {enumLabel('flag', k)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('events.verification')}</span>
          <select value={draft.verification} onChange={set('verification')}>
            <option value="">{t('common.any')}</option>
            {VERIFICATIONS.map((k) => (
              <option key={k} value={k}>
                {enumLabel('verification', k)}
              </option>
            ))}
          </select>
        </label>
        <div class="filter-actions">
          <button type="submit" class="primary">
            {t('common.apply')}
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft(initial);
              setFilters(initial);
            }}
          >
            {t('common.reset')}
          </button>
        </div>
      </form>
      </details>
      {error && <Notice kind="error">{error}</Notice>}
      <p class="count" role="status">
        {t('events.count', { n: items.length })}
      </p>
      {!loading && !error && items.length === 0 && <p>{t('events.empty')}</p>}
      <ul class="cards">
        {items.map((ev) => (
          <li key={ev.id} class="card">
            <a href={`#/events/${ev.id}`} class="card-title">
              {ev.title}
            </a>
            <p class="meta">
              <span>{formatInstant(ev.starts_at, tz, lang)}</span>
              <span>{enumLabel('kind', ev.kind)}</span>
              <span class={`status ${ev.status}`}>{enumLabel('status', ev.status)}</span>
            </p>
            <p class="meta">
              <span>{departmentName(byId.get(ev.lead_department_id), lang)}</span>
              {ev.attendance ? (
                <span>{t('events.participants', { n: ev.attendance.total })}</span>
              ) : ev.planned_participants != null ? (
                <span>{t('events.planned_n', { n: formatNumber(ev.planned_participants) })}</span>
              ) : null}
              {ev.status === 'held' && <VerificationBadge status={ev.verification.status} />}
            </p>
            <FlagBadges flags={ev.flags} />
          </li>
        ))}
      </ul>
      {cursor && (
        <button type="button" disabled={loading} onClick={() => void load(filters, cursor)}>
          {t('common.more')}
        </button>
      )}
      {loading && <p class="loading">{t('app.loading')}</p>}
    </section>
  );
}
