// The durable outbox: every write is kept in IndexedDB with the Idempotency-Key made when the
// person acted, and sent in order until the server has answered it, so a write made offline or
// lost in flight lands exactly once. Nothing leaves it silently: refused writes wait for the
// person to fix or drop them, and so do writes older than the server's idempotency window.
import { openDB, type IDBPDatabase } from 'idb';

export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** How a person recognises a write in the outbox panel: a message key and its parameters. */
export interface OutboxLabel {
  key: string;
  params?: Record<string, string>;
}

export interface OutboxRequest {
  method: WriteMethod;
  path: string;
  /** Content-Type, If-Match; Idempotency-Key is added from the entry's key. */
  headers: Record<string, string>;
  /** JSON text or a file's bytes. */
  body: string | ArrayBuffer | null;
}

export interface OutboxEntry extends OutboxRequest {
  seq: number;
  key: string;
  account: string;
  createdAt: number;
  label: OutboxLabel;
  state: 'pending' | 'failed';
  attempts: number;
  /** Set when the person chose to send an entry older than the resend window. */
  resendConfirmed: boolean;
  status?: number;
  problem?: unknown;
}

export type Outcome =
  | { kind: 'sent'; status: number; body: unknown; headers: Headers }
  | { kind: 'failed'; status: number; problem: unknown }
  | { kind: 'queued' };

/** Sends one request; throws when the network fails. The outbox adds Idempotency-Key itself. */
export type Transport = (request: OutboxRequest & { headers: Record<string, string> }) => Promise<Response>;

/** The server keeps idempotency keys for 24 hours; past 23 a resend might not be recognised. */
export const RESEND_WINDOW_MS = 23 * 60 * 60 * 1000;

const STORE = 'entries';

