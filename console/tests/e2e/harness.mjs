// The end-to-end harness: the real `adal` binary on a free port over a fresh store (a temporary
// SQLite file, or a PostgreSQL database created here and dropped afterwards), a few calls to its
// real API to set up accounts, and Debian's Chromium driven by playwright-core with axe-core.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');

/** The console's messages in `lang` (its own src/i18n files, so a changed label moves the tests). */
export function messages(lang) {
  const read = (path) => JSON.parse(readFileSync(resolve(here, `../../src/i18n/${path}`), 'utf8'));
  // With the messages the dashboard's and the evidence's chunks add.
  return { ...read(`${lang}.json`), ...read(`dashboard/${lang}.json`), ...read(`evidence/${lang}.json`) };
}

export const kk = messages('kk');

/** The message `key` of kk.json with `{name}` filled, as the console renders it. */
export function kkText(key, params = {}) {
  const text = kk[key];
  if (text === undefined) throw new Error(`kk.json has no key ${key}`);
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

function binary() {
  const given = process.env.ADAL_BIN;
  // Relative to where the command runs, or else to the repository (`ADAL_BIN=target/release/adal`
  // works from console/ too).
  if (given) return isAbsolute(given) || existsSync(resolve(given)) ? resolve(given) : resolve(repo, given);
  for (const profile of ['release', 'debug']) {
    const path = join(repo, 'target', profile, 'adal');
    if (existsSync(path)) return path;
  }
  throw new Error('no adal binary: build it (cargo build --release) or set ADAL_BIN');
}

/**
 * The stores to run on: SQLite always; PostgreSQL when ADAL_TEST_POSTGRES_URL is set. With
 * ADAL_TEST_REQUIRE_POSTGRES=1 a missing URL is an error, so CI cannot pass on half the flow.
 */
export function stores() {
  const url = process.env.ADAL_TEST_POSTGRES_URL;
  if (url) return ['sqlite', 'postgres'];
  if (process.env.ADAL_TEST_REQUIRE_POSTGRES === '1') {
    throw new Error('ADAL_TEST_REQUIRE_POSTGRES=1 but ADAL_TEST_POSTGRES_URL is unset');
  }
  console.log('SKIPPED: the PostgreSQL half of the end-to-end tests (set ADAL_TEST_POSTGRES_URL to run it)');
  return ['sqlite'];
}

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function psql(url, sql) {
  execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-q', '-d', url, '-c', sql], { stdio: ['ignore', 'ignore', 'pipe'] });
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/**
 * The real server over a fresh store; `stop()` ends it and removes the store. `setup({ env, bin,
 * dir })`, when given, runs before the server starts, with the server's environment (a benchmark
 * fills the store there: `adal seed-demo`, bench-fill).
 */
export async function startServer(store, { setup } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'adal-e2e-'));
  const adminPassword = `e2e-${randomBytes(12).toString('hex')}`;
  let database;
  let dropDatabase = () => {};
  if (store === 'postgres') {
    const server = process.env.ADAL_TEST_POSTGRES_URL;
    const name = `adal_e2e_${process.pid}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    psql(server, `CREATE DATABASE ${name}`);
    database = withDatabase(server, name);
    dropDatabase = () => psql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } else {
    database = `sqlite://${join(dir, 'adal.db')}`;
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Only what this test sets reaches the server: a DATABASE_URL or ADAL_* of the caller's shell
  // must not point it at another store.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ADAL_') && k !== 'DATABASE_URL'));
  Object.assign(env, {
    DATABASE_URL: database,
    ADAL_BIND: `127.0.0.1:${port}`,
    ADAL_KEY_FILE: join(dir, 'adal.keys'),
    ADAL_JWT_SECRET: randomBytes(32).toString('hex'),
    ADAL_IIN_KEY: randomBytes(32).toString('hex'),
    ADAL_ADMIN_PASSWORD: adminPassword,
    ADAL_LOG: 'warn',
  });
  if (setup) {
    try {
      await setup({ env, bin: binary(), dir });
    } catch (e) {
      dropDatabase();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }
  const log = [];
  const child = spawn(binary(), ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  const exited = new Promise((ok) => child.on('exit', (code, signal) => ok({ code, signal })));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const outcome = await Promise.race([exited, sleep(10000).then(() => null)]);
      if (!outcome) child.kill('SIGKILL');
      await exited;
    }
    try {
      dropDatabase();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  for (let i = 0; ; i++) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`adal exited at start:\n${log.join('')}`);
    }
    try {
      if ((await fetch(`${base}/health/ready`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (i > 120) {
      await stop();
      throw new Error(`adal did not become ready:\n${log.join('')}`);
    }
    await sleep(250);
  }
  const server = { store, base, adminPassword, log, stop };
  server.api = (method, path, options) => apiCall(base, method, path, options);
  return server;
}

/** One call to the real API; answers { status, headers, body } with the body parsed when JSON. */
async function apiCall(base, method, path, { token, json, form, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    h['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const response = await fetch(`${base}${path}`, { method, headers: h, body });
  const text = await response.text();
  let parsed = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed };
}

export async function expectStatus(reply, status, what) {
  if (reply.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
  return reply.body;
}

export async function login(server, username, password) {
  const reply = await server.api('POST', '/api/v1/auth/token', { form: { grant_type: 'password', username, password } });
  return expectStatus(reply, 200, `login ${username}`);
}

/**
 * A lead department, a partner, and an organiser account in the lead department, made through
 * the API as an admin would; `tag` keeps the codes of several runs on one store apart.
 */
export async function seedOrganiser(server, tag) {
  const admin = (await login(server, 'admin', server.adminPassword)).access_token;
  const department = async (code, kk, ru) =>
    expectStatus(
      await server.api('POST', '/api/v1/departments', { token: admin, json: { code, name_kk: kk, name_ru: ru } }),
      201,
      `department ${code}`,
    );
  const lead = await department(`youth-centre-${tag}`, 'Қалалық жастар ресурстық орталығы', 'Городской молодёжный ресурсный центр');
  const partner = await department(`internal-policy-${tag}`, 'Ішкі саясат бөлімі', 'Отдел внутренней политики');
  const username = `organiser-${tag}`;
  const password = `Ұйымдастырушы-${randomBytes(6).toString('hex')}`;
  await expectStatus(
    await server.api('POST', '/api/v1/accounts', {
      token: admin,
      json: { username, display_name: 'Айгүл Серікқызы', department_id: lead.id, role: 'organiser', password },
    }),
    201,
    'organiser account',
  );
  return { admin, lead, partner, username, password };
}

/** Events whose title is exactly `title`, as the admin sees them. */
export async function eventsTitled(server, admin, title) {
  const reply = await server.api('GET', `/api/v1/events?limit=200&q=${encodeURIComponent(title)}`, { token: admin });
  const body = await expectStatus(reply, 200, 'list events');
  return body.items.filter((e) => e.title === title);
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium with a fresh temporary profile (playwright-core downloads nothing). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

export const SIZES = [
  { name: 'desktop', viewport: { width: 1440, height: 900 }, isMobile: false },
  { name: 'phone', viewport: { width: 360, height: 640 }, isMobile: true },
];

/**
 * A browser context at `size` whose page records what must never happen: a request to another
 * origin, a script error, a CSP violation. `problems()` lists them.
 */
export async function openPage(browser, server, size) {
  const context = await browser.newContext({
    viewport: size.viewport,
    isMobile: size.isMobile,
    hasTouch: size.isMobile,
    locale: 'kk-KZ',
    timezoneId: 'Asia/Almaty',
    serviceWorkers: 'allow',
  });
  const page = await context.newPage();
  const origin = new URL(server.base).origin;
  const seen = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.protocol !== 'data:' && url.protocol !== 'blob:' && url.origin !== origin) seen.push(`request to another origin: ${r.url()}`);
    if (/[?&](access_token|refresh_token|token)=/.test(url.search)) seen.push(`a token in a URL: ${url.pathname}`);
  });
  page.on('pageerror', (e) => seen.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) seen.push(`CSP violation: ${m.text()}`);
  });
  return { context, page, problems: () => [...seen] };
}

/** Fails on any serious or critical axe-core violation of the page as it is now. */
export async function assertAccessible(page, what) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    const lines = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).join('\n    ')}`);
    throw new Error(`axe on ${what}:\n  ${lines.join('\n  ')}`);
  }
}

/** Where screenshots go: a temporary directory, never the repository. */
export const SHOTS = process.env.ADAL_E2E_SHOTS ?? join(tmpdir(), 'adal-e2e-shots');
mkdirSync(SHOTS, { recursive: true });

export async function screenshot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Kazakhstan's IIN control digit over the first 11 digits (two weighted passes mod 11). */
export function iinControl(first11) {
  const digits = [...first11].map(Number);
  const pass = (weights) => digits.reduce((sum, d, i) => sum + d * weights[i], 0) % 11;
  let c = pass([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  if (c === 10) c = pass([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]);
  return c === 10 ? null : c;
}

/** A valid IIN for a person born on YYMMDD (century digit 3 = 1900s, 5 = 2000s), serial `n`. */
export function validIin(yymmdd, centuryDigit, n) {
  for (let serial = n; ; serial++) {
    const first11 = `${yymmdd}${centuryDigit}${String(serial).padStart(4, '0')}`;
    const c = iinControl(first11);
    if (c !== null) return `${first11}${c}`;
  }
}

/** The same IIN with its control digit wrong. */
export function withWrongControl(iin) {
  return `${iin.slice(0, 11)}${(Number(iin[11]) + 1) % 10}`;
}

/** A date `days` from today in the registry's time zone, as YYYY-MM-DD. */
export function localDate(days, timeZone = 'Asia/Almaty') {
  const at = new Date(Date.now() + days * 86400000);
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}
