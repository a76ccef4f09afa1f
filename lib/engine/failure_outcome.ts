/**
 * How a job that did not succeed ends: a cancel, an attempt's failure (its
 * verdict, code and reason, saying which mirror failed), a name another job
 * took, or the writer's refusal. A missing permission is not a job's
 * failure: it stops the run.
 *
 * @module
 */

import type { Outcome, OutcomeStatus } from "../core/job.ts";
import { AttemptError, ERROR_CODES, RetryError } from "../core/errors.ts";
import { redactUrl } from "../core/redact.ts";
import { describeNetworkError } from "./classify.ts";

/** A job's end: its status and what its outcome says beside it. */
export type Ending = Partial<Outcome> & { status: OutcomeStatus };

/**
 * The end of a job whose attempts failed.
 *
 * @param error What the attempts threw.
 * @param signal The job's signal: aborted means cancelled.
 * @param mirrors How many of the job's URLs were tried, of how many.
 * @returns The ending (`cancelled`, `not_found` or `error`).
 * @throws What is not an attempt's failure (the writer's, a bug), as it is.
 */
export function attemptsFailed(
  error: unknown,
  signal: AbortSignal | undefined,
  mirrors: { tried: number; count: number },
): Ending {
  if (signal?.aborted) return { status: "cancelled", reason: "interrupted" };
  const failure = error instanceof RetryError ? error.cause : error;
  if (!(failure instanceof AttemptError)) throw failure;
  const { tried, count } = mirrors;
  return {
    status: failure.verdict === "not_found" ? "not_found" : "error",
    ...(failure.status === undefined ? {} : { httpStatus: failure.status }),
    code: failure.code,
    reason: count === 1
      ? failure.message
      : tried === count
      ? `${failure.message} (every mirror failed; this was the last of ${count})`
      : `${failure.message} (mirror ${tried} of ${count}; a fatal failure, the others were not tried)`,
  };
}

/**
 * The end of a job whose destination another job of the run took (named so
 * by its server).
 *
 * @param dest The destination.
 * @param owner The URL of the job that writes it.
 * @returns The ending (`error`, `NAME_TAKEN`).
 */
export function nameTaken(dest: string, owner: string): Ending {
  return {
    status: "error",
    code: ERROR_CODES.nameTaken,
    reason: `${dest} is written by another download of this run (${
      redactUrl(owner)
    }, named so by its server)`,
  };
}

/**
 * The end of a job the writer failed: the disk refused.
 *
 * @param error What the writer threw.
 * @returns The ending (`error`, `WRITE_FAILED`).
 * @throws {Deno.errors.NotCapable} For a missing permission (the writer
 *   client turns the Worker's `PERMISSION_MISSING` into one): it stops the
 *   run.
 */
export function writeFailed(error: unknown): Ending {
  if (error instanceof Deno.errors.NotCapable) throw error;
  return {
    status: "error",
    code: ERROR_CODES.write,
    reason: `write failed: ${describeNetworkError(error)}`,
  };
}
