/**
 * What every CI API client of `lib/artifacts/` gives: artifacts described
 * the same way, whatever the vendor, and one way to resolve a download.
 *
 * @module
 */

/** One CI artifact, as listed by a vendor's API. */
export interface Artifact {
  /** The vendor's id (GitHub: the artifact id; GitLab: the job id). */
  id: number;
  /** Its name (GitHub: the upload's name; GitLab: the job's name). */
  name: string;
  /** Its size in bytes, as listed (0 when unknown). */
  size: number;
  /** Lower-case hex SHA-256 of the downloaded bytes, or null when the API gives none. */
  sha256: string | null;
  /** Whether the API lists it as expired. */
  expired: boolean;
  /** ISO date of creation (for "newest of each name"). */
  createdAt: string;
  /** The API URL that answers with the bytes or a redirect to them. */
  downloadUrl: string;
  /** The workflow run (GitHub) or pipeline (GitLab) it belongs to. */
  runId?: number;
}

/** A vendor API client: list, then resolve each download. */
export interface ArtifactApi<L> {
  /**
   * Lists artifacts, following pagination.
   *
   * @param filter The vendor's filters.
   * @returns The artifacts.
   * @throws {ArtifactApiError} (`lib/core/errors.ts`) When the API refuses or fails.
   */
  list(filter?: L): Promise<Artifact[]>;
  /**
   * Asks the API where an artifact's bytes are, now (a signed URL that
   * expires soon, or the API URL itself with its credentials).
   *
   * @param artifact The artifact.
   * @returns The URL to fetch and the headers to send there.
   * @throws {ArtifactApiError} With `expired` for an expired artifact.
   */
  resolve(artifact: Artifact): Promise<string | ResolvedDownload>;
}

/** Where an artifact's bytes are, with the headers that URL needs. */
export interface ResolvedDownload {
  /** The URL. */
  url: string;
  /** Headers to send to it (e.g. GitLab's token, which is the API's own host). */
  headers?: Record<string, string>;
}
