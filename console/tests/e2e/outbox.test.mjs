// The outbox belongs to one account: a write queued offline by one organiser whose session then
// ended (without signing out) is never sent by another person signing in on the same device, and
// is sent, once, when its owner signs in again. Client-side behaviour, so SQLite only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SIZES, eventsTitled, kk, kkText, launchBrowser, localDate, openPage, seedOrganiser, startServer } from './harness.mjs';

const STEP = { timeout: 15000 };

async function signIn(page, username, password) {
  await page.getByRole('heading', { name: kk['signin.title'] }).waitFor(STEP);
  await page.getByLabel(kk['signin.username']).fill(username);
  await page.getByLabel(kk['signin.password']).fill(password);
  await page.getByRole('button', { name: kk['signin.submit'] }).click();
  // Signed in, on whichever page the address names.
  await page.getByRole('navigation', { name: kk['nav.label'] }).waitFor(STEP);
}

describe('the outbox on a shared device', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer('sqlite');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("another account never sends the first one's queued write; its owner does, once", { timeout: 120000 }, async () => {
    const first = await seedOrganiser(server, 'first');
    const second = await seedOrganiser(server, 'second');
    const { context, page, problems } = await openPage(browser, server, SIZES[0]);
    try {
      await page.goto(`${server.base}/`);
      await signIn(page, first.username, first.password);
      await page.getByRole('navigation').getByRole('link', { name: kk['nav.new_event'] }).click();
      await page.getByRole('heading', { name: kk['event.new_title'], level: 1 }).waitFor(STEP);
      await context.setOffline(true);
      const title = `Кезекте тұрған іс-шара ${Date.now().toString(36)}`;
      await page.getByLabel(kk['event.title'], { exact: true }).fill(title);
      await page.getByLabel(kk['event.date'], { exact: true }).fill(localDate(5));
      await page.getByRole('checkbox', { name: kk['enum.audience.youth'], exact: true }).check();
      await page.getByRole('button', { name: kk['common.save'] }).click();
      await page.locator('li.outbox-entry').filter({ hasText: kkText('outbox.op.create_event', { title }) }).waitFor(STEP);

      // The session ends on its own (it expired, the tab was closed): no sign-out, so the outbox stays.
      // Still offline, so the page in memory (signed in as the first) has no chance to send it.
      await page.evaluate(() => sessionStorage.clear());
      await page.reload();
      await context.setOffline(false);
      await signIn(page, second.username, second.password);
      await page.evaluate(() => window.dispatchEvent(new Event('online')));
      await page.goto(`${server.base}/#/outbox`);
      await page.getByText(kk['outbox.empty']).waitFor(STEP);
      await page.waitForTimeout(2000);
      assert.equal((await eventsTitled(server, first.admin, title)).length, 0, 'the second account sent nothing of the first');

      await page.getByRole('navigation').getByRole('button', { name: kk['nav.signout'] }).click();
      await page.getByRole('dialog').getByRole('button', { name: kk['nav.signout'] }).click();
      await signIn(page, first.username, first.password);
      let created = [];
      for (let i = 0; i < 40 && created.length === 0; i++) {
        await page.waitForTimeout(250);
        created = await eventsTitled(server, first.admin, title);
      }
      assert.equal(created.length, 1, "the owner's write landed once");
      await page.waitForTimeout(1000);
      assert.equal((await eventsTitled(server, first.admin, title)).length, 1, 'and only once');
      assert.deepEqual(problems(), []);
    } finally {
      await context.close();
    }
  });
});
