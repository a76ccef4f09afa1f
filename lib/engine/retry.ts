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
 * import { backoffDelay } from "./retry.ts";
 * backoffDelay(1, undefined, { random: () => 0.5 }); // 250
 * backoffDelay(1, 2000); // 2000: the server asked for it
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
 * import { parseRetryAfter } from "./retry.ts";
 * parseRetryAfter("3"); // 3000
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

/**
 * Waits `ms`, or rejects with the signal's reason when it aborts first.
 *
 * @param ms How long to wait.
 * @param signal Cuts the wait short.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
