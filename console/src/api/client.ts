// The API client typed from openapi/openapi.json, and the session behind it: the access token in
// memory only, the refresh token in sessionStorage (never in a URL), refreshed before it expires
// and once more on a 401. With outbox.ts, the only code that calls fetch.
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';
import { Outbox, type OutboxLabel, type OutboxRequest, type Outcome, type WriteMethod } from './outbox';

export type Schemas = components['schemas'];
export type { Outcome } from './outbox';
export type Me = Schemas['Me'];
export type Problem = Schemas['Problem'];
export type FieldError = Schemas['FieldError'];

const TOKEN_PATH = '/api/v1/auth/token';
const SESSION_KEY = 'adal.session';
const REGISTRY_KEY = 'adal.registry';

interface StoredSession {
  refreshToken: string;
  me: Me;
}

let accessToken: string | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | null = null;
let stored: StoredSession | null = readStored();
const expiredListeners = new Set<() => void>();

function readStored(): StoredSession | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as StoredSession) : null;
  } catch {
    return null;
  }
}

function writeStored(s: StoredSession | null): void {
  stored = s;
  try {
    if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch {
    // Without storage the session lasts while the page is open.
  }
}

/** The signed-in principal as last seen, also while offline after a reload. */
export function currentMe(): Me | null {
  return stored?.me ?? null;
}

/** Called when the session cannot be renewed: the person signs in again; the outbox is kept. */
export function onSessionExpired(listener: () => void): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

function sessionExpired(): void {
  accessToken = null;
  clearTimeout(refreshTimer);
  writeStored(null);
  for (const l of expiredListeners) l();
}

type TokenAnswer = Schemas['TokenResponse'];

function schedule(expiresIn: number): void {
  clearTimeout(refreshTimer);
  // A minute early (or at 80% of a short lifetime), so a request rarely meets an expired token.
  const lead = Math.min(60, expiresIn * 0.2);
  refreshTimer = setTimeout(() => void refresh(), Math.max(5, expiresIn - lead) * 1000);
}

async function tokenRequest(form: Record<string, string>): Promise<Response> {
  return fetch(TOKEN_PATH, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

export type SignInResult =
  | { ok: true; me: Me }
  | { ok: false; reason: 'invalid' | 'throttled' | 'network' | 'server'; retryAfter?: number };

export async function signIn(username: string, password: string): Promise<SignInResult> {
  let response: Response;
  try {
    response = await tokenRequest({ grant_type: 'password', username, password });
  } catch {
    return { ok: false, reason: 'network' };
  }
  if (response.status === 429) {
    return { ok: false, reason: 'throttled', retryAfter: Number(response.headers.get('Retry-After') ?? 60) };
  }
  if (response.status === 400 || response.status === 401) return { ok: false, reason: 'invalid' };
  if (!response.ok) return { ok: false, reason: 'server' };
  const token = (await response.json()) as TokenAnswer;
  accessToken = token.access_token;
  schedule(token.expires_in);
  const me = await api.GET('/api/v1/auth/me');
  if (!me.data) return { ok: false, reason: 'server' };
  writeStored({ refreshToken: token.refresh_token ?? '', me: me.data });
  return { ok: true, me: me.data };
}

/** Trades the refresh token for a new pair; one at a time, since each token works once. */
export function refresh(): Promise<boolean> {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    const s = stored;
    if (!s?.refreshToken) return false;
    let response: Response;
    try {
      response = await tokenRequest({ grant_type: 'refresh_token', refresh_token: s.refreshToken });
    } catch {
      // Offline: keep the session; the next request tries again.
      return false;
    }
    if (response.status === 400 || response.status === 401) {
      sessionExpired();
      return false;
    }
    if (!response.ok) return false;
    const token = (await response.json()) as TokenAnswer;
    accessToken = token.access_token;
    writeStored({ ...s, refreshToken: token.refresh_token ?? s.refreshToken });
    schedule(token.expires_in);
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** fetch with the bearer token; on a 401, one refresh and one retry. */
async function authedFetch(request: Request): Promise<Response> {
  if (!accessToken && stored) await refresh();
  const retry = request.clone();
  if (accessToken) request.headers.set('Authorization', `Bearer ${accessToken}`);
  const response = await fetch(request);
  if (response.status !== 401 || !stored) return response;
  if (!(await refresh())) return response;
  retry.headers.set('Authorization', `Bearer ${accessToken}`);
  const second = await fetch(retry);
  if (second.status === 401) sessionExpired();
  return second;
}

/**
 * One request with the session's bearer token, outside the outbox: for what needs the network
 * there and then (an evidence file's bytes, up to 10 MiB, are not kept on the device). Throws
 * when the network fails.
 */
export function send(path: string, init: RequestInit = {}): Promise<Response> {
  return authedFetch(new Request(new URL(path, globalThis.location?.origin), init));
}

export const api = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? '',
  fetch: authedFetch,
});

export const outbox = new Outbox({
  transport: (r) =>
    authedFetch(
      new Request(new URL(r.path, globalThis.location?.origin), {
        method: r.method,
        headers: r.headers,
        body: r.body,
      }),
    ),
});

/** Ends the session on the server and on this device, the outbox of this account included. */
export async function signOut(): Promise<void> {
  const s = stored;
  clearTimeout(refreshTimer);
  if (s?.refreshToken) {
    try {
      await fetch('/api/v1/auth/revoke', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: s.refreshToken }),
      });
    } catch {
      // Offline: the token expires on its own; it is forgotten here either way.
    }
  }
  await outbox.clearAccount();
  accessToken = null;
  writeStored(null);
  outbox.setAccount(null);
}

