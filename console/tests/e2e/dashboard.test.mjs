// The dashboard and the commission's brief, in Kazakh, on SQLite and PostgreSQL, at desktop and
// phone size: events seeded through the real API over two years; the figures the page shows equal
// reports/summary's (and the compared period's); a bar clicked where Chart.js drew it, and a
// table's link, open the events list with exactly that bar's events; the print view printed to
// PDF by headless Chromium and read back with pdftotext carries the registry's name, the period,
// the compared period, the figures and the idle department's name. A chosen department's plan
// items and idle line are its own row's; a refused period is said beside its field; a malformed
// link falls back and says so; a longer compared period charts every month; a brief with nothing
// compared has no compared row. axe-core on both pages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SHOTS,
  SIZES,
  assertAccessible,
  expectStatus,
  kk,
  kkText,
  launchBrowser,
  login,
  openPage,
  screenshot,
  startServer,
  stores,
} from './harness.mjs';

const STEP = { timeout: 20000 };
const FROM = '2024-01-01';
const TO = '2024-06-30';
const VIEW = `from=${FROM}&to=${TO}&compare=previous_year`;
/** The period of VIEW as the console writes it in Kazakh (Chromium's ICU has no Kazakh months). */
const PERIOD_KK = '2024 ж. 1 қаңтар – 2024 ж. 30 маусым';
const FIGURES = ['events_held', 'participants_total', 'unique_people', 'events_planned', 'events_cancelled', 'events_verified', 'participants_verified', 'events_flagged'];

/** The digits of a number as the console formats it (`1 812`, `1,812`): its value. Text with no
 * digit at all (`—`, nothing) is no number: it throws rather than read as 0. */
const digits = (text) => {
  const s = String(text ?? '');
  if (!/\d/.test(s)) throw new Error(`no number in ${JSON.stringify(s)}`);
  return Number(s.replace(/\D/g, ''));
};

/** Departments, a plan and events in 2023 and 2024, as an admin would log them through the API. */
async function seed(server) {
  const admin = (await login(server, 'admin', server.adminPassword)).access_token;
  const department = async (code, name_kk, name_ru) =>
    expectStatus(await server.api('POST', '/api/v1/departments', { token: admin, json: { code, name_kk, name_ru } }), 201, code);
  const youth = await department('youth-centre', 'Қалалық жастар ресурстық орталығы', 'Городской молодёжный ресурсный центр');
  const policy = await department('internal-policy', 'Ішкі саясат бөлімі', 'Отдел внутренней политики');
  const idle = await department('housing', 'Тұрғын үй-коммуналдық шаруашылық бөлімі', 'Отдел жилищно-коммунального хозяйства');
  const plan = await expectStatus(
    await server.api('POST', '/api/v1/plans', { token: admin, json: { year: 2024, title: '2024 жылғы жоспар', department_id: policy.id } }),
    201,
    'plan',
  );
  const item = async (number, due_date, target_events) =>
    expectStatus(
      await server.api('POST', `/api/v1/plans/${plan.id}/items`, {
        token: admin,
        json: { number, title: `Тармақ ${number}`, responsible_department_id: youth.id, due_date, target_events, target_participants: 10 },
      }),
      201,
      `item ${number}`,
    );
  const done = await item('1.1', '2024-03-31', 1);
  await item('1.2', '2024-05-31', 5);
  const event = async (title, date, { lead, partners = [], kind = 'lecture', audiences = ['youth'], attendance, plan_item_id }) =>
    expectStatus(
      await server.api('POST', '/api/v1/events', {
        token: admin,
        json: {
          title,
          kind,
          format: 'in_person',
          starts_at: `${date}T10:00:00+05:00`,
          ends_at: `${date}T12:00:00+05:00`,
          venue: 'Қалалық жастар ресурстық орталығы',
          audiences,
          lead_department_id: lead.id,
          partner_department_ids: partners.map((p) => p.id),
          plan_item_id,
          attendance,
        },
      }),
      201,
      title,
    );
  const events = [
    await event('Жастарға дәріс: адалдық', '2024-01-15', {
      lead: youth,
      partners: [policy],
      attendance: { total: 40, basis: 'sign_in_sheet', breakdown: [{ audience: 'youth', count: 30 }] },
      plan_item_id: done.id,
    }),
    await event('Студенттермен дөңгелек үстел', '2024-02-10', {
      lead: youth,
      kind: 'round_table',
      audiences: ['students'],
      attendance: { total: 25, basis: 'headcount', breakdown: [] },
    }),
    await event('Мемлекеттік қызметшілерге семинар', '2024-03-05', {
      lead: policy,
      kind: 'seminar',
      audiences: ['civil_servants'],
      attendance: { total: 60, basis: 'estimate', breakdown: [] },
    }),
    await event('Наурыздағы дәріс', '2024-03-20', {
      lead: youth,
      audiences: ['youth', 'students'],
      attendance: { total: 30, basis: 'headcount', breakdown: [{ audience: 'youth', count: 10 }, { audience: 'students', count: 15 }] },
    }),
    await event('Жоспарланған кездесу', '2024-05-02', { lead: youth, kind: 'meeting' }),
    await event('Өткен жылғы дәріс', '2023-02-14', { lead: youth, attendance: { total: 20, basis: 'headcount', breakdown: [] } }),
    await event('Өткен жылғы науқан', '2023-03-01', {
      lead: policy,
      kind: 'campaign',
      audiences: ['general_public'],
      attendance: { total: 100, basis: 'estimate', breakdown: [] },
    }),
  ];
  return { admin, youth, policy, idle, events };
}

