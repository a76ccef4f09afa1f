/**
 * Unit tests of `resume.ts`: when a `.part` is resumed, what is asked, which
 * answers may be appended to it, and what a failed attempt keeps.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  judgeRange,
  keepsPart,
  keepsSplitPart,
  partMeta,
  planResume,
  resumeHeaders,
} from "./resume.ts";
import { AttemptError, RetryError, SplitAbort } from "../core/errors.ts";

const URL_A = "http://h/f";
const part = (size: number, meta: Record<string, unknown> = {}) => ({
  size,
  meta: { url: URL_A, etag: '"v1"', total: 300, ...meta },
});

Deno.test("planResume: a .part of the same URL or a mirror, with a validator and bytes, is continued", () => {
  assert.deepEqual(planResume(part(100), URL_A), {
    offset: 100,
    validator: '"v1"',
    total: 300,
  });
  assert.equal(planResume(part(100), ["http://m/f", URL_A]).offset, 100);
  assert.deepEqual(planResume(part(100), "http://other/f"), { offset: 0 });
  assert.deepEqual(planResume(part(0), URL_A), { offset: 0 });
  assert.deepEqual(
    planResume(part(100, { etag: undefined }), URL_A),
    { offset: 0 },
    "no validator for If-Range: never resumed",
  );
  const dated = "Tue, 01 Dec 2026 10:00:00 GMT";
  assert.equal(
    planResume(part(100, { etag: undefined, lastModified: dated }), URL_A)
      .validator,
    dated,
  );
  assert.deepEqual(planResume(undefined, URL_A), { offset: 0 });
});

Deno.test("resumeHeaders: Range with If-Range for a resume, else the conditional headers of --update", () => {
  assert.deepEqual(resumeHeaders({ offset: 5, validator: '"v"' }, undefined), [
    ["range", "bytes=5-"],
    ["if-range", '"v"'],
  ]);
  const both = { etag: '"e"', lastModified: "Tue, 01 Dec 2026 10:00:00 GMT" };
  assert.deepEqual(resumeHeaders({ offset: 0 }, both), [
    ["if-none-match", '"e"'],
  ]);
  assert.deepEqual(
    resumeHeaders({ offset: 0 }, { lastModified: both.lastModified }),
    [["if-modified-since", both.lastModified]],
  );
  assert.deepEqual(resumeHeaders({ offset: 0 }, undefined), []);
});

Deno.test("judgeRange: a 206 is appended only when it starts at the offset, runs to the end, and length, total and validator match", () => {
  const plan = { offset: 100, validator: '"v1"', total: 300 };
  const answer = (range: string, etag = '"v1"') =>
    new Headers({ "content-range": range, etag });
  const kind = (headers: Headers, length: number | undefined = 200) =>
    judgeRange(206, headers, length, plan).kind;
  assert.equal(kind(answer("bytes 100-299/300")), "resumed");
  assert.equal(kind(answer("bytes 100-299/300"), undefined), "resumed");
  assert.equal(kind(answer("bytes 0-299/300"), 300), "restart");
  assert.equal(kind(answer("bytes 100-199/300"), 100), "restart");
  assert.equal(kind(answer("bytes 100-399/400"), 300), "restart");
  assert.equal(kind(answer("bytes 100-299/300"), 150), "restart");
  assert.equal(kind(answer("bytes 100-299/300", '"v2"')), "restart");
  assert.equal(kind(answer("bytes */300")), "restart");
  assert.equal(kind(new Headers({ etag: '"v1"' })), "restart");
});

Deno.test("judgeRange: a Last-Modified validator is compared with the answer's Last-Modified", () => {
  const date = "Tue, 01 Dec 2026 10:00:00 GMT";
  const plan = { offset: 100, validator: date, total: 300 };
  const headers = (lastModified: string) =>
    new Headers({
      "content-range": "bytes 100-299/300",
      "last-modified": lastModified,
    });
  assert.equal(judgeRange(206, headers(date), 200, plan).kind, "resumed");
  assert.equal(
    judgeRange(206, headers("Wed, 02 Dec 2026 10:00:00 GMT"), 200, plan).kind,
    "restart",
  );
});

Deno.test("judgeRange: a 206 to a request for the whole file is refused; a 416 to a resume restarts; a 200 is the whole body", () => {
  const headers = new Headers({ "content-range": "bytes 0-9/10" });
  assert.equal(judgeRange(206, headers, 10, { offset: 0 }).kind, "refused");
  const resume = { offset: 50, validator: '"v"' };
  assert.equal(judgeRange(416, new Headers(), 0, resume).kind, "restart");
  assert.equal(judgeRange(416, new Headers(), 0, { offset: 0 }).kind, "whole");
  assert.equal(judgeRange(200, new Headers(), 10, resume).kind, "whole");
});

Deno.test("partMeta: a .part is resumable only when the server takes ranges and gave a validator", () => {
  const headers = (fields: Record<string, string>) => new Headers(fields);
  assert.deepEqual(
    partMeta(URL_A, headers({ "accept-ranges": "bytes", etag: '"v"' }), 9),
    { url: URL_A, etag: '"v"', lastModified: undefined, total: 9 },
  );
  assert.equal(partMeta(URL_A, headers({ etag: '"v"' }), 9), undefined);
  assert.equal(
    partMeta(URL_A, headers({ "accept-ranges": "bytes" }), 9),
    undefined,
  );
  assert.equal(
    partMeta(URL_A, headers({ "accept-ranges": "none", etag: '"v"' }), 9),
    undefined,
  );
});

Deno.test("keepsPart: only a resumable .part after a retryable failure that is not a length mismatch or a broken chunk, from a client that tells them from a cut", () => {
  const meta = { url: URL_A, etag: '"v"' };
  const reset = new AttemptError("reset", "retryable", { code: "NETWORK" });
  const short = new AttemptError("short", "retryable", {
    code: "LENGTH_MISMATCH",
  });
  const forbidden = new AttemptError("403", "fatal", { code: "HTTP_STATUS" });
  assert.equal(keepsPart(meta, reset), true);
  assert.equal(keepsPart(undefined, reset), false);
  assert.equal(keepsPart(meta, short), false);
  assert.equal(keepsPart(meta, forbidden), false);
  const chunk = new AttemptError(
    "chunk data longer than its size",
    "retryable",
    {
      code: "PROTOCOL",
    },
  );
  assert.equal(keepsPart(meta, chunk), false);
  // fetch's chunked body: a cut and a broken chunk fail alike.
  assert.equal(keepsPart(meta, reset, false), false);
});

Deno.test("keepsSplitPart: a segmented .part is kept unless the file starts over or the failure is final", () => {
  const cut = new AttemptError("truncated range", "retryable", {
    code: "LENGTH_MISMATCH",
  });
  assert.equal(keepsSplitPart(cut), true, "a cut range keeps what was written");
  assert.equal(keepsSplitPart(new RetryError(cut, 5)), true);
  assert.equal(
    keepsSplitPart(new DOMException("cancelled", "AbortError")),
    true,
  );
  assert.equal(keepsSplitPart(new SplitAbort("416", false, 416)), false);
  assert.equal(keepsSplitPart(new SplitAbort("a 200", true, 200)), false);
  const forbidden = new AttemptError("403", "fatal", { code: "HTTP_STATUS" });
  assert.equal(keepsSplitPart(forbidden), false);
  const gone = new AttemptError("404", "not_found", { code: "NOT_FOUND" });
  assert.equal(keepsSplitPart(gone), false);
});
