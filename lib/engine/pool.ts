/**
 * A pooled map over an async iterable that yields results as they complete.
 *
 * Like `@std/async`'s `pooledMap(poolLimit, items, fn)` it bounds how many
 * calls of `fn` run at once and takes items lazily, so a million-item source
 * is never held in memory. It differs in three ways, on purpose:
 *
 * - results come in completion order (the book's `as_completed`), so no
 *   result waits behind a slow one;
 * - an optional per-key limit (e.g. per host) bounds calls that share a key;
 * - when `signal` aborts, no new call starts; calls already running get the
 *   signal, and their results are still yielded before the pool returns
 *   (a download's `fn` turns a cancel into a "cancelled" outcome).
 *
 * `fn` is expected never to throw; if it does, that is a bug and the pool
 * rethrows it once the calls in progress have settled. An error thrown by the
 * source (a bad input line) is rethrown the same way, after the results of
 * the calls in progress have been yielded.
 *
 * @module
 */

/** Options for {@linkcode pool}. */
export interface PoolOptions<T> {
  /** Most calls of `fn` in progress at once. Must be a positive integer. */
  poolLimit: number;
  /** Key of an item for `perKeyLimit` (e.g. the URL's host). @default undefined (no per-key limit) */
  keyOf?: (item: T) => string;
  /** Most calls in progress at once that share a key. @default Infinity */
  perKeyLimit?: number;
  /**
   * How many items may be taken from the source and held while they wait for
   * their key to have room. Bounds memory when one key dominates.
   * @default 1024
   */
  maxWaiting?: number;
  /** Stops starting new calls when aborted. */
  signal?: AbortSignal;
}

/**
 * Calls `fn` on every item with at most `poolLimit` calls in progress and
 * yields each result as soon as it is ready.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pool } from "./pool.ts";
 * const sizes: number[] = [];
 * for await (const n of pool([3, 1, 2], async (x) => x * 10, { poolLimit: 2 })) {
 *   sizes.push(n);
 * }
 * assert.deepEqual(sizes.sort(), [10, 20, 30]);
 * ```
 *
 * @param items The items, taken lazily.
 * @param fn Called once per item with the pool's signal; should not throw.
 * @param options Limits and cancellation.
 * @returns The results, in completion order.
 * @throws {RangeError} When a limit is not a positive integer.
 */
