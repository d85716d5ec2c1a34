// The verification queue's order, apart from the page so the unit tests can check it.

interface Queued {
  flags: readonly string[];
}

/** Events with more flags first, then fewer, then none; the API's order (latest first) kept within. */
export function queueOrder<E extends Queued>(events: readonly E[]): E[] {
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => b.e.flags.length - a.e.flags.length || a.i - b.i)
    .map(({ e }) => e);
}
