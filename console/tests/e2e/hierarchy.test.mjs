// The department tree, in Kazakh, on SQLite and PostgreSQL. An admin builds, through the API, a
// region (an akimat) with two district akimats under it and a youth centre under each, and events
// held in all of them (named attendees, one person at three events, one event verified). A
// regional viewer, at phone size, drills region → district → centre in the dashboard: each level's
// rows roll up their subtree and equal the API's (unique people counted once across a district,
// not summed), the centre with nothing below shows its own figures, and the breadcrumb leads back
// up; axe finds nothing serious at any level. A district organiser's pickers (the events list's
// filter, the event form's partners, the dashboard's filter) hold only its district, and its
// drill-down starts there; in English the names are the English ones. At desktop size an admin
// creates an akimat in the tree from the form (kind, parent, English name), finds a department's
// own subtree greyed out as its parent, and reads the refusals in words: a seventh level (`depth`)
// and, from a form left open while the tree changed, a department under itself (`cycle`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  SIZES,
  assertAccessible,
  expectStatus,
  kk,
  kkText,
  launchBrowser,
  localDate,
  login,
  messages,
  openPage,
  screenshot,
  startServer,
  stores,
  validIin,
} from './harness.mjs';

const STEP = { timeout: 15000 };
const PHONE = SIZES.find((s) => s.name === 'phone');
const DESKTOP = SIZES.find((s) => s.name === 'desktop');
const FIGURES = ['events_held', 'participants_total', 'unique_people', 'events_verified', 'events_flagged'];
const FROM = localDate(-30);
const TO = localDate(0);
const PERIOD = `from=${FROM}&to=${TO}`;

/** The number in a cell, whatever digit grouping the language uses. */
const digits = (text) => Number((text ?? '').replace(/[^\d]/g, ''));

async function seed(server) {
  const admin = (await login(server, 'admin', server.adminPassword)).access_token;
  const department = async (code, name_kk, name_ru, name_en, parent, kind) =>
    expectStatus(
      await server.api('POST', '/api/v1/departments', { token: admin, json: { code, name_kk, name_ru, name_en, parent_id: parent?.id ?? null, kind } }),
      201,
      `department ${code}`,
    );
  const region = await department('region', 'Облыс әкімдігі', 'Акимат области', 'Regional akimat', null, 'administration');
  const districtA = await department('district-a', 'Алатау ауданының әкімдігі', 'Акимат Алатауского района', 'Alatau district akimat', region, 'administration');
  const districtB = await department('district-b', 'Медеу ауданының әкімдігі', 'Акимат Медеуского района', 'Medeu district akimat', region, 'administration');
  const unitA = await department('youth-a', 'Алатау жастар орталығы', 'Молодёжный центр Алатау', 'Alatau youth centre', districtA, 'unit');
  const unitB = await department('youth-b', 'Медеу жастар орталығы', 'Молодёжный центр Медеу', null, districtB, 'unit');

  const account = async (username, department_id, role) => {
    const password = `Құпия-${randomBytes(6).toString('hex')}`;
    await expectStatus(
      await server.api('POST', '/api/v1/accounts', { token: admin, json: { username, display_name: username, department_id, role, password } }),
      201,
      `account ${username}`,
    );
    return { username, password };
  };
  const viewer = await account('regional-viewer', region.id, 'viewer');
  const organiser = await account('district-organiser', districtA.id, 'organiser');

  const event = async (title, days, lead, total, partners = []) =>
    expectStatus(
      await server.api('POST', '/api/v1/events', {
        token: admin,
        json: {
          title,
          kind: 'lecture',
          format: 'in_person',
          starts_at: `${localDate(days)}T10:00:00+05:00`,
          ends_at: `${localDate(days)}T12:00:00+05:00`,
          venue: 'Жастар орталығы',
          audiences: ['youth'],
          lead_department_id: lead.id,
          partner_department_ids: partners.map((p) => p.id),
          attendance: { total, basis: 'headcount', breakdown: [] },
        },
      }),
      201,
      title,
    );
  const attendees = async (ev, people) =>
    expectStatus(await server.api('POST', `/api/v1/events/${ev.id}/attendees`, { token: admin, json: { attendees: people } }), 201, `attendees of ${ev.title}`);
  const aigul = { full_name: 'Айгүл Нұрланқызы', iin: validIin('950314', 4, 1) };
  const erlan = { full_name: 'Ерлан Серікұлы', iin: validIin('000101', 5, 7) };
  const first = await event('Алатау: адалдық туралы дәріс', -5, unitA, 30);
  const second = await event('Алатау: студенттермен кездесу', -4, unitA, 20);
  const third = await event('Медеу: жастарға дәріс', -3, unitB, 25);
  await event('Алатау әкімдігі: семинар', -2, districtA, 10, [unitB]);
  await attendees(first, [aigul]);
  await attendees(second, [aigul, erlan]);
  await attendees(third, [aigul]);
  // The admin verifies Medeu's event (the admin's department took no part in it).
  const read = await server.api('GET', `/api/v1/events/${third.id}`, { token: admin });
  await expectStatus(
    await server.api('PUT', `/api/v1/events/${third.id}/verification`, { token: admin, json: { status: 'verified' }, headers: { 'if-match': read.headers.get('etag') } }),
    200,
    'verify',
  );
  return { admin, region, districtA, districtB, unitA, unitB, viewer, organiser };
}

