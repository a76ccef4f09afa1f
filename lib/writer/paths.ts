/**
 * Where a destination lives on disk: its final name, the `.part` it is written
 * to first, and the resume facts kept beside that.
 *
 * @module
 */

import { dirname, isAbsolute, join, relative, resolve } from "node:path";

/** The three paths of one destination. */
export interface DestPaths {
  /** The complete, verified file. */
  final: string;
  /** Bytes still arriving. */
  part: string;
  /** Resume facts (URL, validator) for the `.part`. */
  meta: string;
  /** The directory that holds them. */
  dir: string;
}

/** Suffix of a file still being written. */
export const PART_SUFFIX = ".part";
/** Suffix of the resume facts beside a `.part`. */
export const META_SUFFIX = ".part.json";
/** The file in the output directory where `--update` runs keep validators. */
export const STATE_FILE = ".bulkget-state.jsonl";

/**
 * Resolves `dest` under `outDir`, refusing anything that would land outside it.
 *
 * The writer Worker runs this function from its source text, so it must use
 * nothing but `node:path`'s `dirname`, `isAbsolute`, `join`, `relative`,
 * `resolve` and the two suffix constants (see `writerWorkerUrl`).
 *
 * @param outDir The output directory.
 * @param dest A relative, sanitised destination.
 * @returns The destination's paths.
 * @throws {RangeError} When `dest` escapes `outDir`.
 */
export function destPaths(outDir: string, dest: string): DestPaths {
  const root = resolve(outDir);
  const final = join(root, dest);
  const rel = relative(root, final);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new RangeError(
      `Destination "${dest}" is outside the output directory`,
    );
  }
  return {
    final,
    part: final + PART_SUFFIX,
    meta: final + META_SUFFIX,
    dir: dirname(final),
  };
}
