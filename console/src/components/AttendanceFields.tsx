// Attendance as staff give it: a total, how it was obtained, and optionally how many of each
// audience; used by the event form (a past event) and the event page.
import { enumLabel, t } from '../i18n';
import type { Schemas } from '../api/client';
import { BASES } from '../enums';
import { Field, type FieldErrors } from './ui';

export interface AttendanceDraft {
  total: string;
  basis: Schemas['AttendanceBasis'];
  breakdown: Partial<Record<Schemas['Audience'], string>>;
}

export const emptyAttendance = (): AttendanceDraft => ({ total: '', basis: 'headcount', breakdown: {} });

export function attendanceDraft(a: Schemas['Attendance'] | null | undefined): AttendanceDraft {
  if (!a) return emptyAttendance();
  return {
    total: String(a.total),
    basis: a.basis ?? 'headcount',
    breakdown: Object.fromEntries((a.breakdown ?? []).map((b) => [b.audience, String(b.count)])),
  };
}

/** The attendance body, adding errors under `prefix` (`attendance.total`) for what is missing. */
export function attendanceBody(d: AttendanceDraft, errors: FieldErrors, prefix: string): Schemas['Attendance'] | null {
  const at = (f: string) => (prefix ? `${prefix}.${f}` : f);
  const total = Number(d.total);
  if (d.total.trim() === '' || !Number.isInteger(total) || total < 0) {
    errors[at('total')] = [t(d.total.trim() === '' ? 'error.required' : 'error.range')];
    return null;
  }
  const breakdown = Object.entries(d.breakdown)
    .filter(([, v]) => (v ?? '').trim() !== '')
    .map(([audience, v]) => ({ audience: audience as Schemas['Audience'], count: Number(v) }));
  return { total, basis: d.basis, breakdown };
}

export function AttendanceFields(props: {
  draft: AttendanceDraft;
  onChange: (d: AttendanceDraft) => void;
  errors: FieldErrors;
  prefix: string;
  audiences: Schemas['Audience'][];
}) {
  const { draft, onChange, errors } = props;
  const at = (f: string) => (props.prefix ? `${props.prefix}.${f}` : f);
  const breakdownErrors = Object.entries(errors)
    .filter(([f]) => f.startsWith(at('breakdown')))
    .flatMap(([, m]) => m);
  return (
    <div>
      <div class="grid">
        <Field label={t('attendance.total')} errors={errors[at('total')]}>
          {(a) => (
            <input
              {...a}
              type="number"
              inputMode="numeric"
              min={0}
              max={100000}
              value={draft.total}
              onInput={(e) => onChange({ ...draft, total: (e.currentTarget as HTMLInputElement).value })}
            />
          )}
        </Field>
        <Field label={t('attendance.basis')} errors={errors[at('basis')]}>
          {(a) => (
            <select {...a} value={draft.basis} onChange={(e) => onChange({ ...draft, basis: (e.currentTarget as HTMLSelectElement).value as AttendanceDraft['basis'] })}>
              {BASES.map((b) => (
                <option key={b} value={b}>
                  {enumLabel('basis', b)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {props.audiences.length > 0 && (
        <fieldset>
          <legend>{t('attendance.breakdown')}</legend>
          <div class="grid">
            {props.audiences.map((aud) => (
              <Field key={aud} label={t('attendance.count_for', { audience: enumLabel('audience', aud) })}>
                {(a) => (
                  <input
                    {...a}
                    type="number"
                    inputMode="numeric"
                    min={0}
                    value={draft.breakdown[aud] ?? ''}
                    onInput={(e) => onChange({ ...draft, breakdown: { ...draft.breakdown, [aud]: (e.currentTarget as HTMLInputElement).value } })}
                  />
                )}
              </Field>
            ))}
          </div>
          {breakdownErrors.length > 0 && <p class="error">{breakdownErrors.join(' ')}</p>}
        </fieldset>
      )}
    </div>
  );
}
