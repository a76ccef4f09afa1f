/**
 * Backoff between attempts: exponential with full jitter, capped, and
 * `Retry-After` honoured.
 *
 * Names follow `@std/async`'s `retry` (`minTimeout`, `maxTimeout`,
 * `multiplier`) where they fit. Differences, on purpose: jitter is always
 * "full" (AWS's name: a uniform draw between 0 and the exponential delay), and
 * a delay chosen by the server is used as it is, without jitter, up to
 * `maxRetryAfter` (as ky does).
 *
 * @module
 */

import { sleep } from "../core/sleep.ts";
import { RetryError } from "../core/errors.ts";

/** Options for {@linkcode backoffDelay}. */
export interface BackoffOptions {
  /** Delay cap before jitter for the first retry, in ms. @default 500 */
  minTimeout?: number;
  /** Largest delay, in ms. @default 30000 */
  maxTimeout?: number;
  /** Growth per attempt. @default 2 */
  multiplier?: number;
  /** Largest `Retry-After` honoured, in ms; a longer one is cut to this. @default 60000 */
  maxRetryAfter?: number;
  /** Source of randomness in [0, 1), for repeatable tests. @default Math.random */
  random?: () => number;
}

/** Default backoff settings, in one place. */
export const BACKOFF_DEFAULTS: Required<Omit<BackoffOptions, "random">> = {
  minTimeout: 500,
  maxTimeout: 30_000,
  multiplier: 2,
  maxRetryAfter: 60_000,
};

/**
 * The wait before the next attempt.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffDelay } from "./retry.ts";
 * assert.equal(backoffDelay(1, undefined, { random: () => 0.5 }), 250);
 * assert.equal(backoffDelay(1, 2000), 2000); // the server asked for it
 * ```
 *
 * @param attempt The attempt that just failed, counting from 1.
 * @param retryAfterMs The server's `Retry-After`, in ms, if it sent one.
 * @param options Backoff settings.
 * @returns Milliseconds to wait.
 */
export function backoffDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions = {},
): number {
  const o = { ...BACKOFF_DEFAULTS, ...options };
  if (retryAfterMs !== undefined) {
    return Math.min(Math.max(0, retryAfterMs), o.maxRetryAfter);
  }
  const exponential = Math.min(
    o.maxTimeout,
    o.minTimeout * o.multiplier ** (attempt - 1),
  );
  return Math.round((options.random ?? Math.random)() * exponential);
}

/**
 * Parses a `Retry-After` header: seconds (`"120"`) or an HTTP date.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRetryAfter } from "./retry.ts";
 * assert.equal(parseRetryAfter("3"), 3000);
 * ```
 *
 * @param value The header's value, or null.
 * @param now The current time, in ms since the epoch. @default Date.now()
 * @returns Milliseconds to wait (never negative), or undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now(),
): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Options for {@linkcode retry}. */
export interface RetryOptions<E = unknown> extends BackoffOptions {
  /** Attempts in all, the first included. @default 5 */
  maxAttempts?: number;
  /** Whether an error is worth another attempt; others are rethrown at once. @default () => true */
  isRetriable?: (error: E) => boolean;
  /** A wait the error asks for (e.g. from `Retry-After`), in ms; used instead of backoff. @default () => undefined */
  retryAfter?: (error: E) => number | undefined;
  /** Called before each wait, e.g. to report the retry. @default undefined */
  onRetry?: (info: { attempt: number; error: E; delayMs: number }) => void;
  /** Stops waiting and attempting; `retry` then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Waits between attempts; replaceable so tests need not wait. @default sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Calls `fn` until it succeeds, waiting between attempts with
 * {@linkcode backoffDelay} (or the wait the error asks for).
 *
 * Like `@std/async`'s `retry`: same option names, a {@linkcode RetryError}
 * whose `cause` is the last failure. It differs in that a non-retriable
 * error is rethrown as it is, at once, and `fn` receives the attempt number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retry } from "./retry.ts";
 * let calls = 0;
 * const value = await retry(async () => {
 *   if (++calls < 3) throw new Error("flaky");
 *   return "done";
 * }, { minTimeout: 1 });
 * assert.equal(value, "done");
 * assert.equal(calls, 3);
 * ```
 *
 * @param fn The work; gets the attempt number, counting from 1.
 * @param options Attempts, backoff, which errors to retry, cancellation.
 * @returns What `fn` returned.
 * @throws {RetryError} When every attempt failed with a retriable error.
 * @throws {RangeError} When `maxAttempts` is not a positive integer.
 */
export async function retry<T, E = unknown>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions<E> = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(
      `Cannot use "maxAttempts": expected a positive integer, got "${maxAttempts}"`,
    );
  }
  const wait = options.sleep ?? sleep;
  for (let attempt = 1;; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (options.isRetriable && !options.isRetriable(error as E)) throw error;
      if (attempt >= maxAttempts) throw new RetryError(error, attempt);
      const delayMs = backoffDelay(
        attempt,
        options.retryAfter?.(error as E),
        options,
      );
      options.onRetry?.({ attempt, error: error as E, delayMs });
      await wait(delayMs, options.signal);
    }
  }
}
