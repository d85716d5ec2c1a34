// One event: its details, its flags and verification (a verifier's decision with If-Match),
// attendance (PUT with If-Match), its evidence (photos, PDFs, links), a sign-in sheet upload whose
// refused rows are named by the sheet's own row numbers, the named attendees (IIN masked), cancel
// and delete behind a confirmation.
import { useEffect, useRef, useState } from 'preact/hooks';
import '../i18n/evidence';
import { api, isProblem, write, writeFile, type Outcome, type Schemas } from '../api/client';
import { enumLabel, errorText, formatNumber, t, type MessageKey } from '../i18n';
import { departmentName, go, useApp, useDepartments } from '../state';
import { formatSpan } from '../time';
import { hasScope } from '../session';
import { Confirm, DataTable, Field, Notice, fieldErrors, problemText, type FieldErrors } from '../components/ui';
import { AttendanceFields, attendanceBody, attendanceDraft, type AttendanceDraft } from '../components/AttendanceFields';
import { usePlanItems } from '../plans';
import { maskIin, sheetColumn, sheetRow, sheetType } from '../sheet';
import { FlagDetails } from '../components/Flags';
import { EvidenceSection } from './event/Evidence';
import { VerificationSection } from './event/Verification';

type EventRecord = Schemas['EventResponse'];
type Attendee = Schemas['AttendeeResponse'];

const COLUMNS: Record<string, MessageKey> = {
  full_name: 'attendees.name',
  iin: 'attendees.iin',
  birth_year: 'attendees.birth_year',
  organisation: 'attendees.organisation',
  gender: 'attendees.gender',
};

/** A sheet column by its label in the person's language (the header itself stays as typed). */
function columnLabel(column: string): string {
  const key = COLUMNS[column];
  return key ? `${t(key)} (${column})` : column;
}

type Msg = { kind: 'ok' | 'error' | 'info'; text: string } | null;

