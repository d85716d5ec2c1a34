// Evidence and verification, in Kazakh, on SQLite and PostgreSQL, at desktop and phone size: an
// organiser's upload while offline is refused in words and nothing is sent; online, the organiser
// uploads a photo (a real JPEG that Chromium's canvas encodes here) under a Kazakh file name and
// sees its thumbnail; at desktop size also a WebP photo, which the console turns into a
// JPEG before sending, and a "PDF" whose bytes are not one, which the API refuses (415) and the
// page says why. A coordinator of a department that took no part in the event finds it in the
// verification queue, flagged events first; a rejection without a note is stopped at the form;
// at desktop size the event changes under the open page, and the decision's 412 reloads it; then
// the verifier verifies it and the event page shows it verified, to the organiser too, whose
// remove buttons are gone. axe finds nothing serious on any of it; nothing loads from another origin.
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
  openPage,
  screenshot,
  seedOrganiser,
  startServer,
  stores,
} from './harness.mjs';

const STEP = { timeout: 15000 };

/** An image of `type` drawn and encoded by the page's own canvas: real bytes of that format. */
async function encodedImage(page, type, width, height) {
  const base64 = await page.evaluate(
    ({ type, width, height }) => {
      const c = document.createElement('canvas');
      c.width = width;
      c.height = height;
      const g = c.getContext('2d');
      g.fillStyle = '#0b4f8a';
      g.fillRect(0, 0, width, height);
      g.fillStyle = '#f5c400';
      g.fillRect(width / 4, height / 4, width / 2, height / 2);
      return c.toDataURL(type, 0.9).split(',')[1];
    },
    { type, width, height },
  );
  return Buffer.from(base64, 'base64');
}

async function signIn(page, server, username, password) {
  await page.goto(`${server.base}/`);
  await page.getByLabel(kk['signin.username']).fill(username);
  await page.getByLabel(kk['signin.password']).fill(password);
  await page.getByRole('button', { name: kk['signin.submit'] }).click();
  await page.getByRole('heading', { name: kk['events.title'], level: 1 }).waitFor(STEP);
}

/** A held event of the organiser's, three days ago, the partner taking part. */
async function heldEvent(server, token, partner, title, attendance) {
  return expectStatus(
    await server.api('POST', '/api/v1/events', {
      token,
      json: {
        title,
        kind: 'seminar',
        format: 'in_person',
        starts_at: `${localDate(-3)}T10:00:00+05:00`,
        ends_at: `${localDate(-3)}T12:00:00+05:00`,
        venue: 'Қалалық жастар ресурстық орталығы',
        audiences: ['youth'],
        partner_department_ids: [partner.id],
        planned_participants: 60,
        attendance,
      },
    }),
    201,
    `event ${title}`,
  );
}

/** Waits until the image has been fetched, decoded and drawn (a thumbnail, not a broken icon). */
async function waitDrawn(img) {
  await img.waitFor(STEP);
  await img.evaluate(
    (el) =>
      new Promise((ok, fail) => {
        const check = () => (el.complete && el.naturalWidth > 0 ? ok() : el.complete && el.src ? fail(new Error(`not drawn: ${el.src}`)) : setTimeout(check, 50));
        check();
      }),
  );
}

