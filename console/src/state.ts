// State the signed-in pages share: who is signed in, the registry's time zone, the language,
// the connection, the route (hash based) and the outbox's entries.
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { api, outbox } from './api/client';
import type { Me, Schemas } from './api/client';
import type { OutboxEntry } from './api/outbox';
import type { Lang } from './i18n';
import { nameIn } from './tree';

export type Department = Schemas['DepartmentResponse'];

export interface AppState {
  me: Me;
  tz: string;
  lang: Lang;
  online: boolean;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const s = useContext(AppContext);
  if (!s) throw new Error('useApp outside the signed-in shell');
  return s;
}

/** The hash's path (`#/events/ID`) as segments; a query after `?` is not part of it. */
function parseHash(): string[] {
  const path = location.hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  return path.split('/').filter(Boolean).map(decodeURIComponent);
}

/** The hash's query (`#/events?kind=lecture&from=2024-03-01`), so a link reproduces a view. */
export function hashQuery(): URLSearchParams {
  const at = location.hash.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : location.hash.slice(at + 1));
}

/** What `read` makes of the hash, read again whenever the hash changes. */
function useFromHash<T>(read: () => T): T {
  const [value, setValue] = useState(read);
  useEffect(() => {
    const on = () => setValue(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return value;
}

/** The hash's query, updated when the hash changes. */
export function useHashQuery(): URLSearchParams {
  return useFromHash(hashQuery);
}

/** `path` with `params` as its hash query, empty values left out. */
export function hashLink(path: string, params: Record<string, string | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const text = q.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

export function useRoute(): string[] {
  return useFromHash(parseHash);
}

export function go(path: string): void {
  location.hash = path;
}

export function useOutboxEntries(): OutboxEntry[] {
  const [entries, setEntries] = useState<OutboxEntry[]>([]);
  useEffect(() => {
    const update = () => void outbox.list().then(setEntries);
    update();
    return outbox.subscribe(update);
  }, []);
  return entries;
}


const DEPARTMENTS_KEY = 'adal.departments';
let departmentsCache: Department[] | null = null;

function remembered<T>(key: string): T | null {
  try {
    const raw = sessionStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

function remember(key: string, value: unknown): void {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Only an offline convenience.
  }
}

/** Every department the caller can see, cursor by cursor; the last answer serves offline. */
export async function loadDepartments(force = false): Promise<Department[]> {
  if (departmentsCache && !force) return departmentsCache;
  const all: Department[] = [];
  let cursor: string | undefined;
  try {
    do {
      const r = await api.GET('/api/v1/departments', { params: { query: { limit: 200, cursor } } });
      if (!r.data) throw new Error('departments');
      all.push(...r.data.items);
      cursor = r.data.next_cursor ?? undefined;
    } while (cursor);
  } catch {
    return departmentsCache ?? remembered<Department[]>(DEPARTMENTS_KEY) ?? [];
  }
  departmentsCache = all;
  remember(DEPARTMENTS_KEY, all);
  return all;
}

export function useDepartments(): Department[] {
  const [list, setList] = useState<Department[]>(departmentsCache ?? []);
  useEffect(() => {
    void loadDepartments().then(setList);
  }, []);
  return list;
}

/** A department by its name in the chosen language (`name_en` in English, Russian when it has none). */
export function departmentName(d: Department | undefined, language: Lang): string {
  return nameIn(d, language);
}

export { remember, remembered };
