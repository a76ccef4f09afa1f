/**
 * Where a destination lives on disk: its final name, the `.part` it is written
 * to first, and the resume facts kept beside that.
 *
 * @module
 */

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
 * nothing but the two suffix constants (see `writerWorkerUrl`). It does not
 * use `node:path`, whose loading costs start-up time.
 *
 * @param outDir The output directory.
 * @param dest A relative, sanitised destination.
 * @returns The destination's paths.
 * @throws {RangeError} When `dest` escapes `outDir`.
 */
export function destPaths(outDir: string, dest: string): DestPaths {
  // Most destinations are one plain name: no split, no join (this runs for
  // every file, on both threads).
  const plain = !/[\\/]|^\.\.?$|^$|^[A-Za-z]:/.test(dest);
  const segments = plain ? undefined : dest.split(/[\\/]/);
  if (
    segments !== undefined && (
      /^([\\/]|[A-Za-z]:)/.test(dest) ||
      segments.some((segment) =>
        segment === "" || segment === "." || segment === ".."
      )
    )
  ) {
    throw new RangeError(
      `Destination "${dest}" is outside the output directory`,
    );
  }
  const root = outDir === ""
    ? "."
    : outDir === "/"
    ? ""
    : /[\\/]$/.test(outDir)
    ? outDir.replace(/[\\/]+$/, "")
    : outDir;
  const final = `${root}/${segments === undefined ? dest : segments.join("/")}`;
  return {
    final,
    part: final + PART_SUFFIX,
    meta: final + META_SUFFIX,
    dir: final.slice(0, final.lastIndexOf("/")) || "/",
  };
}

/**
 * Whether `path` exists (a dangling link counts: it is looked at, not
 * followed).
 *
 * @param path A path.
 * @returns True when something is there.
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
