/**
 * `ArtifactResult`: what became of one artifact in a `fetchArtifacts` run
 * (what the report and the result lines say), and the result an artifact
 * starts from.
 *
 * @module
 */

import type { ExtractConflict } from "../writer/unzip.ts";
import type { Outcome } from "../core/job.ts";
import type { EngineEvent } from "../core/events.ts";
import type { Artifact } from "./artifact.ts";

/** What became of one artifact. */
export interface ArtifactResult {
  /** The artifact's id. */
  id: number;
  /** Its name. */
  name: string;
  /** `sha256:HEX` as the API gave it, or null. */
  digest: string | null;
  /** The SHA-256 of the bytes downloaded (lower-case hex), when downloaded. */
  sha256?: string;
  /** The download's size (the zip's, or the raw file's), when complete. */
  bytes: number;
  /**
   * Body bytes received for it in this run, by every attempt: a resumed
   * download's only what came after its `.part`; a skipped artifact's 0.
   */
  transferred: number;
  /** Files extracted (or found identical with `merge`). */
  files: number;
  /**
   * - `ok`: downloaded, verified, extracted (or kept, without extraction);
   * - `skipped`: done by an earlier run;
   * - `expired`: the API says it expired (410); not retried;
   * - `error`: `reason` says why (digest mismatch, unsafe entry, conflict, ...);
   * - `cancelled`: interrupted.
   */
  status: "ok" | "skipped" | "expired" | "error" | "cancelled";
  /** Why it failed. */
  reason?: string;
  /** Where it went, relative to the output directory (`.` for the directory itself). */
  path: string;
  /** Kept without extraction, and no zip: saved under its server's file name. */
  raw?: boolean;
  /** Merge conflicts: paths two artifacts hold with different bytes. */
  conflicts?: ExtractConflict[];
}

/**
 * The result `artifact` starts from: its id, name and digest, nothing done
 * yet (status `error`, no path), to be filled in.
 *
 * @param artifact The artifact.
 * @returns Its blank result.
 */
export function resultOf(artifact: Artifact): ArtifactResult {
  return {
    id: artifact.id,
    name: artifact.name,
    digest: artifact.sha256 === null ? null : `sha256:${artifact.sha256}`,
    bytes: 0,
    transferred: 0,
    files: 0,
    status: "error",
    path: "",
  };
}

/**
 * A listener that adds each job's body bytes up by its origin (a result's
 * `transferred`), then passes every event on.
 *
 * @param received The counts, by origin; updated.
 * @param forward Where events go next, if anywhere.
 * @returns The listener.
 */
export function countReceived(
  received: Map<string, number>,
  forward?: (event: EngineEvent) => void,
): (event: EngineEvent) => void {
  return (event) => {
    if (event.type === "bytes") {
      const key = event.job.origin!;
      received.set(key, (received.get(key) ?? 0) + event.bytes);
    }
    forward?.(event);
  };
}

/**
 * The reason a failed download gives its artifact's result: the engine's,
 * a checksum mismatch called a digest mismatch.
 *
 * @param outcome The download's failed outcome.
 * @returns The reason.
 */
export function failureReason(outcome: Outcome): string {
  const reason = outcome.reason ?? outcome.status;
  return /checksum mismatch/.test(reason)
    ? reason.replace("checksum mismatch", "digest mismatch")
    : reason;
}
