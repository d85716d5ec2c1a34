// The event page's verification: its status, who found it and when, their note; and, for a
// verifier of a department that took no part in the event, the form that records a decision
// (`PUT …/verification` with If-Match). A 412 means the event changed since it was read: the page
// reads it again, keeps the note typed, and asks the verifier to look once more.
import { useEffect, useState } from 'preact/hooks';
import '../../i18n/evidence';
import { api, isProblem, write, type Schemas } from '../../api/client';
import { enumLabel, t } from '../../i18n';
import { useApp } from '../../state';
import { formatInstant } from '../../time';
import { hasScope } from '../../session';
import { Field, Notice, fieldErrors, problemText, type FieldErrors } from '../../components/ui';
import { VerificationBadge } from '../../components/Flags';
import { DECISIONS } from '../../enums';

type EventRecord = Schemas['EventResponse'];
type Decision = Schemas['Decision'];
type Msg = { kind: 'ok' | 'error' | 'info'; text: string } | null;

/** Who recorded the finding: "you", an account's name for an admin (who may read accounts), else its id's tail. */
function useVerifier(by: string | null | undefined): string {
  const { me } = useApp();
  const [name, setName] = useState<string | null>(null);
  const admin = hasScope(me, 'admin');
  useEffect(() => {
    setName(null);
    if (!by || by === me.id || !admin) return;
    void api
      .GET('/api/v1/accounts/{id}', { params: { path: { id: by } } })
      .then((r) => r.data && setName(r.data.display_name))
      .catch(() => undefined);
  }, [by]);
  if (!by) return t('common.none');
  if (by === me.id) return t('verification.by_you');
  return name ?? t('verification.by_account', { id: by.slice(-8) });
}

export function VerificationSection(props: { ev: EventRecord; etag: string | null; reload: () => Promise<void> }) {
  const { ev } = props;
  const { me, tz, lang } = useApp();
  const v = ev.verification;
  const by = useVerifier(v.by);
  const [decision, setDecision] = useState<Decision>('verified');
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [msg, setMsg] = useState<Msg>(null);
  const [busy, setBusy] = useState(false);

  const verifier = hasScope(me, 'events:verify');
  const involved = ev.lead_department_id === me.department_id || ev.partner_department_ids.includes(me.department_id);

  const submit = async (e: Event) => {
    e.preventDefault();
    setMsg(null);
    const text = note.trim();
    if (decision === 'rejected' && !text) {
      setErrors({ note: [t('error.required')] });
      return;
    }
    setErrors({});
    setBusy(true);
    const o = await write('PUT', '/api/v1/events/{id}/verification', { id: ev.id }, { status: decision, note: text || null }, {
      ifMatch: props.etag ?? undefined,
      label: { key: 'outbox.op.verify', params: { title: ev.title } },
    });
    setBusy(false);
    if (o.kind === 'sent') {
      setNote('');
      setMsg({ kind: 'ok', text: t('verification.saved') });
      await props.reload();
    } else if (o.kind === 'queued') setMsg({ kind: 'info', text: t('common.queued') });
    else if (o.status === 412) {
      await props.reload();
      setMsg({ kind: 'error', text: t('verification.stale') });
    } else {
      const problem = isProblem(o.problem) ? o.problem : null;
      setErrors(fieldErrors(problem?.errors));
      const notHeld = problem?.errors?.some((er) => er.code === 'not_held');
      setMsg({ kind: 'error', text: notHeld ? t('error.not_held') : problemText(o.status, o.problem) });
    }
  };

  return (
    <section aria-labelledby="verification-h">
      <h2 id="verification-h">{t('verification.title')}</h2>
      <dl class="details">
        <dt>{t('verification.status')}</dt>
        <dd data-verification={v.status}>
          <VerificationBadge status={v.status} />
        </dd>
        {v.status !== 'unverified' && (
          <>
            <dt>{t('verification.by')}</dt>
            <dd>{by}</dd>
            <dt>{t('verification.at')}</dt>
            <dd>{v.at ? formatInstant(v.at, tz, lang) : t('common.none')}</dd>
            <dt>{t('verification.note')}</dt>
            <dd class="pre">{v.note || t('common.none')}</dd>
          </>
        )}
      </dl>
      <p class="hint">{t('verification.explain')}</p>
      {verifier && involved && <p class="hint">{t('verification.own')}</p>}
      {verifier && !involved && ev.status !== 'held' && <p class="hint">{t('verification.not_held')}</p>}
      {verifier && !involved && ev.status === 'held' && (
        <form noValidate onSubmit={(e) => void submit(e)} class="verify-form">
          <fieldset class="checks">
            <legend>{t('verification.decision')}</legend>
            {DECISIONS.map((d) => (
              <label key={d} class="check">
                <input type="radio" name="decision" value={d} checked={decision === d} onChange={() => setDecision(d)} />
                {enumLabel('decision', d)}
              </label>
            ))}
          </fieldset>
          <Field label={t('verification.note')} hint={t('verification.note_hint')} errors={errors.note}>
            {(a) => <textarea {...a} maxLength={2000} value={note} onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)} />}
          </Field>
          {errors.status && <p class="error">{errors.status.join(' ')}</p>}
          {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
          <button type="submit" class="primary" disabled={busy}>
            {t('verification.submit')}
          </button>
        </form>
      )}
      {!(verifier && !involved && ev.status === 'held') && msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
    </section>
  );
}
