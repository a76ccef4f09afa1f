/**
 * The HTTP/1.1 response grammar of bulkget's own client, as pure functions:
 * status line, headers, the framing decision (RFC 9112 §6.3), chunk-size
 * lines. `http1_reader.ts` reads responses with them from any byte source.
 *
 * The rules lean to refusing: a response whose framing is ambiguous
 * (`Content-Length` beside `Transfer-Encoding`, differing lengths), whose
 * transfer coding bulkget does not decode, or whose head breaks the grammar
 * is an error, never a guess, because a guess is how wrong bytes end up in a
 * file under its final name.
 *
 * @module
 */

import { HEADER_NAME } from "../core/headers.ts";
import { escapeControls } from "../core/printable.ts";
import { type HeaderLookup, ResponseHeaders } from "./http_response.ts";
import { HttpProtocolError } from "../core/errors.ts";

/** Largest response head (status line and headers) accepted, in bytes. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Most interim (1xx) responses accepted before the final one. */
export const MAX_INTERIM_RESPONSES = 16;
/** Statuses whose response never has a body (RFC 9110 §6.4.1). */
const NO_BODY_STATUSES = new Set([204, 304]);

/** The parts of a response head the client needs. */
export interface ResponseHead {
  /** The status code, 100–599. */
  status: number;
  /** The reason phrase, as sent (may be empty). */
  reason: string;
  /** The header fields. */
  headers: ResponseHeaders;
  /** HTTP/1.1 without `Connection: close` (HTTP/1.0 is never kept). */
  keepAlive: boolean;
}

/** How a response body ends. */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

