// The event page's evidence: photos shown as thumbnails (their bytes fetched with the session's
// token and shown from an object URL, since the API answers them only to a bearer), PDFs and
// links by a labelled mark; an upload from the phone's camera or files, a link, and removal while
// the event is not verified. A file goes straight to the API, never into the outbox: it needs the
// network there and then, and says so when there is none. Adding or removing evidence moves the
// event's version on, so the page reads the event again afterwards.
import { useEffect, useRef, useState } from 'preact/hooks';
import '../../i18n/evidence';
import { api, isProblem, send, write, type Schemas } from '../../api/client';
import { enumLabel, errorText, t } from '../../i18n';
import { useApp } from '../../state';
import { formatInstant } from '../../time';
import { Confirm, Field, Notice, problemText } from '../../components/ui';
import { EVIDENCE_KINDS } from '../../enums';
import { MAX_PIECES, contentDisposition, jpegName, planUpload, reencode, refusal, sizeParts, type SendType } from '../../evidence';

type EventRecord = Schemas['EventResponse'];
type Evidence = Schemas['EvidenceResponse'];
type Kind = Schemas['EvidenceKind'];
type Msg = { kind: 'ok' | 'error' | 'info'; text: string } | null;

const isImage = (e: Evidence) => e.media_type === 'image/jpeg' || e.media_type === 'image/png';
const isLink = (e: Evidence) => !e.media_type;

/** The name a piece is shown by: its file's name, a link's address, or "untitled". */
function nameOf(e: Evidence): string {
  return isLink(e) ? e.url : e.filename || t('evidence.unnamed');
}

function sizeText(bytes: number): string {
  const { key, n } = sizeParts(bytes);
  return t(key, { n });
}

/** A file's bytes as an object URL, fetched with the token; revoked when no longer shown. */
function useFileUrl(path: string | null): { src: string | null; failed: boolean } {
  const [state, setState] = useState<{ src: string | null; failed: boolean }>({ src: null, failed: false });
  useEffect(() => {
    if (!path) return;
    let live = true;
    let url: string | null = null;
    setState({ src: null, failed: false });
    send(path)
      .then(async (r) => {
        if (!r.ok) throw new Error(String(r.status));
        const blob = await r.blob();
        if (!live) return;
        url = URL.createObjectURL(blob);
        setState({ src: url, failed: false });
      })
      .catch(() => live && setState({ src: null, failed: true }));
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [path]);
  return state;
}

function Thumb({ item, onOpen }: { item: Evidence; onOpen: (src: string) => void }) {
  const { src, failed } = useFileUrl(item.url);
  const name = nameOf(item);
  if (!src) {
    return <span class="evidence-mark" aria-hidden="true">{failed ? '?' : '…'}</span>;
  }
  return (
    <button type="button" class="thumb" aria-label={t('evidence.open', { name })} onClick={() => onOpen(src)}>
      <img src={src} alt={`${enumLabel('evidence_kind', item.kind)}: ${name}`} />
    </button>
  );
}

/** The photo at full size in a modal dialog (focus trapped and returned by <dialog>). */
function Viewer({ shown, onClose }: { shown: { src: string; name: string } | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (shown && !d.open) d.showModal();
    if (!shown && d.open) d.close();
  }, [shown]);
  return (
    <dialog ref={ref} class="viewer" aria-labelledby="evidence-viewer-h" onCancel={onClose} onClose={onClose}>
      <h2 id="evidence-viewer-h">{shown?.name ?? ''}</h2>
      {shown && <img src={shown.src} alt={shown.name} />}
      <div class="actions">
        <button type="button" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
    </dialog>
  );
}

