// Administration, loaded only when an admin opens it: departments, accounts (create, reset a
// password, deactivate), clients (the secret shown once, with a copy button), webhooks, the audit
// trail.
import { useEffect, useState } from 'preact/hooks';
import { api, write, type Outcome, type Schemas } from '../../api/client';
import { enumLabel, t, type MessageKey } from '../../i18n';
import { departmentName, loadDepartments, useApp, type Department } from '../../state';
import { formatInstant } from '../../time';
import { Confirm, DataTable, DepartmentSelect, Field, SaveCancel, Notice, problemText } from '../../components/ui';
import { subtreeIds, treeOrder } from '../../tree';
import { DEPARTMENT_KINDS, ROLES, SCOPES } from '../../enums';
import { CheckboxGroup } from '../../components/ui';
import { Secret, label, useResult, value, type Msg } from './shared';
import { Webhooks } from './Webhooks';

const TABS: { id: string; key: MessageKey }[] = [
  { id: 'departments', key: 'admin.departments' },
  { id: 'accounts', key: 'admin.accounts' },
  { id: 'clients', key: 'admin.clients' },
  { id: 'webhooks', key: 'admin.webhooks' },
  { id: 'audit', key: 'admin.audit' },
];

export function Admin(props: { tab?: string }) {
  const tab = props.tab ?? 'departments';
  const current = TABS.find((x) => x.id === tab) ?? TABS[0];
  return (
    <section>
      <h1>{t('admin.title')}</h1>
      <nav class="tabs" aria-label={t('admin.title')}>
        {TABS.map((x) => (
          <a key={x.id} class="button" href={`#/admin/${x.id}`} aria-current={x.id === current?.id ? 'page' : undefined}>
            {t(x.key)}
          </a>
        ))}
      </nav>
      {current?.id === 'departments' && <Departments />}
      {current?.id === 'accounts' && <Accounts />}
      {current?.id === 'clients' && <Clients />}
      {current?.id === 'webhooks' && <Webhooks />}
      {current?.id === 'audit' && <Audit />}
    </section>
  );
}

type Kind = Schemas['DepartmentKind'];