async function signIn(page, server, { username, password }) {
  await page.goto(`${server.base}/`);
  await page.getByLabel(kk['signin.username']).fill(username);
  await page.getByLabel(kk['signin.password']).fill(password);
  await page.getByRole('button', { name: kk['signin.submit'] }).click();
  await page.getByRole('heading', { name: kk['events.title'], level: 1 }).waitFor(STEP);
}

/** The drill-down standing at `name` (the breadcrumb's last item) with its figures loaded. */
async function drilledTo(page, name) {
  await page.locator('nav.breadcrumb [aria-current="page"]', { hasText: name }).waitFor(STEP);
  await page.locator('section.drill[data-ready="true"]').waitFor(STEP);
  await page.waitForLoadState('networkidle');
}

/** The five figures of a row of the drill-down's table. */
async function shown(row) {
  const out = {};
  for (const f of FIGURES) out[f] = digits(await row.locator(`td[data-col="${f}"]`).textContent());
  return out;
}

const figuresOf = (row) => Object.fromEntries(FIGURES.map((f) => [f, row[f]]));

/** The API's rows of `query` in the reports/departments report, by department code. */
async function apiRows(server, token, query) {
  const body = await expectStatus(await server.api('GET', `/api/v1/reports/departments?${PERIOD}&${query}`, { token }), 200, `report ${query}`);
  return Object.fromEntries(body.items.map((r) => [r.code, r]));
}

