// Form pieces every page uses: a labelled control with its error beside it, a confirmation
// dialog on the native <dialog> (which traps and returns focus), and the problem of a failed write.
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { errorText, t, type Lang, type MessageKey } from '../i18n';
import { departmentName, type Department } from '../state';
import type { FieldError } from '../api/client';

/** Validation errors by the JSON path they name (`organisers[0].full_name`). */
export type FieldErrors = Record<string, string[]>;

export function fieldErrors(errors: FieldError[] | null | undefined): FieldErrors {
  const out: FieldErrors = {};
  for (const e of errors ?? []) (out[e.field] ??= []).push(errorText(e.code, e.message));
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

/** One `<option>` a department, by its name in the chosen language, its id the value. */
export function DepartmentOptions({ departments, lang }: { departments: readonly Department[]; lang: Lang }) {
  return (
    <>
      {departments.map((d) => (
        <option key={d.id} value={d.id}>
          {departmentName(d, lang)}
        </option>
      ))}
    </>
  );
}
