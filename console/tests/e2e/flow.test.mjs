// The staff flow, in Kazakh, at desktop and phone size, on SQLite and PostgreSQL: sign in, log a
// past event with its attendance, upload a sign-in sheet with one bad row and fix it, create an
// event while offline, reload from the service worker, come back online and find it created
// exactly once, sign out and find the refresh token revoked. axe-core checks every page seen.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SIZES,
  assertAccessible,
  eventsTitled,
  expectStatus,
  kk,
  kkText,
  launchBrowser,
  localDate,
  openPage,
  screenshot,
  seedOrganiser,
  startServer,
  stores,
  validIin,
  withWrongControl,
} from './harness.mjs';

const STEP = { timeout: 15000 };

for (const store of stores()) {
  describe(`the console on ${store}`, { concurrency: false }, () => {
    let server;
    let browser;
    before(async () => {
      server = await startServer(store);
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    for (const size of SIZES) {
      test(`an organiser's day at ${size.viewport.width}x${size.viewport.height}`, { timeout: 180000 }, async () => {
        const tag = `${size.name}-${Date.now().toString(36)}`;
        const seed = await seedOrganiser(server, tag);
        const { context, page, problems } = await openPage(browser, server, size);
        const shot = (name) => screenshot(page, `${store}-${size.name}-${name}`);
        try {
          await signIn(page, server, seed, shot);
          const past = await createPastEvent(page, server, seed, tag, shot);
          await uploadSheets(page, server, seed, past, shot);
          await offlineCreate(page, context, server, seed, tag, shot);
          await signOut(page, server, shot);
          assert.deepEqual(problems(), [], 'no request to another origin, no script error, no CSP violation');
        } finally {
          await context.close();
        }
      });
    }
  });
}

async function signIn(page, server, seed, shot) {
  await page.goto(`${server.base}/`);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'kk', 'Kazakh is the default language');
  await page.getByRole('heading', { name: kk['signin.title'] }).waitFor(STEP);
  await assertAccessible(page, 'the sign-in page');
  await shot('signin');
  await page.getByLabel(kk['signin.username']).fill(seed.username);
  await page.getByLabel(kk['signin.password']).fill(seed.password);
  await page.getByRole('button', { name: kk['signin.submit'] }).click();
  await page.getByRole('heading', { name: kk['events.title'], level: 1 }).waitFor(STEP);
}

/** Fills the event form's common fields; `date` is the registry's local date. */
async function fillEvent(page, { title, date }) {
  await page.getByLabel(kk['event.title'], { exact: true }).fill(title);
  await page.getByLabel(kk['event.date'], { exact: true }).fill(date);
  await page.getByLabel(kk['event.start_time']).fill('15:00');
  await page.getByLabel(kk['event.end_time']).fill('17:00');
  await page.getByLabel(kk['event.venue']).fill('Қалалық жастар ресурстық орталығы');
  await page.getByRole('checkbox', { name: kk['enum.audience.youth'], exact: true }).check();
}

async function openNewEventForm(page) {
  await page.getByRole('navigation').getByRole('link', { name: kk['nav.new_event'] }).click();
  await page.getByRole('heading', { name: kk['event.new_title'], level: 1 }).waitFor(STEP);
}

async function createPastEvent(page, server, seed, tag, shot) {
  await assertAccessible(page, 'the events list');
  await shot('events');
  await openNewEventForm(page);
  const title = `Сыбайлас жемқорлыққа қарсы семинар ${tag}`;
  await fillEvent(page, { title, date: localDate(-1) });
  // A past date brings the attendance fields into the same form.
  await page.getByRole('group', { name: kk['event.past_attendance'] }).waitFor(STEP);
  await page.getByLabel(kk['attendance.total']).fill('45');
  await page.getByLabel(kk['attendance.basis']).selectOption('headcount');
  await assertAccessible(page, 'the new event form');
  await shot('new-event');
  await page.getByRole('button', { name: kk['common.save'] }).click();
  await page.getByRole('heading', { name: title, level: 1 }).waitFor(STEP);
  await assertAccessible(page, 'the event page');
  await shot('event');

  const [event] = await eventsTitled(server, seed.admin, title);
  assert.ok(event, 'the event is in the registry');
  assert.equal(event.status, 'held');
  assert.equal(event.attendance.total, 45);
  assert.equal(event.lead_department_id, seed.lead.id);
  // 15:00 in Almaty (UTC+5) is 10:00 UTC.
  assert.equal(event.starts_at, `${localDate(-1)}T10:00:00Z`);
  return event;
}

async function uploadSheets(page, server, seed, event, shot) {
  const people = [
    ['Айгүл Нұрланқызы', validIin('950314', 4, 1001), 1995],
    ['Ерлан Бекұлы', validIin('010722', 5, 2002), 2001],
    ['Дина Сәкенқызы', validIin('030101', 6, 3003), 2003],
  ];
  const sheet = (rows) =>
    Buffer.from(['full_name,iin,birth_year', ...rows.map(([name, iin, year]) => `${name},${iin},${year}`)].join('\n') + '\n');
  const broken = people.map((p, i) => (i === 1 ? [p[0], withWrongControl(p[1]), p[2]] : p));

  const file = page.getByLabel(kk['sheet.file']);
  await file.setInputFiles({ name: 'тіркеу.csv', mimeType: 'text/csv', buffer: sheet(broken) });
  await page.getByRole('button', { name: kk['sheet.upload'] }).click();
  await page.getByText(kk['sheet.refused']).waitFor(STEP);
  // The second person is on the sheet's row 3 (the header is row 1).
  const refused = page.locator('ul.refused li');
  assert.equal(await refused.count(), 1, 'one row refused');
  const reason = await refused.first().innerText();
  assert.match(reason, new RegExp(`^${kkText('sheet.row', { row: 3 })}`));
  assert.ok(reason.includes(kkText('error.control_digit')), `the reason is in Kazakh, from its code: ${reason}`);
  await assertAccessible(page, 'the event page with a refused sheet');
  await shot('sheet-refused');
  const none = await expectStatus(
    await server.api('GET', `/api/v1/events/${event.id}/attendees`, { token: seed.admin }),
    200,
    'attendees',
  );
  assert.equal(none.items.length, 0, 'a refused sheet adds nobody');

  await file.setInputFiles({ name: 'тіркеу.csv', mimeType: 'text/csv', buffer: sheet(people) });
  await page.getByRole('button', { name: kk['sheet.upload'] }).click();
  await page.getByText(kkText('sheet.added', { n: 3 })).waitFor(STEP);
  const table = page.getByRole('table');
  await table.waitFor(STEP);
  for (const [name, iin] of people) {
    const row = table.getByRole('row').filter({ hasText: name });
    await row.waitFor(STEP);
    assert.match(await row.innerText(), new RegExp(`${iin.slice(-2)}`));
  }
  const content = await page.content();
  for (const [, iin] of people) assert.ok(!content.includes(iin), 'no whole IIN on the page');
  await assertAccessible(page, 'the event page with attendees');
  await shot('attendees');
  const added = await expectStatus(
    await server.api('GET', `/api/v1/events/${event.id}/attendees`, { token: seed.admin }),
    200,
    'attendees',
  );
  assert.equal(added.items.length, 3);
}

async function offlineCreate(page, context, server, seed, tag, shot) {
  const title = `Дөңгелек үстел, желісіз ${tag}`;
  await openNewEventForm(page);
  await context.setOffline(true);
  await fillEvent(page, { title, date: localDate(7) });
  await page.getByRole('button', { name: kk['common.save'] }).click();
  // Queued, the console shows the outbox with the write waiting.
  await page.getByRole('heading', { name: kk['outbox.title'], level: 1 }).waitFor(STEP);
  const entry = page.locator('li.outbox-entry').filter({ hasText: kkText('outbox.op.create_event', { title }) });
  await entry.waitFor(STEP);
  assert.match(await entry.innerText(), new RegExp(kk['outbox.state.pending']));
  assert.equal((await eventsTitled(server, seed.admin, title)).length, 0, 'nothing reached the server while offline');

  // The shell comes from the service worker; the outbox from IndexedDB.
  const reloaded = await page.reload();
  assert.ok(reloaded?.fromServiceWorker(), 'the page was served by the service worker');
  await page.getByRole('heading', { name: kk['outbox.title'], level: 1 }).waitFor(STEP);
  await entry.waitFor(STEP);
  await assertAccessible(page, 'the outbox while offline');
  await shot('outbox-offline');
  assert.equal((await eventsTitled(server, seed.admin, title)).length, 0, 'still nothing on the server');

  await context.setOffline(false);
  await page.getByText(kk['outbox.empty']).waitFor({ timeout: 30000 });
  const created = await eventsTitled(server, seed.admin, title);
  assert.equal(created.length, 1, 'the offline write landed exactly once');
  assert.equal(created[0].starts_at, `${localDate(7)}T10:00:00Z`);
  // A later flush (the console retries on a timer and on every reconnection) must not add it again.
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await page.waitForTimeout(1000);
  assert.equal((await eventsTitled(server, seed.admin, title)).length, 1, 'still exactly once');
  await shot('outbox-sent');
}

async function signOut(page, server, shot) {
  const session = await page.evaluate(() => sessionStorage.getItem('adal.session'));
  const refreshToken = JSON.parse(session ?? '{}').refreshToken;
  assert.ok(refreshToken, 'the session holds a refresh token');
  await page.getByRole('navigation').getByRole('button', { name: kk['nav.signout'] }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor(STEP);
  await assertAccessible(page, 'the sign-out confirmation');
  await shot('signout-confirm');
  await dialog.getByRole('button', { name: kk['nav.signout'] }).click();
  await page.getByRole('heading', { name: kk['signin.title'] }).waitFor(STEP);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('adal.session')), null, 'the session is gone from the device');
  const reply = await server.api('POST', '/api/v1/auth/token', { form: { grant_type: 'refresh_token', refresh_token: refreshToken } });
  assert.equal(reply.status, 400, `refreshing after sign-out fails: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body.error, 'invalid_grant');
}