async function signInAsAdmin(page, server) {
  await page.goto(`${server.base}/`);
  await page.getByLabel(kk['signin.username']).fill('admin');
  await page.getByLabel(kk['signin.password']).fill(server.adminPassword);
  await page.getByRole('button', { name: kk['signin.submit'] }).click();
  await page.getByRole('heading', { name: kk['events.title'], level: 1 }).waitFor(STEP);
}

async function openView(page, server, hash) {
  await page.goto(`${server.base}/${hash}`);
  await page.locator('[data-ready="true"]').waitFor(STEP);
}

/** The titles the events list shows, once it has loaded them. */
async function listedTitles(page) {
  await page.getByRole('heading', { name: kk['events.title'], level: 1 }).waitFor(STEP);
  await page.waitForLoadState('networkidle');
  await page.locator('.loading').waitFor({ state: 'detached', timeout: STEP.timeout });
  return (await page.locator('.cards .card-title').allTextContents()).sort();
}

/** The titles of the held events the API lists for `query`. */
async function apiTitles(server, admin, query) {
  const body = await expectStatus(await server.api('GET', `/api/v1/events?limit=200&status=held&${query}`, { token: admin }), 200, 'list');
  return body.items.map((e) => e.title).sort();
}

/** A click with the mouse on the middle of bar `index` of the first series, where Chart.js drew it. */
async function clickBar(page, chart, index) {
  const canvas = page.locator(`[data-chart="${chart}"] canvas`);
  await canvas.scrollIntoViewIfNeeded();
  const at = await canvas.evaluate((el, i) => {
    const bar = el.chart.getDatasetMeta(0).data[i];
    return { x: bar.x, y: (bar.y + bar.base) / 2 };
  }, index);
  const box = await canvas.boundingBox();
  await page.mouse.click(box.x + at.x, box.y + at.y);
}

