/**
 * The unit of work: one thing to download, and what became of it.
 *
 * Job sources (`lib/source/`) only describe jobs; the engine turns each into
 * exactly one {@linkcode Outcome}.
 *
 * @module
 */

import type { ErrorCode } from "./errors.ts";

/** One file to download. */
export interface Job {
  /** Absolute `http:` or `https:` URL. */
  url: string;
  /**
   * Other URLs of the same file, tried in order when `url` (then each
   * mirror before) fails with a failure another server might not have; see
   * `mirrors.ts`.
   */
  mirrors?: string[];
  /** Destination path relative to the output directory, `/`-separated, already sanitised. */
  dest: string;
  /** Expected lower-case hex SHA-256 of the body, checked before the final rename. */
  sha256?: string;
  /**
   * Another expected digest, checked before the final rename as `sha256`
   * is (aria2 `checksum=md5=…`, a manifest's `"checksum": "sha-512=…"`).
   */
  checksum?: Checksum;
  /** Expected size in bytes, checked before the final rename. */
  size?: number;
  /** Extra request headers for this job only. */
  headers?: Record<string, string>;
  /**
   * What names the file for resume when its URL changes from one request to
   * the next (a signed URL that expires): a `.part` recorded under this key
   * is continued whatever URL it came from, still only when the server's
   * validator matches `If-Range`. @default the URL
   */
  resumeKey?: string;
  /** Short name for progress and report lines (the flags demo uses the country code). */
  label?: string;
  /** Where the job came from, e.g. `list.txt:12`, for error messages. */
  origin?: string;
}

/**
 * What became of a job.
 *
 * - `ok`: the file is on disk under its final name, verified.
 * - `skipped`: a complete, verified file was already there.
 * - `not_modified`: `--update` found the file unchanged on the server.
 * - `not_found`: the server answered 404 or 410.
 * - `error`: every attempt failed; `reason` says why.
 * - `cancelled`: the run was interrupted before the job finished.
 */
export type OutcomeStatus =
  | "ok"
  | "skipped"
  | "not_modified"
  | "not_found"
  | "error"
  | "cancelled";

/** The result of one job; never thrown, always yielded. */
export interface Outcome {
  /** The job this outcome answers. */
  job: Job;
  /** What became of it. */
  status: OutcomeStatus;
  /** Body bytes now on disk under the final name (0 unless ok or skipped). */
  bytes: number;
  /** Lower-case hex SHA-256 of the file, when it was written or verified. */
  sha256?: string;
  /** HTTP requests made for this job (a redirect hop is not an attempt). */
  attempts: number;
  /** Last HTTP status seen, when a response arrived. */
  httpStatus?: number;
  /** Why it failed, for people: e.g. `HTTP error 503 - Service Unavailable`. */
  reason?: string;
  /** The failure's kind, a stable code (see `lib/core/errors.ts`), for `error` and `not_found`. */
  code?: ErrorCode;
  /** Wall time spent on this job, in milliseconds. */
  elapsedMs: number;
}

/** Digest algorithms beside SHA-256 (which is {@linkcode Job.sha256}). */
export type ChecksumAlgorithm = "md5" | "sha-1" | "sha-512";

/** An expected digest: algorithm and lower-case hex. */
export interface Checksum {
  /** The algorithm, as aria2 spells it. */
  algorithm: ChecksumAlgorithm;
  /** Lower-case hex digest. */
  hex: string;
}
