/**
 * How a response status or a failure is judged: the one place that decides
 * what is retried.
 *
 * @module
 */

import { redactUrlsIn } from "../core/redact.ts";
import { escapeControls } from "../core/printable.ts";
import {
  AttemptError,
  ERROR_CODES,
  type ErrorCode,
  hasCode,
  HttpProtocolError,
} from "../core/errors.ts";
import type { Verdict } from "../core/verdict.ts";
import { parseRetryAfter } from "./retry.ts";
import type { HttpResponse } from "./http_response.ts";

/** Statuses worth another attempt: the server or a proxy may answer differently soon. */
const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Judges an HTTP status: 2xx ok; 404 and 410 not found (never retried);
 * 408, 425, 429, 500, 502, 503, 504 retryable; anything else fatal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyStatus } from "./classify.ts";
 * assert.equal(classifyStatus(503), "retryable");
 * assert.equal(classifyStatus(410), "not_found");
 * ```
 *
 * @param status The HTTP status code.
 * @returns The verdict.
 */
export function classifyStatus(status: number): Verdict {
  if (status >= 200 && status < 300) return "ok";
  if (status === 404 || status === 410) return "not_found";
  if (RETRYABLE_STATUSES.has(status)) return "retryable";
  return "fatal";
}

/**
 * The code of a status's failure.
 *
 * @param status An HTTP status that is not 2xx.
 * @returns `NOT_FOUND` for 404 and 410, else `HTTP_STATUS`.
 */
export function statusCode(status: number): ErrorCode {
  return classifyStatus(status) === "not_found"
    ? ERROR_CODES.notFound
    : ERROR_CODES.httpStatus;
}

/**
 * The failure of an answer that is not 2xx, with its verdict, its code and
 * the wait the server asked for (`Retry-After`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statusFailure } from "./classify.ts";
 * const answer = (status: number, headers = {}) => ({ status, statusText: "", headers: new Headers(headers) });
 * assert.equal(statusFailure(answer(200)), undefined);
 * const busy = statusFailure(answer(503, { "retry-after": "2" }))!;
 * assert.deepEqual([busy.verdict, busy.code, busy.retryAfterMs], ["retryable", "HTTP_STATUS", 2000]);
 * assert.equal(statusFailure(answer(410))!.verdict, "not_found");
 * ```
 *
 * @param response The answer's status, reason phrase and headers.
 * @returns The attempt error, or undefined for a 2xx.
 */
export function statusFailure(
  response: Pick<HttpResponse, "status" | "statusText" | "headers">,
): AttemptError | undefined {
  const verdict = classifyStatus(response.status);
  if (verdict === "ok") return undefined;
  return new AttemptError(
    `HTTP error ${response.status} - ${escapeControls(response.statusText)}`,
    verdict,
    {
      code: statusCode(response.status),
      status: response.status,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
    },
  );
}

/**
 * Describes a network-level failure (thrown by `fetch` or by reading a body)
 * in one short line, without the stack, with every URL in it redacted and
 * control characters escaped; a certificate that does not verify is said in
 * words, with how to trust a private CA.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeNetworkError } from "./classify.ts";
 * assert.equal(
 *   describeNetworkError(new Error("error sending request for http://h/x?token=s3cr3t: closed")),
 *   "error sending request for http://h/x?token=***: closed",
 * );
 * ```
 *
 * @param error What `fetch` or the body reader threw.
 * @returns A reason such as `connection reset` or `error sending request`.
 */
export function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) {
    return escapeControls(redactUrlsIn(String(error)));
  }
  // Deno's fetch says only "fetch failed"; why is in its cause.
  const why = error.message === "fetch failed" && error.cause instanceof Error
    ? error.cause
    : error;
  const certificate = certificateProblem(why.message);
  if (certificate) return certificate;
  const message = escapeControls(
    redactUrlsIn(
      why.message.replace(/ for url \([^)]*\)/g, "")
        // "error sending request from ADDR for URL (ADDR): why": the addresses
        // and the URL say nothing the failure line does not.
        .replace(/^(error sending request) from \S+ for \S+ \([^)]*\)/, "$1"),
    )
      .replace(/\s+/g, " ").trim(),
  );
  if (why.name === "TimeoutError") return message || "timed out";
  return message.length > 0 ? message : why.name;
}