/** Statuses that mean "not now": the write stays queued and is tried again later, in order. */
function isTransient(status: number): boolean {
  // 409 is a retry racing its own original, still running on the server.
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface OutboxOptions {
  dbName?: string;
  transport: Transport;
  now?: () => number;
  newKey?: () => string;
}

export class Outbox {
  private db: Promise<IDBPDatabase>;
  private transport: Transport;
  private now: () => number;
  private newKey: () => string;
  private account: string | null = null;
  private listeners = new Set<() => void>();
  private waiters = new Map<number, (o: Outcome) => void>();
  private running: Promise<void> | null = null;
  private again = false;

  constructor(options: OutboxOptions) {
    this.transport = options.transport;
    this.now = options.now ?? Date.now;
    this.newKey = options.newKey ?? (() => crypto.randomUUID());
    this.db = openDB(options.dbName ?? 'adal-outbox', 1, {
      upgrade(db) {
        const store = db.createObjectStore(STORE, { keyPath: 'seq', autoIncrement: true });
        store.createIndex('account', 'account');
      },
    });
  }

  /** Only this account's writes are listed and sent; another person's stay untouched. */
  setAccount(account: string | null): void {
    this.account = account;
    this.notify();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  async close(): Promise<void> {
    (await this.db).close();
  }

  /** Keeps a write for the signed-in account; its Idempotency-Key is made now, once. */
  async enqueue(request: OutboxRequest, label: OutboxLabel): Promise<OutboxEntry> {
    if (!this.account) throw new Error('outbox: no account signed in');
    const entry: Omit<OutboxEntry, 'seq'> = {
      ...request,
      key: this.newKey(),
      account: this.account,
      createdAt: this.now(),
      label,
      state: 'pending',
      attempts: 0,
      resendConfirmed: false,
    };
    const db = await this.db;
    const seq = (await db.add(STORE, entry)) as number;
    this.notify();
    return { ...entry, seq };
  }

  /** This account's writes, oldest first. */
  async list(): Promise<OutboxEntry[]> {
    if (!this.account) return [];
    const db = await this.db;
    const all = (await db.getAllFromIndex(STORE, 'account', this.account)) as OutboxEntry[];
    return all.sort((a, b) => a.seq - b.seq);
  }

  /** True when the entry waits for the person because it is older than the resend window. */
  isStale(entry: OutboxEntry): boolean {
    return !entry.resendConfirmed && this.now() - entry.createdAt > RESEND_WINDOW_MS;
  }

  async drop(seq: number): Promise<void> {
    const db = await this.db;
    const entry = (await db.get(STORE, seq)) as OutboxEntry | undefined;
    if (!entry || entry.account !== this.account) return;
    await db.delete(STORE, seq);
    this.settle(seq, { kind: 'failed', status: entry.status ?? 0, problem: entry.problem ?? null });
    this.notify();
  }

  /** The person asks to send a refused or stale write again, with its original key. */
  async resend(seq: number): Promise<void> {
    const db = await this.db;
    const entry = (await db.get(STORE, seq)) as OutboxEntry | undefined;
    if (!entry || entry.account !== this.account) return;
    await db.put(STORE, { ...entry, state: 'pending', resendConfirmed: true });
    this.notify();
    await this.flush();
  }

  /** Deletes this account's writes (signing out: attendees' IINs must not outlive the session). */
  async clearAccount(): Promise<void> {
    if (!this.account) return;
    const db = await this.db;
    const tx = db.transaction(STORE, 'readwrite');
    const index = tx.store.index('account');
    for (let c = await index.openCursor(this.account); c; c = await c.continue()) await c.delete();
    await tx.done;
    this.notify();
  }

  /**
   * Resolves with the entry's first outcome: sent, refused, or still queued (the connection is
   * down or the server asked to wait), so a form can say which happened.
   */
  waitFor(seq: number): Promise<Outcome> {
    return new Promise((resolve) => {
      this.waiters.set(seq, resolve);
    });
  }

  private settle(seq: number, outcome: Outcome): void {
    const waiter = this.waiters.get(seq);
    if (waiter) {
      this.waiters.delete(seq);
      waiter(outcome);
    }
  }

  /** Sends this account's pending writes in order; one flush at a time. */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.sendPending();
        } while (this.again);
      } finally {
        this.running = null;
        // Whatever was not reached this round is still queued; tell anyone waiting on it.
        for (const seq of [...this.waiters.keys()]) this.settle(seq, { kind: 'queued' });
      }
    })();
    return this.running;
  }

  private async sendPending(): Promise<void> {
    const db = await this.db;
    for (const entry of await this.list()) {
      if (entry.state !== 'pending') continue;
      if (this.isStale(entry)) {
        this.settle(entry.seq, { kind: 'queued' });
        continue;
      }
      let response: Response;
      try {
        response = await this.transport({
          method: entry.method,
          path: entry.path,
          headers: { ...entry.headers, 'Idempotency-Key': entry.key },
          body: entry.body,
        });
      } catch {
        // Offline or lost in flight: keep this and everything after it, in order.
        await db.put(STORE, { ...entry, attempts: entry.attempts + 1 });
        this.settle(entry.seq, { kind: 'queued' });
        this.notify();
        return;
      }
      if (response.ok) {
        const body = await readBody(response);
        await db.delete(STORE, entry.seq);
        this.settle(entry.seq, { kind: 'sent', status: response.status, body, headers: response.headers });
        this.notify();
        continue;
      }
      if (isTransient(response.status) || response.status === 401) {
        // 401 here means the session ended after a refresh was tried: sign in again, then resend.
        await db.put(STORE, { ...entry, attempts: entry.attempts + 1, status: response.status });
        this.settle(entry.seq, { kind: 'queued' });
        this.notify();
        return;
      }
      const problem = await readBody(response);
      await db.put(STORE, {
        ...entry,
        state: 'failed',
        attempts: entry.attempts + 1,
        status: response.status,
        problem,
      });
      this.settle(entry.seq, { kind: 'failed', status: response.status, problem });
      this.notify();
    }
  }
}
