/**
 * The engine's job for one artifact, and its URL asked of the API just
 * before the job starts (a signed URL lives about a minute).
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import type { Artifact, ArtifactApi } from "./artifact.ts";
import { ArtifactApiError, AttemptError, ERROR_CODES } from "../core/errors.ts";

/**
 * The engine's job for `artifact`, its bytes going to `dest`.
 *
 * @param artifact The artifact.
 * @param dest Where the download goes, relative to the output directory.
 * @param extract Whether the download is to be extracted (its digest is
 *   then checked by the extraction, not the writer).
 * @returns The job (its URL the API's; see {@linkcode resolvedJob}).
 */
export function artifactJob(
  artifact: Artifact,
  dest: string,
  extract: boolean,
): Job {
  return {
    url: artifact.downloadUrl,
    dest,
    // An artifact to extract is checked against its digest by the
    // extraction Worker (it reads the zip anyway); the writer Worker, which
    // every download's bytes go through, then need not hash it.
    sha256: extract ? undefined : artifact.sha256 ?? undefined,
    // Each try gets a fresh signed URL: its .part is the artifact's.
    resumeKey: artifact.downloadUrl,
    label: artifact.name,
    origin: String(artifact.id),
  };
}

/**
 * The job with the URL the API gives for `artifact` now (and the headers
 * to send there): the engine's `prepare`, just before each try.
 *
 * @param api The vendor client.
 * @param job The artifact's job.
 * @param artifact The artifact.
 * @returns The job to send.
 * @throws {AttemptError} `not_found` (410) for an expired artifact; the
 *   API's other failures as they are.
 */
export async function resolvedJob<L>(
  api: ArtifactApi<L>,
  job: Job,
  artifact: Artifact,
): Promise<Job> {
  try {
    const resolved = await api.resolve(artifact);
    return typeof resolved === "string"
      ? { ...job, url: resolved }
      : { ...job, url: resolved.url, headers: resolved.headers };
  } catch (error) {
    if (error instanceof ArtifactApiError && error.expired) {
      throw new AttemptError("expired", "not_found", {
        code: ERROR_CODES.notFound,
        status: 410,
      });
    }
    throw error;
  }
}
