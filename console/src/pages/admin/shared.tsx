// What the administration's tabs share: a write's outcome shown beside the form, the outbox label
// of an admin write, and a one-time secret with its copy button.
import { useState } from 'preact/hooks';
import { isProblem, type Outcome } from '../../api/client';
import { t } from '../../i18n';
import { fieldErrors, problemText, type FieldErrors } from '../../components/ui';

export type Msg = { kind: 'ok' | 'error' | 'info'; text: string } | null;

/** A write's outcome; `own` names the page's own words for a field's error code (see fieldErrors). */
export function useResult(own?: string) {
  const [msg, setMsg] = useState<Msg>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  /** Shows the outcome of a write; true when the server accepted it. */
  const show = (o: Outcome): boolean => {
    setErrors({});
    if (o.kind === 'sent') {
      setMsg({ kind: 'ok', text: t('common.saved') });
      return true;
    }
    if (o.kind === 'queued') setMsg({ kind: 'info', text: t('common.queued') });
    else {
      setErrors(fieldErrors(isProblem(o.problem) ? o.problem.errors : null, own));
      setMsg({ kind: 'error', text: problemText(o.status, o.problem) });
    }
    return false;
  };
  return { msg, errors, show, setMsg };
}

export const label = (what: string) => ({ key: 'outbox.op.other', params: { method: t('admin.title'), path: what } });
export const value = (set: (v: string) => void) => (e: Event) => set((e.currentTarget as HTMLInputElement).value);

/** A secret shown this once, with what it belongs to and a copy button. */
export function Secret(props: { idLabel: string; id: string; secretLabel: string; secret: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="secret" role="region" aria-label={props.secretLabel}>
      <p><strong>{t('client.secret_warning')}</strong></p>
      <p>{props.idLabel}: <span class="mono">{props.id}</span></p>
      <p>{props.secretLabel}: <span class="mono">{props.secret}</span></p>
      <button
        type="button"
        class="primary"
        onClick={() => void navigator.clipboard.writeText(props.secret).then(() => setCopied(true), () => setCopied(false))}
      >
        {t('client.copy')}
      </button>
      {copied && <span role="status"> {t('client.copied')}</span>}
    </div>
  );
}
