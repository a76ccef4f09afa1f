/**
 * Made-up outcomes for the unit tests of the run's outputs.
 *
 * @module
 */

import type { Outcome } from "../core/job.ts";

/**
 * An outcome of the job `http://127.0.0.1/DEST` → `dest`: 0 bytes, one
 * attempt, 1 ms, then `extra`.
 *
 * @param dest The destination.
 * @param status Its status.
 * @param extra Fields to set or replace.
 * @returns The outcome.
 */
export function outcome(
  dest: string,
  status: Outcome["status"],
  extra: Partial<Outcome> = {},
): Outcome {
  return {
    job: { url: `http://127.0.0.1/${dest}`, dest },
    status,
    bytes: 0,
    attempts: 1,
    elapsedMs: 1,
    ...extra,
  };
}
