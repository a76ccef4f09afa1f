/**
 * Unit tests of `retry.ts`: the backoff's numbers, `Retry-After`, and the
 * retry loop (attempts, giving up, non-retriable errors, cancellation).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  BACKOFF_DEFAULTS,
  backoffDelay,
  parseRetryAfter,
  retry,
} from "./retry.ts";
import { sleep } from "../core/sleep.ts";
import { RetryError } from "../core/errors.ts";

Deno.test("backoffDelay is full jitter of a capped exponential", () => {
  const top = (attempt: number) =>
    backoffDelay(attempt, undefined, { random: () => 0.999999 });
  assert.equal(backoffDelay(3, undefined, { random: () => 0 }), 0);
  assert.equal(top(1), Math.round(0.999999 * BACKOFF_DEFAULTS.minTimeout));
  assert.equal(top(2), Math.round(0.999999 * BACKOFF_DEFAULTS.minTimeout * 2));
  assert.equal(top(30), Math.round(0.999999 * BACKOFF_DEFAULTS.maxTimeout));
});

Deno.test("backoffDelay uses Retry-After as given, capped, without jitter", () => {
  assert.equal(backoffDelay(1, 2000, { random: () => 0 }), 2000);
  assert.equal(backoffDelay(1, 10 * 60_000), BACKOFF_DEFAULTS.maxRetryAfter);
  assert.equal(backoffDelay(1, -5), 0);
});

Deno.test("parseRetryAfter reads seconds and HTTP dates", () => {
  const now = Date.parse("Sun, 29 Nov 2026 18:00:00 GMT");
  assert.equal(parseRetryAfter("3", now), 3000);
  assert.equal(parseRetryAfter("Sun, 29 Nov 2026 18:00:05 GMT", now), 5000);
  assert.equal(parseRetryAfter("Sun, 29 Nov 2026 17:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(parseRetryAfter("soon", now), undefined);
});

Deno.test("sleep rejects with the signal's reason when aborted", async () => {
  const controller = new AbortController();
  const waiting = sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
});

Deno.test("retry calls again until success, counting attempts", async () => {
  const delays: number[] = [];
  let calls = 0;
  const value = await retry((n) => {
    calls++;
    assert.equal(n, calls);
    return calls < 3
      ? Promise.reject(new Error("flaky"))
      : Promise.resolve("done");
  }, {
    sleep: (ms) => (delays.push(ms), Promise.resolve()),
    random: () => 1 - 1e-9,
  });
  assert.equal(value, "done");
  assert.equal(calls, 3);
  assert.deepEqual(delays, [500, 1000]);
});

Deno.test("retry gives up with a RetryError whose cause is the last failure", async () => {
  const noWait = () => Promise.resolve();
  let calls = 0;
  const error = await retry(
    () => Promise.reject(new Error(`fail ${++calls}`)),
    { maxAttempts: 3, sleep: noWait },
  )
    .catch((e) => e);
  assert.ok(error instanceof RetryError);
  assert.equal(error.attempts, 3);
  assert.equal((error.cause as Error).message, "fail 3");
});

Deno.test("retry rethrows a non-retriable error at once and uses the wait an error asks for", async () => {
  const delays: number[] = [];
  let calls = 0;
  await assert.rejects(
    retry(() => Promise.reject(new TypeError(`bug ${++calls}`)), {
      isRetriable: (e) => !(e instanceof TypeError),
      sleep: () => Promise.resolve(),
    }),
    /bug 1/,
  );
  assert.equal(calls, 1);
  await retry(
    (n) => n === 1 ? Promise.reject(new Error("busy")) : Promise.resolve(),
    {
      retryAfter: () => 1234,
      sleep: (ms) => (delays.push(ms), Promise.resolve()),
    },
  );
  assert.deepEqual(delays, [1234]);
  await assert.rejects(
    retry(() => Promise.resolve(), { maxAttempts: 0 }),
    RangeError,
  );
});

Deno.test("retry stops when its signal aborts", async () => {
  const controller = new AbortController();
  const error = await retry(() => {
    controller.abort(new Error("stopped"));
    return Promise.reject(new Error("fail"));
  }, { signal: controller.signal }).catch((e) => e);
  assert.equal(error.message, "stopped");
});