export type Registry = Schemas['RegistryInfo'];

/** The registry's name and time zone; the last answer is remembered for offline use. */
export async function loadRegistry(): Promise<Registry | null> {
  try {
    const r = await api.GET('/api/v1/registry');
    if (r.data) {
      localStorage.setItem(REGISTRY_KEY, JSON.stringify(r.data));
      return r.data;
    }
  } catch {
    // Fall through to the remembered answer.
  }
  try {
    const raw = localStorage.getItem(REGISTRY_KEY);
    return raw ? (JSON.parse(raw) as Registry) : null;
  } catch {
    return null;
  }
}

// A typed write through the outbox: the path and body are checked against the spec by tsc.
type Lower<M extends WriteMethod> = Lowercase<M>;
type Op<P extends keyof paths, M extends WriteMethod> = paths[P][Lower<M>];
type JsonBody<O> = O extends { requestBody?: { content: { 'application/json': infer B } } }
  ? B
  : O extends { requestBody?: { content: { 'application/merge-patch+json': infer B } } }
    ? B
    : never;

export interface WriteOptions {
  ifMatch?: string;
  label: OutboxLabel;
}

function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
}

async function submit(request: OutboxRequest, label: OutboxLabel): Promise<{ outcome: Outcome; seq: number }> {
  const entry = await outbox.enqueue(request, label);
  const outcome = outbox.waitFor(entry.seq);
  void outbox.flush();
  return { outcome: await outcome, seq: entry.seq };
}

/**
 * A refusal leaves the outbox only when the person is still on the page that made the write and
 * so sees it beside the fields; had they moved on, it stays in the outbox page for them.
 */
async function settleRefusal(outcome: Outcome, seq: number, from: string | undefined): Promise<void> {
  if (outcome.kind === 'failed' && globalThis.location?.hash === from) await outbox.drop(seq);
}

/**
 * Sends a JSON write through the outbox and waits for its first outcome.
 */
export async function write<P extends keyof paths, M extends WriteMethod>(
  method: M,
  path: P,
  params: Record<string, string>,
  body: JsonBody<Op<P, M>> | null,
  options: WriteOptions,
): Promise<Outcome> {
  const headers: Record<string, string> = {};
  if (body !== null) headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  if (options.ifMatch) headers['If-Match'] = options.ifMatch;
  const from = globalThis.location?.hash;
  const { outcome, seq } = await submit(
    { method, path: fillPath(path as string, params), headers, body: body === null ? null : JSON.stringify(body) },
    options.label,
  );
  await settleRefusal(outcome, seq, from);
  return outcome;
}

/** Sends a file (a sign-in sheet) through the outbox, its bytes kept until it is answered. */
export async function writeFile(
  path: string,
  contentType: string,
  bytes: ArrayBuffer,
  options: WriteOptions,
): Promise<Outcome> {
  const headers: Record<string, string> = { 'Content-Type': contentType };
  if (options.ifMatch) headers['If-Match'] = options.ifMatch;
  const from = globalThis.location?.hash;
  const { outcome, seq } = await submit({ method: 'POST', path, headers, body: bytes }, options.label);
  await settleRefusal(outcome, seq, from);
  return outcome;
}

export function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'status' in value && 'title' in value;
}
