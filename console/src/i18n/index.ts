// The one place that picks a message: the chosen language, its Intl locale, enum labels and
// translations of the API's error codes (the API's English message is only a fallback).
import kk from './kk.json';
import ru from './ru.json';
import en from './en.json';
import type dashboard from './dashboard/en.json';
import type evidence from './evidence/en.json';

export type Lang = 'kk' | 'ru' | 'en';
/** The shell's messages, and those a lazy page brings with it (added by addMessages). */
export type MessageKey = keyof typeof en | keyof typeof dashboard | keyof typeof evidence;
export const LANGS: readonly Lang[] = ['kk', 'ru', 'en'];
export const MESSAGES: Record<Lang, Record<string, string>> = { kk, ru, en };

const LOCALES: Record<Lang, string> = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' };
const STORAGE_KEY = 'adal.lang';

let current: Lang = 'kk';

export function isLang(value: unknown): value is Lang {
  return value === 'kk' || value === 'ru' || value === 'en';
}

/** The remembered language, Kazakh when none was chosen (or storage is unavailable). */
export function storedLang(): Lang {
  try {
    const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
    return isLang(saved) ? saved : 'kk';
  } catch {
    return 'kk';
  }
}

/** Adds a lazy page's messages (the dashboard's, the evidence's), so the first load does not carry them. */
export function addMessages(extra: Record<Lang, Record<string, string>>): void {
  for (const l of LANGS) Object.assign(MESSAGES[l], extra[l]);
}

export function setLang(lang: Lang): void {
  current = lang;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, lang);
  } catch {
    // Private mode may refuse storage; the choice then lasts for this page only.
  }
  if (typeof document !== 'undefined') {
    document.documentElement.lang = lang;
    document.title = MESSAGES[lang]['app.name'] ?? 'Adal';
  }
}

export function lang(): Lang {
  return current;
}

export function locale(l: Lang = current): string {
  return LOCALES[l];
}

function interpolate(text: string, params?: Record<string, string | number>): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? formatNumber(value) : value;
  });
}

/** The message `key` in the chosen language, with `{name}` placeholders filled. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  return interpolate(MESSAGES[current][key] ?? MESSAGES.en[key] ?? key, params);
}

export type EnumGroup =
  | 'kind'
  | 'format'
  | 'audience'
  | 'status'
  | 'basis'
  | 'organiser_role'
  | 'item_status'
  | 'role'
  | 'gender'
  | 'principal_kind'
  | 'report_format'
  | 'scope'
  | 'webhook_type'
  | 'flag'
  | 'verification'
  | 'decision'
  | 'evidence_kind'
  | 'department_kind';

/** The label of an enum value; the raw code when a newer server sends a value we do not know. */
export function enumLabel(group: EnumGroup, value: string): string {
  return MESSAGES[current][`enum.${group}.${value}`] ?? value;
}

/** A validation error in the person's language, from its `code`; the API's message otherwise. */
export function errorText(code: string, fallback: string): string {
  return MESSAGES[current][`error.${code}`] ?? fallback;
}

/** Kazakh groups digits with spaces and uses a decimal comma, as Russian does; where Intl has
 * no Kazakh data (Chromium's reduced ICU prints `1,800`) Russian rules stand in. */
function numberLocale(): string {
  if (current !== 'kk') return locale();
  return new Intl.NumberFormat('kk-KZ').format(1000.5) === '1,000.5' ? 'ru-RU' : 'kk-KZ';
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(numberLocale()).format(n);
}

/** The validation codes the API emits; each has a translation (the i18n test checks). */
export const ERROR_CODES = [
  'required', 'type', 'format', 'length', 'range', 'enum', 'exists', 'order', 'held', 'cancelled',
  'distinct', 'duration', 'iin', 'mismatch', 'self', 'cycle', 'unknown', 'unknown_field', 'sort',
  'lead', 'not_responsible', 'invalid_characters', 'sum', 'depth', 'query',
  // evidence and verification
  'not_held',
  // webhooks
  'address', 'limit', 'scope', 'disabled',
  // IINs and sign-in sheets
  'century', 'control_digit', 'digits', 'birth_date', 'duplicate', 'not_started', 'header', 'empty',
  'csv', 'xlsx', 'rows', 'encoding',
] as const;

/** Which enum of the OpenAPI document each label group translates. */
export const ENUM_GROUPS: Record<string, EnumGroup> = {
  AttendanceBasis: 'basis',
  Audience: 'audience',
  EventFormat: 'format',
  EventKind: 'kind',
  EventStatus: 'status',
  Gender: 'gender',
  ItemStatus: 'item_status',
  OrganiserRole: 'organiser_role',
  PrincipalKind: 'principal_kind',
  Role: 'role',
  Scope: 'scope',
  Format: 'report_format',
  EventType: 'webhook_type',
  Flag: 'flag',
  VerificationStatus: 'verification',
  Decision: 'decision',
  EvidenceKind: 'evidence_kind',
  DepartmentKind: 'department_kind',
};