for (const store of stores()) {
  describe(`evidence and verification on ${store}`, { concurrency: false }, () => {
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
      test(`an organiser's photo, a verifier's queue and decision at ${size.name} size`, { timeout: 240000 }, async () => {
        const desktop = size.name === 'desktop';
        const tag = `${size.name}-${Date.now().toString(36)}`;
        const seed = await seedOrganiser(server, tag);
        // The verifier: a coordinator of a department that neither leads nor partners.
        const legal = await expectStatus(
          await server.api('POST', '/api/v1/departments', {
            token: seed.admin,
            json: { code: `legal-support-${tag}`, name_kk: 'Құқықтық қамтамасыз ету бөлімі', name_ru: 'Отдел правового обеспечения' },
          }),
          201,
          'legal-support department',
        );
        const verifier = { username: `verifier-${tag}`, password: `Тексеруші-${randomBytes(6).toString('hex')}` };
        await expectStatus(
          await server.api('POST', '/api/v1/accounts', {
            token: seed.admin,
            json: { ...verifier, display_name: 'Дана Құдайбергенова', department_id: legal.id, role: 'coordinator' },
          }),
          201,
          'verifier account',
        );
        const organiser = (await login(server, seed.username, seed.password)).access_token;
        // The event under test: by estimate and with no evidence yet, so flagged twice.
        const event = await heldEvent(server, organiser, seed.partner, `Адалдық сағаты: фотосуреттермен ${tag}`, { total: 70, basis: 'estimate' });
        assert.deepEqual([...event.flags].sort(), ['estimate_only', 'no_evidence']);
        // An unflagged one, counted with a sheet and shown by a press link, which the queue lists after it.
        const plain = await heldEvent(server, organiser, seed.partner, `Адалдық сағаты: белгісіз ${tag}`, { total: 55, basis: 'sign_in_sheet' });
        await expectStatus(
          await server.api('POST', `/api/v1/events/${plain.id}/evidence`, { token: organiser, json: { kind: 'press', url: 'https://example.kz/news/adaldyq' } }),
          201,
          'a press link',
        );

        // The organiser uploads a photo from the event page and sees its thumbnail.
        const org = await openPage(browser, server, size);
        const ver = await openPage(browser, server, size);
        try {
          const page = org.page;
          await signIn(page, server, seed.username, seed.password);
          await page.goto(`${server.base}/#/events/${event.id}`);
          await page.getByRole('heading', { name: event.title, level: 1 }).waitFor(STEP);
          const flags = page.getByRole('region', { name: kk['flags.title'] });
          await flags.getByText(kk['enum.flag.no_evidence']).waitFor(STEP);
          await flags.getByText(kk['flag.help.estimate_only']).waitFor(STEP);
          await page.getByText(kk['evidence.empty']).waitFor(STEP);
          await assertAccessible(page, `the event page with no evidence at ${size.name} size`);

          const evidence = page.getByRole('region', { name: kk['evidence.title'] });
          const upload = evidence.locator('form.evidence-form').first();
          const fileInput = upload.getByLabel(kk['evidence.file']);
          assert.equal(await fileInput.getAttribute('capture'), 'environment', "the phone's camera is offered");
          const jpeg = await encodedImage(page, 'image/jpeg', 64, 48);
          assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a real JPEG');
          await upload.getByLabel(kk['evidence.kind']).selectOption('photo');
          await fileInput.setInputFiles({ name: 'іс-шара фотосы.jpg', mimeType: 'image/jpeg', buffer: jpeg });
          // Offline, a file is not queued: the page says an upload needs the connection, and nothing is sent.
          await org.context.setOffline(true);
          await upload.getByRole('button', { name: kk['evidence.upload'] }).click();
          await upload.getByRole('alert').filter({ hasText: kk['evidence.offline'] }).waitFor(STEP);
          await org.context.setOffline(false);
          const none = await expectStatus(await server.api('GET', `/api/v1/events/${event.id}/evidence`, { token: organiser }), 200, 'evidence');
          assert.equal(none.items.length, 0, 'nothing was sent offline');
          await upload.getByRole('button', { name: kk['evidence.upload'] }).click();
          await evidence.getByText(kk['evidence.added']).waitFor(STEP);
          const thumb = evidence.getByRole('button', { name: kkText('evidence.open', { name: 'іс-шара фотосы.jpg' }) }).locator('img');
          await waitDrawn(thumb);
          assert.match(await thumb.getAttribute('src'), /^blob:/, 'shown from an object URL, the bytes fetched with the token');
          // Evidence moved the event on: the flag it answered is gone, the page read it again.
          await flags.getByText(kk['enum.flag.no_evidence']).waitFor({ state: 'detached', ...STEP });
          const stored = (await expectStatus(await server.api('GET', `/api/v1/events/${event.id}/evidence`, { token: organiser }), 200, 'evidence')).items;
          assert.equal(stored.length, 1);
          assert.equal(stored[0].filename, 'іс-шара фотосы.jpg', 'the Kazakh name went as RFC 5987 filename*');
          assert.equal(stored[0].media_type, 'image/jpeg');
          assert.equal(stored[0].size, jpeg.length);

          if (desktop) {
            // A WebP photo is drawn into a JPEG on the device: the API gets image/jpeg, named .jpg.
            const webp = await encodedImage(page, 'image/webp', 80, 60);
            assert.equal(webp.subarray(8, 12).toString('latin1'), 'WEBP', 'a real WebP');
            await fileInput.setInputFiles({ name: 'экран.webp', mimeType: 'image/webp', buffer: webp });
            await upload.getByRole('button', { name: kk['evidence.upload'] }).click();
            await waitDrawn(evidence.getByRole('button', { name: kkText('evidence.open', { name: 'экран.jpg' }) }).locator('img'));
            const both = (await expectStatus(await server.api('GET', `/api/v1/events/${event.id}/evidence`, { token: organiser }), 200, 'evidence')).items;
            const converted = both.find((e) => e.filename === 'экран.jpg');
            assert.ok(converted, 'the WebP arrived as экран.jpg');
            assert.equal(converted.media_type, 'image/jpeg');

            // Bytes that are not a PDF: the API answers 415 and the page says what it takes.
            await upload.getByLabel(kk['evidence.kind']).selectOption('programme');
            await fileInput.setInputFiles({ name: 'бағдарлама.pdf', mimeType: 'application/pdf', buffer: Buffer.from('not a pdf at all\n') });
            await upload.getByRole('button', { name: kk['evidence.upload'] }).click();
            await evidence.getByText(kk['evidence.error.type']).waitFor(STEP);
            await assertAccessible(page, 'the event page with a refused upload');

            // Removing is offered while the event is not verified; the converted photo goes.
            await evidence.getByRole('button', { name: kkText('evidence.remove_named', { name: 'экран.jpg' }) }).click();
            await page.getByRole('dialog').getByRole('button', { name: kk['evidence.remove'] }).click();
            await evidence.getByText(kk['evidence.removed']).waitFor(STEP);
            await evidence.getByRole('button', { name: kkText('evidence.open', { name: 'экран.jpg' }) }).waitFor({ state: 'detached', ...STEP });
          }
          await assertAccessible(page, `the event page with a photo at ${size.name} size`);
          await screenshot(page, `evidence-${store}-${size.name}-organiser`);

          // The verifier: the queue is in the nav, flagged events first, each with its flags and evidence.
          const vpage = ver.page;
          await signIn(vpage, server, verifier.username, verifier.password);
          await vpage.getByRole('navigation').getByRole('link', { name: kk['nav.verify'] }).click();
          await vpage.getByRole('heading', { name: kk['queue.title'], level: 1 }).waitFor(STEP);
          const card = vpage.locator(`li.card[data-event="${event.id}"]`);
          await card.waitFor(STEP);
          await vpage.locator(`li.card[data-event="${plain.id}"]`).waitFor(STEP);
          const order = await vpage.locator('li.card').evaluateAll((cards) => cards.map((c) => c.dataset.event));
          assert.ok(order.indexOf(event.id) < order.indexOf(plain.id), `flagged first: ${order.join(', ')}`);
          assert.ok((await card.innerText()).includes(kk['enum.flag.estimate_only']), 'its flag is shown');
          assert.ok((await card.innerText()).includes(kkText('events.evidence_n', { n: 1 })), 'its evidence is counted');
          await assertAccessible(vpage, `the verification queue at ${size.name} size`);
          await screenshot(vpage, `evidence-${store}-${size.name}-queue`);

          await card.getByRole('link', { name: event.title }).click();
          await vpage.getByRole('heading', { name: event.title, level: 1 }).waitFor(STEP);
          // The verifier sees the photo too (events:verify reads evidence), but may not remove it.
          const vEvidence = vpage.getByRole('region', { name: kk['evidence.title'] });
          const vThumb = vEvidence.getByRole('button', { name: kkText('evidence.open', { name: 'іс-шара фотосы.jpg' }) });
          await waitDrawn(vThumb.locator('img'));
          assert.equal(await vEvidence.getByRole('button', { name: kk['evidence.remove'] }).count(), 0);
          // The photo opens full size in a dialog named by its file, and closes again.
          await vThumb.click();
          const viewer = vpage.getByRole('dialog', { name: 'іс-шара фотосы.jpg' });
          await waitDrawn(viewer.locator('img'));
          await assertAccessible(vpage, `the photo viewer at ${size.name} size`);
          await viewer.getByRole('button', { name: kk['common.close'] }).click();
          await viewer.waitFor({ state: 'hidden', ...STEP });
          const section = vpage.getByRole('region', { name: kk['verification.title'] });
          await section.locator('[data-verification="unverified"]').waitFor(STEP);

          // A rejection needs a note: the form says so before anything is sent.
          await section.getByRole('radio', { name: kk['enum.decision.rejected'] }).check();
          await section.getByRole('button', { name: kk['verification.submit'] }).click();
          await section.getByText(kk['error.required']).waitFor(STEP);
          await assertAccessible(vpage, `the verification form with an error at ${size.name} size`);

          if (desktop) {
            // The event changes while the verifier looks at it: the decision meets 412 and the page reads it again.
            const read = await server.api('GET', `/api/v1/events/${event.id}`, { token: organiser });
            const patched = await fetch(`${server.base}/api/v1/events/${event.id}`, {
              method: 'PATCH',
              headers: { authorization: `Bearer ${organiser}`, 'if-match': read.headers.get('etag'), 'content-type': 'application/merge-patch+json' },
              body: JSON.stringify({ description: 'Сурет қосылды' }),
            });
            assert.equal(patched.status, 200, 'the organiser changed the event');
            await section.getByRole('radio', { name: kk['enum.decision.verified'] }).check();
            await section.getByRole('button', { name: kk['verification.submit'] }).click();
            await section.getByText(kk['verification.stale']).waitFor(STEP);
            await vpage.getByText('Сурет қосылды').waitFor(STEP);
          }

          await section.getByRole('radio', { name: kk['enum.decision.verified'] }).check();
          await section.getByLabel(kk['verification.note']).fill('Фотосурет пен сандар сәйкес');
          await section.getByRole('button', { name: kk['verification.submit'] }).click();
          await section.getByText(kk['verification.saved']).waitFor(STEP);
          await section.locator('[data-verification="verified"]').waitFor(STEP);
          await section.getByText(kk['verification.by_you'], { exact: true }).waitFor(STEP);
          await section.getByText('Фотосурет пен сандар сәйкес').waitFor(STEP);
          await assertAccessible(vpage, `the verified event at ${size.name} size`);
          await screenshot(vpage, `evidence-${store}-${size.name}-verified`);
          const verified = await expectStatus(await server.api('GET', `/api/v1/events/${event.id}`, { token: organiser }), 200, 'event');
          assert.equal(verified.verification.status, 'verified');

          // The queue of unverified events no longer lists it; the verified filter of the list does.
          await vpage.goto(`${server.base}/#/verify`);
          await vpage.locator(`li.card[data-event="${plain.id}"]`).waitFor(STEP);
          assert.equal(await vpage.locator(`li.card[data-event="${event.id}"]`).count(), 0, 'gone from the queue');
          await vpage.goto(`${server.base}/#/events?verification=verified&q=${encodeURIComponent(tag)}`);
          await vpage.getByRole('link', { name: event.title }).waitFor(STEP);
          assert.equal(await vpage.getByRole('link', { name: plain.title }).count(), 0, 'the filter keeps the unverified out');

          // The organiser's page now says verified, and offers no removal.
          await page.reload();
          await page.getByRole('heading', { name: event.title, level: 1 }).waitFor(STEP);
          await page.locator('[data-verification="verified"]').waitFor(STEP);
          await evidence.getByText(kk['evidence.locked']).waitFor(STEP);
          assert.equal(await evidence.getByRole('button', { name: kk['evidence.remove'] }).count(), 0, 'no removal once verified');
          await assertAccessible(page, `the organiser's verified event at ${size.name} size`);

          assert.deepEqual(org.problems(), [], "the organiser's page: no request to another origin, no script error, no CSP violation");
          assert.deepEqual(ver.problems(), [], "the verifier's page: the same");
        } finally {
          await org.context.close();
          await ver.context.close();
        }
      });
    }
  });
}
