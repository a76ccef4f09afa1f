/**
 * How a response status or a failure is judged: the one place that decides
 * what is retried.
 *
 * @module
 */

/** The verdict on one attempt. */
export type Verdict = "ok" | "not_found" | "retryable" | "fatal";

/** Statuses worth another attempt: the server or a proxy may answer differently soon. */
const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Judges an HTTP status: 2xx ok; 404 and 410 not found (never retried);
 * 408, 425, 429, 500, 502, 503, 504 retryable; anything else fatal.
 *
 * @example
 * ```ts
 * import { classifyStatus } from "./classify.ts";
 * classifyStatus(503); // "retryable"
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
 * A failed attempt, with the verdict the engine acts on. Thrown inside
 * fetch-one and turned into an outcome there; it never escapes the engine.
 */
export class AttemptError extends Error {
  /** Whether another attempt may succeed. */
  readonly verdict: Exclude<Verdict, "ok">;
  /** The HTTP status, when a response arrived. */
  readonly status?: number;
  /** A server-chosen wait before the next attempt (`Retry-After`), in ms. */
  readonly retryAfterMs?: number;

  /**
   * @param message The reason, for people.
   * @param verdict Whether another attempt may succeed.
   * @param options The status, a server-chosen wait and the cause.
   */
  constructor(
    message: string,
    verdict: Exclude<Verdict, "ok">,
    options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AttemptError";
    this.verdict = verdict;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Describes a network-level failure (thrown by `fetch` or by reading a body)
 * in one short line, without the stack.
 *
 * @param error What `fetch` or the body reader threw.
 * @returns A reason such as `connection reset` or `error sending request`.
 */
export function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Deno's fetch says only "fetch failed"; why is in its cause.
  const why = error.message === "fetch failed" && error.cause instanceof Error
    ? error.cause
    : error;
  // Deno's fetch errors embed the URL, which may hold a token: leave it out.
  const message = why.message.replace(/ for url \([^)]*\)/g, "")
    .replace(/\s+/g, " ").trim();
  if (why.name === "TimeoutError") return message || "timed out";
  return message.length > 0 ? message : why.name;
}
