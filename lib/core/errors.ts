/**
 * The failure kinds bulkget tells apart, as stable codes: an outcome and a
 * report item carry one beside their reason, so a program reading a report
 * (or a test) acts on the kind, never on the wording. An error that crosses
 * a boundary (the writer Worker's replies) is a {@linkcode BulkgetError}
 * carrying its code, recognised by that code, never by its name or message.
 *
 * Every error class of bulkget's own is defined here, each with a `code`:
 * one place to look up what can be thrown and how to tell it apart. The
 * engine's {@linkcode AttemptError} carries a failure code and a verdict
 * (`verdict.ts`) besides.
 *
 * @module
 */

import { quote } from "./printable.ts";
import type { Verdict } from "./verdict.ts";

/** Every failure code, by name. */
export const ERROR_CODES = {
  /** An HTTP status other than 2xx, 404 and 410. */
  httpStatus: "HTTP_STATUS",
  /** 404 or 410. */
  notFound: "NOT_FOUND",
  /**
   * Connecting, sending or receiving failed (refused, reset, closed); a body
   * its connection cut before its `Content-Length` is this too, and what
   * came of it is kept for a resume.
   */
  network: "NETWORK",
  /** A connect, idle or total deadline passed. */
  timeout: "TIMEOUT",
  /** The server's TLS certificate does not verify. */
  tls: "TLS_CERTIFICATE",
  /** The answer breaks HTTP/1.1's grammar. */
  protocol: "PROTOCOL",
  /** The answer's framing or transfer coding is refused by design. */
  framing: "FRAMING_REFUSED",
  /**
   * The body's own framing ended it at another length than announced (a
   * chunked body shorter than its `Content-Range`, say), or it ran past it:
   * nothing says where its bytes belong, so its `.part` is dropped.
   */
  length: "LENGTH_MISMATCH",
  /** A 206 that does not fit what was asked. */
  range: "RANGE_REFUSED",
  /** The body is over `--max-size`. */
  tooBig: "TOO_BIG",
  /** Size or checksum of the written file differ from the expected. */
  verify: "VERIFY_FAILED",
  /** A redirect loop, too many hops, or an unusable `Location`. */
  redirect: "REDIRECT",
  /** A destination another job of the run has (a duplicate), or a server-chosen name that is taken or exists. */
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
 * Codes of errors the library's functions throw to their caller (a program
 * using `mod.ts`, or the CLI, which turns them into a one-line error or a
 * job's failure). Never a job's code in a report.
 */
export const CALLER_CODES = {
  /** Bad command-line input: one line, exit 2. */
  usage: "USAGE",
  /** A bad input line, an unreadable input file or a refused destination. */
  badInput: "BAD_INPUT",
  /** A destination name that is not safe. */
  unsafeName: "UNSAFE_NAME",
  /** An archive that cannot be extracted. */
  extract: "EXTRACT_REFUSED",
  /** A CI artifacts API call failed. */
  artifactApi: "ARTIFACT_API",
  /** Every attempt of a retried call failed. */
  retriesSpent: "RETRIES_SPENT",
} as const;

/** A code of an error thrown to the library's caller. */
export type CallerCode = typeof CALLER_CODES[keyof typeof CALLER_CODES];

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

/** Bad command-line input. */
export class UsageError extends Error {
  /** The error's kind. */
  readonly code: CallerCode = CALLER_CODES.usage;

  /** @param message What was wrong, for people. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * A bad input line, an unreadable input file or a refused destination, as
 * every job source throws it: it names where the input went wrong
 * (`list.txt:12`), so the CLI can print it as a usage error (exit 2).
 *
 * The message is `ORIGIN: DETAIL`, e.g.
 * `list.txt:12: not an http(s) URL: "ftp://x"`.
 *
 * @example Usage
 * ```ts
 * import { CALLER_CODES, SourceError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * const error = new SourceError("list.txt:12", 'not an http(s) URL: "ftp://x"');
 * equal(error.message, 'list.txt:12: not an http(s) URL: "ftp://x"');
 * equal(error.origin, "list.txt:12");
 * equal(error.code, CALLER_CODES.badInput);
 * ```
 */
export class SourceError extends Error {
  /** The error's kind. */
  readonly code: CallerCode = CALLER_CODES.badInput;
  /** Where: `FILE:LINE`, `argument N`, or a file name alone. */
  readonly origin: string;
  /** What was wrong, without the origin. */
  readonly detail: string;

  /**
   * Makes the error.
   *
   * @param origin Where: `FILE:LINE`, `argument N`, or a file name.
   * @param detail What was wrong, starting in lower case.
   * @param options `cause`, when another error is behind this one.
   */
  constructor(origin: string, detail: string, options?: ErrorOptions) {
    super(`${origin}: ${detail}`, options);
    this.name = "SourceError";
    this.origin = origin;
    this.detail = detail;
  }
}

/** A destination name that is not safe; `reason` says why. */
export class UnsafeNameError extends RangeError {
  /** The error's kind. */
  readonly code: CallerCode = CALLER_CODES.unsafeName;
  /** The name that was refused. */
  readonly path: string;
  /** Why, e.g. `".." segments are not allowed`. */
  readonly reason: string;

  /**
   * Makes the error.
   *
   * @param path The refused name.
   * @param reason Why it was refused.
   */
  constructor(path: string, reason: string) {
    super(`Unsafe destination ${quote(path)}: ${reason}`);
    this.name = "UnsafeNameError";
    this.path = path;
    this.reason = reason;
  }
}

/** An archive that cannot be extracted; `message` says why. */
export class ExtractError extends Error {
  /** The error's kind. */
  readonly code: CallerCode = CALLER_CODES.extract;

  /**
   * Makes the error.
   *
   * @param message Why.
   * @param options The cause.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ExtractError";
  }
}

/** A failed CI artifacts API call; `status` is the HTTP status when one arrived. */
export class ArtifactApiError extends Error {
  /** The error's kind. */
  readonly code: CallerCode = CALLER_CODES.artifactApi;
  /** The HTTP status, when a response arrived. */
  readonly status?: number;
  /** The artifact has expired (410): not retried. */
  readonly expired: boolean;

  /**
   * Makes the error.
   *
   * @param message Why, for people (never holds a token).
   * @param options The status, whether expired, the cause.
   */
  constructor(
    message: string,
    options: { status?: number; expired?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ArtifactApiError";
    this.status = options.status;
    this.expired = options.expired ?? false;
  }
}

/** Thrown by `retry` when every attempt failed; `cause` is the last failure. */
export class RetryError extends Error {
  /** The error's kind. */
  readonly code: CallerCode = CALLER_CODES.retriesSpent;
  /** Attempts made. */
  readonly attempts: number;

  /**
   * Makes the error.
   *
   * @param cause The last failure.
   * @param attempts Attempts made.
   */
  constructor(cause: unknown, attempts: number) {
    super(`Retrying exceeded the maxAttempts (${attempts}).`, { cause });
    this.name = "RetryError";
    this.attempts = attempts;
  }
}

/**
 * A response that breaks HTTP/1.1's rules (`PROTOCOL`), or one bulkget will
 * not decode by design (`FRAMING_REFUSED`, not retryable).
 */
export class HttpProtocolError extends Error {
  /** Whether asking again may help (false: the server answers this way by design). */
  readonly retryable: boolean;
  /** The error's kind: `FRAMING_REFUSED` when not retryable, else `PROTOCOL`. */
  readonly code: ErrorCode;

  /**
   * @param message What was wrong.
   * @param retryable Whether asking again may help. @default true
   */
  constructor(message: string, retryable = true) {
    super(message);
    this.name = "HttpProtocolError";
    this.retryable = retryable;
    this.code = retryable ? ERROR_CODES.protocol : ERROR_CODES.framing;
  }
}

/**
 * A failed attempt, with the verdict the engine acts on. Thrown inside
 * fetch-one and turned into an outcome there; callers that hand work to
 * the engine throw it too (the flags demo's metadata, an expired artifact
 * found while its download URL is resolved: `DownloadOptions.prepare`), so
 * they get the same verdicts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AttemptError, ERROR_CODES } from "./errors.ts";
 * const gone = new AttemptError("expired", "not_found", {
 *   code: ERROR_CODES.notFound,
 *   status: 410,
 * });
 * assert.deepEqual([gone.verdict, gone.code, gone.status], ["not_found", "NOT_FOUND", 410]);
 * ```
 */
export class AttemptError extends Error {
  /** Whether another attempt may succeed. */
  readonly verdict: Exclude<Verdict, "ok">;
  /** The HTTP status, when a response arrived. */
  readonly status?: number;
  /** A server-chosen wait before the next attempt (`Retry-After`), in ms. */
  readonly retryAfterMs?: number;
  /** The failure's kind. */
  readonly code: ErrorCode;

  /**
   * Makes the error.
   *
   * @param message The reason, for people.
   * @param verdict Whether another attempt may succeed.
   * @param options The kind, the status, a server-chosen wait and the cause.
   */
  constructor(
    message: string,
    verdict: Exclude<Verdict, "ok">,
    options: {
      code: ErrorCode;
      status?: number;
      retryAfterMs?: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
    this.name = "AttemptError";
    this.verdict = verdict;
    this.code = options.code;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * An answer that ends a segmented download: its `.part` is dropped and the
 * file starts over, with ranges again (`oneConnection` false: the file
 * changed) or with one connection (the server cannot be trusted with
 * ranges).
 */
export class SplitAbort extends AttemptError {
  /** Start over with one connection rather than ranges. */
  readonly oneConnection: boolean;

  /**
   * @param reason What was wrong, for people.
   * @param oneConnection Start over with one connection.
   * @param status The answer's status.
   */
  constructor(reason: string, oneConnection: boolean, status?: number) {
    super(
      `${reason}; restarting${oneConnection ? " with one connection" : ""}`,
      "retryable",
      { code: ERROR_CODES.range, status, retryAfterMs: 0 },
    );
    this.name = "SplitAbort";
    this.oneConnection = oneConnection;
  }
}