export function EventPage(props: { id: string }) {
  const { me, tz, lang } = useApp();
  const departments = useDepartments();
  const plans = usePlanItems();
  const [ev, setEv] = useState<EventRecord | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attendees, setAttendees] = useState<Attendee[] | null>(null);
  const [attendance, setAttendance] = useState<AttendanceDraft>(attendanceDraft(null));
  const [attErrors, setAttErrors] = useState<FieldErrors>({});
  const [attMsg, setAttMsg] = useState<Msg>(null);
  const [sheetMsg, setSheetMsg] = useState<Msg>(null);
  const [refused, setRefused] = useState<{ row: number | null; field: string; text: string }[]>([]);
  const [file, setFile] = useState<File | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  // Emptied after each upload, so picking the corrected file of the same name is a change.
  const clearFile = () => {
    setFile(null);
    if (fileInput.current) fileInput.current.value = '';
  };
  const [pageMsg, setPageMsg] = useState<Msg>(null);
  const [ask, setAsk] = useState<'cancel' | 'delete' | null>(null);
  const [busy, setBusy] = useState(false);

  const canAttendeesRead = hasScope(me, 'attendees:read');
  const load = async () => {
    try {
      const r = await api.GET('/api/v1/events/{id}', { params: { path: { id: props.id } } });
      if (!r.data) {
        setLoadError(problemText(r.response.status, r.error));
        return;
      }
      setEv(r.data);
      setEtag(r.response.headers.get('ETag'));
      setAttendance(attendanceDraft(r.data.attendance));
      if (canAttendeesRead) {
        const a = await api.GET('/api/v1/events/{id}/attendees', { params: { path: { id: props.id }, query: { limit: 200 } } });
        setAttendees(a.data ? a.data.items : null);
      }
    } catch {
      setLoadError(t('common.network_error'));
    }
  };
  useEffect(() => {
    void load();
  }, [props.id]);

  if (loadError) return <Notice kind="error">{loadError}</Notice>;
  if (!ev) return <p class="loading">{t('app.loading')}</p>;

  const byId = new Map(departments.map((d) => [d.id, d]));
  const item = plans.flatMap((g) => g.items).find((i) => i.id === ev.plan_item_id);
  const involved = ev.lead_department_id === me.department_id || ev.partner_department_ids.includes(me.department_id);
  const isAdmin = hasScope(me, 'admin');
  const canChange = hasScope(me, 'events:write') && (isAdmin || ev.lead_department_id === me.department_id);
  const canAttend = hasScope(me, 'events:write') && (isAdmin || involved);
  const canSheet = hasScope(me, 'attendees:write') && (isAdmin || involved);
  // The API shows evidence to the event's departments, admins and verifiers.
  const canEvidenceRead = isAdmin || hasScope(me, 'events:verify') || (canAttendeesRead && involved);
  const started = Date.parse(ev.starts_at) <= Date.now();

  const after = (o: Outcome, ok: MessageKey, set: (m: Msg) => void, onErrors?: (e: FieldErrors) => void) => {
    if (o.kind === 'sent') {
      set({ kind: 'ok', text: t(ok) });
      void load();
    } else if (o.kind === 'queued') set({ kind: 'info', text: t('common.queued') });
    else {
      if (onErrors) onErrors(fieldErrors(isProblem(o.problem) ? o.problem.errors : null));
      set({ kind: 'error', text: problemText(o.status, o.problem) });
    }
  };

  const saveAttendance = async (e: Event) => {
    e.preventDefault();
    const errors: FieldErrors = {};
    const body = attendanceBody(attendance, errors, '');
    setAttErrors(errors);
    setAttMsg(null);
    if (!body) return;
    setBusy(true);
    const o = await write('PUT', '/api/v1/events/{id}/attendance', { id: ev.id }, body, {
      ifMatch: etag ?? undefined,
      label: { key: 'outbox.op.attendance', params: { title: ev.title } },
    });
    setBusy(false);
    after(o, 'common.saved', setAttMsg, setAttErrors);
  };

  const upload = async (e: Event) => {
    e.preventDefault();
    setSheetMsg(null);
    setRefused([]);
    if (!file) return;
    const type = sheetType(file.name);
    if (!type) {
      setSheetMsg({ kind: 'error', text: t('sheet.type') });
      return;
    }
    let bytes: ArrayBuffer;
    try {
      bytes = await file.arrayBuffer();
    } catch {
      // The file changed on disk after it was picked: it must be picked again.
      setSheetMsg({ kind: 'error', text: t('sheet.reread') });
      return;
    } finally {
      clearFile();
    }
    setBusy(true);
    const o = await writeFile(`/api/v1/events/${encodeURIComponent(ev.id)}/attendees`, type, bytes, {
      label: { key: 'outbox.op.sheet', params: { title: ev.title } },
    });
    setBusy(false);
    if (o.kind === 'sent') {
      const added = (o.body as Schemas['AddedAttendees']).added;
      setSheetMsg({ kind: 'ok', text: t('sheet.added', { n: added }) });
      void load();
    } else if (o.kind === 'queued') setSheetMsg({ kind: 'info', text: t('common.queued') });
    else {
      const problem = isProblem(o.problem) ? o.problem : null;
      const rows = (problem?.errors ?? []).map((er) => ({ row: sheetRow(er.field), field: sheetColumn(er.field), text: errorText(er.code, er.message) }));
      setRefused(rows.sort((a, b) => (a.row ?? 0) - (b.row ?? 0)));
      setSheetMsg({ kind: 'error', text: rows.some((r) => r.row) ? t('sheet.refused') : problem?.detail ?? problemText(o.status, o.problem) });
    }
  };

  const answer = async (yes: boolean) => {
    const what = ask;
    setAsk(null);
    if (!yes || !what) return;
    setBusy(true);
    if (what === 'delete') {
      const o = await write('DELETE', '/api/v1/events/{id}', { id: ev.id }, null, {
        ifMatch: etag ?? undefined,
        label: { key: 'outbox.op.delete_event', params: { title: ev.title } },
      });
      setBusy(false);
      if (o.kind === 'sent') go('/events');
      else after(o, 'event.deleted', setPageMsg);
      return;
    }
    const o = await write('PATCH', '/api/v1/events/{id}', { id: ev.id }, { status: ev.status === 'cancelled' ? 'planned' : 'cancelled' }, {
      ifMatch: etag ?? undefined,
      label: { key: 'outbox.op.cancel_event', params: { title: ev.title } },
    });
    setBusy(false);
    after(o, 'common.saved', setPageMsg);
  };

  return (
    <article>
      <div class="page-head">
        <h1>{ev.title}</h1>
        {canChange && (
          <a class="button" href={`#/events/${ev.id}/edit`}>
            {t('common.edit')}
          </a>
        )}
      </div>
      {pageMsg && <Notice kind={pageMsg.kind}>{pageMsg.text}</Notice>}
      <h2>{t('event.details')}</h2>
      <dl class="details">
        <dt>{t('event.status')}</dt>
        <dd class={`status ${ev.status}`}>{enumLabel('status', ev.status)}</dd>
        <dt>{t('event.when')}</dt>
        <dd>
          {formatSpan(ev.starts_at, ev.ends_at, tz, lang)}
        </dd>
        <dt>{t('event.kind')}</dt>
        <dd>{enumLabel('kind', ev.kind)}</dd>
        <dt>{t('event.format')}</dt>
        <dd>{enumLabel('format', ev.format)}</dd>
        <dt>{t('event.venue')}</dt>
        <dd>{ev.venue || t('common.none')}</dd>
        <dt>{t('event.audiences')}</dt>
        <dd>{ev.audiences.map((a) => enumLabel('audience', a)).join(', ')}</dd>
        <dt>{t('event.lead')}</dt>
        <dd>{departmentName(byId.get(ev.lead_department_id), lang)}</dd>
        <dt>{t('event.partners')}</dt>
        <dd>{ev.partner_department_ids.map((id) => departmentName(byId.get(id), lang)).join(', ') || t('common.none')}</dd>
        <dt>{t('event.plan_item')}</dt>
        <dd>{item ? `${item.number} ${item.title}` : ev.plan_item_id ? '…' : t('event.no_plan_item')}</dd>
        <dt>{t('event.planned_participants')}</dt>
        <dd>{ev.planned_participants != null ? formatNumber(ev.planned_participants) : t('common.none')}</dd>
        <dt>{t('event.organisers')}</dt>
        <dd>
          {ev.organisers.length
            ? ev.organisers.map((o) => `${o.full_name} (${enumLabel('organiser_role', o.role)}${o.organisation ? `, ${o.organisation}` : ''})`).join('; ')
            : t('common.none')}
        </dd>
        {ev.description && (
          <>
            <dt>{t('event.description')}</dt>
            <dd class="pre">{ev.description}</dd>
          </>
        )}
      </dl>

      <section aria-labelledby="flags-h">
        <h2 id="flags-h">{t('flags.title')}</h2>
        <FlagDetails flags={ev.flags} />
      </section>
      <VerificationSection ev={ev} etag={etag} reload={load} />

      <h2>{t('attendance.title')}</h2>
      {ev.attendance ? (
        <p>
          {t('events.participants', { n: ev.attendance.total })} · {enumLabel('basis', ev.attendance.basis ?? 'headcount')}
          {(ev.attendance.breakdown ?? []).length > 0 &&
            ` · ${(ev.attendance.breakdown ?? []).map((b) => `${enumLabel('audience', b.audience)}: ${formatNumber(b.count)}`).join(', ')}`}
        </p>
      ) : (
        <p>{t('attendance.none')}</p>
      )}
      {canAttend && ev.status !== 'cancelled' && (started ? (
        <form noValidate onSubmit={(e) => void saveAttendance(e)}>
          <AttendanceFields draft={attendance} onChange={setAttendance} errors={attErrors} prefix="" audiences={ev.audiences} />
          {attMsg && <Notice kind={attMsg.kind}>{attMsg.text}</Notice>}
          <button type="submit" class="primary" disabled={busy}>
            {t('attendance.save')}
          </button>
        </form>
      ) : (
        <p class="hint">{t('attendance.future')}</p>
      ))}

      <EvidenceSection ev={ev} canRead={canEvidenceRead} canWrite={canSheet} onChanged={() => void load()} />

      {canSheet && started && ev.status !== 'cancelled' && (
        <>
          <h2>{t('sheet.title')}</h2>
          <form noValidate onSubmit={(e) => void upload(e)}>
            <Field label={t('sheet.file')} hint={t('sheet.hint')}>
              {(a) => (
                <input
                  {...a}
                  ref={fileInput}
                  type="file"
                  accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                  onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
                />
              )}
            </Field>
            {sheetMsg && <Notice kind={sheetMsg.kind}>{sheetMsg.text}</Notice>}
            {refused.length > 0 && (
              <ul class="refused">
                {refused.map((r, i) => (
                  <li key={i}>
                    {r.row ? <strong>{t('sheet.row', { row: String(r.row) })}</strong> : null}
                    {r.field ? ` ${columnLabel(r.field)}` : ''}: {r.text}
                  </li>
                ))}
              </ul>
            )}
            <button type="submit" class="primary" disabled={busy || !file}>
              {t('sheet.upload')}
            </button>
          </form>
        </>
      )}

      {canAttendeesRead && (
        <>
          <h2>{t('attendees.title')}</h2>
          {attendees === null ? (
            <p class="hint">{t('attendees.hidden')}</p>
          ) : attendees.length === 0 ? (
            <p>{t('attendees.empty')}</p>
          ) : (
            <DataTable label={t('attendees.title')} headers={['attendees.name', 'attendees.iin', 'attendees.birth_year', 'attendees.organisation']}>
              {attendees.map((a) => (
                <tr key={a.id}>
                  <td>{a.full_name}</td>
                  <td class="mono" aria-label={a.iin_last2 ? `${t('attendees.iin')} …${a.iin_last2}` : undefined}>
                    {maskIin(a.iin_last2)}
                  </td>
                  <td>{a.birth_year ?? ''}</td>
                  <td>{a.organisation ?? ''}</td>
                </tr>
              ))}
            </DataTable>
          )}
        </>
      )}

      {canChange && (
        <div class="actions">
          {ev.status !== 'held' && (
            <button type="button" onClick={() => setAsk('cancel')} disabled={busy}>
              {ev.status === 'cancelled' ? t('event.restore') : t('event.cancel')}
            </button>
          )}
          <button type="button" class="danger" onClick={() => setAsk('delete')} disabled={busy}>
            {t('event.delete')}
          </button>
        </div>
      )}
      <Confirm
        open={ask !== null}
        title={ask === 'delete' ? t('event.delete') : ev.status === 'cancelled' ? t('event.restore') : t('event.cancel')}
        message={ask === 'delete' ? t('event.delete_confirm') : ev.status === 'cancelled' ? t('event.restore') : t('event.cancel_confirm')}
        confirmLabel={ask === 'delete' ? t('common.delete') : t('dialog.confirm')}
        danger={ask === 'delete'}
        onAnswer={(yes) => void answer(yes)}
      />
    </article>
  );
}
