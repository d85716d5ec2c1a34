// The verification queue (`#/verify?flag=…&verification=…`), for principals with events:verify:
// held events awaiting a decision (unverified by default), those with flags first, each with its
// flags and how much evidence it has, linking to the event page where the decision is made.
// Events the verifier's own department led or partnered in are left out (another department
// verifies them) and counted.
import { useEffect, useState } from 'preact/hooks';
import '../i18n/evidence';
import { api, type Schemas } from '../api/client';
import { enumLabel, formatNumber, t } from '../i18n';
import { departmentName, go, hashLink, useApp, useDepartments, useHashQuery } from '../state';
import { formatInstant } from '../time';
import { Notice, problemText } from '../components/ui';
import { FlagBadges, VerificationBadge } from '../components/Flags';
import { FLAGS, VERIFICATIONS } from '../enums';
import { queueOrder } from '../verify';

type EventRecord = Schemas['EventResponse'];
type ListItem = Schemas['EventListItem'];
type Flag = Schemas['Flag'];
type VerificationStatus = Schemas['VerificationStatus'];

function isEvent(item: ListItem): item is EventRecord {
  return !('deleted' in item && item.deleted);
}

export function VerifyQueue() {
  const { me, tz, lang } = useApp();
  const departments = useDepartments();
  const query = useHashQuery();
  const flag = (FLAGS as readonly string[]).includes(query.get('flag') ?? '') ? (query.get('flag') as Flag) : '';
  const wanted = query.get('verification');
  const verification: VerificationStatus = (VERIFICATIONS as readonly string[]).includes(wanted ?? '') ? (wanted as VerificationStatus) : 'unverified';
  const [draft, setDraft] = useState({ flag: flag as string, verification: verification as string });
  const [items, setItems] = useState<EventRecord[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  const load = async (after: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const r = await api.GET('/api/v1/events', {
        params: { query: { status: 'held', verification, flag: flag || undefined, limit: 100, cursor: after ?? undefined, sort: '-starts_at' } },
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
    setDraft({ flag, verification });
    void load(null);
  }, [flag, verification]);

  const own = (e: EventRecord) => e.lead_department_id === me.department_id || e.partner_department_ids.includes(me.department_id);
  const shown = queueOrder(items.filter((e) => !own(e)));
  const skipped = items.length - shown.length;
  const byId = new Map(departments.map((d) => [d.id, d]));

  return (
    <section>
      <h1>{t('queue.title')}</h1>
      <p class="hint">{t('queue.intro')}</p>
      <form
        class="filters"
        aria-label={t('events.filters')}
        onSubmit={(e) => {
          e.preventDefault();
          go(hashLink('/verify', { flag: draft.flag, verification: draft.verification === 'unverified' ? '' : draft.verification }).slice(1));
        }}
      >
        <label class="field">
          <span>{t('events.flag')}</span>
          <select value={draft.flag} onChange={(e) => setDraft({ ...draft, flag: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">{t('common.any')}</option>
            {FLAGS.map((f) => (
              <option key={f} value={f}>
                {enumLabel('flag', f)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('events.verification')}</span>
          <select value={draft.verification} onChange={(e) => setDraft({ ...draft, verification: (e.currentTarget as HTMLSelectElement).value })}>
            {VERIFICATIONS.map((v) => (
              <option key={v} value={v}>
                {enumLabel('verification', v)}
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
      {error && <Notice kind="error">{error}</Notice>}
      <p class="count" role="status">
        {t('events.count', { n: shown.length })}
        {skipped > 0 && ` · ${t('queue.skipped', { n: skipped })}`}
      </p>
      {!loading && !error && shown.length === 0 && <p>{t('queue.empty')}</p>}
      <ul class="cards">
        {shown.map((ev) => (
          <li key={ev.id} class={`card${ev.flags.length ? ' flagged' : ''}`} data-event={ev.id}>
            <a href={`#/events/${ev.id}`} class="card-title">
              {ev.title}
            </a>
            <p class="meta">
              <span>{formatInstant(ev.starts_at, tz, lang)}</span>
              <span>{departmentName(byId.get(ev.lead_department_id), lang)}</span>
              {ev.attendance && <span>{t('events.participants', { n: ev.attendance.total })}</span>}
              {ev.planned_participants != null && <span>{t('events.planned_n', { n: formatNumber(ev.planned_participants) })}</span>}
            </p>
            <p class="meta">
              <VerificationBadge status={ev.verification.status} />
              <span>{t('events.evidence_n', { n: ev.evidence_count })}</span>
            </p>
            <FlagBadges flags={ev.flags} />
          </li>
        ))}
      </ul>
      {cursor && (
        <button type="button" disabled={loading} onClick={() => void load(cursor)}>
          {t('common.more')}
        </button>
      )}
      {loading && <p class="loading">{t('app.loading')}</p>}
    </section>
  );
}
