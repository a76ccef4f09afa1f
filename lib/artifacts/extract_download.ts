/**
 * `extractDownload`: one verified download of `bulkget artifacts` into its
 * place: a zip extracted by the extraction Worker (which checks its digest
 * first), a file uploaded unzipped put there as it is; the download removed
 * after either way. Also bulkget's own names in the output directory, which
 * no artifact or entry may take.
 *
 * @module
 */

import type { ExtractConflict } from "../writer/unzip.ts";
import type { ZipExtractor } from "../writer/zip_extractor.ts";
import { STATE_FILE } from "../writer/paths.ts";
import type { Artifact } from "./artifact.ts";
import type { Durability } from "../writer/client.ts";
import type { Watched } from "./download_watches.ts";

/** The work directory inside the output directory (zips in progress, the done list). */
export const WORK_DIR = ".bulkget-artifacts";

/**
 * bulkget's own names in the output directory: no artifact may be named
 * like them, and no entry extracted into the directory itself may start
 * with them (an entry `.bulkget-artifacts/done.json` would replace the done
 * list, `.bulkget-artifacts/ID.zip` a zip being extracted).
 */
export const RESERVED: Record<string, string> = {
  [WORK_DIR]: "bulkget's own work directory",
  [STATE_FILE]: "bulkget's own state file",
};

/** How {@linkcode extractDownload} extracts. */
export interface ExtractDownloadOptions {
  /** The run's extraction Worker. */
  extractor: ZipExtractor;
  /** Compare with files already there; different bytes are a conflict. */
  merge: boolean;
  /** Who wrote each extracted file in this run; updated. */
  owners: Map<string, string>;
  /** The target is the output directory itself (its own names are refused). */
  intoOutDir: boolean;
  /** The extractor's watch that followed the download as it was written, with the digest taken of it here, if any. */
  watched?: Watched;
  /**
   * `"full"`: every file placed is flushed, and its directories, before
   * this returns (the download was not: it is checked before use).
   */
  durability: Durability;
}

/** What became of the download: an `ok` or `error` status, and its counts. */
export interface ExtractedDownload {
  /** `error` for a refused archive or a merge conflict. */
  status: "ok" | "error";
  /** Files extracted (or found identical). */
  files: number;
  /** The download's SHA-256, when it was read. */
  sha256?: string;
  /** Why it failed. */
  reason?: string;
  /** The merge conflicts, if any. */
  conflicts?: ExtractConflict[];
}

const ZIP_MAGIC = [0x50, 0x4b];

/**
 * Extracts the verified-size download at `zipPath` into `target`, checking
 * its digest first, and removes the download.
 *
 * @param zipPath The download.
 * @param target The directory it goes to.
 * @param artifact The artifact (its name, its digest).
 * @param options See {@linkcode ExtractDownloadOptions}.
 * @returns The status, counts and reason; never throws for a bad archive.
 */
export async function extractDownload(
  zipPath: string,
  target: string,
  artifact: Artifact,
  options: ExtractDownloadOptions,
): Promise<ExtractedDownload> {
  const how = {
    merge: options.merge,
    label: artifact.name,
    owners: options.owners,
    reserved: options.intoOutDir ? RESERVED : undefined,
    sha256: artifact.sha256 ?? undefined,
    hash: true,
    hashedAs: options.watched?.key,
    digest: options.watched?.digest,
    durability: options.durability,
  };
  try {
    // An artifact uploaded unzipped: the bytes are the file.
    const extracted = await isZip(zipPath)
      ? await options.extractor.extract(zipPath, target, how)
      : await options.extractor.place(zipPath, target, artifact.name, how);
    const { files, sha256, conflicts } = extracted;
    if (conflicts.length === 0) return { status: "ok", files, sha256 };
    const reason = conflicts.map((c) =>
      `merge conflict: ${c.path} differs in ${c.existing} and ${c.incoming}`
    ).join("; ");
    return { status: "error", files, sha256, reason, conflicts };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: "error",
      files: 0,
      reason: message.startsWith("digest mismatch")
        ? message
        : `extraction failed: ${message}`,
    };
  } finally {
    await Deno.remove(zipPath).catch(() => {});
  }
}

/**
 * Whether the file at `path` starts as a zip does (`PK`).
 *
 * @param path The file.
 * @returns True for a zip's first bytes.
 */
export async function isZip(path: string): Promise<boolean> {
  using file = await Deno.open(path);
  const head = new Uint8Array(2);
  const n = await file.read(head);
  return n === 2 && head[0] === ZIP_MAGIC[0] && head[1] === ZIP_MAGIC[1];
}
