import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, RESEND_WINDOW_MS, type OutboxRequest, type Transport } from '../../src/api/outbox';

interface Sent {
  method: string;
  path: string;
  key: string;
  body: unknown;
}

/** A stand-in for the network: records each request, answers from a script (or throws). */
function fakeNetwork(answers: Array<number | 'offline'>) {
  const sent: Sent[] = [];
  let next = 0;
  const transport: Transport = async (r) => {
    const answer = answers[Math.min(next, answers.length - 1)] ?? 201;
    next += 1;
    if (answer === 'offline') throw new TypeError('Failed to fetch');
    sent.push({ method: r.method, path: r.path, key: r.headers['Idempotency-Key'] ?? '', body: r.body });
    const body = answer >= 400 ? { status: answer, title: 'refused', errors: [{ field: 'title', code: 'length', message: 'x' }] } : { id: `e${sent.length}` };
    return new Response(JSON.stringify(body), { status: answer, headers: { 'Content-Type': 'application/json' } });
  };
  return { sent, transport, answers };
}

let dbCount = 0;
const opened: Outbox[] = [];
function outboxWith(transport: Transport, opts: { dbName?: string; now?: () => number } = {}) {
  const o = new Outbox({ dbName: opts.dbName ?? `outbox-test-${++dbCount}`, transport, now: opts.now });
  opened.push(o);
  return o;
}

afterEach(async () => {
  while (opened.length) await opened.pop()?.close();
});

const create = (title: string): OutboxRequest => ({
  method: 'POST',
  path: '/api/v1/events',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ title }),
});
const label = { key: 'outbox.op.create_event', params: { title: 'x' } };