/** How `fetch` (hyper) words an answer that breaks HTTP's grammar. */
const FETCH_PARSE_ERROR =
  /invalid HTTP [a-z -]*parsed|message head is too large|invalid content-length/i;

/** What to do about a certificate that does not verify. */
export const TRUST_HINT =
  "to trust a private CA, pass --ca-cert FILE (or set DENO_CERT=FILE)";

/** rustls' names for why a certificate failed, in words. */
const CERTIFICATE_PROBLEMS: Record<string, string> = {
  UnknownIssuer: "it is signed by an unknown issuer",
  CaUsedAsEndEntity: "the server presents a CA certificate as its own",
  NotValidForName: "it is not valid for this host name",
  Expired: "it has expired",
  NotValidYet: "it is not valid yet",
  BadSignature: "its signature is invalid",
  Revoked: "it was revoked",
  UnhandledCriticalExtension: "it has an unsupported critical extension",
  BadEncoding: "it is malformed",
};

/**
 * The reason for a certificate failure, or undefined when `message` is not
 * one.
 *
 * @param message An error message from `fetch` or `Deno.connectTls`.
 * @returns A sentence without the TLS library's identifiers.
 */
export function certificateProblem(message: string): string | undefined {
  const match = /invalid peer certificate:?\s*([A-Za-z]+)?/i.exec(message);
  if (!match) return undefined;
  const why = CERTIFICATE_PROBLEMS[match[1] ?? ""] ??
    "it does not verify";
  return `the server's TLS certificate is not trusted: ${why}; ${TRUST_HINT}`;
}

/**
 * The attempt error for what a request or a body read threw: retryable,
 * except a certificate that does not verify and an answer bulkget refuses to
 * decode (both the same next time). A missing permission is rethrown: it
 * stops the run.
 *
 * @param error What was thrown.
 * @param signal The attempt's signal (its reason names a deadline).
 * @returns The attempt error.
 */
export function networkFailure(
  error: unknown,
  signal: AbortSignal,
): AttemptError {
  if (error instanceof AttemptError) return error;
  // A missing --allow-net is not a network problem: it stops the whole run.
  if (error instanceof Deno.errors.NotCapable) throw error;
  const cause = signal.aborted ? signal.reason : error;
  // A certificate that does not verify, or an answer bulkget will not
  // decode, is the same on the next attempt.
  const described = describeNetworkError(error);
  const refused = error instanceof HttpProtocolError && !error.retryable;
  const certificate = described.includes(TRUST_HINT);
  const code = signal.aborted
    ? ERROR_CODES.timeout
    : certificate
    ? ERROR_CODES.tls
    : refused
    ? ERROR_CODES.framing
    : error instanceof HttpProtocolError || FETCH_PARSE_ERROR.test(described)
    ? ERROR_CODES.protocol
    : ERROR_CODES.network;
  return new AttemptError(
    cause === error ? described : describeNetworkError(cause),
    !signal.aborted && (refused || certificate) ? "fatal" : "retryable",
    { cause: error, code },
  );
}

/**
 * The attempt error for a failed body: as {@linkcode networkFailure}, and a
 * writer that failed (it stopped, or the disk refused) is fatal.
 *
 * @param error What was thrown.
 * @param signal The attempt's signal.
 * @returns The attempt error.
 */
export function bodyFailure(
  error: unknown,
  signal: AbortSignal,
): AttemptError {
  if (error instanceof AttemptError) return error;
  if (hasCode(error, ERROR_CODES.write)) {
    return new AttemptError(error.message, "fatal", {
      cause: error,
      code: ERROR_CODES.write,
    });
  }
  return networkFailure(error, signal);
}

/**
 * A size or checksum mismatch is worth another download (the bytes may have
 * been damaged on the way), unless `retried` says otherwise.
 *
 * @param error What the writer's verification threw (a mismatch is coded
 *   `VERIFY_FAILED`).
 * @param retried Whether a mismatch is retryable (else fatal). @default true
 * @throws {AttemptError} (retryable, or fatal) for a mismatch; anything
 *   else as it is.
 */
export function verifyFailure(error: unknown, retried = true): never {
  if (hasCode(error, ERROR_CODES.verify)) {
    throw new AttemptError(error.message, retried ? "retryable" : "fatal", {
      cause: error,
      code: ERROR_CODES.verify,
    });
  }
  throw error;
}
