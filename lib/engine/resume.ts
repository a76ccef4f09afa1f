/**
 * Resume: when a `.part` left by an earlier attempt may be continued, the
 * `Range` / `If-Range` it is asked with, and whether the answer may be
 * appended to it.
 *
 * A file is never stitched from two versions or from bytes the server did
 * not say where they belong. A `206 Partial Content` is accepted only when
 * its `Content-Range` starts at the byte asked for, runs to the end of the
 * file, gives the complete length recorded with the `.part`, its body is as
 * long as that range, and its validator is the one sent in `If-Range`.
 * Anything else drops the `.part` and the file restarts from its first byte;
 * a `206` to a request without `Range` is refused.
 *
 * Whether a failed attempt keeps its `.part` is decided here too:
 * {@linkcode keepsPart} for a download over one connection,
 * {@linkcode keepsSplitPart} for one in ranges (`--split`). A body of up to
 * 1 MiB (under a rate limit, of up to one paced read: `wholeBodyLimit` in
 * `rate_limit.ts`) is read whole before it is written, so its failure leaves
 * no `.part` at all. The writer Worker then never keeps an empty `.part`, and removes
 * one whose file fails verification (size or checksum) before its rename
 * (`lib/writer/worker_handlers.ts`).
 *
 * @module
 */

import type { HeaderPairs } from "../core/headers.ts";
import {
  framedLength,
  type HeaderLookup,
  type HttpResponse,
} from "./http_response.ts";
import type { PartMeta, ProbeResult, Validators } from "../writer/protocol.ts";
import { escapeControls } from "../core/printable.ts";
import { AttemptError, ERROR_CODES, SplitAbort } from "../core/errors.ts";
import type { Writer } from "../writer/client.ts";

/** What an attempt asks for: the whole file, or the rest of a `.part`. */
export interface ResumePlan {
  /** First byte asked for; 0 for the whole file. */
  offset: number;
  /** The `If-Range` validator sent with the range (an ETag or a date). */
  validator?: string;
  /** The complete length recorded with the `.part`, when known. */
  total?: number;
}

/**
 * The plan for a `.part`: its size as the offset when it came from the same
 * URL (or one of the job's mirrors) and has a validator to send with
 * `If-Range`; else the whole file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planResume } from "./resume.ts";
 * const part = { size: 100, meta: { url: "http://h/f", etag: '"v1"', total: 300 } };
 * assert.deepEqual(planResume(part, "http://h/f"), { offset: 100, validator: '"v1"', total: 300 });
 * assert.deepEqual(planResume(part, "http://h/other"), { offset: 0 });
 * ```
 *
 * @param part The `.part` the writer found, if any.
 * @param urls The job's URL, or all its URLs (mirrors).
 * @returns What to ask for.
 */
export function planResume(
  part: ProbeResult["part"],
  urls: string | readonly string[],
): ResumePlan {
  const meta = part?.meta;
  const same = typeof urls === "string"
    ? meta?.url === urls
    : meta !== undefined && urls.includes(meta.url);
  const validator = same ? meta!.etag ?? meta!.lastModified : undefined;
  if (validator === undefined || !part || part.size <= 0) return { offset: 0 };
  return { offset: part.size, validator, total: meta!.total };
}

/**
 * The request headers of a plan: `Range` and `If-Range` for a resume, else
 * the conditional headers of an `--update` run.
 *
 * @param plan What is asked for.
 * @param conditional Validators of the existing final file (`--update`).
 * @returns Headers to add to the request.
 */
export function resumeHeaders(
  plan: ResumePlan,
  conditional: Validators | undefined,
): HeaderPairs {
  if (plan.offset > 0) {
    return [["range", `bytes=${plan.offset}-`], ["if-range", plan.validator!]];
  }
  if (conditional?.etag) return [["if-none-match", conditional.etag]];
  if (conditional?.lastModified) {
    return [["if-modified-since", conditional.lastModified]];
  }
  return [];
}