describe('the outbox', () => {
  it('sends writes in the order they were made', async () => {
    const net = fakeNetwork([201]);
    const o = outboxWith(net.transport);
    o.setAccount('alice');
    for (const title of ['first', 'second', 'third']) await o.enqueue(create(title), label);
    await o.flush();
    expect(net.sent.map((s) => JSON.parse(String(s.body)).title)).toEqual(['first', 'second', 'third']);
    expect(await o.list()).toEqual([]);
  });

  it('keeps a write that failed in flight and resends it with the same Idempotency-Key', async () => {
    const net = fakeNetwork(['offline', 503, 201]);
    const o = outboxWith(net.transport);
    o.setAccount('alice');
    const entry = await o.enqueue(create('seminar'), label);
    await o.flush(); // offline
    expect(await o.list()).toHaveLength(1);
    await o.flush(); // 503: the server asks to wait
    expect((await o.list())[0]?.state).toBe('pending');
    await o.flush(); // lands
    expect(net.sent.map((s) => s.key)).toEqual([entry.key, entry.key]);
    expect(await o.list()).toEqual([]);
  });

  it('does not send later writes past one that is still waiting, so order holds', async () => {
    const net = fakeNetwork(['offline', 201]);
    const o = outboxWith(net.transport);
    o.setAccount('alice');
    await o.enqueue(create('first'), label);
    await o.enqueue(create('second'), label);
    await o.flush();
    expect(net.sent).toHaveLength(0);
    expect((await o.list()).map((e) => e.attempts)).toEqual([1, 0]);
    await o.flush();
    expect(net.sent.map((s) => JSON.parse(String(s.body)).title)).toEqual(['first', 'second']);
  });

  it('retries a 409 (a retry racing its original) later instead of failing it', async () => {
    const net = fakeNetwork([409, 201]);
    const o = outboxWith(net.transport);
    o.setAccount('alice');
    await o.enqueue(create('x'), label);
    await o.flush();
    expect((await o.list())[0]?.state).toBe('pending');
    await o.flush();
    expect(await o.list()).toEqual([]);
  });

  it('keeps a 412 as failed, with the problem, for the person to resolve, and sends the rest', async () => {
    const net = fakeNetwork([412, 201]);
    const o = outboxWith(net.transport);
    o.setAccount('alice');
    await o.enqueue({ method: 'PUT', path: '/api/v1/events/1/attendance', headers: { 'If-Match': '"1"' }, body: '{}' }, label);
    await o.enqueue(create('next'), label);
    await o.flush();
    const left = await o.list();
    expect(left).toHaveLength(1);
    expect(left[0]?.state).toBe('failed');
    expect(left[0]?.status).toBe(412);
    expect(left[0]?.headers['If-Match']).toBe('"1"');
    // A failed write is not resent on its own.
    await o.flush();
    expect(net.sent).toHaveLength(2);
  });

  it('keeps a 422 as failed and resends it with its original key only when asked', async () => {
    const net = fakeNetwork([422, 201]);
    const o = outboxWith(net.transport);
    o.setAccount('alice');
    const entry = await o.enqueue(create('x'), label);
    await o.flush();
    expect((await o.list())[0]?.state).toBe('failed');
    await o.resend(entry.seq);
    expect(net.sent.map((s) => s.key)).toEqual([entry.key, entry.key]);
    expect(await o.list()).toEqual([]);
  });

  it('delivers the first outcome to whoever waits on the write', async () => {
    const net = fakeNetwork([201]);
    const o = outboxWith(net.transport);
    o.setAccount('alice');
    const entry = await o.enqueue(create('x'), label);
    const outcome = o.waitFor(entry.seq);
    await o.flush();
    expect(await outcome).toMatchObject({ kind: 'sent', status: 201, body: { id: 'e1' } });
  });

  it('tells a waiter the write is queued when the network is down', async () => {
    const net = fakeNetwork(['offline']);
    const o = outboxWith(net.transport);
    o.setAccount('alice');
    const first = await o.enqueue(create('a'), label);
    const second = await o.enqueue(create('b'), label);
    const outcomes = Promise.all([o.waitFor(first.seq), o.waitFor(second.seq)]);
    await o.flush();
    expect(await outcomes).toEqual([{ kind: 'queued' }, { kind: 'queued' }]);
  });

  it('never resends on its own a write older than 23 hours, but does when the person asks', async () => {
    let now = Date.UTC(2026, 11, 1, 9);
    const net = fakeNetwork(['offline', 201]);
    const o = outboxWith(net.transport, { now: () => now });
    o.setAccount('alice');
    const entry = await o.enqueue(create('old'), label);
    await o.flush(); // offline
    now += RESEND_WINDOW_MS + 1;
    await o.flush();
    expect(net.sent).toHaveLength(0);
    const [kept] = await o.list();
    expect(kept && o.isStale(kept)).toBe(true);
    await o.resend(entry.seq);
    expect(net.sent.map((s) => s.key)).toEqual([entry.key]);
  });

  it('sends a write of 22 hours ago on its own', async () => {
    let now = Date.UTC(2026, 11, 1, 9);
    const net = fakeNetwork([201]);
    const o = outboxWith(net.transport, { now: () => now });
    o.setAccount('alice');
    await o.enqueue(create('recent'), label);
    now += 22 * 3600 * 1000;
    await o.flush();
    expect(net.sent).toHaveLength(1);
  });

  it("never shows or replays another account's writes", async () => {
    const net = fakeNetwork(['offline', 201]);
    const o = outboxWith(net.transport);
    o.setAccount('alice');
    await o.enqueue(create("alice's"), label);
    await o.flush(); // offline: stays
    o.setAccount('bob');
    expect(await o.list()).toEqual([]);
    await o.flush();
    expect(net.sent).toHaveLength(0);
    await o.enqueue(create("bob's"), label);
    await o.flush();
    expect(net.sent.map((s) => JSON.parse(String(s.body)).title)).toEqual(["bob's"]);
    o.setAccount('alice');
    expect((await o.list()).map((e) => JSON.parse(String(e.body)).title)).toEqual(["alice's"]);
  });

  it("clears only the signed-out account's writes", async () => {
    const net = fakeNetwork(['offline']);
    const o = outboxWith(net.transport);
    o.setAccount('alice');
    await o.enqueue(create('a'), label);
    o.setAccount('bob');
    await o.enqueue(create('b'), label);
    await o.clearAccount();
    expect(await o.list()).toEqual([]);
    o.setAccount('alice');
    expect(await o.list()).toHaveLength(1);
  });

  it('keeps its writes and their keys across a re-open of the database (a reload)', async () => {
    const net = fakeNetwork(['offline']);
    const first = outboxWith(net.transport, { dbName: 'outbox-reload' });
    first.setAccount('alice');
    const entry = await first.enqueue(create('offline'), label);
    await first.flush();
    await first.close();
    opened.splice(opened.indexOf(first), 1);

    const online = fakeNetwork([201]);
    const second = outboxWith(online.transport, { dbName: 'outbox-reload' });
    second.setAccount('alice');
    expect((await second.list()).map((e) => e.key)).toEqual([entry.key]);
    await second.flush();
    expect(online.sent.map((s) => s.key)).toEqual([entry.key]);
    expect(await second.list()).toEqual([]);
  });

  it('keeps a file body (a sign-in sheet) byte for byte', async () => {
    const net = fakeNetwork([201]);
    const o = outboxWith(net.transport);
    o.setAccount('alice');
    const bytes = new TextEncoder().encode('full_name,iin\nAruzhan,\n').buffer;
    await o.enqueue({ method: 'POST', path: '/api/v1/events/1/attendees', headers: { 'Content-Type': 'text/csv' }, body: bytes }, label);
    await o.flush();
    expect(new TextDecoder().decode(net.sent[0]?.body as ArrayBuffer)).toBe('full_name,iin\nAruzhan,\n');
  });

  it('refuses a write when nobody is signed in', async () => {
    const o = outboxWith(fakeNetwork([201]).transport);
    await expect(o.enqueue(create('x'), label)).rejects.toThrow();
  });
});
