/**
 * Mirrors: several URLs of the same file (aria2 input lines with
 * tab-separated URIs, a manifest's `urls`). The first is tried with the
 * usual retries; a failure that another server might not have — not found
 * (404, 410), or a retryable failure (5xx, 429, timeouts, connection
 * failures, truncated bodies) still there after the retries — moves on to
 * the next, in order. A fatal answer (another 4xx, a body over
 * `--max-size`, a bad redirect) ends the job: every mirror would be asked
 * the same thing.
 *
 * A `.part` written from one mirror is continued from another only by a
 * `Range` with the `If-Range` validator the first one gave, and only when
 * the answer carries that same validator and complete length
 * (`resume.ts`); otherwise the file restarts from the first byte.
 *
 * @module
 */

import { AttemptError } from "../core/errors.ts";
import type { Job } from "../core/job.ts";

/**
 * Every URL of a job, in the order they are tried.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mirrorUrls } from "./mirrors.ts";
 * const job = { url: "http://a/f", mirrors: ["http://b/f"], dest: "f" };
 * assert.deepEqual(mirrorUrls(job), ["http://a/f", "http://b/f"]);
 * ```
 *
 * @param job The job.
 * @returns `job.url`, then its mirrors.
 */
export function mirrorUrls(job: Job): string[] {
  return [job.url, ...(job.mirrors ?? [])];
}

/**
 * Whether the next mirror is worth a try after this mirror's last failure.
 *
 * @param failure Why the mirror failed (after its retries).
 * @returns True for not found and retryable failures; false for fatal ones.
 */
export function nextMirrorMayHelp(failure: unknown): boolean {
  return failure instanceof AttemptError &&
    (failure.verdict === "not_found" || failure.verdict === "retryable");
}