/** Fetches a file with the token and hands it to the browser as a download. */
async function download(item: Evidence): Promise<boolean> {
  try {
    const r = await send(item.url);
    if (!r.ok) return false;
    const url = URL.createObjectURL(await r.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = item.filename || 'evidence';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
    return true;
  } catch {
    return false;
  }
}

export function EvidenceSection(props: { ev: EventRecord; canRead: boolean; canWrite: boolean; onChanged: () => void }) {
  const { ev } = props;
  const { tz, lang, online } = useApp();
  const [items, setItems] = useState<Evidence[] | null>(null);
  const [hidden, setHidden] = useState(false);
  const [listError, setListError] = useState<string | null>(null);
  const [msg, setMsg] = useState<Msg>(null);
  const [linkMsg, setLinkMsg] = useState<Msg>(null);
  const [busy, setBusy] = useState(false);
  const [kind, setKind] = useState<Kind>('photo');
  const [file, setFile] = useState<File | null>(null);
  const [linkKind, setLinkKind] = useState<Kind>('press');
  const [url, setUrl] = useState('');
  const [urlErrors, setUrlErrors] = useState<string[] | undefined>(undefined);
  const [removing, setRemoving] = useState<Evidence | null>(null);
  const [shown, setShown] = useState<{ src: string; name: string } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const verified = ev.verification.status === 'verified';
  const full = ev.evidence_count >= MAX_PIECES;

  const load = async () => {
    if (!props.canRead) return;
    try {
      const r = await api.GET('/api/v1/events/{id}/evidence', { params: { path: { id: ev.id } } });
      setListError(null);
      if (r.data) {
        setItems(r.data.items);
        setHidden(false);
      } else if (r.response.status === 403) setHidden(true);
      else setListError(problemText(r.response.status, r.error));
    } catch {
      setListError(t('common.network_error'));
    }
  };
  useEffect(() => {
    void load();
  }, [ev.id, ev.evidence_count, props.canRead]);

  const changed = () => {
    void load();
    props.onChanged();
  };

  const clearFile = () => {
    setFile(null);
    if (fileInput.current) fileInput.current.value = '';
  };

  /** What the API said no to, in the person's words. */
  const refused = async (r: Response): Promise<string> => {
    const problem: unknown = await r.json().catch(() => null);
    const key = refusal(r.status, problem);
    if (key) return t(key);
    const first = isProblem(problem) ? problem.errors?.[0] : undefined;
    if (r.status === 422 && first) return errorText(first.code, first.message);
    if (r.status === 409 && verified) return t('evidence.error.verified');
    return problemText(r.status, problem);
  };

  const upload = async (e: Event) => {
    e.preventDefault();
    setMsg(null);
    if (!file) return;
    if (!navigator.onLine) {
      setMsg({ kind: 'error', text: t('evidence.offline') });
      return;
    }
    const plan = planUpload(file.name, file.type, file.size);
    if (plan.action === 'refuse') {
      setMsg({ kind: 'error', text: t(plan.reason === 'size' ? 'evidence.error.too_large' : 'evidence.error.type') });
      return;
    }
    setBusy(true);
    let body: Blob = file;
    let type: SendType;
    let name = file.name;
    let converted = '';
    if (plan.action === 'reencode') {
      setMsg({ kind: 'info', text: t('evidence.converting') });
      try {
        body = await reencode(file);
      } catch {
        setBusy(false);
        setMsg({ kind: 'error', text: t('evidence.error.unreadable') });
        return;
      }
      type = 'image/jpeg';
      name = jpegName(file.name);
      converted = t('evidence.converted', { size: sizeText(body.size) });
    } else {
      type = plan.type;
    }
    setMsg({ kind: 'info', text: t('evidence.uploading') });
    let r: Response;
    try {
      r = await send(`/api/v1/events/${encodeURIComponent(ev.id)}/evidence?kind=${encodeURIComponent(kind)}`, {
        method: 'POST',
        headers: { 'Content-Type': type, 'Content-Disposition': contentDisposition(name), 'Idempotency-Key': crypto.randomUUID() },
        body,
      });
    } catch {
      setBusy(false);
      setMsg({ kind: 'error', text: t('evidence.offline') });
      return;
    }
    setBusy(false);
    if (r.status === 201) {
      clearFile();
      setMsg({ kind: 'ok', text: converted ? `${t('evidence.added')} ${converted}` : t('evidence.added') });
      changed();
    } else setMsg({ kind: 'error', text: await refused(r) });
  };

  const addLink = async (e: Event) => {
    e.preventDefault();
    setLinkMsg(null);
    const address = url.trim();
    if (!/^https?:\/\/\S+$/i.test(address)) {
      setUrlErrors([t(address ? 'error.format' : 'error.required')]);
      return;
    }
    setUrlErrors(undefined);
    setBusy(true);
    const o = await write('POST', '/api/v1/events/{id}/evidence', { id: ev.id }, { kind: linkKind, url: address }, {
      label: { key: 'outbox.op.add_link', params: { title: ev.title } },
    });
    setBusy(false);
    if (o.kind === 'sent') {
      setUrl('');
      setLinkMsg({ kind: 'ok', text: t('evidence.added') });
      changed();
    } else if (o.kind === 'queued') setLinkMsg({ kind: 'info', text: t('common.queued') });
    else {
      const problem = isProblem(o.problem) ? o.problem : null;
      const key = refusal(o.status, problem);
      const urlError = problem?.errors?.find((er) => er.field === 'url');
      if (urlError) setUrlErrors([errorText(urlError.code, urlError.message)]);
      setLinkMsg({ kind: 'error', text: key ? t(key) : problemText(o.status, problem) });
    }
  };

  const remove = async (yes: boolean) => {
    const item = removing;
    setRemoving(null);
    if (!yes || !item) return;
    setMsg(null);
    if (!navigator.onLine) {
      setMsg({ kind: 'error', text: t('evidence.offline') });
      return;
    }
    setBusy(true);
    try {
      // Straight to the API, as uploads go: a refusal (a verified event's evidence stays, 422
      // `verification` `verified`; an older server said 409) is said at once, never left queued.
      const r = await send(`/api/v1/events/${encodeURIComponent(ev.id)}/evidence/${encodeURIComponent(item.id)}`, {
        method: 'DELETE',
        headers: { 'Idempotency-Key': crypto.randomUUID() },
      });
      if (r.status === 204 || r.status === 404) {
        setMsg({ kind: 'ok', text: t('evidence.removed') });
        changed();
      } else setMsg({ kind: 'error', text: r.status === 409 ? t('evidence.error.verified') : await refused(r) });
    } catch {
      setMsg({ kind: 'error', text: t('evidence.offline') });
    } finally {
      setBusy(false);
    }
  };

  const kindSelect = (value: Kind, onChange: (k: Kind) => void) => (a: { id: string }) => (
    <select {...a} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value as Kind)}>
      {EVIDENCE_KINDS.map((k) => (
        <option key={k} value={k}>
          {enumLabel('evidence_kind', k)}
        </option>
      ))}
    </select>
  );

  return (
    <section aria-labelledby="evidence-h" class="evidence">
      <h2 id="evidence-h">{t('evidence.title')}</h2>
      <p class="hint">{t('evidence.intro')}</p>
      {!props.canRead || hidden ? (
        <p>
          {t('events.evidence_n', { n: ev.evidence_count })} · <span class="hint">{t('evidence.hidden')}</span>
        </p>
      ) : listError ? (
        <Notice kind="error">{listError}</Notice>
      ) : items === null ? (
        <p class="loading">{t('app.loading')}</p>
      ) : items.length === 0 ? (
        <p>{t('evidence.empty')}</p>
      ) : (
        <ul class="evidence-list">
          {items.map((item) => {
            const name = nameOf(item);
            return (
              <li key={item.id} class="evidence-item">
                <div class="evidence-preview">
                  {isImage(item) ? (
                    <Thumb item={item} onOpen={(src) => setShown({ src, name })} />
                  ) : (
                    <span class="evidence-mark" aria-hidden="true">
                      {isLink(item) ? 'URL' : 'PDF'}
                    </span>
                  )}
                </div>
                <div class="evidence-text">
                  <strong>{enumLabel('evidence_kind', item.kind)}</strong>
                  {isLink(item) ? (
                    <a href={item.url} target="_blank" rel="noopener noreferrer" class="evidence-name">
                      {item.url}
                    </a>
                  ) : item.media_type === 'application/pdf' ? (
                    <button type="button" class="link evidence-name" onClick={() => void download(item).then((ok) => ok || setMsg({ kind: 'error', text: t('common.network_error') }))}>
                      {t('evidence.download', { name })}
                    </button>
                  ) : (
                    <span class="evidence-name">{name}</span>
                  )}
                  <span class="hint">
                    {isLink(item) ? t('evidence.link_kind') : item.media_type === 'application/pdf' ? t('evidence.pdf') : item.media_type?.replace('image/', '').toUpperCase()}
                    {item.size != null && ` · ${sizeText(item.size)}`} · {t('evidence.added_at', { at: formatInstant(item.created_at, tz, lang) })}
                  </span>
                  {props.canWrite && !verified && (
                    <button type="button" class="link danger-link" aria-label={t('evidence.remove_named', { name })} disabled={busy} onClick={() => setRemoving(item)}>
                      {t('evidence.remove')}
                    </button>
                  )}
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {props.canWrite && (
        <>
          {verified && <p class="hint">{t('evidence.locked')}</p>}
          <h3>{t('evidence.add')}</h3>
          {!online && <Notice kind="info">{t('evidence.offline')}</Notice>}
          {full && <Notice kind="info">{t('evidence.error.limit')}</Notice>}
          <form noValidate onSubmit={(e) => void upload(e)} class="evidence-form">
            <Field label={t('evidence.kind')}>{kindSelect(kind, setKind)}</Field>
            <Field label={t('evidence.file')} hint={t('evidence.file_hint')}>
              {(a) => (
                <input
                  {...a}
                  ref={fileInput}
                  type="file"
                  accept="image/*,application/pdf"
                  capture="environment"
                  onChange={(e) => {
                    setMsg(null);
                    setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null);
                  }}
                />
              )}
            </Field>
            {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
            <button type="submit" class="primary" disabled={busy || !file || full}>
              {t('evidence.upload')}
            </button>
          </form>
          <form noValidate onSubmit={(e) => void addLink(e)} class="evidence-form">
            <h3>{t('evidence.link_title')}</h3>
            <Field label={t('evidence.kind')}>{kindSelect(linkKind, setLinkKind)}</Field>
            <Field label={t('evidence.link')} errors={urlErrors}>
              {(a) => <input {...a} type="url" inputMode="url" value={url} onInput={(e) => setUrl((e.currentTarget as HTMLInputElement).value)} />}
            </Field>
            {linkMsg && <Notice kind={linkMsg.kind}>{linkMsg.text}</Notice>}
            <button type="submit" disabled={busy || full}>
              {t('evidence.add_link')}
            </button>
          </form>
        </>
      )}
      {!props.canWrite && msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
      <Viewer shown={shown} onClose={() => setShown(null)} />
      <Confirm
        open={removing !== null}
        title={t('evidence.remove_title')}
        message={t('evidence.remove_confirm')}
        confirmLabel={t('evidence.remove')}
        danger
        onAnswer={(yes) => void remove(yes)}
      />
    </section>
  );
}
