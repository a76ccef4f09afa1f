/**
 * The rules for one range of a segmented download (`--split`): what a range
 * is asked with, and whether the answer may be written where that range
 * goes.
 *
 * A range is asked as `Range: bytes=FROM-LAST` with `If-Range` and the
 * answer must be a `206` whose `Content-Range` is exactly those bytes of
 * the complete length recorded, whose body is as long, and whose `ETag` and
 * `Last-Modified` are the ones recorded when the download began. A file is
 * never stitched from two versions: an answer from another version (other
 * validators, another length, a 416, or a whole `200` with other
 * validators) ends the download, its `.part` is dropped and it starts over.
 * A server that answers a range with the whole file (a `200` with the same
 * validators) or with other bytes than asked is not trusted with ranges
 * again: the download starts over with one connection.
 *
 * @module
 */

import type { HeaderPairs } from "../core/headers.ts";
import type { HeaderLookup, HttpResponse } from "./http_response.ts";
import type { PartMeta } from "../writer/protocol.ts";
import { statusFailure } from "./classify.ts";
import { escapeControls } from "../core/printable.ts";
import { type AttemptError, SplitAbort } from "../core/errors.ts";

/** One range asked for: bytes `[from, end)` of a file of `meta.total` bytes. */
export interface RangeAsked {
  /** First byte asked for. */
  from: number;
  /** One past the last byte asked for. */
  end: number;
  /** The facts recorded when the download began (validators, complete length). */
  meta: PartMeta;
}

/**
 * The `Range` and `If-Range` headers of a range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rangeHeaders } from "./range_answer.ts";
 * const meta = { url: "http://h/f", etag: '"v1"', total: 300 };
 * assert.deepEqual(rangeHeaders({ from: 100, end: 200, meta }), [
 *   ["range", "bytes=100-199"],
 *   ["if-range", '"v1"'],
 * ]);
 * ```
 *
 * @param asked The range.
 * @returns The headers to add to the request.
 */
export function rangeHeaders(asked: RangeAsked): HeaderPairs {
  return [
    ["range", `bytes=${asked.from}-${asked.end - 1}`],
    ["if-range", (asked.meta.etag ?? asked.meta.lastModified)!],
  ];
}

/**
 * Judges the answer to a range (see the module's rules); the body of a
 * refused answer is cancelled.
 *
 * @param response The answer.
 * @param bodyLength Its body's length by its framing, when known.
 * @param asked What was asked.
 * @throws {SplitAbort} For an answer from another version or with other bytes.
 * @throws {AttemptError} For a status that is not 2xx (with its verdict).
 */
export async function judgeRangeAnswer(
  response: HttpResponse,
  bodyLength: number | undefined,
  asked: RangeAsked,
): Promise<void> {
  const refusal = rangeRefusal(response, bodyLength, asked);
  if (refusal === undefined) return;
  await response.body?.cancel().catch(() => {});
  throw refusal;
}

function rangeRefusal(
  response: HttpResponse,
  bodyLength: number | undefined,
  asked: RangeAsked,
): AttemptError | undefined {
  const { status, headers } = response;
  if (status === 416) {
    return new SplitAbort("416 to a range: the file changed", false, status);
  }
  const failure = statusFailure(response);
  if (failure) return failure;
  const changed = otherVersion(headers, asked.meta);
  if (status !== 206) {
    return changed
      ? new SplitAbort(
        `the file changed on the server (${changed})`,
        false,
        status,
      )
      : new SplitAbort(
        `the server answered a range with ${status}, not 206`,
        true,
        status,
      );
  }
  const contentRange = headers.get("content-range") ?? "";
  const shown = `"${escapeControls(contentRange.slice(0, 80))}"`;
  const range = /^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16})$/.exec(
    contentRange.trim(),
  );
  const [first, last, total] = range ? range.slice(1).map(Number) : [];
  if (range && total !== asked.meta.total) {
    return new SplitAbort(
      `the file is now ${total} bytes, the download began with ${asked.meta.total}`,
      false,
      status,
    );
  }
  if (changed) {
    return new SplitAbort(
      `the file changed on the server (${changed})`,
      false,
      status,
    );
  }
  if (!range || first !== asked.from || last !== asked.end - 1) {
    return new SplitAbort(
      `asked for bytes ${asked.from}-${
        asked.end - 1
      }, got Content-Range ${shown}`,
      true,
      status,
    );
  }
  if (bodyLength !== undefined && bodyLength !== asked.end - asked.from) {
    return new SplitAbort(
      `Content-Length ${bodyLength} does not match Content-Range ${shown}`,
      true,
      status,
    );
  }
  return undefined;
}

/**
 * Which recorded validator the answer does not carry, if any: every one
 * recorded (ETag, Last-Modified) must come back the same.
 */
function otherVersion(
  headers: HeaderLookup,
  meta: PartMeta,
): string | undefined {
  if (meta.etag !== undefined && headers.get("etag") !== meta.etag) {
    return "ETag differs";
  }
  if (
    meta.lastModified !== undefined &&
    headers.get("last-modified") !== meta.lastModified
  ) {
    return "Last-Modified differs";
  }
  return undefined;
}
