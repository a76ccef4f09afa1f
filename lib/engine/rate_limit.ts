/**
 * Download rate limits (`--limit-rate` for the whole run,
 * `--max-download-limit` per download): a token bucket that body readers
 * ask before going on, so bytes are read from the socket no faster than the
 * limit and the server's sends back up in TCP (memory stays flat).
 *
 * @module
 */

import { sleep } from "../core/sleep.ts";

/** A byte budget per second, shared by whoever paces against it. */
export interface RateLimit {
  /** Bytes per second. */
  readonly bytesPerSecond: number;
  /**
   * Books `bytes` against the budget and returns how long, in ms, the reader
   * must wait before reading on (0 when within the budget).
   */
  reserve(bytes: number): number;
}

/** Options for {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /**
   * Milliseconds of unused budget an idle limit saves up, so a reader that
   * paused may catch up by that much. @default 100
   */
  burstMs?: number;
  /** The clock, in ms; replaceable for tests. @default performance.now */
  now?: () => number;
}

/**
 * A token bucket of `bytesPerSecond`: every booking moves the time the
 * budget is spent until; a reader waits until then.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateLimit } from "./rate_limit.ts";
 * let now = 0;
 * const limit = rateLimit(1000, { burstMs: 0, now: () => now }); // 1000 B/s
 * assert.equal(limit.reserve(500), 500); // wait 500 ms before reading on
 * now = 2000; // idle for a while: no budget saved up without a burst
 * assert.equal(limit.reserve(100), 100);
 * ```
 *
 * @param bytesPerSecond The rate, above 0.
 * @param options Burst allowance and clock.
 * @returns The limit.
 * @throws {RangeError} When the rate is not a positive number.
 */
export function rateLimit(
  bytesPerSecond: number,
  options: RateLimitOptions = {},
): RateLimit {
  if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) {
    throw new RangeError(
      `a rate limit must be a positive number, got ${bytesPerSecond}`,
    );
  }
  const burstMs = options.burstMs ?? 100;
  const now = options.now ?? (() => performance.now());
  let paidUntil = now();
  return {
    bytesPerSecond,
    reserve(bytes) {
      const t = now();
      paidUntil = Math.max(paidUntil, t - burstMs) +
        bytes * 1000 / bytesPerSecond;
      return Math.max(0, paidUntil - t);
    },
  };
}

/** Longest single sleep of {@linkcode pace}: `onWait` is called at least this often. */
const PACE_STEP_MS = 1000;

/**
 * Books `bytes` against every limit and waits as long as the strictest one
 * asks (limits booked later see the time already waited).
 *
 * @param limits The limits that apply (none: returns at once).
 * @param bytes Bytes just read.
 * @param options `signal` ends the wait (rejecting with its reason);
 *   `onWait` is called about every second while waiting, e.g. to tell an
 *   idle deadline that the pause is ours, not the server's.
 */
export async function pace(
  limits: readonly RateLimit[],
  bytes: number,
  options: { signal?: AbortSignal; onWait?: () => void } = {},
): Promise<void> {
  for (const limit of limits) {
    let wait = limit.reserve(bytes);
    while (wait > 0) {
      const step = Math.min(wait, PACE_STEP_MS);
      await sleep(step, options.signal);
      options.onWait?.();
      wait -= step;
    }
  }
}

/**
 * The most bytes worth reading at once under these limits: about 50 ms of
 * the strictest one (at least 16 KiB), so pacing stays smooth; Infinity
 * when there is no limit.
 */
export function readSizeFor(
  limits: readonly Pick<RateLimit, "bytesPerSecond">[],
): number {
  if (limits.length === 0) return Infinity;
  const slowest = Math.min(...limits.map((l) => l.bytesPerSecond));
  return Math.max(16 << 10, Math.floor(slowest / 20));
}

/**
 * The largest body to read whole (and pace after) under these limits: one
 * paced read ({@linkcode readSizeFor}), so no body crosses the wire
 * faster than the limit and is waited for afterwards; a larger one is
 * streamed, each read paced. `wholeLimit` when it is lower, or without
 * limits.
 *
 * @param wholeLimit The largest body read whole without a limit.
 * @param limits The limits that may apply to a body.
 * @returns The largest body to read whole.
 */
export function wholeBodyLimit(
  wholeLimit: number,
  limits: readonly Pick<RateLimit, "bytesPerSecond">[],
): number {
  return Math.min(wholeLimit, readSizeFor(limits));
}
