// Webhooks, in the administration: the subscriptions of other city systems (an admin sees every
// one), a new one with its secret shown once, a test message, switching one off and on, a new
// secret, and each subscription's delivery log, where a failing integration shows itself.
import { useEffect, useState } from 'preact/hooks';
import { api, write, type Outcome, type Schemas } from '../../api/client';
import { enumLabel, t } from '../../i18n';
import { useApp } from '../../state';
import { formatInstant } from '../../time';
import { CheckboxGroup, Confirm, DataTable, Field, Notice } from '../../components/ui';
import { WEBHOOK_TYPES } from '../../enums';
import { Secret, label, useResult, value } from './shared';

type Subscription = Schemas['SubscriptionResponse'];

/** The types a person may pick: `event.verified` is reserved by the API and never sent yet, so
 * offering it would only make a subscription that hears nothing. */
const PICKABLE = WEBHOOK_TYPES.filter((x) => x !== 'event.verified');
type Delivery = Schemas['DeliveryResponse'];

/** Why the registry switched a subscription off, in the person's language (the API's words for a
 * reason it may add later). */
export function reasonText(reason: string): string {
  const since = /^deliveries have failed since (\S+)/.exec(reason);
  if (since) return t('webhook.reason_failing', { since: since[1] ?? '' });
  if (reason.includes('410')) return t('webhook.reason_gone');
  if (reason.includes('principal was deactivated')) return t('webhook.reason_principal');
  return reason;
}

/** What went wrong with an attempt, in the person's language where the registry's words are known. */
export function attemptError(error: string): string {
  const answered = /^the endpoint answered (\d{3})$/.exec(error);
  if (answered) return t('delivery.error_status', { status: answered[1] ?? '' });
  if (error.includes('redirect')) return t('delivery.error_redirect');
  if (error === 'could not connect') return t('delivery.error_connect');
  if (error.startsWith('no answer within')) return t('delivery.error_timeout');
  if (error.includes('410 Gone')) return t('webhook.reason_gone');
  if (error.includes('not a public address')) return t('delivery.error_address');
  return error;
}

function statusText(status: string): string {
  if (status === 'delivered') return t('delivery.delivered');
  if (status === 'refused') return t('delivery.refused');
  return t('delivery.failed');
}

