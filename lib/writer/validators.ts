/**
 * The validators (ETag, Last-Modified) of files written by earlier
 * `--update` runs, read from the output directory's state file, so a rerun
 * can ask the server "changed since?" and skip what did not change.
 *
 * The state file (`.bulkget-state.jsonl`) is appended to by the writer
 * Worker, one JSON line per file written: `{"dest", "size", "sha256",
 * "mtime"?, "ctime"?, "etag"?, "lastModified"?}`; a later line for the same
 * destination wins.
 *
 * @module
 */

import { STATE_FILE } from "./paths.ts";
import type { Validators } from "./protocol.ts";

/** Validators by destination. */
export interface ValidatorStore {
  /** The validators last recorded for `dest`, if any. */
  get(dest: string): Validators | undefined;
}

/**
 * Reads the state file of `outDir` (an absent one is empty).
 *
 * @param outDir The output directory.
 * @returns The store; lines that are not valid JSON are skipped (a crash may
 *   have cut the last one short).
 */
export async function loadValidators(outDir: string): Promise<ValidatorStore> {
  const byDest = new Map<string, Validators>();
  let text = "";
  try {
    text = await Deno.readTextFile(`${outDir}/${STATE_FILE}`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const { dest, etag, lastModified } = JSON.parse(line);
      if (typeof dest === "string") byDest.set(dest, { etag, lastModified });
    } catch {
      // a torn last line: that file is simply fetched again
    }
  }
  return { get: (dest) => byDest.get(dest) };
}