/** What an answer means for the `.part`. */
export type RangeVerdict =
  /** The whole body: write it from the first byte. */
  | { kind: "whole" }
  /** The rest of the file, `length` bytes from `start`: append it. */
  | { kind: "resumed"; start: number; length: number; total: number }
  /** The answer does not fit the `.part`: drop it and start over. */
  | { kind: "restart"; reason: string }
  /** The answer is wrong whatever the `.part` holds. */
  | { kind: "refused"; reason: string };

/**
 * Judges an answer against the plan (see the module's rules): a `416` to a
 * resume means the `.part` does not fit the file (restart); a `206` is
 * checked; anything else is the whole body, or a failure judged by its
 * status elsewhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeRange } from "./resume.ts";
 * const headers = new Headers({ "content-range": "bytes 100-299/300", etag: '"v1"' });
 * const plan = { offset: 100, validator: '"v1"', total: 300 };
 * assert.deepEqual(judgeRange(206, headers, 200, plan), { kind: "resumed", start: 100, length: 200, total: 300 });
 * assert.equal(judgeRange(206, headers, 200, { ...plan, validator: '"v0"' }).kind, "restart");
 * assert.equal(judgeRange(416, new Headers(), 0, plan).kind, "restart");
 * assert.equal(judgeRange(200, new Headers(), 300, plan).kind, "whole");
 * ```
 *
 * @param status The answer's status.
 * @param headers Its headers.
 * @param bodyLength Its body's length by its framing, when known.
 * @param plan What was asked for.
 * @returns What to do with the body and the `.part`.
 */
export function judgeRange(
  status: number,
  headers: HeaderLookup,
  bodyLength: number | undefined,
  plan: ResumePlan,
): RangeVerdict {
  if (status === 416 && plan.offset > 0) {
    return {
      kind: "restart",
      reason: "HTTP error 416 - resume refused, restarting",
    };
  }
  if (status !== 206) return { kind: "whole" };
  const contentRange = headers.get("content-range") ?? "";
  const shown = `"${escapeControls(contentRange.slice(0, 80))}"`;
  if (plan.offset === 0) {
    return {
      kind: "refused",
      reason:
        `206 Partial Content (Content-Range ${shown}) to a request for the whole file`,
    };
  }
  const restart = (why: string): RangeVerdict => ({
    kind: "restart",
    reason: `resume refused: ${why}; restarting from the first byte`,
  });
  const range = /^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16})$/.exec(
    contentRange.trim(),
  );
  if (!range) return restart(`Content-Range ${shown} is not a byte range`);
  const [start, end, total] = range.slice(1).map(Number);
  if (start !== plan.offset) {
    return restart(`asked for byte ${plan.offset}, got ${shown}`);
  }
  if (end !== total - 1 || end < start) {
    return restart(`asked for bytes ${plan.offset} to the end, got ${shown}`);
  }
  if (plan.total !== undefined && total !== plan.total) {
    return restart(
      `the file is now ${total} bytes, the partial download was of ${plan.total}`,
    );
  }
  const length = end - start + 1;
  if (bodyLength !== undefined && bodyLength !== length) {
    return restart(`Content-Length ${bodyLength} does not match ${shown}`);
  }
  if (!sameValidator(headers, plan.validator!)) {
    return restart("the file changed on the server (validator differs)");
  }
  return { kind: "resumed", start, length, total };
}

/** Whether the answer carries the validator sent in `If-Range`. */
function sameValidator(headers: HeaderLookup, validator: string): boolean {
  const isEtag = validator.startsWith('"') || validator.startsWith("W/");
  const theirs = headers.get(isEtag ? "etag" : "last-modified");
  return theirs !== null && theirs === validator;
}

/** Where an accepted answer's body goes in the file. */
export interface BodyPlace {
  /** The first byte it holds: 0, or the `.part`'s size for a resume. */
  start: number;
  /** Its length by its framing, when known. */
  length?: number;
  /** The complete file's length, when known. */
  total?: number;
}

