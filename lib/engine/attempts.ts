/**
 * The attempts of one job: each of its URLs in turn (the next mirror only
 * when `mirrors.ts` says it may help), each with retries and backoff
 * (`retry.ts`: retryable verdicts only, honouring `Retry-After`). Every
 * retry, and every move to the next mirror, is a `retrying` event; the
 * count of attempts and the last status seen are kept for the outcome.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import type { EventListener } from "../core/events.ts";
import { type BackoffOptions, retry } from "./retry.ts";
import { nextMirrorMayHelp } from "./mirrors.ts";
import { AttemptError, RetryError } from "../core/errors.ts";

/** What a job's attempts add up to, for its outcome. */
export interface AttemptTally {
  /** Attempts made so far, over every URL. */
  attempts: number;
  /** The status of the last failed attempt that had one. */
  httpStatus?: number;
  /** How many of the job's URLs were tried. */
  tried: number;
}

/** The retry policy and where events go. */
export interface AttemptsOptions {
  /** Attempts after the first, per URL. */
  retries: number;
  /** Backoff between attempts. @default BACKOFF_DEFAULTS */
  backoff?: BackoffOptions;
  /** Receives the `retrying` events. */
  onEvent?: EventListener;
  /** Stops the attempts (the last failure is thrown). */
  signal?: AbortSignal;
  /** Waits between attempts. @default sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Whether a failed attempt is worth another. */
function isRetriable(error: unknown): boolean {
  return error instanceof AttemptError && error.verdict === "retryable";
}

/** The wait a failed attempt asks for (`Retry-After`), if any. */
function retryAfter(error: unknown): number | undefined {
  return error instanceof AttemptError ? error.retryAfterMs : undefined;
}

/**
 * Runs attempts until one succeeds, the failures are not worth another, or
 * every URL is spent.
 *
 * @param job The job (the subject of the events).
 * @param urls Its URLs, in the order they are tried.
 * @param options Retries, backoff, events, cancellation.
 * @param tally Updated as the attempts go.
 * @param attempt One attempt at `urls[mirror]`; `n` counts from 1 per URL.
 * @returns What the successful attempt returned.
 * @throws The last failure (a {@linkcode RetryError} after spent retries).
 */
export async function attemptEach<T>(
  job: Job,
  urls: readonly string[],
  options: AttemptsOptions,
  tally: AttemptTally,
  attempt: (url: string, mirror: number, n: number) => Promise<T>,
): Promise<T> {
  for (let m = 0;; m++) {
    tally.tried = m + 1;
    const before = tally.attempts;
    try {
      return await retry((n) => {
        tally.attempts = before + n;
        return attempt(urls[m], m, n);
      }, {
        ...options.backoff,
        maxAttempts: options.retries + 1,
        isRetriable,
        retryAfter,
        onRetry: ({ attempt, error, delayMs }) => {
          tally.httpStatus = (error as AttemptError).status ?? tally.httpStatus;
          options.onEvent?.({
            type: "retrying",
            job,
            attempt: before + attempt,
            reason: (error as Error).message,
            delayMs,
          });
        },
        signal: options.signal,
        sleep: options.sleep,
      });
    } catch (error) {
      const failure = error instanceof RetryError ? error.cause : error;
      if (
        m + 1 >= urls.length || options.signal?.aborted ||
        !nextMirrorMayHelp(failure)
      ) throw error;
      const reason = (failure as AttemptError).message;
      tally.httpStatus = (failure as AttemptError).status ?? tally.httpStatus;
      // Said without the URLs: they may hold credentials.
      options.onEvent?.({
        type: "retrying",
        job,
        attempt: tally.attempts + 1,
        reason: `mirror ${m + 1} of ${urls.length}: ${reason}; trying mirror ${
          m + 2
        }`,
        delayMs: 0,
      });
    }
  }
}
