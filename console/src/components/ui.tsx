// Form pieces every page uses: a labelled control with its error beside it, a confirmation
// dialog on the native <dialog> (which traps and returns focus), and the problem of a failed write.
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { MESSAGES, errorText, lang as currentLang, t, type Lang, type MessageKey } from '../i18n';
import { type Department } from '../state';
import { optionLabels, treeOrder } from '../tree';
import type { FieldError } from '../api/client';

/** Validation errors by the JSON path they name (`organisers[0].full_name`). */
export type FieldErrors = Record<string, string[]>;

/**
 * Validation errors by field, each in the person's language from its code; with `own`, a page's
 * own words for a field's code (`${own}.${field}.${code}`, as `dept.error.parent_id.cycle`) first.
 */
export function fieldErrors(errors: FieldError[] | null | undefined, own?: string): FieldErrors {
  const out: FieldErrors = {};
  for (const e of errors ?? []) {
    const key = `${own}.${e.field}.${e.code}`;
    const text = own && MESSAGES[currentLang()][key] ? t(key as MessageKey) : errorText(e.code, e.message);
    (out[e.field] ??= []).push(text);
  }
  return out;
}

let nextId = 0;
function useId(prefix: string): string {
  const ref = useRef<string | null>(null);
  if (!ref.current) ref.current = `${prefix}-${++nextId}`;
  return ref.current;
}

interface FieldProps {
  label: string;
  errors?: string[];
  hint?: string;
  children: (props: { id: string; 'aria-invalid'?: boolean; 'aria-describedby'?: string }) => JSX.Element;
}

/** A <label> and its control; the errors named for it are announced with it. */
export function Field({ label, errors, hint, children }: FieldProps) {
  const id = useId('f');
  const described = [hint ? `${id}-hint` : '', errors?.length ? `${id}-err` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field${errors?.length ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {children({ id, 'aria-invalid': errors?.length ? true : undefined, 'aria-describedby': described || undefined })}
      {errors?.length ? (
        <p class="error" id={`${id}-err`}>
          {errors.join(' ')}
        </p>
      ) : null}
    </div>
  );
}

/** A fieldset of checkboxes, one per option, with the errors named for the whole group. */
export function CheckboxGroup(props: {
  legend: string;
  options: { value: string; label: string }[];
  selected: string[];
  onChange: (selected: string[]) => void;
  errors?: string[];
}) {
  const id = useId('g');
  return (
    <fieldset class={`checks${props.errors?.length ? ' invalid' : ''}`} aria-describedby={props.errors?.length ? `${id}-err` : undefined}>
      <legend>{props.legend}</legend>
      {props.options.map((o) => (
        <label key={o.value} class="check">
          <input
            type="checkbox"
            checked={props.selected.includes(o.value)}
            onChange={(e) => {
              const on = (e.currentTarget as HTMLInputElement).checked;
              props.onChange(on ? [...props.selected, o.value] : props.selected.filter((v) => v !== o.value));
            }}
          />
          {o.label}
        </label>
      ))}
      {props.errors?.length ? (
        <p class="error" id={`${id}-err`}>
          {props.errors.join(' ')}
        </p>
      ) : null}
    </fieldset>
  );
}

/** A modal question on the native <dialog>; resolves through onAnswer. */
export function Confirm(props: {
  open: boolean;
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
  onAnswer: (yes: boolean) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  const id = useId('d');
  return (
    <dialog ref={ref} aria-labelledby={`${id}-t`} aria-describedby={`${id}-m`} onCancel={() => props.onAnswer(false)}>
      <h2 id={`${id}-t`}>{props.title}</h2>
      <p id={`${id}-m`}>{props.message}</p>
      <div class="actions">
        <button type="button" onClick={() => props.onAnswer(false)}>
          {t('common.cancel')}
        </button>
        <button type="button" class={props.danger ? 'danger' : 'primary'} onClick={() => props.onAnswer(true)}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** A status line that screen readers announce when it changes. */
export function Notice(props: { kind: 'ok' | 'error' | 'info'; children: ComponentChildren }) {
  return (
    <p class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </p>
  );
}

/** What went wrong with a request, for the person: by status, with the API's detail last. */
export function problemText(status: number, problem: unknown): string {
  const key: MessageKey =
    status === 0
      ? 'common.network_error'
      : status === 403
        ? 'common.forbidden'
        : status === 404
          ? 'common.not_found'
          : status === 412
            ? 'common.stale'
            : status === 422
              ? 'common.fix_errors'
              : 'common.server_error';
  const detail =
    typeof problem === 'object' && problem !== null && 'detail' in problem && status !== 422
      ? String((problem as { detail: unknown }).detail)
      : '';
  return status >= 500 || !detail || key !== 'common.server_error' ? t(key) : `${t(key)} ${detail}`;
}

interface DataTableProps {
  /** The accessible name of the scrollable region, usually the section's heading. */
  label: string;
  /** Column headings, as message keys. */
  headers: readonly MessageKey[];
  /** The rows (`<tr>` elements). */
  children: ComponentChildren;
}

/**
 * A table of records: scrollable on its own on a phone, and then a focusable, named region so a
 * keyboard can scroll it (axe's scrollable-region-focusable); headings are column headers.
 */
export function DataTable({ label, headers, children }: DataTableProps) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={label}>
      <table>
        <thead>
          <tr>
            {headers.map((key) => (
              <th scope="col" key={key}>
                {t(key)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A form's closing buttons: save (submits) and cancel. */
export function SaveCancel({ onCancel }: { onCancel: () => void }) {
  return (
    <div class="actions">
      <button type="submit" class="primary">
        {t('common.save')}
      </button>
      <button type="button" onClick={onCancel}>
        {t('common.cancel')}
      </button>
    </div>
  );
}

/** The administration mark of a department picker, in the chosen language. */
export const adminMark = () => t('dept.mark.administration');

/**
 * The departments as <option>s in tree order: each under its parent, indented by its level, an
 * administration (akimat) marked, a name that appears twice with its code; `disabled` greys out
 * those that cannot be chosen (a department's own subtree as its parent).
 */
export function DepartmentOptions({ departments, lang, disabled }: { departments: readonly Department[]; lang: Lang; disabled?: ReadonlySet<string> }) {
  const nodes = treeOrder(departments, lang);
  const labels = optionLabels(nodes, lang, adminMark());
  return (
    <>
      {nodes.map(({ department: d }) => (
        <option key={d.id} value={d.id} disabled={disabled?.has(d.id)}>
          {labels.get(d.id)}
        </option>
      ))}
    </>
  );
}

/** A labelled department picker: a native <select> of the tree (keyboard and phone friendly). */
export function DepartmentSelect(props: {
  label: string;
  value: string;
  onChange: (id: string) => void;
  departments: readonly Department[];
  lang: Lang;
  /** The first option's words (no department); none when one must be chosen from the start. */
  empty?: string;
  disabled?: ReadonlySet<string>;
  errors?: string[];
  hint?: string;
}) {
  return (
    <Field label={props.label} errors={props.errors} hint={props.hint}>
      {(a) => (
        <select {...a} value={props.value} onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}>
          {props.empty !== undefined && <option value="">{props.empty}</option>}
          <DepartmentOptions departments={props.departments} lang={props.lang} disabled={props.disabled} />
        </select>
      )}
    </Field>
  );
}
