// The department tree as the console shows it: built from the flat list GET /departments answers
// (which is already the caller's reach), each department under its `parent_id`. A department
// whose parent is not in the list (the top of a city principal's reach, whose region it cannot
// see) is a root. Kept apart from the pages so it is tested on its own.
import type { Schemas } from './api/client';
import type { Lang } from './i18n';

type Department = Schemas['DepartmentResponse'];
type Named = Pick<Department, 'id' | 'code' | 'name_kk' | 'name_ru' | 'name_en' | 'parent_id' | 'kind'>;

/** A department by its name in `lang`: Kazakh, Russian, or English (`name_en`, else Russian). */
export function nameIn<T extends Pick<Named, 'name_kk' | 'name_ru' | 'name_en'>>(d: T | undefined, lang: Lang): string {
  if (!d) return '';
  if (lang === 'kk') return d.name_kk;
  if (lang === 'en') return d.name_en?.trim() || d.name_ru;
  return d.name_ru;
}

export interface TreeNode<T extends Named = Named> {
  department: T;
  /** 0 for a root of what the caller sees, 1 for its children, … */
  depth: number;
  /** Ids of its children in the list, in order. */
  children: string[];
}

/**
 * The departments in tree order (each after its parent, siblings by name in `lang`), each with
 * its depth. A parent outside the list makes a root; a cycle in the data (which the API refuses,
 * but a stale cached list could hold) cannot loop: each department is placed once.
 */
export function treeOrder<T extends Named>(list: readonly T[], lang: Lang): TreeNode<T>[] {
  const byId = new Map(list.map((d) => [d.id, d]));
  const kids = new Map<string, T[]>();
  const roots: T[] = [];
  for (const d of list) {
    if (d.parent_id && byId.has(d.parent_id) && d.parent_id !== d.id) {
      const siblings = kids.get(d.parent_id) ?? [];
      siblings.push(d);
      kids.set(d.parent_id, siblings);
    } else roots.push(d);
  }
  const collator = new Intl.Collator(lang === 'kk' ? 'kk' : lang, { sensitivity: 'base', numeric: true });
  const byName = (a: T, b: T) => collator.compare(nameIn(a, lang), nameIn(b, lang)) || a.code.localeCompare(b.code);
  const out: TreeNode<T>[] = [];
  const placed = new Set<string>();
  const visit = (d: T, depth: number) => {
    if (placed.has(d.id)) return;
    placed.add(d.id);
    const children = [...(kids.get(d.id) ?? [])].sort(byName);
    out.push({ department: d, depth, children: children.map((c) => c.id) });
    for (const c of children) visit(c, depth + 1);
  };
  for (const r of [...roots].sort(byName)) visit(r, 0);
  // Whatever a cycle left unplaced still shows, as a root.
  for (const d of list) visit(d, 0);
  return out;
}

/** The ids of `id` and every department below it in the list. */
export function subtreeIds(list: readonly Pick<Named, 'id' | 'parent_id'>[], id: string): Set<string> {
  const kids = new Map<string, string[]>();
  for (const d of list) if (d.parent_id) kids.set(d.parent_id, [...(kids.get(d.parent_id) ?? []), d.id]);
  const out = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const x = stack.pop() as string;
    if (out.has(x)) continue;
    out.add(x);
    stack.push(...(kids.get(x) ?? []));
  }
  return out;
}

/** The chain from the top of what the caller sees down to `id` (both included); [] for an unknown id. */
export function ancestry<T extends Pick<Named, 'id' | 'parent_id'>>(list: readonly T[], id: string): T[] {
  const byId = new Map(list.map((d) => [d.id, d]));
  const chain: T[] = [];
  const seen = new Set<string>();
  let at = byId.get(id);
  while (at && !seen.has(at.id)) {
    seen.add(at.id);
    chain.unshift(at);
    at = at.parent_id ? byId.get(at.parent_id) : undefined;
  }
  return chain;
}

/** The roots of what the caller sees: departments whose parent is not in the list. */
export function roots<T extends Pick<Named, 'id' | 'parent_id'>>(list: readonly T[]): T[] {
  const ids = new Set(list.map((d) => d.id));
  return list.filter((d) => !d.parent_id || !ids.has(d.parent_id) || d.parent_id === d.id);
}

/** Indentation for a native <option>, whose padding browsers ignore: three no-break spaces a level. */
export const INDENT = '\u00a0\u00a0\u00a0';

/**
 * What an <option> of the tree says: indented by depth, the name in `lang`, the code when another
 * department of the list has the same name, and the administration mark (`akimat`) after it.
 */
export function optionLabels<T extends Named>(nodes: readonly TreeNode<T>[], lang: Lang, adminMark: string): Map<string, string> {
  const count = new Map<string, number>();
  for (const n of nodes) count.set(nameIn(n.department, lang), (count.get(nameIn(n.department, lang)) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const n of nodes) {
    const d = n.department;
    const name = nameIn(d, lang);
    const coded = (count.get(name) ?? 0) > 1 ? `${name} (${d.code})` : name;
    const marked = d.kind === 'administration' ? `${coded} — ${adminMark}` : coded;
    out.set(d.id, `${INDENT.repeat(n.depth)}${marked}`);
  }
  return out;
}

/**
 * Where a drill-down stands: the department `wanted` names when the caller sees it; otherwise the
 * top of the caller's reach when that is one department, or null (several tops to choose from).
 * `rejected` says `wanted` was given but is not among what the caller sees.
 */
export function drillAt(list: readonly Pick<Named, 'id' | 'parent_id'>[], wanted: string | null): { at: string | null; rejected: boolean } {
  if (wanted && list.some((d) => d.id === wanted)) return { at: wanted, rejected: false };
  const top = roots(list);
  return { at: top.length === 1 ? (top[0]?.id ?? null) : null, rejected: !!wanted && list.length > 0 };
}
