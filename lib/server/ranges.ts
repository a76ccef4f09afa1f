/**
 * HTTP range requests and conditional requests (RFC 9110 §13, §14) for the
 * test server's static files: `Range` with one range (`bytes=a-b`,
 * `bytes=a-`, `bytes=-n`), `If-Range`, `If-None-Match` and
 * `If-Modified-Since`.
 *
 * A `Range` the server does not understand (another unit, bad syntax, or
 * several ranges) is ignored, as RFC 9110 allows: the whole file is sent with
 * 200. A range that starts at or past the end is unsatisfiable (416).
 *
 * @module
 */

/** Bytes `[start, end)` of a file. */
export interface ByteRange {
  /** First byte (inclusive). */
  start: number;
  /** Last byte (exclusive). */
  end: number;
}

/**
 * Parses a `Range` header against a file of `size` bytes.
 *
 * @param header The header's value, or `null`.
 * @param size The file's size.
 * @returns The range; `"unsatisfiable"` for a 416; `undefined` when the
 *   whole file should be sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRange } from "./ranges.ts";
 * assert.deepEqual(parseRange("bytes=-10", 100), { start: 90, end: 100 });
 * assert.equal(parseRange("bytes=100-", 100), "unsatisfiable");
 * assert.equal(parseRange(null, 100), undefined);
 * ```
 */
export function parseRange(
  header: string | null,
  size: number,
): ByteRange | "unsatisfiable" | undefined {
  if (header === null) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(m[1]);
  const last = m[2] === "" ? Infinity : Number(m[2]);
  if (last < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(last, size - 1) + 1 };
}

/**
 * Whether an `If-Range` value lets the range apply: a strong entity tag
 * equal to `etag`, or an HTTP-date equal to `lastModified`.
 *
 * @param value The `If-Range` header.
 * @param etag The file's strong entity tag (quoted).
 * @param lastModified The file's `Last-Modified`.
 * @returns `true` when the range should be honoured.
 */
export function ifRangeMatches(
  value: string,
  etag: string,
  lastModified: string,
): boolean {
  const v = value.trim();
  if (v.startsWith('"') || v.startsWith("W/")) return v === etag;
  const date = Date.parse(v);
  return !Number.isNaN(date) && date === Date.parse(lastModified);
}

/**
 * Whether a GET or HEAD should be answered 304 Not Modified:
 * `If-None-Match` lists the tag (weak comparison) or `*`; or, only when
 * there is no `If-None-Match`, `If-Modified-Since` is not before
 * `lastModified`.
 *
 * @param headers The request headers.
 * @param etag The file's entity tag.
 * @param lastModified The file's `Last-Modified`.
 * @returns `true` for a 304.
 */
export function isNotModified(
  headers: Headers,
  etag: string,
  lastModified: string,
): boolean {
  const inm = headers.get("if-none-match");
  if (inm !== null) {
    const bare = etag.replace(/^W\//, "");
    return inm.split(",").some((tag) => {
      const t = tag.trim();
      return t === "*" || t.replace(/^W\//, "") === bare;
    });
  }
  const ims = headers.get("if-modified-since");
  if (ims === null) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Date.parse(lastModified) <= since;
}
