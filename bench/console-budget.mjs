// The console's JavaScript budget: the first load of the sign-in page and then the events list,
// in Chromium against the real binary on a fresh SQLite store, summing every JavaScript response
// the page loads, gzipped here at level 9 (the server sends them uncompressed; a proxy in front
// would gzip them much the same). Fails above 100 KB (100,000 bytes). Also prints what the
// service worker fetches into its cache on that first visit, which is not on the page's path.
//
//   cd console && npm ci && cd .. && cargo build --release && node bench/console-budget.mjs
//
// ADAL_BIN picks the binary (default target/release/adal, else target/debug/adal).
import { gzipSync } from 'node:zlib';
import { kk, launchBrowser, openPage, seedOrganiser, startServer } from '../console/tests/e2e/harness.mjs';

const BUDGET = 100_000;

const isJs = (response) => /javascript/.test(response.headers()['content-type'] ?? '');
const gz = (buf) => gzipSync(buf, { level: 9 }).length;

const server = await startServer('sqlite');
const browser = await launchBrowser();
let status = 0;
try {
  const seed = await seedOrganiser(server, 'budget');
  const { context, page } = await openPage(browser, server, { viewport: { width: 360, height: 640 }, isMobile: true });
  const pageJs = new Map();
  const workerJs = new Map();
  const pending = [];
  context.on('response', (response) => {
    if (!isJs(response)) return;
    const fromWorker = response.request().serviceWorker() !== null || new URL(response.url()).pathname === '/sw.js';
    // The worker's own responses have no body through the page's protocol; fetch those again.
    const body = fromWorker ? fetch(response.url()).then(async (r) => Buffer.from(await r.arrayBuffer())) : response.body();
    pending.push(body.then((b) => (fromWorker ? workerJs : pageJs).set(new URL(response.url()).pathname, { raw: b.length, gzip: gz(b) })));
  });

  await page.goto(`${server.base}/`, { waitUntil: 'networkidle' });
  await page.getByRole('heading', { name: kk['signin.title'] }).waitFor();
  const signInFiles = new Set(pageJs.keys());
  await page.getByLabel(kk['signin.username']).fill(seed.username);
  await page.getByLabel(kk['signin.password']).fill(seed.password);
  await page.getByRole('button', { name: kk['signin.submit'] }).click();
  await page.getByRole('heading', { name: kk['events.title'], level: 1 }).waitFor();
  await page.waitForLoadState('networkidle');
  await Promise.all(pending);
  await context.close();

  const total = (map) => [...map.values()].reduce((s, f) => s + f.gzip, 0);
  const rows = (map) => [...map].sort().map(([path, f]) => `  ${path}  ${f.raw} B raw, ${f.gzip} B gzip`);
  const signInGzip = [...signInFiles].reduce((s, p) => s + (pageJs.get(p)?.gzip ?? 0), 0);
  const pageGzip = total(pageJs);
  console.log('JavaScript the page loads (sign-in page, then the events list):');
  console.log(rows(pageJs).join('\n'));
  console.log(`sign-in page: ${signInGzip} B gzip; with the events list: ${pageGzip} B gzip (budget ${BUDGET} B)`);
  console.log("the service worker's first-visit cache fill (off the page's path):");
  console.log(rows(workerJs).join('\n') || '  (none seen)');
  console.log(`  ${total(workerJs)} B gzip`);
  if (pageJs.size === 0) {
    console.error('no JavaScript response was seen; the measurement is broken');
    status = 1;
  } else if (pageGzip > BUDGET) {
    console.error(`over budget by ${pageGzip - BUDGET} B`);
    status = 1;
  }
} finally {
  await browser.close();
  await server.stop();
}
process.exit(status);
