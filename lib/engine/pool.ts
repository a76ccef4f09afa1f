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
 * import { pool } from "./pool.ts";
 * const sizes = [];
 * for await (const n of pool([3, 1, 2], async (x) => x * 10, { poolLimit: 2 })) {
 *   sizes.push(n);
 * }
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
  const { poolLimit, keyOf, signal } = options;
  const perKeyLimit = options.perKeyLimit ?? Infinity;
  const maxWaiting = options.maxWaiting ?? 1024;
  checkLimit("poolLimit", poolLimit);
  if (perKeyLimit !== Infinity) checkLimit("perKeyLimit", perKeyLimit);

  const source = Symbol.asyncIterator in items
    ? items[Symbol.asyncIterator]()
    : (items as Iterable<T>)[Symbol.iterator]();
  let exhausted = false;
  let active = 0;
  const activeByKey = new Map<string, number>();
  const waiting: T[] = [];
  const results: R[] = [];
  let bug: { error: unknown } | undefined;
  let sourceError: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  signal?.addEventListener("abort", notify);

  const hasRoom = (item: T) =>
    !keyOf || (activeByKey.get(keyOf(item)) ?? 0) < perKeyLimit;
  const start = (item: T) => {
    active++;
    const key = keyOf?.(item);
    if (key !== undefined) {
      activeByKey.set(key, (activeByKey.get(key) ?? 0) + 1);
    }
    fn(item, signal).then(
      (result) => results.push(result),
      (error) => bug ??= { error },
    ).finally(() => {
      active--;
      if (key !== undefined) {
        const left = activeByKey.get(key)! - 1;
        if (left === 0) activeByKey.delete(key);
        else activeByKey.set(key, left);
      }
      notify();
    });
  };

  // The source's next item, requested and not yet come. It is never
  // requested twice, and never waited for alone: a finished result or an
  // abort wakes the pool too (a list on a stdin that stays open may never
  // send its next line).
  let pendingNext: Promise<IteratorResult<T>> | undefined;
  try {
    while (true) {
      const woken = new Promise<void>((resolve) => wake = resolve);
      const wokenFirst = woken.then((): typeof WOKEN => WOKEN);
      // Fill free slots: first from items waiting for their key, then from the
      // source; stop to hand over finished results first, so a fast `fn`
      // cannot make the pool drain the whole source before yielding.
      while (
        active < poolLimit && results.length === 0 && !signal?.aborted && !bug
      ) {
        const index = waiting.findIndex(hasRoom);
        if (index >= 0) {
          start(waiting.splice(index, 1)[0]);
          continue;
        }
        if (exhausted || waiting.length >= maxWaiting) break;
        pendingNext ??= Promise.resolve(source.next());
        let next: IteratorResult<T> | typeof WOKEN;
        try {
          next = await Promise.race([pendingNext, wokenFirst]);
        } catch (error) {
          // A bad input line: start nothing more, let running calls finish
          // and hand over their results, then report it.
          pendingNext = undefined;
          sourceError = { error };
          exhausted = true;
          break;
        }
        if (next === WOKEN) break; // the item stays requested
        pendingNext = undefined;
        if (next.done) {
          exhausted = true;
          break;
        }
        if (hasRoom(next.value)) start(next.value);
        else waiting.push(next.value);
      }
      if (results.length > 0) {
        while (results.length > 0) yield results.shift()!;
        continue; // slots may have freed meanwhile: fill them before waiting
      }
      if (active === 0) {
        if (bug) throw bug.error;
        if (sourceError) throw sourceError.error;
        if (signal?.aborted || (exhausted && waiting.length === 0)) return;
      }
      await (pendingNext
        ? Promise.race([woken, pendingNext.then(() => {}, () => {})])
        : woken);
    }
  } finally {
    signal?.removeEventListener("abort", notify);
    if (pendingNext) {
      // An item is still requested: the source cannot take `return` until
      // it comes, so leave it rather than wait for it.
      pendingNext.catch(() => {});
      Promise.resolve(source.return?.()).catch(() => {});
    } else if (!exhausted) await source.return?.();
  }
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
