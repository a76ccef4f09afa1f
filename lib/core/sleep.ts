/**
 * Waiting: the one `sleep` of the code base (retries, the test server's
 * latency and stalls), with `@std/async`'s `delay` semantics.
 *
 * @module
 */

/**
 * Waits `ms`, or rejects with the signal's reason when it aborts first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sleep } from "./sleep.ts";
 * await sleep(1);
 * await assert.rejects(sleep(10_000, AbortSignal.abort(new Error("stop"))), /stop/);
 * ```
 *
 * @param ms How long to wait.
 * @param signal Cuts the wait short.
 * @returns A promise that resolves after `ms`.
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

/**
 * Waits `ms` unless one of `signals` aborts first, without rejecting.
 *
 * @param ms How long to wait.
 * @param signals Any of them aborting ends the wait early.
 * @returns `true` when the full time passed, `false` when a signal aborted.
 */
export function sleepUnlessAborted(
  ms: number,
  ...signals: AbortSignal[]
): Promise<boolean> {
  return sleep(ms, AbortSignal.any(signals)).then(() => true, () => false);
}