/**
 * Judges the answer against the plan ({@linkcode judgeRange}) and acts on a
 * refusal: its body is cancelled, a `.part` that does not fit is dropped,
 * and the attempt fails as retryable (a restart at once, without backoff).
 *
 * @param response The answer.
 * @param plan What was asked for.
 * @param dest The destination, whose `.part` may be dropped.
 * @param writer The writer.
 * @returns Where the body goes.
 * @throws {AttemptError} (retryable, `RANGE_REFUSED`) When the answer does not fit.
 */
export async function acceptRange(
  response: HttpResponse,
  plan: ResumePlan,
  dest: string,
  writer: Writer,
): Promise<BodyPlace> {
  const length = framedLength(response);
  const range = judgeRange(response.status, response.headers, length, plan);
  if (range.kind === "whole") {
    // The whole file (a 2xx) instead of the rest: the .part and its facts
    // go, on disk, before a byte of the new body is written where they were
    // (a crash must never leave the old facts beside the new bytes). An
    // error status keeps them for a later run.
    if (plan.offset > 0 && response.status >= 200 && response.status < 300) {
      await dropPart(dest, writer);
    }
    return { start: 0, length, total: length };
  }
  if (range.kind === "resumed") {
    return { start: range.start, length: range.length, total: range.total };
  }
  await response.body?.cancel();
  if (range.kind === "restart") await dropPart(dest, writer);
  throw new AttemptError(range.reason, "retryable", {
    code: ERROR_CODES.range,
    status: response.status,
    retryAfterMs: range.kind === "restart" ? 0 : undefined,
  });
}

/**
 * What to record with a new `.part` so that a later attempt may resume it:
 * only when the server takes ranges and gave a validator.
 *
 * @param url The job's URL.
 * @param headers The answer's headers.
 * @param total The complete length, when known.
 * @returns The record, or undefined when the file cannot be resumed.
 */
export function partMeta(
  url: string,
  headers: HeaderLookup,
  total: number | undefined,
): PartMeta | undefined {
  const etag = headers.get("etag") ?? undefined;
  const lastModified = headers.get("last-modified") ?? undefined;
  const resumable = (etag !== undefined || lastModified !== undefined) &&
    headers.get("accept-ranges") === "bytes";
  return resumable ? { url, etag, lastModified, total } : undefined;
}

/**
 * Whether a failed attempt leaves its `.part` for the next attempt or run:
 * only when the file can be resumed (the server takes ranges and gave a
 * validator), the failure is worth another attempt, and every byte written
 * is surely at its place: not when the server ended the body at another
 * length than it announced, broke its chunked framing (a chunk longer than
 * its size: its bytes written so far may belong elsewhere), or when the
 * body's client cannot tell such a failure from a cut connection.
 *
 * @param meta The resume facts recorded with the `.part`, if any.
 * @param failure Why the attempt failed.
 * @param placed Whether the body's client tells a broken framing from a
 *   cut (see `placedUntilFailure`). @default true
 * @returns True to keep the `.part`.
 */
export function keepsPart(
  meta: PartMeta | undefined,
  failure: AttemptError,
  placed = true,
): boolean {
  return meta !== undefined && placed && failure.verdict === "retryable" &&
    failure.code !== ERROR_CODES.length &&
    failure.code !== ERROR_CODES.protocol;
}

/**
 * Whether a segmented download (`--split`) that failed leaves its `.part`
 * and the record of the ranges written: yes, unless the file changed or
 * the server cannot be trusted with ranges (a `SplitAbort`: the file starts
 * over), or the failure is final (an attempt error that is not retryable).
 * Every range is checked against what was asked before it is written, so a
 * cut range, a cancel or spent retries keep what is there.
 *
 * @param failure Why the download stopped.
 * @returns True to keep the `.part`.
 */
export function keepsSplitPart(failure: unknown): boolean {
  if (failure instanceof SplitAbort) return false;
  return !(failure instanceof AttemptError && failure.verdict !== "retryable");
}

/**
 * Removes a `.part` whose resume the server refused (a 416, or a 206 that
 * does not fit), so the next attempt starts from the first byte.
 *
 * @param dest The destination.
 * @param writer The writer.
 */
export async function dropPart(dest: string, writer: Writer): Promise<void> {
  await writer.release(dest, false);
}
