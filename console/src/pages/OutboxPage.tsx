// The writes not yet accepted by the server, for the person who made them: waiting ones, the
// ones the server refused (with why, field by field) and the ones too old to resend unasked.
import { useState } from 'preact/hooks';
import { isProblem, outbox } from '../api/client';
import type { OutboxEntry } from '../api/outbox';
import { errorText, t, type MessageKey } from '../i18n';
import { useApp, useOutboxEntries } from '../state';
import { formatInstant } from '../time';
import { Confirm, problemText } from '../components/ui';

function describe(e: OutboxEntry): string {
  const key = e.label.key as MessageKey;
  return t(key, e.label.params ?? { method: e.method, path: e.path });
}

/** The page of the event a write was about, where a refused change can be made again. */
function recordLink(e: OutboxEntry): string | null {
  const m = /^\/api\/v1\/events\/([^/]+)/.exec(e.path);
  return m && e.method !== 'DELETE' ? `#/events/${m[1]}` : null;
}

export function OutboxPage() {
  const { tz, lang, online } = useApp();
  const entries = useOutboxEntries();
  const [dropping, setDropping] = useState<number | null>(null);
  return (
    <section>
      <div class="page-head">
        <h1>{t('outbox.title')}</h1>
        {online && entries.some((e) => e.state === 'pending' && !outbox.isStale(e)) && (
          <button type="button" onClick={() => void outbox.flush()}>
            {t('outbox.send_now')}
          </button>
        )}
      </div>
      {entries.length === 0 && <p>{t('outbox.empty')}</p>}
      <ul class="cards">
        {entries.map((e) => {
          const stale = outbox.isStale(e);
          const state = e.state === 'failed' ? 'failed' : stale ? 'stale' : 'pending';
          const problem = isProblem(e.problem) ? e.problem : null;
          return (
            <li key={e.seq} class={`outbox-entry ${state}`}>
              <p class="card-title">{describe(e)}</p>
              <p class="meta">
                <span class={`status ${state === 'pending' ? 'planned' : 'cancelled'}`}>{t(`outbox.state.${state}`)}</span>
                <span>{t('outbox.created', { at: formatInstant(new Date(e.createdAt).toISOString(), tz, lang) })}</span>
              </p>
              {e.state === 'failed' && (
                <>
                  <p class="error">{problemText(e.status ?? 0, e.problem)}</p>
                  {problem?.errors?.length ? (
                    <ul class="error">
                      {problem.errors.map((er, i) => (
                        <li key={i}>
                          {er.field}: {errorText(er.code, er.message)}
                        </li>
                      ))}
                    </ul>
                  ) : null}
                </>
              )}
              {(e.state === 'failed' || stale) && (
                <div class="actions">
                  {recordLink(e) && (
                    <a class="button" href={recordLink(e) ?? undefined}>
                      {t('outbox.open_record')}
                    </a>
                  )}
                  <button type="button" onClick={() => void outbox.resend(e.seq)}>
                    {t('outbox.resend')}
                  </button>
                  <button type="button" class="danger" onClick={() => setDropping(e.seq)}>
                    {t('outbox.drop')}
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
      <Confirm
        open={dropping !== null}
        title={t('outbox.drop')}
        message={t('outbox.drop_confirm')}
        confirmLabel={t('outbox.drop')}
        danger
        onAnswer={(yes) => {
          if (yes && dropping !== null) void outbox.drop(dropping);
          setDropping(null);
        }}
      />
    </section>
  );
}