function Departments() {
  const { lang } = useApp();
  const [list, setList] = useState<Department[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [editing, setEditing] = useState<Department | 'new' | null>(null);
  const [code, setCode] = useState('');
  const [kk, setKk] = useState('');
  const [ru, setRu] = useState('');
  const [en, setEn] = useState('');
  const [kind, setKind] = useState<Kind>('unit');
  const [parent, setParent] = useState('');
  const [active, setActive] = useState(true);
  const r = useResult('dept.error');
  const reload = () =>
    void loadDepartments(true).then((l) => {
      setList(l);
      setLoaded(true);
    });
  useEffect(reload, []);
  const nodes = treeOrder(list, lang);
  const byId = new Map(nodes.map((n) => [n.department.id, n]));

  const open = (d: Department | 'new', under?: Department) => {
    setEditing(d);
    r.setMsg(null);
    setCode(d === 'new' ? '' : d.code);
    setKk(d === 'new' ? '' : d.name_kk);
    setRu(d === 'new' ? '' : d.name_ru);
    setEn(d === 'new' ? '' : d.name_en ?? '');
    setKind(d === 'new' ? 'unit' : d.kind);
    setParent(d === 'new' ? under?.id ?? '' : d.parent_id ?? '');
    setActive(d === 'new' ? true : d.active);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    const names = { name_kk: kk.trim(), name_ru: ru.trim(), name_en: en.trim() || null, kind, parent_id: parent || null };
    const o =
      editing === 'new'
        ? await write('POST', '/api/v1/departments', {}, { code: code.trim(), ...names }, { label: label(code) })
        : editing
          ? await write('PATCH', '/api/v1/departments/{id}', { id: editing.id }, { ...names, active }, {
              ifMatch: `"${editing.version}"`,
              label: label(editing.code),
            })
          : null;
    if (o && r.show(o)) {
      setEditing(null);
      reload();
    }
  };
  // A department cannot go under itself or anything below it: those are greyed out as its parent.
  const below = editing && editing !== 'new' ? subtreeIds(list, editing.id) : undefined;

  /** The tree as nested lists: a screen reader says each list's level, and it fits a phone. */
  const branch = (ids: string[]) => (
    <ul class="dept-tree">
      {ids.map((id) => {
        const n = byId.get(id);
        if (!n) return null;
        const d = n.department;
        return (
          <li key={id} data-department={d.code}>
            <div class={`dept-node${d.active ? '' : ' inactive'}`}>
              <span class="dept-name">{departmentName(d, lang)}</span>
              <span class="mono">{d.code}</span>
              <span class={`badge kind ${d.kind}`}>{enumLabel('department_kind', d.kind)}</span>
              {!d.active && <span class="badge">{t('dept.inactive')}</span>}
              <button type="button" class="link" onClick={() => open(d)} aria-label={t('dept.edit', { name: departmentName(d, lang) })}>
                {t('common.edit')}
              </button>
            </div>
            {n.children.length > 0 && branch(n.children)}
          </li>
        );
      })}
    </ul>
  );

  return (
    <div>
      <h2>{t('admin.departments')}</h2>
      <section aria-labelledby="dept-tree-h">
        <h3 id="dept-tree-h">{t('dept.tree')}</h3>
        {loaded && list.length === 0 ? <p>{t('dept.empty')}</p> : branch(nodes.filter((n) => n.depth === 0).map((n) => n.department.id))}
      </section>
      {editing === null ? (
        <div class="actions">
          <button type="button" class="primary" onClick={() => open('new')}>
            {t('dept.new')}
          </button>
        </div>
      ) : (
        <form noValidate onSubmit={(e) => void save(e)} aria-labelledby="dept-form-h">
          <h3 id="dept-form-h">{editing === 'new' ? t('dept.new') : t('dept.edit', { name: departmentName(editing, lang) })}</h3>
          {editing === 'new' && (
            <Field label={t('dept.code')} errors={r.errors.code}>
              {(a) => <input {...a} value={code} onInput={value(setCode)} autocomplete="off" />}
            </Field>
          )}
          <Field label={t('dept.name_kk')} errors={r.errors.name_kk}>
            {(a) => <input {...a} value={kk} onInput={value(setKk)} />}
          </Field>
          <Field label={t('dept.name_ru')} errors={r.errors.name_ru}>
            {(a) => <input {...a} value={ru} onInput={value(setRu)} />}
          </Field>
          <Field label={t('dept.name_en')} errors={r.errors.name_en} hint={t('dept.name_en_hint')}>
            {(a) => <input {...a} lang="en" value={en} onInput={value(setEn)} />}
          </Field>
          <Field label={t('dept.kind')} errors={r.errors.kind}>
            {(a) => (
              <select {...a} value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as Kind)}>
                {DEPARTMENT_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {enumLabel('department_kind', k)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <DepartmentSelect
            label={t('dept.parent')}
            value={parent}
            onChange={setParent}
            departments={list}
            lang={lang}
            empty={t('dept.no_parent')}
            disabled={below}
            errors={r.errors.parent_id}
            hint={t('dept.parent_hint')}
          />
          {editing !== 'new' && (
            <label class="check">
              <input type="checkbox" checked={active} onChange={(e) => setActive((e.currentTarget as HTMLInputElement).checked)} />
              {t('dept.active')}
            </label>
          )}
          {r.msg && <Notice kind={r.msg.kind}>{r.msg.text}</Notice>}
          <SaveCancel onCancel={() => setEditing(null)} />
        </form>
      )}
      {editing === null && r.msg && <Notice kind={r.msg.kind}>{r.msg.text}</Notice>}
    </div>
  );
}

type Account = Schemas['AccountResponse'];

function Accounts() {
  const { lang } = useApp();
  const [list, setList] = useState<Account[]>([]);
  const [departments, setDepartments] = useState<Department[]>([]);
  const [form, setForm] = useState({ username: '', display_name: '', department_id: '', role: 'organiser' as Schemas['Role'], password: '' });
  const [resetFor, setResetFor] = useState<Account | null>(null);
  const [newPassword, setNewPassword] = useState('');
  const [toggle, setToggle] = useState<Account | null>(null);
  const r = useResult();
  const reset = useResult();
  const reload = () => void api.GET('/api/v1/accounts', { params: { query: { limit: 200 } } }).then((x) => setList(x.data?.items ?? []));
  useEffect(() => {
    reload();
    void loadDepartments().then(setDepartments);
  }, []);
  const byId = new Map(departments.map((d) => [d.id, d]));
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  const create = async (e: Event) => {
    e.preventDefault();
    if (r.show(await write('POST', '/api/v1/accounts', {}, { ...form, username: form.username.trim(), display_name: form.display_name.trim() }, { label: label(form.username) }))) {
      setForm({ ...form, username: '', display_name: '', password: '' });
      reload();
    }
  };
  const savePassword = async (e: Event) => {
    e.preventDefault();
    if (!resetFor) return;
    const o = await write('PATCH', '/api/v1/accounts/{id}', { id: resetFor.id }, { password: newPassword }, { ifMatch: `"${resetFor.version}"`, label: label(resetFor.username) });
    if (reset.show(o)) {
      setNewPassword('');
      setResetFor(null);
      reload();
    }
  };
  const flip = async (yes: boolean) => {
    const a = toggle;
    setToggle(null);
    if (!yes || !a) return;
    if (r.show(await write('PATCH', '/api/v1/accounts/{id}', { id: a.id }, { active: !a.active }, { ifMatch: `"${a.version}"`, label: label(a.username) }))) reload();
  };

  return (
    <div>
      <h2>{t('admin.accounts')}</h2>
      {r.msg && <Notice kind={r.msg.kind}>{r.msg.text}</Notice>}
      <DataTable label={t('admin.accounts')} headers={['account.username', 'account.display_name', 'account.department', 'account.role', 'account.active', 'common.actions']}>
        {list.map((a) => (
          <tr key={a.id}>
            <td class="mono">{a.username}</td>
            <td>{a.display_name}</td>
            <td>{departmentName(byId.get(a.department_id), lang)}</td>
            <td>{enumLabel('role', a.role)}</td>
            <td>{a.active ? t('common.yes') : t('common.no')}</td>
            <td class="row">
              <button type="button" onClick={() => { setResetFor(a); reset.setMsg(null); }}>
                {t('account.reset')}
              </button>
              <button type="button" onClick={() => setToggle(a)}>
                {a.active ? t('account.deactivate') : t('account.activate')}
              </button>
            </td>
          </tr>
        ))}
      </DataTable>
      {resetFor && (
        <form noValidate onSubmit={(e) => void savePassword(e)}>
          <h3>{t('account.reset_for', { name: resetFor.username })}</h3>
          <Field label={t('account.password')} errors={reset.errors.password}>
            {(a) => <input {...a} type="password" autocomplete="new-password" value={newPassword} onInput={value(setNewPassword)} />}
          </Field>
          {reset.msg && <Notice kind={reset.msg.kind}>{reset.msg.text}</Notice>}
          <SaveCancel onCancel={() => setResetFor(null)} />
        </form>
      )}
      <form noValidate onSubmit={(e) => void create(e)}>
        <h3>{t('account.new')}</h3>
        <div class="grid">
          <Field label={t('account.username')} errors={r.errors.username}>
            {(a) => <input {...a} autocomplete="off" value={form.username} onInput={set('username')} />}
          </Field>
          <Field label={t('account.display_name')} errors={r.errors.display_name}>
            {(a) => <input {...a} value={form.display_name} onInput={set('display_name')} />}
          </Field>
          <DepartmentSelect label={t('account.department')} value={form.department_id} onChange={(v) => setForm({ ...form, department_id: v })} departments={departments} lang={lang} empty="—" errors={r.errors.department_id} />
          <Field label={t('account.role')} errors={r.errors.role}>
            {(a) => (
              <select {...a} value={form.role} onChange={set('role')}>
                {ROLES.map((x) => (
                  <option key={x} value={x}>{enumLabel('role', x)}</option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('account.password')} errors={r.errors.password}>
            {(a) => <input {...a} type="password" autocomplete="new-password" value={form.password} onInput={set('password')} />}
          </Field>
        </div>
        <button type="submit" class="primary">{t('common.save')}</button>
      </form>
      <Confirm
        open={toggle !== null}
        title={toggle?.active ? t('account.deactivate') : t('account.activate')}
        message={toggle?.active ? t('account.deactivate_confirm', { name: toggle.username }) : t('account.activate')}
        confirmLabel={toggle?.active ? t('account.deactivate') : t('account.activate')}
        danger={!!toggle?.active}
        onAnswer={(yes) => void flip(yes)}
      />
    </div>
  );
}

type Client = Schemas['ClientResponse'];

function Clients() {
  const { lang } = useApp();
  const [list, setList] = useState<Client[]>([]);
  const [departments, setDepartments] = useState<Department[]>([]);
  const [name, setName] = useState('');
  const [dept, setDept] = useState('');
  const [scopes, setScopes] = useState<string[]>(['events:read']);
  const [secret, setSecret] = useState<{ clientId: string; secret: string } | null>(null);
  const [rotate, setRotate] = useState<Client | null>(null);
  const r = useResult();
  const reload = () => void api.GET('/api/v1/clients', { params: { query: { limit: 200 } } }).then((x) => setList(x.data?.items ?? []));
  useEffect(() => {
    reload();
    void loadDepartments().then(setDepartments);
  }, []);
  const byId = new Map(departments.map((d) => [d.id, d]));

  const showSecret = (o: Outcome) => {
    if (o.kind === 'sent') {
      const body = o.body as Schemas['ClientWithSecret'];
      // A replayed answer carries no secret: then there is none to show.
      if ('client_secret' in body && body.client_secret) setSecret({ clientId: body.client_id, secret: body.client_secret });
    }
  };
  const create = async (e: Event) => {
    e.preventDefault();
    setSecret(null);
    const o = await write('POST', '/api/v1/clients', {}, { name: name.trim(), department_id: dept, scopes: scopes as Schemas['Scope'][] }, { label: label(name) });
    if (r.show(o)) {
      showSecret(o);
      setName('');
      reload();
    }
  };
  const answerRotate = async (yes: boolean) => {
    const c = rotate;
    setRotate(null);
    if (!yes || !c) return;
    setSecret(null);
    const o = await write('POST', '/api/v1/clients/{id}/secret', { id: c.id }, null, { label: label(c.client_id) });
    if (r.show(o)) showSecret(o);
  };

  return (
    <div>
      <h2>{t('admin.clients')}</h2>
      {secret && <Secret idLabel={t('client.client_id')} id={secret.clientId} secretLabel={t('client.secret')} secret={secret.secret} />}
      {r.msg && <Notice kind={r.msg.kind}>{r.msg.text}</Notice>}
      <DataTable label={t('admin.clients')} headers={['client.name', 'client.client_id', 'client.department', 'client.scopes', 'common.actions']}>
        {list.map((c) => (
          <tr key={c.id}>
            <td>{c.name}</td>
            <td class="mono">{c.client_id}</td>
            <td>{departmentName(byId.get(c.department_id), lang)}</td>
            <td>{c.scopes.map((s) => enumLabel('scope', s)).join(', ')}</td>
            <td>
              <button type="button" onClick={() => setRotate(c)}>{t('client.rotate')}</button>
            </td>
          </tr>
        ))}
      </DataTable>
      <form noValidate onSubmit={(e) => void create(e)}>
        <h3>{t('client.new')}</h3>
        <Field label={t('client.name')} errors={r.errors.name}>
          {(a) => <input {...a} value={name} onInput={value(setName)} />}
        </Field>
        <DepartmentSelect label={t('client.department')} value={dept} onChange={setDept} departments={departments} lang={lang} empty="—" errors={r.errors.department_id} />
        <CheckboxGroup legend={t('client.scopes')} options={SCOPES.map((s) => ({ value: s, label: enumLabel('scope', s) }))} selected={scopes} onChange={setScopes} errors={r.errors.scopes} />
        <button type="submit" class="primary">{t('common.save')}</button>
      </form>
      <Confirm
        open={rotate !== null}
        title={t('client.rotate')}
        message={t('client.rotate_confirm', { name: rotate?.name ?? '' })}
        confirmLabel={t('client.rotate')}
        danger
        onAnswer={(yes) => void answerRotate(yes)}
      />
    </div>
  );
}

type AuditEntry = Schemas['AuditEntry'];

function Audit() {
  const { tz, lang } = useApp();
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [verify, setVerify] = useState<Msg>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async (after: string | null) => {
    try {
      const x = await api.GET('/api/v1/audit', { params: { query: { limit: 50, cursor: after ?? undefined } } });
      if (!x.data) {
        setError(problemText(x.response.status, x.error));
        return;
      }
      setEntries((prev) => (after ? [...prev, ...(x.data?.items ?? [])] : x.data?.items ?? []));
      setCursor(x.data.next_cursor ?? null);
    } catch {
      setError(t('common.network_error'));
    }
  };
  useEffect(() => void load(null), []);
  const check = async () => {
    setVerify(null);
    try {
      const x = await api.GET('/api/v1/audit/verify');
      if (!x.data) setVerify({ kind: 'error', text: problemText(x.response.status, x.error) });
      else if (x.data.ok) setVerify({ kind: 'ok', text: t('audit.ok', { n: x.data.entries }) });
      else setVerify({ kind: 'error', text: t('audit.bad', { seq: String(x.data.first_bad_seq ?? '?') }) });
    } catch {
      setVerify({ kind: 'error', text: t('common.network_error') });
    }
  };
  return (
    <div>
      <h2>{t('admin.audit')}</h2>
      <button type="button" class="primary" onClick={() => void check()}>{t('audit.verify')}</button>
      {verify && <Notice kind={verify.kind}>{verify.text}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      {entries.length === 0 && !error && <p>{t('audit.empty')}</p>}
      <DataTable label={t('admin.audit')} headers={['audit.seq', 'audit.at', 'audit.action', 'audit.entity', 'audit.actor']}>
        {entries.map((e) => (
          <tr key={e.seq}>
            <td>{e.seq}</td>
            <td>{formatInstant(e.at, tz, lang)}</td>
            <td class="mono">{e.action}</td>
            <td class="mono">{e.entity}{e.entity_id ? ` ${e.entity_id.slice(0, 8)}…` : ''}</td>
            <td class="mono">{e.actor_kind}{e.actor_id ? ` ${e.actor_id.slice(0, 8)}…` : ''}</td>
          </tr>
        ))}
      </DataTable>
      {cursor && <button type="button" onClick={() => void load(cursor)}>{t('common.more')}</button>}
    </div>
  );
}