for (const store of stores()) {
  describe(`the department tree on ${store}`, { concurrency: false }, () => {
    let server;
    let browser;
    let data;
    before(async () => {
      server = await startServer(store);
      browser = await launchBrowser();
      data = await seed(server);
    });
    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    test('a regional viewer drills region → district → centre at phone size', { timeout: 120000 }, async () => {
      const token = (await login(server, data.viewer.username, data.viewer.password)).access_token;
      const { context, page, problems } = await openPage(browser, server, PHONE);
      try {
        await signIn(page, server, data.viewer);
        // The dashboard's tab leads to the drill-down, which starts at the top of the reach.
        await page.goto(`${server.base}/#/dashboard?${PERIOD}`);
        await page.getByRole('link', { name: kk['dashboard.tab.tree'] }).click();
        await drilledTo(page, data.region.name_kk);
        assert.match(page.url(), new RegExp(`#/dashboard/tree\\?from=${FROM}&to=${TO}`));

        // Region: a row per district, each rolling up its subtree, as the API answers.
        const districts = await apiRows(server, token, `parent_id=${data.region.id}`);
        assert.deepEqual(Object.keys(districts).sort(), ['district-a', 'district-b']);
        assert.deepEqual(figuresOf(districts['district-a']), { ...figuresOf(districts['district-a']), events_held: 3, participants_total: 60, unique_people: 2, events_verified: 0 });
        assert.deepEqual(figuresOf(districts['district-b']), { ...figuresOf(districts['district-b']), events_held: 1, participants_total: 25, unique_people: 1, events_verified: 1 });
        for (const code of ['district-a', 'district-b']) {
          const row = page.locator(`section.drill tbody tr[data-department="${code}"]:not([data-own])`);
          assert.deepEqual(await shown(row), figuresOf(districts[code]), `${code} rolled up`);
        }
        // The region's own events (none: its districts led them all).
        assert.deepEqual(await shown(page.locator('tr[data-own="true"]')), { events_held: 0, participants_total: 0, unique_people: 0, events_verified: 0, events_flagged: 0 });
        await assertAccessible(page, 'the drill-down at the region');
        await screenshot(page, `hierarchy-${store}-region`);

        // District: its centre rolled up, its own seminar, and the district in total.
        await page.getByRole('link', { name: data.districtA.name_kk, exact: true }).click();
        await drilledTo(page, data.districtA.name_kk);
        const centres = await apiRows(server, token, `parent_id=${data.districtA.id}`);
        assert.deepEqual(await shown(page.locator('tr[data-department="youth-a"]')), figuresOf(centres['youth-a']));
        assert.equal(centres['youth-a'].events_held, 2);
        assert.equal(centres['youth-a'].unique_people, 2, 'Aigul at two events counts once');
        const own = await apiRows(server, token, `department_id=${data.districtA.id}&include_descendants=false`);
        assert.deepEqual(await shown(page.locator('tr[data-own="true"]')), figuresOf(own['district-a']));
        assert.equal(own['district-a'].participants_total, 10);
        assert.deepEqual(await shown(page.locator('tr[data-total="true"]')), figuresOf(districts['district-a']));
        await assertAccessible(page, 'the drill-down at a district');

        // Centre: nothing below it, so its own figures.
        await page.getByRole('link', { name: data.unitA.name_kk, exact: true }).click();
        await drilledTo(page, data.unitA.name_kk);
        await page.getByText(kkText('drill.leaf', { name: data.unitA.name_kk })).waitFor(STEP);
        assert.deepEqual(await shown(page.locator('tr[data-own="true"]')), figuresOf(centres['youth-a']));
        await assertAccessible(page, 'the drill-down at a centre');
        await screenshot(page, `hierarchy-${store}-centre`);
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(wide <= 360, `the page fits 360 px (${wide})`);

        // The breadcrumb leads back up.
        const crumbs = page.getByRole('navigation', { name: kk['drill.breadcrumb'] });
        assert.deepEqual(await crumbs.getByRole('listitem').allTextContents(), [data.region.name_kk, data.districtA.name_kk, data.unitA.name_kk]);
        await crumbs.getByRole('link', { name: data.region.name_kk }).click();
        await drilledTo(page, data.region.name_kk);
        await page.locator('tr[data-department="district-b"]').waitFor(STEP);
        assert.deepEqual(problems(), []);
      } finally {
        await context.close();
      }
    });

    test("a district organiser's pickers hold only its district", { timeout: 120000 }, async () => {
      const { context, page, problems } = await openPage(browser, server, PHONE);
      const inDistrict = [data.districtA.id, data.unitA.id].sort();
      const optionValues = (select) => select.locator('option').evaluateAll((os) => os.map((o) => o.value).filter((v) => v && v !== 'mine' && v !== 'all'));
      try {
        await signIn(page, server, data.organiser);
        // The events list's filter: the district (marked as an akimat) with its centre indented below.
        await page.getByText(kk['events.filters']).first().click();
        const scope = page.getByLabel(kk['events.scope']);
        assert.deepEqual((await optionValues(scope)).sort(), inDistrict);
        const labels = await scope.locator('option').allTextContents();
        assert.ok(labels.includes(`${data.districtA.name_kk} — ${kk['dept.mark.administration']}`), labels.join(' | '));
        assert.ok(labels.includes(`\u00a0\u00a0\u00a0${data.unitA.name_kk}`), labels.join(' | '));

        // The event form: the district leads, so only its centre can partner.
        await page.goto(`${server.base}/#/events/new`);
        const partners = page.getByRole('group', { name: kk['event.partners'] });
        await partners.waitFor(STEP);
        assert.deepEqual(await partners.getByRole('checkbox').evaluateAll((cs) => cs.length), 1);
        await partners.getByRole('checkbox', { name: data.unitA.name_kk }).waitFor(STEP);
        assert.equal(await partners.getByText(data.districtB.name_kk).count(), 0);
        assert.equal(await page.getByLabel(kk['event.lead']).count(), 0, 'only an admin picks the lead');
        await assertAccessible(page, "the organiser's event form");

        // The dashboard's filter and drill-down: the district is the top.
        await page.goto(`${server.base}/#/dashboard?${PERIOD}`);
        await page.locator('[data-ready="true"]').waitFor(STEP);
        assert.deepEqual((await optionValues(page.locator('label.field', { has: page.locator('span', { hasText: new RegExp(`^${kk['dashboard.department']}$`) }) }).locator('select'))).sort(), inDistrict);
        await page.goto(`${server.base}/#/dashboard/tree?${PERIOD}`);
        await drilledTo(page, data.districtA.name_kk);
        assert.deepEqual(await page.locator('section.drill tbody tr[data-department]').evaluateAll((rs) => rs.map((r) => r.dataset.department)), ['youth-a', 'district-a']);
        // A district's organiser cannot see its region's roll-up: a link to it falls back to the district.
        await page.goto(`${server.base}/#/dashboard/tree?${PERIOD}&parent_id=${data.region.id}`);
        await drilledTo(page, data.districtA.name_kk);
        await assertAccessible(page, "the organiser's drill-down");

        // In English, the English names (and the Russian one where there is none).
        const en = messages('en');
        await page.getByLabel(kk['lang.label']).selectOption('en');
        await page.locator('nav.breadcrumb [aria-current="page"]', { hasText: 'Alatau district akimat' }).waitFor(STEP);
        await page.getByRole('link', { name: 'Alatau youth centre' }).waitFor(STEP);
        await page.getByRole('heading', { name: en['drill.title'] }).waitFor(STEP);
        assert.deepEqual(problems(), []);
      } finally {
        await context.close();
      }
    });

    test('an admin builds the tree from the form; depth and cycle are refused in words', { timeout: 120000 }, async () => {
      const { context, page, problems } = await openPage(browser, server, DESKTOP);
      try {
        await signIn(page, server, { username: 'admin', password: server.adminPassword });
        await page.goto(`${server.base}/#/admin/departments`);
        // The tree as nested lists.
        await page.locator('li[data-department="region"] li[data-department="district-a"] li[data-department="youth-a"]').waitFor(STEP);

        // A new akimat under the region, with its English name.
        await page.getByRole('button', { name: kk['dept.new'] }).click();
        const form = page.locator('form', { has: page.getByRole('heading', { name: kk['dept.new'] }) });
        await form.getByLabel(kk['dept.code']).fill('district-c');
        await form.getByLabel(kk['dept.name_kk']).fill('Бостандық ауданының әкімдігі');
        await form.getByLabel(kk['dept.name_ru']).fill('Акимат Бостандыкского района');
        await form.getByLabel(kk['dept.name_en']).fill('Bostandyk district akimat');
        await form.getByLabel(kk['dept.kind']).selectOption('administration');
        await form.getByLabel(kk['dept.parent']).selectOption(data.region.id);
        await form.getByRole('button', { name: kk['common.save'] }).click();
        await page.locator('li[data-department="region"] > ul > li[data-department="district-c"]').waitFor(STEP);
        const all = await expectStatus(await server.api('GET', `/api/v1/departments?limit=200&parent_id=${data.region.id}`, { token: data.admin }), 200, 'children');
        const made = all.items.find((d) => d.code === 'district-c');
        assert.deepEqual([made.kind, made.parent_id, made.name_en], ['administration', data.region.id, 'Bostandyk district akimat']);

        // Editing the region: itself and everything below it are greyed out as its parent.
        await page.getByRole('button', { name: kkText('dept.edit', { name: data.region.name_kk }) }).click();
        const parent = page.getByLabel(kk['dept.parent']);
        const disabled = await parent.locator('option[disabled]').evaluateAll((os) => os.map((o) => o.value).sort());
        assert.deepEqual(disabled, [data.region.id, data.districtA.id, data.districtB.id, data.unitA.id, data.unitB.id, made.id].sort());
        await page.getByRole('button', { name: kk['common.cancel'] }).click();

        // A seventh level: the centre is the third, three more below it, and a new one under the sixth.
        let under = data.unitA;
        for (const level of [4, 5, 6]) {
          under = await expectStatus(
            await server.api('POST', '/api/v1/departments', { token: data.admin, json: { code: `level-${level}`, name_kk: `${level}-деңгей`, name_ru: `Уровень ${level}`, parent_id: under.id } }),
            201,
            `level ${level}`,
          );
        }
        await page.reload();
        await page.locator('li[data-department="level-6"]').waitFor(STEP);
        await page.getByRole('button', { name: kk['dept.new'] }).click();
        await form.getByLabel(kk['dept.code']).fill('level-7');
        await form.getByLabel(kk['dept.name_kk']).fill('7-деңгей');
        await form.getByLabel(kk['dept.name_ru']).fill('Уровень 7');
        await form.getByLabel(kk['dept.parent']).selectOption(under.id);
        await form.getByRole('button', { name: kk['common.save'] }).click();
        await form.getByText(kk['dept.error.parent_id.depth']).waitFor(STEP);
        assert.equal(await form.getByLabel(kk['dept.parent']).getAttribute('aria-invalid'), 'true');
        await assertAccessible(page, 'the department form with a depth error');
        await page.getByRole('button', { name: kk['common.cancel'] }).click();

        // A form left open while the tree changes: the new akimat is moved under Medeu's centre
        // meanwhile, and putting Medeu's district under that centre (which the open form, from
        // before the move, still offers) would place the district under itself.
        await page.getByRole('button', { name: kkText('dept.edit', { name: data.districtB.name_kk }) }).click();
        const moved = await server.api('GET', `/api/v1/departments/${made.id}`, { token: data.admin });
        await expectStatus(
          await server.api('PATCH', `/api/v1/departments/${made.id}`, {
            token: data.admin,
            json: { parent_id: data.unitB.id },
            headers: { 'if-match': moved.headers.get('etag'), 'content-type': 'application/merge-patch+json' },
          }),
          200,
          'move the new akimat',
        );
        await page.getByLabel(kk['dept.parent']).selectOption(made.id);
        await page.getByRole('button', { name: kk['common.save'] }).click();
        await page.getByText(kk['dept.error.parent_id.cycle']).waitFor(STEP);
        await screenshot(page, `hierarchy-${store}-admin`);

        // The admin's event form names the lead from the tree.
        await page.goto(`${server.base}/#/events/new`);
        const lead = page.getByLabel(kk['event.lead']);
        await lead.waitFor(STEP);
        await lead.selectOption(data.unitA.id);
        await page.getByRole('group', { name: kk['event.partners'] }).getByRole('checkbox', { name: data.unitB.name_kk }).waitFor(STEP);
        assert.equal(await page.getByRole('group', { name: kk['event.partners'] }).getByRole('checkbox', { name: data.unitA.name_kk }).count(), 0, 'the lead is not a partner');
        assert.deepEqual(problems(), []);
      } finally {
        await context.close();
      }
    });
  });
}
