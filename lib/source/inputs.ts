/**
 * The jobs of `-i` lists and `--manifest` files, in the order `bulkget get`
 * reads them: every list (aria2 input syntax, which plain URL lists also
 * are), then every manifest. `bulkget report merge` reads them the same way,
 * so its idea of "every job of the input" matches the downloads'.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { jobsFromAria2 } from "./aria2.ts";
import { jobsFromManifest } from "./manifest.ts";

/** The input files of a run. */
export interface InputFiles {
  /** `-i` files; `-` is stdin. */
  lists: readonly string[];
  /** `--manifest` files; `-` is stdin. */
  manifests: readonly string[];
  /** Mirror URL paths under the output directory. @default false */
  keepPaths?: boolean;
  /** Hears of ignored aria2 options. @default a warning line on stderr */
  onWarning?: (message: string) => void;
}

/**
 * Streams the jobs of every list, then of every manifest.
 *
 * @param inputs The files and the naming option.
 * @returns The jobs, in input order.
 * @throws {SourceError} (while iterating) For a file that cannot be read or a bad line.
 */
export async function* jobsFromInputFiles(
  inputs: InputFiles,
): AsyncGenerator<Job> {
  const keepPaths = inputs.keepPaths ?? false;
  for (const path of inputs.lists) {
    // The path itself, not a stream of it: see chunkReader in lines.ts.
    yield* jobsFromAria2(path, {
      keepPaths,
      name: displayName(path),
      // Standard input may be a producer writing one URL at a time.
      live: path === "-",
      onWarning: inputs.onWarning,
    });
  }
  for (const path of inputs.manifests) {
    yield* jobsFromManifest(path, {
      keepPaths,
      name: displayName(path),
    });
  }
}

function displayName(path: string): string {
  return path === "-" ? "stdin" : path;
}
