// The year's action plans and their items with the status the server derives from held events;
// coordinators and admins create and edit them, everyone else reads.
import { useEffect, useState } from 'preact/hooks';
import { api, isProblem, write, type Outcome, type Schemas } from '../api/client';
import { enumLabel, formatNumber, t } from '../i18n';
import { departmentName, go, useApp, useDepartments } from '../state';
import { formatDate, todayIn } from '../time';
import { hasScope } from '../session';
import { DataTable, DepartmentSelect, Field, SaveCancel, Notice, fieldErrors, problemText, type FieldErrors } from '../components/ui';
import { loadItems, loadPlans, type Item, type Plan } from '../plans';

type Msg = { kind: 'ok' | 'error' | 'info'; text: string } | null;

function useOutcome() {
  const [msg, setMsg] = useState<Msg>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const handle = (o: Outcome, onSent: (body: unknown) => void) => {
    setErrors({});
    if (o.kind === 'sent') {
      setMsg({ kind: 'ok', text: t('common.saved') });
      onSent(o.body);
    } else if (o.kind === 'queued') setMsg({ kind: 'info', text: t('common.queued') });
    else {
      setErrors(fieldErrors(isProblem(o.problem) ? o.problem.errors : null));
      setMsg({ kind: 'error', text: problemText(o.status, o.problem) });
    }
  };
  return { msg, errors, handle, setMsg };
}

export function Plans(props: { id?: string }) {
  return props.id ? <PlanItems planId={props.id} /> : <PlanList />;
}

function PlanList() {
  const { me, tz, lang } = useApp();
  const departments = useDepartments();
  const [plans, setPlans] = useState<Plan[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [year, setYear] = useState(todayIn(tz).slice(0, 4));
  const [title, setTitle] = useState('');
  const out = useOutcome();
  const reload = () =>
    loadPlans()
      .then((p) => setPlans(p.sort((a, b) => b.year - a.year)))
      .catch(() => setError(t('common.network_error')));
  useEffect(() => void reload(), []);
  const byId = new Map(departments.map((d) => [d.id, d]));

  const create = async (e: Event) => {
    e.preventDefault();
    const o = await write('POST', '/api/v1/plans', {}, { year: Number(year), title: title.trim() }, {
      label: { key: 'outbox.op.other', params: { method: 'POST', path: `${t('plans.new')}: ${title}` } },
    });
    out.handle(o, (body) => go(`/plans/${(body as Plan).id}`));
  };

  return (
    <section>
      <h1>{t('plans.title')}</h1>
      {error && <Notice kind="error">{error}</Notice>}
      {plans && plans.length === 0 && <p>{t('plans.empty')}</p>}
      <ul class="cards">
        {(plans ?? []).map((p) => (
          <li key={p.id} class="card">
            <a class="card-title" href={`#/plans/${p.id}`}>
              {p.year} — {p.title}
            </a>
            <p class="meta">{departmentName(byId.get(p.department_id), lang)}</p>
          </li>
        ))}
      </ul>
      {hasScope(me, 'plans:write') && (
        <form noValidate onSubmit={(e) => void create(e)}>
          <h2>{t('plans.new')}</h2>
          <div class="grid">
            <Field label={t('plans.year')} errors={out.errors.year}>
              {(a) => <input {...a} type="number" inputMode="numeric" value={year} onInput={(e) => setYear((e.currentTarget as HTMLInputElement).value)} />}
            </Field>
            <Field label={t('plans.plan_title')} errors={out.errors.title}>
              {(a) => <input {...a} value={title} onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} />}
            </Field>
          </div>
          {out.msg && <Notice kind={out.msg.kind}>{out.msg.text}</Notice>}
          <button type="submit" class="primary">
            {t('common.save')}
          </button>
        </form>
      )}
    </section>
  );
}

interface ItemDraft {
  number: string;
  title: string;
  responsible: string;
  due: string;
  events: string;
  participants: string;
}

function itemDraft(i?: Item): ItemDraft {
  return i
    ? { number: i.number, title: i.title, responsible: i.responsible_department_id, due: i.due_date, events: String(i.target_events), participants: String(i.target_participants) }
    : { number: '', title: '', responsible: '', due: '', events: '1', participants: '0' };
}

