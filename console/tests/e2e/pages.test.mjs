// Every page of the console, at desktop and phone size, in Kazakh: axe-core finds no serious or
// critical violation, nothing loads from another origin, and each page is screenshotted. Then the
// language: chosen once, set on the document, remembered across a reload. Pages do not depend on
// the store, so this runs on SQLite; the flow (flow.test.mjs) covers both stores.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SIZES,
  assertAccessible,
  expectStatus,
  kk,
  launchBrowser,
  localDate,
  login,
  messages,
  openPage,
  screenshot,
  seedOrganiser,
  startServer,
} from './harness.mjs';

const STEP = { timeout: 15000 };

describe('every page of the console', { concurrency: false }, () => {
  let server;
  let browser;
  let seed;
  let plan;
  let event;
  before(async () => {
    server = await startServer('sqlite');
    browser = await launchBrowser();
    seed = await seedOrganiser(server, 'pages');
    const year = Number(localDate(0).slice(0, 4));
    plan = await expectStatus(
      await server.api('POST', '/api/v1/plans', {
        token: seed.admin,
        json: { year, title: `${year} жылғы сыбайлас жемқорлыққа қарсы іс-шаралар жоспары`, department_id: seed.partner.id },
      }),
      201,
      'plan',
    );
    await expectStatus(
      await server.api('POST', `/api/v1/plans/${plan.id}/items`, {
        token: seed.admin,
        json: {
          number: '1.1',
          title: 'Жастар арасында дөңгелек үстелдер өткізу',
          responsible_department_id: seed.lead.id,
          due_date: `${year}-12-31`,
          target_events: 4,
          target_participants: 200,
        },
      }),
      201,
      'plan item',
    );
    const organiser = (await login(server, seed.username, seed.password)).access_token;
    event = await expectStatus(
      await server.api('POST', '/api/v1/events', {
        token: organiser,
        json: {
          title: 'Жемқорлыққа қарсы мәдениет: дөңгелек үстел',
          kind: 'round_table',
          format: 'in_person',
          starts_at: `${localDate(-3)}T10:00:00+05:00`,
          ends_at: `${localDate(-3)}T12:00:00+05:00`,
          venue: 'Қалалық жастар ресурстық орталығы',
          audiences: ['youth', 'students'],
          partner_department_ids: [seed.partner.id],
          attendance: { total: 64, basis: 'sign_in_sheet', breakdown: [{ audience: 'youth', count: 40 }] },
        },
      }),
      201,
      'event',
    );
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const pages = () => [
    ['events', '#/events', kk['events.title']],
    ['event', `#/events/${event.id}`, event.title],
    ['event-edit', `#/events/${event.id}/edit`, kk['event.edit_title']],
    ['new-event', '#/events/new', kk['event.new_title']],
    ['plans', '#/plans', kk['plans.title']],
    ['plan', `#/plans/${plan.id}`, plan.title],
    ['admin-departments', '#/admin/departments', kk['admin.title']],
    ['admin-accounts', '#/admin/accounts', kk['admin.title']],
    ['admin-clients', '#/admin/clients', kk['admin.title']],
    ['admin-webhooks', '#/admin/webhooks', kk['admin.title']],
    ['admin-audit', '#/admin/audit', kk['admin.title']],
    ['outbox', '#/outbox', kk['outbox.title']],
    ['verify', '#/verify', kk['queue.title']],
    ['dashboard', '#/dashboard', kk['dashboard.title']],
    ['dashboard-tree', '#/dashboard/tree', kk['dashboard.title']],
    ['brief', '#/dashboard/print', kk['brief.title']],
  ];

  for (const size of SIZES) {
    test(`every page at ${size.viewport.width}x${size.viewport.height} as an admin`, { timeout: 180000 }, async () => {
      const { context, page, problems } = await openPage(browser, server, size);
      try {
        await page.goto(`${server.base}/`);
        await page.getByLabel(kk['signin.username']).fill('admin');
        await page.getByLabel(kk['signin.password']).fill(server.adminPassword);
        await page.getByRole('button', { name: kk['signin.submit'] }).click();
        await page.getByRole('heading', { name: kk['events.title'], level: 1 }).waitFor(STEP);
        for (const [name, hash, heading] of pages()) {
          await page.goto(`${server.base}/${hash}`);
          await page.getByRole('heading', { name: heading, level: 1 }).waitFor(STEP);
          await page.waitForLoadState('networkidle');
          await assertAccessible(page, `${name} at ${size.name} size`);
          await screenshot(page, `pages-${size.name}-${name}`);
        }
        assert.deepEqual(problems(), []);
      } finally {
        await context.close();
      }
    });
  }

  test('the language is chosen once, set on the document and remembered', { timeout: 60000 }, async () => {
    const ru = messages('ru');
    const { context, page } = await openPage(browser, server, SIZES[0]);
    try {
      await page.goto(`${server.base}/`);
      await page.getByRole('heading', { name: kk['signin.title'] }).waitFor(STEP);
      await page.getByLabel(kk['lang.label']).selectOption('ru');
      await page.getByRole('heading', { name: ru['signin.title'] }).waitFor(STEP);
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'ru');
      await page.reload();
      await page.getByRole('heading', { name: ru['signin.title'] }).waitFor(STEP);
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'ru', 'remembered after a reload');
      await assertAccessible(page, 'the sign-in page in Russian');
    } finally {
      await context.close();
    }
  });
});