for (const store of stores()) {
  describe(`the dashboard on ${store}`, { concurrency: false }, () => {
    let server;
    let browser;
    let data;
    let summary;
    let departments;
    before(async () => {
      server = await startServer(store);
      browser = await launchBrowser();
      data = await seed(server);
      summary = await expectStatus(await server.api('GET', `/api/v1/reports/summary?${VIEW}`, { token: data.admin }), 200, 'summary');
      departments = await expectStatus(await server.api('GET', `/api/v1/reports/departments?${VIEW}`, { token: data.admin }), 200, 'departments');
    });
    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    for (const size of SIZES) {
      test(`the dashboard shows the API's figures and its bars list their events at ${size.name} size`, { timeout: 180000 }, async () => {
        const { context, page, problems } = await openPage(browser, server, size);
        try {
          await signInAsAdmin(page, server);
          await openView(page, server, `#/dashboard?${VIEW}`);
          await page.getByRole('heading', { name: kk['dashboard.title'], level: 1 }).waitFor(STEP);

          for (const f of FIGURES) {
            const row = page.locator(`tr[data-figure="${f}"]`);
            assert.equal(digits(await row.locator('td.now').textContent()), summary[f], `${f} shown equals the API's`);
            if (summary.previous) {
              assert.equal(digits(await row.locator('td.before').textContent()), summary.previous[f], `${f} of the compared period`);
            }
          }
          // Months: every month of the period has a row, 0 where nothing was held.
          for (const month of ['2024-01', '2024-02', '2024-03', '2024-04', '2024-05', '2024-06']) {
            const want = summary.by_month.find((m) => m.month === month)?.events_held ?? 0;
            const cell = page.locator(`[data-chart="month-events"] tr[data-month="${month}"] td.now`);
            assert.equal(digits(await cell.textContent()), want, `events held in ${month}`);
          }
          // Every active department has a row, the idle one with 0, and is named as idle.
          for (const row of departments.items) {
            const cell = page.locator(`[data-chart="department"] tr[data-department="${row.code}"] td.now`);
            assert.equal(digits(await cell.textContent()), row.events_held, `${row.code} led`);
            const before = page.locator(`[data-chart="department"] tr[data-department="${row.code}"] td.before`);
            assert.equal(digits(await before.textContent()), row.previous.events_held, `${row.code} led a year before`);
          }
          assert.ok(summary.previous, 'the API answers the compared period');
          for (const month of ['2023-02', '2023-03']) {
            const want = summary.previous.by_month.find((m) => m.month === month)?.events_held ?? 0;
            const cell = page.locator(`[data-chart="month-events"] tr[data-previous-month="${month}"] td.before`);
            assert.equal(digits(await cell.textContent()), want, `events held in ${month}`);
          }
          const idleLine = await page.locator('[data-figure="idle"]').textContent();
          assert.ok(idleLine.includes(data.idle.name_kk), `the idle department is named: ${idleLine}`);
          assert.ok(!idleLine.includes(data.youth.name_kk), 'a working department is not');

          const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.ok(wide <= 0, `no page-wide sideways scroll (${wide} px too wide)`);
          await assertAccessible(page, `the dashboard at ${size.name} size`);
          await screenshot(page, `dashboard-${store}-${size.name}`);

          // March's bar of this period, clicked where it is drawn (desktop), or its table link (phone).
          const march = await apiTitles(server, data.admin, 'from=2024-03-01&to=2024-03-31');
          assert.equal(march.length, 2, 'two events were held in March 2024');
          if (size.name === 'desktop') {
            await clickBar(page, 'month-events', 2);
          } else {
            await page.locator('[data-chart="month-events"] summary').click();
            await page.locator('[data-chart="month-events"] tr[data-month="2024-03"] td.now a').click();
          }
          assert.deepEqual(await listedTitles(page), march, "March's bar lists exactly March's held events");
          assert.match(page.url(), /#\/events\?.*from=2024-03-01.*to=2024-03-31/, 'the list keeps the filter in its link');

          // A department's link: the held events it led or partnered in, within the period.
          await openView(page, server, `#/dashboard?${VIEW}`);
          await page.locator('[data-chart="department"] summary').click();
          await page.locator(`[data-chart="department"] tr[data-department="${data.policy.code}"] th a`).click();
          const policy = departments.items.find((d) => d.department_id === data.policy.id);
          const listed = await listedTitles(page);
          assert.equal(listed.length, policy.events_held + policy.events_partnered, 'led plus partnered');
          assert.deepEqual(listed, await apiTitles(server, data.admin, `from=${FROM}&to=${TO}&department_id=${data.policy.id}`));

          // A kind's bar (the round table), clicked where it is drawn.
          if (size.name === 'desktop') {
            await openView(page, server, `#/dashboard?${VIEW}`);
            await clickBar(page, 'kind', 2);
            assert.deepEqual(await listedTitles(page), ['Студенттермен дөңгелек үстел']);
          }
          assert.deepEqual(problems(), [], 'no request to another origin, no script error, no CSP violation');
        } finally {
          await context.close();
        }
      });
    }

    test("a chosen department's plan items and idle line, a refused period, a malformed link, a longer compared period", { timeout: 180000 }, async () => {
      const { context, page, problems } = await openPage(browser, server, SIZES[0]);
      try {
        await signInAsAdmin(page, server);
        const plan = (status) => page.locator(`[data-chart="plan"] tr[data-status="${status}"] td.now`).textContent();
        // Only youth is responsible for plan items: policy's view has none, youth's has its own.
        for (const dept of [data.policy, data.youth, data.idle]) {
          await openView(page, server, `#/dashboard?${VIEW}&department_id=${dept.id}`);
          const row = departments.items.find((d) => d.department_id === dept.id);
          assert.equal(digits(await plan('done')), row.plan_items_done, `${dept.code}: plan items done`);
          assert.equal(digits(await plan('overdue')), row.plan_items_overdue, `${dept.code}: plan items overdue`);
          assert.equal(digits(await plan('open')), row.plan_items_due - row.plan_items_done - row.plan_items_overdue, `${dept.code}: plan items open`);
          const idleLine = await page.locator('[data-figure="idle"]').textContent();
          const idle = row.events_held + row.events_partnered === 0;
          assert.equal(idleLine, idle ? dept.name_kk : kkText('dashboard.idle_active', { name: dept.name_kk }), `${dept.code}: the idle line is its own`);
        }
        assert.ok(departments.items.find((d) => d.department_id === data.youth.id).plan_items_due > 0, 'the seed gives youth plan items');

        // A period whose start is after its end: the API's 422, said beside the start field.
        await page.goto(`${server.base}/#/dashboard?from=2024-05-01&to=2024-04-01`);
        const fromError = page.locator('#dashboard-from-err');
        await fromError.waitFor(STEP);
        assert.equal(await fromError.textContent(), kk['dashboard.error.from.order']);
        assert.equal(await page.getByLabel(kk['events.from']).getAttribute('aria-invalid'), 'true');
        assert.equal(await page.getByLabel(kk['events.to']).getAttribute('min'), '2024-05-01');
        assert.ok(!(await page.locator('.notice').allTextContents()).some((n) => n.includes(kk['common.server_error'])), 'not the generic error');

        // A link with a day that does not exist and a department that is no UUID: the defaults, said so.
        await openView(page, server, '#/dashboard?from=2024-01-01&to=2024-02-30&department_id=not-a-uuid');
        const notice = await page.locator('.notice.info').textContent();
        assert.ok(notice.includes(kk['events.to']) && notice.includes(kk['dashboard.department']), `the notice names the refused values: ${notice}`);
        assert.ok(!notice.includes(kk['events.from']), 'and not the good one');
        assert.equal(await page.getByLabel(kk['events.from']).inputValue(), '2024-01-01');

        // previous_period of 2024-03-01..2024-04-30 reaches back over three months: every one has its row and its bar.
        const longer = 'from=2024-03-01&to=2024-04-30&compare=previous_period';
        const s = await expectStatus(await server.api('GET', `/api/v1/reports/summary?${longer}`, { token: data.admin }), 200, 'summary');
        await openView(page, server, `#/dashboard?${longer}`);
        const compared = page.locator('[data-chart="month-events"] tr[data-previous-month]');
        const months = await compared.evaluateAll((rows) => rows.map((r) => r.dataset.previousMonth));
        assert.ok(months.length > 2, `more compared months than current ones: ${months}`);
        for (const [i, month] of months.entries()) {
          const want = s.previous.by_month.find((m) => m.month === month)?.events_held ?? 0;
          assert.equal(digits(await compared.nth(i).locator('td.before').textContent()), want, `events held in ${month}`);
          assert.ok((await compared.nth(i).locator('th').textContent()).trim() !== '', `row ${i} is named`);
        }
        const bars = await page.locator('[data-chart="month-events"] canvas').evaluate((el) => ({ labels: el.chart.data.labels.length, compared: el.chart.data.datasets[1].data.length }));
        assert.deepEqual(bars, { labels: months.length, compared: months.length }, 'a bar for every compared month');
        assert.deepEqual(problems(), []);
      } finally {
        await context.close();
      }
    });

    test('a brief with nothing compared has no compared row; a refused period is said in its notice', { timeout: 60000 }, async () => {
      const { context, page, problems } = await openPage(browser, server, SIZES[0]);
      try {
        await signInAsAdmin(page, server);
        await openView(page, server, `#/dashboard/print?from=${FROM}&to=${TO}&compare=none`);
        assert.equal(await page.locator('[data-brief="compared"]').count(), 0);
        assert.ok(!(await page.locator('.details').textContent()).includes(kk['brief.compared']), 'no "compared with" label');
        // The brief has no fields to mark: its notice names the field and what is wrong with it.
        await page.goto(`${server.base}/#/dashboard/print?from=2024-05-01&to=2024-04-01`);
        const notice = page.locator('.notice.error');
        await notice.waitFor(STEP);
        assert.equal(await notice.textContent(), `${kk['events.from']}: ${kk['dashboard.error.from.order']}`);
        assert.deepEqual(problems(), []);
      } finally {
        await context.close();
      }
    });

    test('the brief prints to an A4 PDF whose text carries the API figures', { timeout: 180000 }, async () => {
      const { context, page, problems } = await openPage(browser, server, SIZES[0]);
      const dir = mkdtempSync(join(tmpdir(), 'adal-brief-'));
      try {
        await signInAsAdmin(page, server);
        await openView(page, server, `#/dashboard/print?${VIEW}`);
        await assertAccessible(page, 'the brief');
        const registry = await expectStatus(await server.api('GET', '/api/v1/registry'), 200, 'registry');
        const periodText = (await page.locator('[data-brief="period"]').textContent()).trim();
        const comparedText = (await page.locator('[data-brief="compared"]').textContent()).trim();
        const pdfPath = join(dir, 'brief.pdf');
        writeFileSync(pdfPath, await page.pdf({ format: 'A4', printBackground: true }));
        const text = execFileSync('pdftotext', ['-layout', pdfPath, '-'], { encoding: 'utf8' });
        execFileSync('pdftoppm', ['-png', '-r', '80', '-f', '1', '-l', '1', '-singlefile', pdfPath, join(SHOTS, `brief-${store}-page1`)]);
        const flat = text.replace(/\s+/g, ' ');
        assert.ok(flat.includes(registry.name), "the registry's name");
        assert.ok(flat.includes(kk['brief.title']), 'the title');
        assert.ok(flat.includes(periodText.replace(/\s+/g, ' ')), `the period ${periodText}`);
        assert.equal(periodText, PERIOD_KK, 'the period names both its dates');
        if (summary.previous) assert.ok(/2023/.test(comparedText) && flat.includes(comparedText.replace(/\s+/g, ' ')), 'the compared period');
        assert.ok(flat.includes(data.idle.name_kk), 'the idle department is named');
        for (const f of FIGURES) {
          const label = kk[`dashboard.figure.${f}`];
          const line = text.split('\n').find((l) => l.includes(label));
          assert.ok(line, `the PDF has the line of ${f}`);
          const cells = line.slice(line.indexOf(label) + label.length).trim().split(/\s{2,}/);
          assert.equal(digits(cells[0]), summary[f], `${f} printed equals the API's`);
          if (summary.previous) {
            assert.equal(digits(cells[1]), summary.previous[f], `${f} of the compared period printed`);
            // The change: "—" when nothing was before, else a percentage.
            if (summary.previous[f] === 0) assert.equal(cells[2], kk['common.none'], `${f}: no change where nothing was before`);
            else assert.match(cells[2], /\d\s*%$/, `${f}: the change is a percentage`);
          }
        }
        await screenshot(page, `brief-${store}-screen`);
        assert.deepEqual(problems(), []);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await context.close();
      }
    });
  });
}