function PlanItems(props: { planId: string }) {
  const { me, lang } = useApp();
  const departments = useDepartments();
  const [plan, setPlan] = useState<Schemas['PlanResponse'] | null>(null);
  const [items, setItems] = useState<Item[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Item | 'new' | null>(null);
  const [draft, setDraft] = useState<ItemDraft>(itemDraft());
  const out = useOutcome();
  const canWrite = hasScope(me, 'plans:write');

  const reload = async () => {
    try {
      const p = await api.GET('/api/v1/plans/{id}', { params: { path: { id: props.planId } } });
      if (!p.data) {
        setError(problemText(p.response.status, p.error));
        return;
      }
      setPlan(p.data);
      setItems((await loadItems(props.planId)).sort((a, b) => a.number.localeCompare(b.number, undefined, { numeric: true })));
    } catch {
      setError(t('common.network_error'));
    }
  };
  useEffect(() => void reload(), [props.planId]);
  const byId = new Map(departments.map((d) => [d.id, d]));

  const open = (i: Item | 'new') => {
    setEditing(i);
    setDraft(itemDraft(i === 'new' ? undefined : i));
    out.setMsg(null);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const body = {
      number: draft.number.trim(),
      title: draft.title.trim(),
      responsible_department_id: draft.responsible,
      due_date: draft.due,
      target_events: Number(draft.events),
      target_participants: Number(draft.participants),
    };
    const label = { key: 'outbox.op.other', params: { method: editing === 'new' ? 'POST' : 'PATCH', path: `${t('item.title')} ${body.number}` } };
    const o =
      editing === 'new' || editing === null
        ? await write('POST', '/api/v1/plans/{id}/items', { id: props.planId }, body, { label })
        : await write('PATCH', '/api/v1/plans/{id}/items/{item_id}', { id: props.planId, item_id: editing.id }, body, {
            ifMatch: `"${editing.version}"`,
            label,
          });
    out.handle(o, () => {
      setEditing(null);
      void reload();
    });
  };

  if (error) return <Notice kind="error">{error}</Notice>;
  if (!plan || !items) return <p class="loading">{t('app.loading')}</p>;
  const set = (k: keyof ItemDraft) => (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });

  return (
    <section>
      <p>
        <a href="#/plans">{t('plans.title')}</a>
      </p>
      <h1>
        {plan.year} — {plan.title}
      </h1>
      {items.length === 0 ? (
        <p>{t('item.empty')}</p>
      ) : (
        <DataTable label={t('plans.items')} headers={['item.number', 'item.title', 'item.responsible', 'item.due_date', 'item.progress', 'item.status', ...(canWrite ? (['common.actions'] as const) : [])]}>
          {items.map((i) => (
            <tr key={i.id}>
              <td>{i.number}</td>
              <td>{i.title}</td>
              <td>{departmentName(byId.get(i.responsible_department_id), lang)}</td>
              <td>{formatDate(i.due_date, lang)}</td>
              <td>
                {formatNumber(i.events_held)}/{formatNumber(i.target_events)} · {formatNumber(i.participants_total)}/{formatNumber(i.target_participants)}
              </td>
              <td class={`status ${i.status}`}>{enumLabel('item_status', i.status)}</td>
              {canWrite && (
                <td>
                  <button type="button" onClick={() => open(i)} aria-label={t('item.edit', { number: i.number })}>
                    {t('common.edit')}
                  </button>
                </td>
              )}
            </tr>
          ))}
        </DataTable>
      )}
      {canWrite && editing === null && (
        <div class="actions">
          <button type="button" class="primary" onClick={() => open('new')}>
            {t('item.new')}
          </button>
        </div>
      )}
      {canWrite && editing !== null && (
        <form noValidate onSubmit={(e) => void save(e)}>
          <h2>{editing === 'new' ? t('item.new') : t('item.edit', { number: editing.number })}</h2>
          <div class="grid">
            <Field label={t('item.number')} errors={out.errors.number}>
              {(a) => <input {...a} value={draft.number} onInput={set('number')} />}
            </Field>
            <Field label={t('item.due_date')} errors={out.errors.due_date}>
              {(a) => <input {...a} type="date" value={draft.due} onInput={set('due')} />}
            </Field>
          </div>
          <Field label={t('item.title')} errors={out.errors.title}>
            {(a) => <input {...a} value={draft.title} onInput={set('title')} />}
          </Field>
          <DepartmentSelect
            label={t('item.responsible')}
            value={draft.responsible}
            onChange={(v) => setDraft({ ...draft, responsible: v })}
            departments={departments}
            lang={lang}
            empty="—"
            errors={out.errors.responsible_department_id}
          />
          <div class="grid">
            <Field label={t('item.target_events')} errors={out.errors.target_events}>
              {(a) => <input {...a} type="number" inputMode="numeric" min={0} value={draft.events} onInput={set('events')} />}
            </Field>
            <Field label={t('item.target_participants')} errors={out.errors.target_participants}>
              {(a) => <input {...a} type="number" inputMode="numeric" min={0} value={draft.participants} onInput={set('participants')} />}
            </Field>
          </div>
          {out.msg && <Notice kind={out.msg.kind}>{out.msg.text}</Notice>}
          <SaveCancel onCancel={() => setEditing(null)} />
        </form>
      )}
    </section>
  );
}
