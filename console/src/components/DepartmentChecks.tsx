// The partner departments of an event as the tree to tick (the event form's only, so it lives in
// that page's chunk).
import type { JSX } from 'preact';
import { useRef } from 'preact/hooks';
import type { Lang } from '../i18n';
import type { Department } from '../state';
import { nameIn, treeOrder } from '../tree';
import { adminMark } from './ui';

let nextId = 0;

/**
 * Departments to tick, as the tree: nested lists (a screen reader says each list's level), an
 * administration marked. Only `choosable` ones have a checkbox; another that has choosable ones
 * below it shows as plain words, so the tree keeps its shape; the rest are left out.
 */
export function DepartmentChecks(props: {
  legend: string;
  departments: readonly Department[];
  lang: Lang;
  choosable: (d: Department) => boolean;
  selected: string[];
  onChange: (selected: string[]) => void;
  errors?: string[];
}) {
  const ref = useRef<string | null>(null);
  ref.current ??= `tree-${(nextId += 1)}`;
  const id = ref.current;
  const nodes = treeOrder(props.departments, props.lang);
  const byId = new Map(nodes.map((n) => [n.department.id, n]));
  // Which departments are shown: the choosable ones and those above them.
  const shown = new Set<string>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i] as (typeof nodes)[number];
    if (props.choosable(n.department) || n.children.some((c) => shown.has(c))) shown.add(n.department.id);
  }
  const count = new Map<string, number>();
  for (const n of nodes) count.set(nameIn(n.department, props.lang), (count.get(nameIn(n.department, props.lang)) ?? 0) + 1);
  const label = (d: Department) => {
    const name = nameIn(d, props.lang);
    return (count.get(name) ?? 0) > 1 ? `${name} (${d.code})` : name;
  };
  const branch = (ids: string[]): JSX.Element | null => {
    const visible = ids.filter((x) => shown.has(x));
    if (!visible.length) return null;
    return (
      <ul class="tree-checks">
        {visible.map((x) => {
          const n = byId.get(x);
          if (!n) return null;
          const d = n.department;
          const mark = d.kind === 'administration' ? <> <span class="kind-mark">{adminMark()}</span></> : null;
          return (
            <li key={x}>
              {props.choosable(d) ? (
                <label class="check">
                  <input
                    type="checkbox"
                    checked={props.selected.includes(x)}
                    onChange={(e) => {
                      const on = (e.currentTarget as HTMLInputElement).checked;
                      props.onChange(on ? [...props.selected, x] : props.selected.filter((v) => v !== x));
                    }}
                  />
                  {label(d)}
                  {mark}
                </label>
              ) : (
                <span class="tree-label">
                  {label(d)}
                  {mark}
                </span>
              )}
              {branch(n.children)}
            </li>
          );
        })}
      </ul>
    );
  };
  return (
    <fieldset class={`tree-fieldset${props.errors?.length ? ' invalid' : ''}`} aria-describedby={props.errors?.length ? `${id}-err` : undefined}>
      <legend>{props.legend}</legend>
      {branch(nodes.filter((n) => n.depth === 0).map((n) => n.department.id))}
      {props.errors?.length ? (
        <p class="error" id={`${id}-err`}>
          {props.errors.join(' ')}
        </p>
      ) : null}
    </fieldset>
  );
}
