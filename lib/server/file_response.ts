/**
 * A file's answer from the test server: its validators (`ETag`,
 * `Last-Modified`), the conditional requests (`If-None-Match`,
 * `If-Modified-Since` → 304), one `Range` (206, or 416 with `Content-Range:
 * bytes *\/size`) guarded by `If-Range`, and the body, with the request's
 * body faults applied. Flags and generated files both answer through
 * {@linkcode fileResponse}.
 *
 * @module
 */

import { bodyFaultsFor, corruptBody, faultyBody } from "./body.ts";
import type { FaultPlan } from "./faults.ts";
import { LAST_MODIFIED } from "./files.ts";
import { ifRangeMatches, isNotModified, parseRange } from "./ranges.ts";
import type { RecentRequest, StatsRecorder } from "./stats.ts";

/** Bodies up to this size are built in memory; larger ones are streamed. */
const IN_MEMORY_LIMIT = 1024 * 1024;

/** A file the server can answer with. */
export interface ServedFile {
  /** Its length in bytes. */
  size: number;
  /** Its strong `ETag`. */
  etag: string;
  /** Its `Content-Type`. */
  contentType: string;
  /** A `Content-Disposition` to send, if the query asked for one. */
  disposition?: string;
  /** Bytes [start, end) in memory (at most 1 MiB asked). */
  slice(start: number, end: number): Uint8Array<ArrayBuffer>;
  /** Bytes [start, end) in pieces. */
  pieces(start: number, end: number): Iterator<Uint8Array>;
}

/** What a body needs to know of the request's faults and the server. */
export interface BodyContext {
  /** Whether the server injects any fault (if not, `plan` is not looked at). */
  hasFaults: boolean;
  /** The faults drawn for this request. */
  plan: FaultPlan;
  /** The server's statistics, to count the body faults applied. */
  stats: StatsRecorder;
  /** This request's entry in the statistics. */
  entry: RecentRequest;
  /** Aborted when the server closes: streamed bodies end, pauses stop. */
  closing: AbortSignal;
}

/**
 * Answers a GET or HEAD for `file`.
 *
 * @param request The request (its method and conditional/range headers).
 * @param file The file.
 * @param context The request's faults and the server's statistics.
 * @returns 200, 206, 304 or 416.
 */
export function fileResponse(
  request: Request,
  file: ServedFile,
  context: BodyContext,
): Response {
  const req = request.headers;
  if (isNotModified(req, file.etag, LAST_MODIFIED)) {
    return new Response(null, {
      status: 304,
      headers: { etag: file.etag, "last-modified": LAST_MODIFIED },
    });
  }
  const headers: Record<string, string> = {
    "content-type": file.contentType,
    etag: file.etag,
    "last-modified": LAST_MODIFIED,
    "accept-ranges": "bytes",
  };
  if (file.disposition) headers["content-disposition"] = file.disposition;
  let range = parseRange(req.get("range"), file.size);
  const ifRange = req.get("if-range");
  if (
    range && ifRange !== null &&
    !ifRangeMatches(ifRange, file.etag, LAST_MODIFIED)
  ) {
    range = undefined;
  }
  if (range === "unsatisfiable") {
    headers["content-range"] = `bytes */${file.size}`;
    headers["content-length"] = "0";
    delete headers["content-type"];
    return new Response(null, { status: 416, headers });
  }
  const start = range ? range.start : 0;
  const end = range ? range.end : file.size;
  if (range) {
    headers["content-range"] = `bytes ${start}-${end - 1}/${file.size}`;
  }
  headers["content-length"] = String(end - start);
  const status = range ? 206 : 200;
  if (request.method === "HEAD") {
    return new Response(null, { status, headers });
  }
  return new Response(body(file, start, end, context), { status, headers });
}

/** Bytes [start, end) of `file` as a response body, with its faults. */
function body(
  file: ServedFile,
  start: number,
  end: number,
  context: BodyContext,
): BodyInit {
  const length = end - start;
  const { stats, entry, closing } = context;
  const faults = length > 0 && context.hasFaults
    ? bodyFaultsFor(context.plan, length, (kind) => stats.fault(entry, kind))
    : undefined;
  if (faults) {
    if (
      faults.send === length && !faults.stall && faults.slow === undefined &&
      length <= IN_MEMORY_LIMIT
    ) {
      return corruptBody(file.slice(start, end), faults.corruptAt!);
    }
    return faultyBody(file.pieces(start, end), faults, closing);
  }
  if (length <= IN_MEMORY_LIMIT) return file.slice(start, end);
  const pieces = file.pieces(start, end);
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (closing.aborted) return controller.close();
      const next = pieces.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  }, { highWaterMark: 0 });
}
