// How long the dashboard takes to show the 2024 story: from setting the hash to
// `#/dashboard?from=2024-01-01&to=2024-08-31&compare=previous_year` (the events list open, signed
// in) until the page sets `data-ready` — every request answered and all seven charts drawn —
// timed inside Chromium with performance.now(). The first visit fetches the dashboard's chunk;
// later ones have it cached, so the first is printed apart from the median of the rest.
// Two registries: the demonstration (`adal seed-demo`) and a 100,000-event one filled by
// bench-fill (as bench/run.sh does), both on a fresh SQLite file (BENCH_STORE=postgres for
// PostgreSQL on ADAL_TEST_POSTGRES_URL).
//
//   cargo build --release --bin adal --example bench-fill
//   cd console && npm ci && cd .. && node bench/dashboard.mjs
//
// BENCH_RUNS (default 15) visits per registry; BENCH_EVENTS (100000) the large registry's size.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kk, launchBrowser, login, openPage, startServer } from '../console/tests/e2e/harness.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100000);
const STORE = process.env.BENCH_STORE ?? 'sqlite';
const QUERY = 'from=2024-01-01&to=2024-08-31&compare=previous_year';
const VIEW = `#/dashboard?${QUERY}`;
const REQUESTS = [`/api/v1/reports/summary?${QUERY}`, `/api/v1/reports/departments?${QUERY}`];
const FILL = join(repo, 'target/release/examples/bench-fill');
const FILL_PASSWORD = 'bench-admin-password-2024';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const registries = [
  {
    name: 'demo (adal seed-demo)',
    setup: ({ env, bin }) => {
      const out = execFileSync(bin, ['seed-demo'], { env, encoding: 'utf8' });
      const admin = out.split('\n').map((l) => l.split('\t')).find((f) => f[1] === 'admin');
      if (!admin) throw new Error(`seed-demo printed no admin account:\n${out}`);
      return { username: admin[0], password: admin[2] };
    },
  },
  {
    name: `${EVENTS.toLocaleString('en')} events (bench-fill)`,
    setup: ({ env }) => {
      if (!existsSync(FILL)) throw new Error('build the filler first: cargo build --release --example bench-fill');
      execFileSync(FILL, [env.DATABASE_URL, String(EVENTS), String(Math.floor(EVENTS / 2)), FILL_PASSWORD], { env, stdio: 'inherit' });
      return { username: 'admin', password: FILL_PASSWORD };
    },
  },
];

const browser = await launchBrowser();
const results = [];
try {
  for (const registry of registries) {
    let account;
    const started = Date.now();
    const server = await startServer(STORE, { setup: async (ctx) => (account = await registry.setup(ctx)) });
    console.error(`${registry.name}: store ready in ${Math.round((Date.now() - started) / 1000)} s`);
    try {
      // The two reports the page asks for, timed alone from here (the server's share of the time).
      const token = (await login(server, account.username, account.password)).access_token;
      const api = {};
      for (const path of REQUESTS) {
        const ms = [];
        for (let i = 0; i < RUNS; i++) {
          const t0 = performance.now();
          const r = await server.api('GET', path, { token });
          if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
          ms.push(performance.now() - t0);
        }
        api[path.split('?')[0].split('/').pop()] = median(ms);
      }
      const { context, page, problems } = await openPage(browser, server, { viewport: { width: 1440, height: 900 }, isMobile: false });
      await page.goto(`${server.base}/`);
      await page.getByLabel(kk['signin.username']).fill(account.username);
      await page.getByLabel(kk['signin.password']).fill(account.password);
      await page.getByRole('button', { name: kk['signin.submit'] }).click();
      await page.getByRole('heading', { name: kk['events.title'], level: 1 }).waitFor({ timeout: 30000 });
      const times = [];
      for (let i = 0; i < RUNS; i++) {
        await page.evaluate(() => (location.hash = '#/events'));
        await page.getByRole('heading', { name: kk['events.title'], level: 1 }).waitFor({ timeout: 30000 });
        await page.waitForLoadState('networkidle');
        const ms = await page.evaluate(
          (view) =>
            new Promise((done) => {
              const t0 = performance.now();
              const check = () => {
                if (document.querySelector('[data-ready="true"]')) {
                  observer.disconnect();
                  done(performance.now() - t0);
                }
              };
              const observer = new MutationObserver(check);
              observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready'] });
              location.hash = view;
            }),
          VIEW,
        );
        times.push(ms);
      }
      const figures = await page.locator('tr[data-figure="events_held"] td.now').textContent();
      if (problems().length) throw new Error(problems().join('\n'));
      await context.close();
      results.push({ name: registry.name, api, first: times[0], median: median(times.slice(1)), min: Math.min(...times.slice(1)), max: Math.max(...times.slice(1)), held: figures });
    } finally {
      await server.stop();
    }
  }
} finally {
  await browser.close();
}

console.log(`dashboard, 2024-01-01..2024-08-31 compared with the year before, ${STORE}, ${RUNS} visits each (Chromium, 1440x900)`);
console.log('| registry | events held shown | first visit ms | median of the rest ms | min–max ms | summary alone ms | departments alone ms |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of results) {
  const cells = [r.first, r.median].map((v) => v.toFixed(0));
  console.log(`| ${r.name} | ${r.held} | ${cells.join(' | ')} | ${r.min.toFixed(0)}–${r.max.toFixed(0)} | ${r.api.summary.toFixed(0)} | ${r.api.departments.toFixed(0)} |`);
}
