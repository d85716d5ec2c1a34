// One form to create or edit an event: local date and times in the registry's zone, audiences
// as checkboxes, partners and plan item by name, organisers as rows, and for a past event its
// attendance in the same request. Errors appear beside the field they name.
import { useEffect, useState } from 'preact/hooks';
import { api, write, isProblem, type Schemas } from '../api/client';
import { enumLabel, t } from '../i18n';
import { go, useApp, useDepartments, type Department } from '../state';
import { hasScope } from '../session';
import { formatSpan, instantToLocal, localToInstant } from '../time';
import { CheckboxGroup, DepartmentSelect, Field, Notice, fieldErrors, problemText, type FieldErrors } from '../components/ui';
import { DepartmentChecks } from '../components/DepartmentChecks';
import { AttendanceFields, attendanceBody, emptyAttendance, type AttendanceDraft } from '../components/AttendanceFields';
import { AUDIENCES, FORMATS, KINDS, ORGANISER_ROLES } from '../enums';
import { usePlanItems } from '../plans';

type EventRecord = Schemas['EventResponse'];
type EventInput = Schemas['EventInput'];
type Organiser = Schemas['Organiser'];

interface Draft {
  title: string;
  description: string;
  kind: Schemas['EventKind'];
  format: Schemas['EventFormat'];
  date: string;
  start: string;
  endDate: string;
  end: string;
  venue: string;
  audiences: Schemas['Audience'][];
  /** The lead department (admins choose it; '' for the caller's own). */
  lead: string;
  partners: string[];
  planItem: string;
  organisers: Organiser[];
  planned: string;
  attendance: AttendanceDraft;
}

const blank = (): Draft => ({
  title: '',
  description: '',
  kind: 'seminar',
  format: 'in_person',
  date: '',
  start: '10:00',
  endDate: '',
  end: '12:00',
  venue: '',
  audiences: [],
  lead: '',
  partners: [],
  planItem: '',
  organisers: [],
  planned: '',
  attendance: emptyAttendance(),
});

function fromEvent(ev: EventRecord, tz: string): Draft {
  const s = instantToLocal(ev.starts_at, tz);
  const e = instantToLocal(ev.ends_at, tz);
  return {
    ...blank(),
    title: ev.title,
    description: ev.description,
    kind: ev.kind,
    format: ev.format,
    date: s.date,
    start: s.time,
    endDate: e.date === s.date ? '' : e.date,
    end: e.time,
    venue: ev.venue ?? '',
    audiences: ev.audiences,
    lead: ev.lead_department_id,
    partners: ev.partner_department_ids,
    planItem: ev.plan_item_id ?? '',
    organisers: ev.organisers,
    planned: ev.planned_participants == null ? '' : String(ev.planned_participants),
  };
}

/** The request body, or the errors found before asking the server (also offline). */
function toInput(d: Draft, tz: string, withAttendance: boolean, chooseLead = false): { input?: EventInput; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const required = [t('error.required')];
  if (!d.title.trim()) errors.title = required;
  const startsAt = localToInstant(d.date, d.start, tz);
  const endsAt = localToInstant(d.endDate || d.date, d.end, tz);
  if (!startsAt) errors.starts_at = required;
  if (!endsAt) errors.ends_at = required;
  if (startsAt && endsAt && Date.parse(endsAt) <= Date.parse(startsAt)) errors.ends_at = [t('error.order')];
  if (d.audiences.length === 0) errors.audiences = required;
  d.organisers.forEach((o, i) => {
    if (!o.full_name.trim()) errors[`organisers[${i}].full_name`] = required;
  });
  const planned = d.planned.trim() === '' ? null : Number(d.planned);
  if (planned !== null && !Number.isInteger(planned)) errors.planned_participants = [t('error.type')];
  const attendance = withAttendance ? attendanceBody(d.attendance, errors, 'attendance') : null;
  if (Object.keys(errors).length || !startsAt || !endsAt) return { errors };
  return {
    errors,
    input: {
      title: d.title.trim(),
      description: d.description,
      kind: d.kind,
      format: d.format,
      starts_at: startsAt,
      ends_at: endsAt,
      venue: d.venue.trim() || null,
      audiences: d.audiences,
      ...(chooseLead && d.lead ? { lead_department_id: d.lead } : {}),
      partner_department_ids: d.partners.filter((p) => p !== d.lead),
      plan_item_id: d.planItem || null,
      organisers: d.organisers.map((o) => ({ ...o, full_name: o.full_name.trim(), organisation: o.organisation?.trim() || null })),
      planned_participants: planned,
      attendance,
    },
  };
}

