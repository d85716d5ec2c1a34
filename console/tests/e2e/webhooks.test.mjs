// The webhooks tab, on both stores, at desktop and phone size: an admin subscribes a receiver on
// loopback, sees the secret once, sends a test, and the delivery log shows it delivered. The
// receiver's body carries a Standard Webhooks signature that verifies under the secret the page
// showed, checked here with node:crypto from the specification (id.timestamp.body, HMAC-SHA256
// under the base64 after whsec_). axe finds nothing serious; nothing loads from another origin.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { SIZES, assertAccessible, kk, launchBrowser, openPage, screenshot, startServer, stores } from './harness.mjs';

const STEP = { timeout: 15000 };

/** A receiver on loopback that answers 204 and keeps what it got. */
function receiver() {
  const got = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ path: req.url, headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ got, server, base: `http://127.0.0.1:${server.address().port}` })));
}

function verifies(secret, r) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signed = `${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`;
  const expected = createHmac('sha256', key).update(signed).digest('base64');
  return String(r.headers['webhook-signature']).split(' ').includes(`v1,${expected}`);
}

for (const store of stores()) {
  describe(`the webhooks tab on ${store}`, { concurrency: false }, () => {
    let server;
    let browser;
    let hooks;
    before(async () => {
      hooks = await receiver();
      server = await startServer(store, { setup: ({ env }) => (env.ADAL_WEBHOOK_ALLOWED_NETWORKS = '127.0.0.0/8') });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.stop();
      hooks?.server.close();
    });

    for (const size of SIZES) {
      test(`subscribe, test and read the log at ${size.name} size`, { timeout: 120000 }, async () => {
        const { context, page, problems } = await openPage(browser, server, size);
        try {
          await page.goto(`${server.base}/`);
          await page.getByLabel(kk['signin.username']).fill('admin');
          await page.getByLabel(kk['signin.password']).fill(server.adminPassword);
          await page.getByRole('button', { name: kk['signin.submit'] }).click();
          await page.getByRole('heading', { name: kk['events.title'], level: 1 }).waitFor(STEP);
          await page.goto(`${server.base}/#/admin/webhooks`);
          await page.getByRole('heading', { name: kk['admin.webhooks'], level: 2 }).waitFor(STEP);
          await assertAccessible(page, `the webhooks tab at ${size.name} size`);

          const url = `${hooks.base}/hook-${size.name}`;
          await page.getByLabel(kk['webhook.url']).fill(url);
          await page.getByRole('button', { name: kk['common.save'] }).click();
          const shown = page.getByRole('region', { name: kk['webhook.secret'] });
          await shown.waitFor(STEP);
          const secret = (await shown.locator('.mono').nth(1).textContent()).trim();
          assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);

          const row = page.getByRole('row').filter({ hasText: url });
          await row.getByRole('button', { name: kk['webhook.test'] }).click();
          await page.getByText(kk['webhook.test_sent']).waitFor(STEP);
          const started = Date.now();
          while (!hooks.got.some((r) => r.path === `/hook-${size.name}`)) {
            assert.ok(Date.now() - started < 15000, 'the test message arrived');
            await new Promise((ok) => setTimeout(ok, 50));
          }
          const arrived = hooks.got.find((r) => r.path === `/hook-${size.name}`);
          assert.equal(JSON.parse(arrived.body).type, 'webhook.test');
          assert.ok(verifies(secret, arrived), 'the signature verifies under the secret the page showed');

          await row.getByRole('button', { name: kk['webhook.log'] }).click();
          const log = page.getByRole('region', { name: kk['webhook.log'] });
          for (let i = 0; i < 20 && !(await log.getByRole('cell', { name: kk['delivery.delivered'] }).count()); i++) {
            await page.getByRole('button', { name: kk['webhook.refresh'] }).click();
            await page.waitForTimeout(200);
          }
          await log.getByRole('cell', { name: kk['delivery.delivered'] }).first().waitFor(STEP);
          await log.getByRole('cell', { name: kk['enum.webhook_type.webhook.test'] }).first().waitFor(STEP);
          await assertAccessible(page, `the delivery log at ${size.name} size`);
          await screenshot(page, `webhooks-${store}-${size.name}`);
          assert.deepEqual(problems(), []);
        } finally {
          await context.close();
        }
      });
    }
  });
}