export function Webhooks() {
  const [list, setList] = useState<Subscription[]>([]);
  const [url, setUrl] = useState('');
  const [types, setTypes] = useState<string[]>([]);
  const [description, setDescription] = useState('');
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [rotate, setRotate] = useState<Subscription | null>(null);
  const [log, setLog] = useState<Subscription | null>(null);
  const r = useResult();
  const reload = () => void api.GET('/api/v1/webhooks', { params: { query: { limit: 200 } } }).then((x) => setList(x.data?.items ?? []));
  useEffect(reload, []);

  const showSecret = (o: Outcome) => {
    if (o.kind !== 'sent') return;
    const body = o.body as Schemas['SubscriptionWithSecret'];
    // A replayed answer carries no secret: then there is none to show.
    if (body.secret) setSecret({ url: body.url, secret: body.secret });
  };
  const create = async (e: Event) => {
    e.preventDefault();
    setSecret(null);
    const body = { url: url.trim(), event_types: types as Schemas['EventType'][], description };
    const o = await write('POST', '/api/v1/webhooks', {}, body, { label: label(url) });
    if (r.show(o)) {
      showSecret(o);
      setUrl('');
      setDescription('');
      reload();
    }
  };
  const toggle = async (s: Subscription) => {
    const o = await write('PATCH', '/api/v1/webhooks/{id}', { id: s.id }, { active: !s.active }, { ifMatch: `"${s.version}"`, label: label(s.url) });
    if (r.show(o)) reload();
  };
  const test = async (s: Subscription) => {
    const o = await write('POST', '/api/v1/webhooks/{id}/test', { id: s.id }, null, { label: label(s.url) });
    if (r.show(o)) r.setMsg({ kind: 'ok', text: t('webhook.test_sent') });
  };
  const answerRotate = async (yes: boolean) => {
    const s = rotate;
    setRotate(null);
    if (!yes || !s) return;
    setSecret(null);
    const o = await write('POST', '/api/v1/webhooks/{id}/secret', { id: s.id }, null, { label: label(s.url) });
    if (r.show(o)) {
      showSecret(o);
      reload();
    }
  };

  return (
    <div>
      <h2>{t('admin.webhooks')}</h2>
      <p>{t('webhook.intro')}</p>
      {secret && <Secret idLabel={t('webhook.url')} id={secret.url} secretLabel={t('webhook.secret')} secret={secret.secret} />}
      {r.msg && <Notice kind={r.msg.kind}>{r.msg.text}</Notice>}
      {list.length === 0 && <p>{t('webhook.none')}</p>}
      <DataTable label={t('admin.webhooks')} headers={['webhook.url', 'webhook.types', 'webhook.state', 'common.actions']}>
        {list.map((s) => (
          <tr key={s.id}>
            <td>
              <span class="mono">{s.url}</span>
              {s.description && <div>{s.description}</div>}
            </td>
            <td>{s.event_types.length ? s.event_types.map((x) => enumLabel('webhook_type', x)).join(', ') : t('webhook.types_all')}</td>
            <td>
              {s.active ? t('webhook.active') : t('webhook.off')}
              {s.disabled_reason && <div>{reasonText(s.disabled_reason)}</div>}
            </td>
            <td class="actions">
              <button type="button" onClick={() => setLog(s)}>{t('webhook.log')}</button>
              <button type="button" onClick={() => void test(s)} disabled={!s.active}>{t('webhook.test')}</button>
              <button type="button" onClick={() => void toggle(s)}>{s.active ? t('webhook.switch_off') : t('webhook.switch_on')}</button>
              <button type="button" onClick={() => setRotate(s)}>{t('client.rotate')}</button>
            </td>
          </tr>
        ))}
      </DataTable>
      {log && <DeliveryLog key={log.id} subscription={log} />}
      <form noValidate onSubmit={(e) => void create(e)}>
        <h3>{t('webhook.new')}</h3>
        <Field label={t('webhook.url')} errors={r.errors.url} hint={t('webhook.url_hint')}>
          {(a) => <input {...a} type="url" inputMode="url" value={url} onInput={value(setUrl)} />}
        </Field>
        <CheckboxGroup
          legend={t('webhook.types_pick')}
          options={PICKABLE.map((x) => ({ value: x, label: enumLabel('webhook_type', x) }))}
          selected={types}
          onChange={setTypes}
          errors={r.errors.event_types}
        />
        <Field label={t('webhook.description')} errors={r.errors.description}>
          {(a) => <input {...a} value={description} onInput={value(setDescription)} />}
        </Field>
        <button type="submit" class="primary">{t('common.save')}</button>
      </form>
      <Confirm
        open={rotate !== null}
        title={t('client.rotate')}
        message={t('webhook.rotate_confirm', { url: rotate?.url ?? '' })}
        confirmLabel={t('client.rotate')}
        danger
        onAnswer={(yes) => void answerRotate(yes)}
      />
    </div>
  );
}

function DeliveryLog(props: { subscription: Subscription }) {
  const { tz, lang } = useApp();
  const [items, setItems] = useState<Delivery[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const load = async (after: string | null) => {
    const x = await api.GET('/api/v1/webhooks/{id}/deliveries', {
      params: { path: { id: props.subscription.id }, query: { limit: 50, cursor: after ?? undefined } },
    });
    setItems((prev) => (after ? [...prev, ...(x.data?.items ?? [])] : x.data?.items ?? []));
    setCursor(x.data?.next_cursor ?? null);
    setLoaded(true);
  };
  useEffect(() => void load(null), []);
  return (
    <section aria-label={t('webhook.log_of', { url: props.subscription.url })}>
      <h3>{t('webhook.log_of', { url: props.subscription.url })}</h3>
      <button type="button" onClick={() => void load(null)}>{t('webhook.refresh')}</button>
      {loaded && items.length === 0 && <p>{t('webhook.log_empty')}</p>}
      <DataTable label={t('webhook.log')} headers={['delivery.at', 'delivery.type', 'delivery.attempt', 'delivery.status', 'delivery.response', 'delivery.error']}>
        {items.map((d) => (
          <tr key={d.id}>
            <td>{formatInstant(d.at, tz, lang)}</td>
            <td>{enumLabel('webhook_type', d.type)}</td>
            <td>{d.attempt}</td>
            <td>{statusText(d.status)}</td>
            <td>{d.response_status ?? '—'}</td>
            <td>{d.error ? attemptError(d.error) : ''}</td>
          </tr>
        ))}
      </DataTable>
      {cursor && <button type="button" onClick={() => void load(cursor)}>{t('common.more')}</button>}
    </section>
  );
}