/** Errors at `name` and below it (`organisers` gathers `organisers[0].role`), for grouped fields. */
function under(errors: FieldErrors, name: string): string[] {
  return Object.entries(errors)
    .filter(([f]) => f === name || f.startsWith(`${name}[`) || f.startsWith(`${name}.`))
    .flatMap(([, m]) => m);
}

const SHOWN = ['title', 'description', 'kind', 'format', 'starts_at', 'ends_at', 'venue', 'audiences', 'lead_department_id', 'partner_department_ids', 'plan_item_id', 'organisers', 'planned_participants', 'attendance'];

export function EventForm(props: { id?: string }) {
  const { me, tz, lang } = useApp();
  const departments = useDepartments();
  const items = usePlanItems();
  const [draft, setDraft] = useState<Draft>(blank);
  const [original, setOriginal] = useState<EventRecord | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<{ kind: 'ok' | 'error' | 'info'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!props.id) return;
    void api
      .GET('/api/v1/events/{id}', { params: { path: { id: props.id } } })
      .then((r) => {
        if (!r.data) {
          setMessage({ kind: 'error', text: problemText(r.response.status, r.error) });
          return;
        }
        setOriginal(r.data);
        setEtag(r.response.headers.get('ETag'));
        setDraft(fromEvent(r.data, tz));
      })
      .catch(() => setMessage({ kind: 'error', text: t('common.network_error') }));
  }, [props.id, tz]);

  const editing = !!props.id;
  const startsAt = localToInstant(draft.date, draft.start, tz);
  const endsAt = localToInstant(draft.endDate || draft.date, draft.end, tz);
  const past = !editing && !!startsAt && Date.parse(startsAt) < Date.now();
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const text = (k: 'title' | 'description' | 'date' | 'start' | 'endDate' | 'end' | 'venue' | 'planned') => (e: Event) =>
    set(k, (e.currentTarget as HTMLInputElement).value);

  const submit = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    const { input, errors: local } = toInput(draft, tz, past, admin);
    setErrors(local);
    if (!input) {
      setMessage({ kind: 'error', text: t('common.fix_errors') });
      return;
    }
    setBusy(true);
    try {
      const outcome = editing && original
        ? await write('PATCH', '/api/v1/events/{id}', { id: original.id }, changes(original, input), {
            ifMatch: etag ?? undefined,
            label: { key: 'outbox.op.update_event', params: { title: input.title } },
          })
        : await write('POST', '/api/v1/events', {}, input, {
            label: { key: 'outbox.op.create_event', params: { title: input.title } },
          });
      if (outcome.kind === 'sent') {
        const id = (outcome.body as EventRecord).id;
        go(`/events/${id}`);
      } else if (outcome.kind === 'queued') {
        go('/outbox');
      } else {
        const problem = isProblem(outcome.problem) ? outcome.problem : null;
        setErrors(fieldErrors(problem?.errors));
        setMessage({ kind: 'error', text: problemText(outcome.status, outcome.problem) });
      }
    } finally {
      setBusy(false);
    }
  };

  const others = Object.entries(errors).filter(([f]) => !SHOWN.some((s) => f === s || f.startsWith(`${s}[`) || f.startsWith(`${s}.`)));
  // Only an admin names another lead; the others lead with their own department.
  const admin = hasScope(me, 'admin');
  const lead = (admin && draft.lead) || original?.lead_department_id || me.department_id;
  const choosable = (d: Department) => d.active && d.id !== lead;

  return (
    <section>
      <h1>{editing ? t('event.edit_title') : t('event.new_title')}</h1>
      <p class="hint">{t('common.timezone', { tz })}</p>
      <form noValidate onSubmit={(e) => void submit(e)}>
        {message && <Notice kind={message.kind}>{message.text}</Notice>}
        {others.length > 0 && (
          <ul class="error">
            {others.map(([f, m]) => (
              <li key={f}>
                {f}: {m.join(' ')}
              </li>
            ))}
          </ul>
        )}
        <Field label={t('event.title')} errors={errors.title}>
          {(a) => <input {...a} value={draft.title} onInput={text('title')} maxLength={300} />}
        </Field>
        <div class="grid">
          <Field label={t('event.kind')} errors={errors.kind}>
            {(a) => (
              <select {...a} value={draft.kind} onChange={(e) => set('kind', (e.currentTarget as HTMLSelectElement).value as Draft['kind'])}>
                {KINDS.map((k) => (
                  <option key={k} value={k}>
                    {enumLabel('kind', k)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('event.format')} errors={errors.format}>
            {(a) => (
              <select {...a} value={draft.format} onChange={(e) => set('format', (e.currentTarget as HTMLSelectElement).value as Draft['format'])}>
                {FORMATS.map((k) => (
                  <option key={k} value={k}>
                    {enumLabel('format', k)}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <div class="grid">
          <Field label={t('event.date')} errors={errors.starts_at}>
            {(a) => <input {...a} type="date" value={draft.date} onInput={text('date')} />}
          </Field>
          <Field label={t('event.start_time')}>{(a) => <input {...a} type="time" value={draft.start} onInput={text('start')} />}</Field>
          <Field label={t('event.end_time')} errors={errors.ends_at}>
            {(a) => <input {...a} type="time" value={draft.end} onInput={text('end')} />}
          </Field>
          <Field label={t('event.end_date')}>{(a) => <input {...a} type="date" value={draft.endDate} onInput={text('endDate')} />}</Field>
        </div>
        {startsAt && endsAt && Date.parse(endsAt) > Date.parse(startsAt) && (
          <p class="hint" aria-live="polite">
            {t('event.when_preview', { when: formatSpan(startsAt, endsAt, tz, lang) })}
          </p>
        )}
        <Field label={t('event.venue')} errors={errors.venue}>
          {(a) => <input {...a} value={draft.venue} onInput={text('venue')} />}
        </Field>
        <CheckboxGroup
          legend={t('event.audiences')}
          options={AUDIENCES.map((v) => ({ value: v, label: enumLabel('audience', v) }))}
          selected={draft.audiences}
          onChange={(v) => set('audiences', v as Draft['audiences'])}
          errors={under(errors, 'audiences')}
        />
        {admin && (
          <DepartmentSelect
            label={t('event.lead')}
            hint={t('event.lead_hint')}
            value={lead}
            onChange={(v) => setDraft((d) => ({ ...d, lead: v, partners: d.partners.filter((p) => p !== v) }))}
            departments={departments.filter((d) => d.active || d.id === lead)}
            lang={lang}
            errors={errors.lead_department_id}
          />
        )}
        {departments.some(choosable) && (
          <DepartmentChecks
            legend={t('event.partners')}
            departments={departments}
            lang={lang}
            choosable={choosable}
            selected={draft.partners}
            onChange={(v) => set('partners', v)}
            errors={under(errors, 'partner_department_ids')}
          />
        )}
        <Field label={t('event.plan_item')} errors={errors.plan_item_id}>
          {(a) => (
            <select {...a} value={draft.planItem} onChange={(e) => set('planItem', (e.currentTarget as HTMLSelectElement).value)}>
              <option value="">{t('event.no_plan_item')}</option>
              {items.map((g) => (
                <optgroup key={g.plan.id} label={`${g.plan.year} — ${g.plan.title}`}>
                  {g.items.map((i) => (
                    <option key={i.id} value={i.id}>
                      {i.number} {i.title}
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('event.planned_participants')} errors={errors.planned_participants}>
          {(a) => <input {...a} type="number" inputMode="numeric" min={0} max={100000} value={draft.planned} onInput={text('planned')} />}
        </Field>
        <fieldset>
          <legend>{t('event.organisers')}</legend>
          {draft.organisers.map((o, i) => {
            const update = (patch: Partial<Organiser>) =>
              set('organisers', draft.organisers.map((x, j) => (j === i ? { ...x, ...patch } : x)));
            return (
              <div class="organiser" key={i} role="group" aria-label={t('event.organiser_n', { n: String(i + 1) })}>
                <div class="grid">
                  <Field label={t('event.organiser_name')} errors={errors[`organisers[${i}].full_name`]}>
                    {(a) => <input {...a} value={o.full_name} onInput={(e) => update({ full_name: (e.currentTarget as HTMLInputElement).value })} />}
                  </Field>
                  <Field label={t('event.organiser_role')} errors={errors[`organisers[${i}].role`]}>
                    {(a) => (
                      <select {...a} value={o.role} onChange={(e) => update({ role: (e.currentTarget as HTMLSelectElement).value as Organiser['role'] })}>
                        {ORGANISER_ROLES.map((r) => (
                          <option key={r} value={r}>
                            {enumLabel('organiser_role', r)}
                          </option>
                        ))}
                      </select>
                    )}
                  </Field>
                  <Field label={t('event.organiser_org')} errors={errors[`organisers[${i}].organisation`]}>
                    {(a) => <input {...a} value={o.organisation ?? ''} onInput={(e) => update({ organisation: (e.currentTarget as HTMLInputElement).value })} />}
                  </Field>
                </div>
                <button type="button" onClick={() => set('organisers', draft.organisers.filter((_, j) => j !== i))}>
                  {t('event.organiser_remove', { n: String(i + 1) })}
                </button>
              </div>
            );
          })}
          {errors.organisers && <p class="error">{errors.organisers.join(' ')}</p>}
          <button type="button" onClick={() => set('organisers', [...draft.organisers, { full_name: '', role: 'speaker', organisation: '' }])}>
            {t('event.organiser_add')}
          </button>
        </fieldset>
        <Field label={t('event.description')} errors={errors.description}>
          {(a) => <textarea {...a} value={draft.description} onInput={text('description')} />}
        </Field>
        {past && (
          <fieldset>
            <legend>{t('event.past_attendance')}</legend>
            <AttendanceFields draft={draft.attendance} onChange={(v) => set('attendance', v)} errors={errors} prefix="attendance" audiences={draft.audiences} />
          </fieldset>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {t('common.save')}
          </button>
          <a class="button" href={editing ? `#/events/${props.id}` : '#/events'}>
            {t('common.cancel')}
          </a>
        </div>
      </form>
    </section>
  );
}

/** The merge patch: only the members that changed, so a PATCH checks only what it sets. */
function changes(original: EventRecord, input: EventInput): Schemas['EventPatch'] {
  const patch: Record<string, unknown> = {};
  const before = original as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(input)) {
    if (k === 'attendance') continue;
    const was = k === 'starts_at' || k === 'ends_at' ? Date.parse(String(before[k])) : before[k];
    const now = k === 'starts_at' || k === 'ends_at' ? Date.parse(String(v)) : v;
    if (JSON.stringify(was ?? null) !== JSON.stringify(now ?? null)) patch[k] = v;
  }
  return patch as Schemas['EventPatch'];
}