const latin1 = new TextDecoder("latin1");
/** `HTTP/1.x SSS reason`; the space before an empty reason is often left out. */
const STATUS_LINE = /^HTTP\/1\.(\d) ([1-5]\d\d)(?:[ \t]([^]*))?$/;
/** Control characters other than HTAB, which no field value or reason holds. */
// deno-lint-ignore no-control-regex -- control characters are what it finds
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Parses a response head: the status line and header lines, without the
 * empty line that ends them. Lines end in CRLF or a bare LF (RFC 9112 §2.2
 * allows the latter); a bare CR, a control character in a value, obsolete
 * line folding or space before a colon is an error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHead } from "./http1_parser.ts";
 * const head = parseHead(new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 5"));
 * assert.equal(head.status, 200);
 * assert.equal(head.headers.get("content-length"), "5");
 * ```
 *
 * @param bytes The head's bytes.
 * @returns The parsed head.
 * @throws {HttpProtocolError} When the head breaks the grammar.
 */
export function parseHead(bytes: Uint8Array): ResponseHead {
  // Lines are found by index in the decoded text, not split out: a head
  // is parsed for every response, and the split made two strings a line.
  const text = latin1.decode(bytes);
  const firstEnd = text.indexOf("\n");
  const statusLine = text.slice(0, lineStop(text, 0, firstEnd));
  const status = STATUS_LINE.exec(statusLine);
  if (!status || CONTROL.test(status[3] ?? "")) {
    throw new HttpProtocolError(
      `malformed status line "${escapeControls(statusLine.slice(0, 80))}"`,
    );
  }
  const headers = new ResponseHeaders();
  for (let from = firstEnd + 1; firstEnd >= 0 && from <= text.length;) {
    const end = text.indexOf("\n", from);
    const stop = lineStop(text, from, end);
    // An empty last line is the end of the head, not a field.
    if (stop > from || end >= 0) parseField(text, from, stop, headers);
    if (end < 0) break;
    from = end + 1;
  }
  const connection = (headers.get("connection") ?? "").toLowerCase();
  return {
    status: Number(status[2]),
    reason: status[3] ?? "",
    headers,
    keepAlive: status[1] !== "0" && !/\bclose\b/.test(connection),
  };
}

/**
 * Where the line of `text` that starts at `from` and ends at the LF at
 * `lf` (-1: at the end of the text) stops, without a CR before its LF.
 */
function lineStop(text: string, from: number, lf: number): number {
  const end = lf < 0 ? text.length : lf;
  return end > from && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
}

/**
 * Parses the header line `text[from, stop)` into `headers`; obsolete line
 * folding, space before the colon, a bad name or a control character in
 * the value is an error.
 */
function parseField(
  text: string,
  from: number,
  stop: number,
  headers: ResponseHeaders,
): void {
  const first = text.charCodeAt(from);
  if (from < stop && (first === 32 || first === 9)) {
    throw new HttpProtocolError(
      `obsolete line folding in header "${lineForError(text, from, stop)}"`,
    );
  }
  const colon = text.indexOf(":", from);
  const name = colon > from && colon < stop ? text.slice(from, colon) : "";
  const value = name === "" ? "" : trimOws(text, colon + 1, stop);
  if (!HEADER_NAME.test(name) || CONTROL.test(value)) {
    throw new HttpProtocolError(
      `malformed header line "${lineForError(text, from, stop)}"`,
    );
  }
  headers.append(name, value);
}

/** The start of a bad line, printable, for an error message. */
function lineForError(text: string, from: number, stop: number): string {
  return escapeControls(text.slice(from, Math.min(stop, from + 80)));
}

/**
 * `line[from, to)` without the spaces and tabs around it (a header value
 * without its optional white space): a scan, not a regular expression,
 * since it runs for every header of every response.
 */
function trimOws(line: string, from: number, to: number): string {
  let start = from;
  let end = to;
  while (start < end && (line[start] === " " || line[start] === "\t")) start++;
  while (end > start && (line[end - 1] === " " || line[end - 1] === "\t")) {
    end--;
  }
  return line.slice(start, end);
}

/**
 * Decides how the body of a response to a GET ends (RFC 9112 §6.3), refusing
 * what bulkget cannot frame or decode exactly: a transfer coding other than
 * one `chunked`, `Transfer-Encoding` beside `Content-Length` (the mark of
 * request smuggling), and a `Content-Length` that is not one whole number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyFraming, parseHead } from "./http1_parser.ts";
 * const head = parseHead(new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 10, 10"));
 * assert.deepEqual(bodyFraming(head), { kind: "length", length: 10 });
 * ```
 *
 * @param head A final (2xx–5xx) response head.
 * @returns The framing.
 * @throws {HttpProtocolError} When the framing is ambiguous or unsupported.
 */
export function bodyFraming(head: ResponseHead): Framing {
  if (NO_BODY_STATUSES.has(head.status)) return { kind: "none" };
  if (checkTransferCoding(head.headers) === "chunked") {
    return { kind: "chunked" };
  }
  const contentLength = head.headers.get("content-length");
  if (contentLength === null) return { kind: "close" };
  return { kind: "length", length: parseContentLength(contentLength) };
}

/**
 * The transfer-coding rule of both clients: none, or one `chunked` and no
 * `Content-Length` beside it; anything else is refused, by design (not
 * worth a retry).
 *
 * @param headers A response's headers.
 * @returns `"chunked"`, or undefined when there is no transfer coding.
 * @throws {HttpProtocolError} (not retryable) For anything else.
 */
export function checkTransferCoding(
  headers: HeaderLookup,
): "chunked" | undefined {
  const transferEncoding = headers.get("transfer-encoding");
  if (transferEncoding === null) return undefined;
  if (headers.get("content-length") !== null) {
    throw new HttpProtocolError(
      "refused: Content-Length beside Transfer-Encoding (ambiguous framing)",
      false,
    );
  }
  if (transferEncoding.trim().toLowerCase() !== "chunked") {
    throw new HttpProtocolError(
      `unsupported Transfer-Encoding "${
        escapeControls(transferEncoding.slice(0, 80))
      }" (bulkget decodes only chunked)`,
      false,
    );
  }
  return "chunked";
}

/**
 * The value of a `Content-Length` field: one whole number, or a list of the
 * same number (from repeated fields), at most 2^53 − 1.
 *
 * @param value The field's value (repeated fields joined with ", ").
 * @returns The length.
 * @throws {HttpProtocolError} When it is not one whole number.
 */
export function parseContentLength(value: string): number {
  const values = new Set(value.split(",").map((v) => v.trim()));
  const [only] = values;
  if (values.size !== 1 || !/^\d{1,16}$/.test(only)) {
    throw new HttpProtocolError(
      `invalid Content-Length "${escapeControls(value.slice(0, 80))}"`,
    );
  }
  const length = Number(only);
  if (!Number.isSafeInteger(length)) {
    throw new HttpProtocolError(`Content-Length ${only} is too large`);
  }
  return length;
}

/**
 * The size of a chunk from its size line (`1a`, `1A;name=value`), at most 12
 * hex digits after leading zeros (256 TiB).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseChunkSize } from "./http1_parser.ts";
 * assert.equal(parseChunkSize("1a;ext=1"), 26);
 * ```
 *
 * @param line The line, without its line end.
 * @returns The size.
 * @throws {HttpProtocolError} When the line is not a chunk size.
 */
export function parseChunkSize(line: string): number {
  const match = /^0*([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
  if (!match || CONTROL.test(line)) {
    throw new HttpProtocolError(
      `malformed chunk size "${escapeControls(line.slice(0, 40))}"`,
    );
  }
  return parseInt(match[1], 16);
}

/**
 * Index just past the empty line that ends a head in `buffer[from, to)`
 * (`\r\n\r\n`, or bare LFs), or -1.
 *
 * @param buffer The bytes.
 * @param from Where to start looking.
 * @param to Where the bytes end.
 * @returns The index after the empty line, or -1.
 */
export function findHeadEnd(
  buffer: Uint8Array,
  from: number,
  to: number,
): number {
  for (
    let i = buffer.indexOf(10, from);
    i >= 0 && i < to;
    i = buffer.indexOf(10, i + 1)
  ) {
    if (i + 1 < to && buffer[i + 1] === 10) return i + 2;
    if (i + 2 < to && buffer[i + 1] === 13 && buffer[i + 2] === 10) {
      return i + 3;
    }
  }
  return -1;
}