export async function* pool<T, R>(
  items: AsyncIterable<T> | Iterable<T>,
  fn: (item: T, signal?: AbortSignal) => Promise<R>,
  options: PoolOptions<T>,
): AsyncGenerator<R> {
  checkLimit("poolLimit", options.poolLimit);
  const perKeyLimit = options.perKeyLimit ?? Infinity;
  if (perKeyLimit !== Infinity) checkLimit("perKeyLimit", perKeyLimit);
  const { signal } = options;
  const run: PoolRun<T, R> = {
    source: Symbol.asyncIterator in items
      ? items[Symbol.asyncIterator]()
      : (items as Iterable<T>)[Symbol.iterator](),
    fn,
    options: { ...options, perKeyLimit },
    maxWaiting: options.maxWaiting ?? 1024,
    exhausted: false,
    active: 0,
    activeByKey: new Map(),
    waiting: [],
    results: [],
  };
  const onAbort = () => notify(run);
  signal?.addEventListener("abort", onAbort);
  try {
    while (true) {
      const woken = new Promise<void>((resolve) => run.wake = resolve);
      await fill(run, woken.then((): typeof WOKEN => WOKEN));
      if (run.results.length > 0) {
        while (run.results.length > 0) yield run.results.shift()!;
        continue; // slots may have freed meanwhile: fill them before waiting
      }
      if (run.active === 0) {
        if (run.bug) throw run.bug.error;
        if (run.sourceError) throw run.sourceError.error;
        if (signal?.aborted || (run.exhausted && run.waiting.length === 0)) {
          return;
        }
      }
      // After an abort nothing more is taken, so a source item that has
      // come (a settled pendingNext) would wake this loop at once, forever,
      // starving the event loop the running calls need to end.
      await (run.pendingNext && !signal?.aborted
        ? Promise.race([woken, run.pendingNext.then(() => {}, () => {})])
        : woken);
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await close(run);
  }
}

/** A pool's state while it runs, shared by its steps. */
interface PoolRun<T, R> {
  source: AsyncIterator<T> | Iterator<T>;
  fn: (item: T, signal?: AbortSignal) => Promise<R>;
  options: PoolOptions<T> & { perKeyLimit: number };
  maxWaiting: number;
  /** The source has no more items (or failed). */
  exhausted: boolean;
  /** Calls in progress, in all and by key. */
  active: number;
  activeByKey: Map<string, number>;
  /** Items taken from the source, waiting for their key to have room. */
  waiting: T[];
  /** Finished results not yet yielded. */
  results: R[];
  /** What `fn` threw (a bug), or the source (a bad input line). */
  bug?: { error: unknown };
  sourceError?: { error: unknown };
  /**
   * The source's next item, requested and not yet come. It is never
   * requested twice, and never waited for alone: a finished result or an
   * abort wakes the pool too (a list on a stdin that stays open may never
   * send its next line).
   */
  pendingNext?: Promise<IteratorResult<T>>;
  /** Wakes the pool's loop. */
  wake?: () => void;
}

/** Wakes the pool's loop, once. */
function notify<T, R>(run: PoolRun<T, R>): void {
  const wake = run.wake;
  run.wake = undefined;
  wake?.();
}

/** Whether an item's key has room for another call. */
function hasRoom<T, R>(run: PoolRun<T, R>, item: T): boolean {
  const { keyOf, perKeyLimit } = run.options;
  return !keyOf || (run.activeByKey.get(keyOf(item)) ?? 0) < perKeyLimit;
}

/** Starts the call for an item; its end frees its slot and wakes the pool. */
function start<T, R>(run: PoolRun<T, R>, item: T): void {
  run.active++;
  const key = run.options.keyOf?.(item);
  if (key !== undefined) {
    run.activeByKey.set(key, (run.activeByKey.get(key) ?? 0) + 1);
  }
  // One reaction per call, not a `then` and a `finally` (two promises).
  const settled = () => {
    run.active--;
    if (key !== undefined) {
      const left = run.activeByKey.get(key)! - 1;
      if (left === 0) run.activeByKey.delete(key);
      else run.activeByKey.set(key, left);
    }
    notify(run);
  };
  run.fn(item, run.options.signal).then(
    (result) => {
      run.results.push(result);
      settled();
    },
    (error) => {
      run.bug ??= { error };
      settled();
    },
  );
}

/**
 * Fills free slots: first from items waiting for their key, then from the
 * source; stops to hand over finished results first, so a fast `fn` cannot
 * make the pool drain the whole source before yielding.
 */
async function fill<T, R>(
  run: PoolRun<T, R>,
  wokenFirst: Promise<typeof WOKEN>,
): Promise<void> {
  const { poolLimit, signal } = run.options;
  while (
    run.active < poolLimit && run.results.length === 0 && !signal?.aborted &&
    !run.bug
  ) {
    const index = run.waiting.findIndex((item) => hasRoom(run, item));
    if (index >= 0) {
      start(run, run.waiting.splice(index, 1)[0]);
      continue;
    }
    if (run.exhausted || run.waiting.length >= run.maxWaiting) return;
    run.pendingNext ??= Promise.resolve(run.source.next());
    let next: IteratorResult<T> | typeof WOKEN;
    try {
      next = await Promise.race([run.pendingNext, wokenFirst]);
    } catch (error) {
      // A bad input line: start nothing more, let running calls finish
      // and hand over their results, then report it.
      run.pendingNext = undefined;
      run.sourceError = { error };
      run.exhausted = true;
      return;
    }
    if (next === WOKEN) return; // the item stays requested
    run.pendingNext = undefined;
    if (next.done) {
      run.exhausted = true;
      return;
    }
    if (hasRoom(run, next.value)) start(run, next.value);
    else run.waiting.push(next.value);
  }
}

/** Closes the source when the pool ends before it did. */
async function close<T, R>(run: PoolRun<T, R>): Promise<void> {
  if (run.pendingNext) {
    // An item is still requested: the source cannot take `return` until
    // it comes, so leave it rather than wait for it.
    run.pendingNext.catch(() => {});
    Promise.resolve(run.source.return?.()).catch(() => {});
  } else if (!run.exhausted) await run.source.return?.();
}

/** What waiting for the source resolves to when the pool is woken first. */
const WOKEN = Symbol("woken");

function checkLimit(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot use "${name}": expected a positive integer, got "${value}"`,
    );
  }
}
