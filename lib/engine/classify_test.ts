/**
 * Unit tests of `classify.ts`: the verdict of every status, the failure of
 * an answer that is not 2xx, and how a network failure is judged.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AttemptError } from "../core/errors.ts";
import {
  classifyStatus,
  networkFailure,
  statusCode,
  statusFailure,
} from "./classify.ts";

Deno.test("classifyStatus follows the design's table", () => {
  for (const s of [200, 204, 206]) assert.equal(classifyStatus(s), "ok");
  for (const s of [404, 410]) assert.equal(classifyStatus(s), "not_found");
  for (const s of [408, 425, 429, 500, 502, 503, 504]) {
    assert.equal(classifyStatus(s), "retryable");
  }
  for (const s of [400, 401, 403, 405, 413, 501, 505, 304]) {
    assert.equal(classifyStatus(s), "fatal");
  }
});

Deno.test("statusCode: NOT_FOUND for 404 and 410, HTTP_STATUS for the rest", () => {
  assert.equal(statusCode(404), "NOT_FOUND");
  assert.equal(statusCode(410), "NOT_FOUND");
  assert.equal(statusCode(503), "HTTP_STATUS");
  assert.equal(statusCode(403), "HTTP_STATUS");
});

Deno.test("statusFailure: none for 2xx; the verdict, code, status and Retry-After otherwise, the reason phrase escaped", () => {
  const answer = (
    status: number,
    statusText = "",
    headers: Record<string, string> = {},
  ) => ({ status, statusText, headers: new Headers(headers) });
  assert.equal(statusFailure(answer(206)), undefined);
  const limited = statusFailure(
    answer(429, "Too Many Requests", { "retry-after": "7" }),
  )!;
  assert.ok(limited instanceof AttemptError);
  assert.equal(limited.message, "HTTP error 429 - Too Many Requests");
  assert.equal(limited.verdict, "retryable");
  assert.equal(limited.status, 429);
  assert.equal(limited.retryAfterMs, 7000);
  const gone = statusFailure(answer(410, "Gone"))!;
  assert.deepEqual([gone.verdict, gone.code], ["not_found", "NOT_FOUND"]);
  const refused = statusFailure(answer(403, "No\x1b[2J"))!;
  assert.equal(refused.verdict, "fatal");
  assert.equal(refused.retryAfterMs, undefined);
  assert.ok(!refused.message.includes("\x1b"), refused.message);
});

Deno.test("networkFailure: a connection failure is retryable NETWORK; a passed deadline is TIMEOUT with the deadline's reason", () => {
  const live = new AbortController();
  const reset = networkFailure(new Error("connection reset"), live.signal);
  assert.deepEqual([reset.verdict, reset.code], ["retryable", "NETWORK"]);
  assert.equal(reset.message, "connection reset");
  const late = new AbortController();
  late.abort(new Error("idle timeout after 30 s"));
  const timedOut = networkFailure(new Error("aborted"), late.signal);
  assert.deepEqual([timedOut.verdict, timedOut.code], ["retryable", "TIMEOUT"]);
  assert.equal(timedOut.message, "idle timeout after 30 s");
  const already = new AttemptError("x", "fatal", { code: "HTTP_STATUS" });
  assert.equal(networkFailure(already, live.signal), already);
});

Deno.test("networkFailure: a missing permission is not a network failure: it is rethrown", () => {
  assert.throws(
    () =>
      networkFailure(
        new Deno.errors.NotCapable("Requires net access"),
        new AbortController().signal,
      ),
    Deno.errors.NotCapable,
  );
});
