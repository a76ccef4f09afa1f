/**
 * The failure kinds bulkget tells apart, as stable codes: an outcome and a
 * report item carry one beside their reason, so a program reading a report
 * (or a test) acts on the kind, never on the wording. An error that crosses
 * a boundary (the writer Worker's replies) is a {@linkcode BulkgetError}
 * carrying its code, recognised by that code, never by its name or message.
 *
 * @module
 */

/** Every failure code, by name. */
export const ERROR_CODES = {
  /** An HTTP status other than 2xx, 404 and 410. */
  httpStatus: "HTTP_STATUS",
  /** 404 or 410. */
  notFound: "NOT_FOUND",
  /** Connecting, sending or receiving failed (refused, reset, closed). */
  network: "NETWORK",
  /** A connect, idle or total deadline passed. */
  timeout: "TIMEOUT",
  /** The server's TLS certificate does not verify. */
  tls: "TLS_CERTIFICATE",
  /** The answer breaks HTTP/1.1's grammar. */
  protocol: "PROTOCOL",
  /** The answer's framing or transfer coding is refused by design. */
  framing: "FRAMING_REFUSED",
  /** The body ended before its announced length, or ran past it. */
  length: "LENGTH_MISMATCH",
  /** A 206 that does not fit what was asked. */
  range: "RANGE_REFUSED",
  /** The body is over `--max-size`. */
  tooBig: "TOO_BIG",
  /** Size or checksum of the written file differ from the expected. */
  verify: "VERIFY_FAILED",
  /** A redirect loop, too many hops, or an unusable `Location`. */
  redirect: "REDIRECT",
  /** A server-chosen name that is taken or exists. */
  nameTaken: "NAME_TAKEN",
  /** An invalid request header. */
  header: "INVALID_HEADER",
  /** The disk refused a write, or the writer stopped. */
  write: "WRITE_FAILED",
  /** The job was looked up before its download and the lookup failed. */
  lookup: "LOOKUP_FAILED",
} as const;

/** A failure code. */
export type ErrorCode = typeof ERROR_CODES[keyof typeof ERROR_CODES];

/**
 * Codes of failures that stop the whole run instead of failing a job (so
 * never in a report), for errors that cross a boundary.
 */
export const STOP_CODES = {
  /** A permission flag is missing: one line naming the flag, exit 2. */
  permission: "PERMISSION_MISSING",
} as const;

/** A code of a failure that stops the run. */
export type StopCode = typeof STOP_CODES[keyof typeof STOP_CODES];

/**
 * An error of bulkget's own that says its kind as a stable code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BulkgetError, ERROR_CODES, hasCode } from "./errors.ts";
 * const error = new BulkgetError(ERROR_CODES.verify, "size mismatch");
 * assert.ok(hasCode(error, ERROR_CODES.verify));
 * assert.ok(!hasCode(new Error("size mismatch"), ERROR_CODES.verify));
 * ```
 */
export class BulkgetError extends Error {
  /** The failure's kind. */
  readonly code: ErrorCode;

  /**
   * @param code The failure's kind.
   * @param message The reason, for people.
   * @param options The cause, if any.
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BulkgetError";
    this.code = code;
  }
}

/**
 * Whether `error` is a {@linkcode BulkgetError} of kind `code`.
 *
 * @param error What was thrown.
 * @param code The kind to look for.
 * @returns True when it is one.
 */
export function hasCode(
  error: unknown,
  code: ErrorCode,
): error is BulkgetError {
  return error instanceof BulkgetError && error.code === code;
}
