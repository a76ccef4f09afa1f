/**
 * `placer`: the last step of every file an extraction writes: its complete,
 * checked `.part` renamed to its name, or, with `merge` over a file already
 * there, compared with it (identical bytes are fine, different bytes a
 * conflict that keeps the first file). Counts and conflicts add up in the
 * placer's `result`; every directory renamed into is noted for the
 * extraction's flush.
 *
 * @module
 */

import { pathExists } from "./paths.ts";
import { readFully } from "./zip_index.ts";
import type { ChangedDirs } from "./changed_dirs.ts";
import type { ExtractResult } from "./unzip.ts";

/** What a {@linkcode placer} needs to know. */
export interface PlacerOptions {
  /** Compare with an existing file instead of replacing it. */
  merge: boolean;
  /** Who wrote each existing file in this run, by destination; updated. */
  owners: Map<string, string>;
  /** Whose files these are, for conflict messages. */
  label: string;
  /** Where renames are noted. */
  changed: ChangedDirs;
}

/** Places one file: `place(part, name, bytes, buffer)`. */
export type Place =
  & ((
    part: string,
    name: string,
    bytes: number,
    buffer: Uint8Array,
  ) => Promise<void>)
  & { result: ExtractResult };

/**
 * A function that places each complete file into `destDir`, with the
 * counts so far as its `result`.
 *
 * @param destDir The directory names are relative to.
 * @param options See {@linkcode PlacerOptions}.
 * @returns The function.
 */
export function placer(destDir: string, options: PlacerOptions): Place {
  const { owners, label, changed } = options;
  const result: ExtractResult = { files: 0, bytes: 0, conflicts: [] };
  const place = async (
    part: string,
    name: string,
    bytes: number,
    buffer: Uint8Array,
  ) => {
    const dest = `${destDir}/${name}`;
    if (options.merge && await pathExists(dest)) {
      const same = await sameBytes(part, dest, buffer);
      await Deno.remove(part);
      if (!same) {
        const existing = owners.get(dest) ?? "an earlier file";
        result.conflicts.push({ path: name, existing, incoming: label });
        return;
      }
    } else {
      await Deno.rename(part, dest);
      changed.add(dest.slice(0, dest.lastIndexOf("/")));
      owners.set(dest, label);
    }
    result.files++;
    result.bytes += bytes;
  };
  return Object.assign(place, { result });
}

/** Whether files `a` and `b` hold the same bytes. */
async function sameBytes(
  a: string,
  b: string,
  buffer: Uint8Array,
): Promise<boolean> {
  const [sizeA, sizeB] = await Promise.all([Deno.stat(a), Deno.stat(b)]);
  if (sizeA.size !== sizeB.size) return false;
  using fileA = await Deno.open(a);
  using fileB = await Deno.open(b);
  const half = buffer.length >> 1;
  const pieceA = buffer.subarray(0, half);
  const pieceB = buffer.subarray(half);
  for (let at = 0; at < sizeA.size; at += half) {
    const n = Math.min(half, sizeA.size - at);
    await readFully(fileA, at, pieceA.subarray(0, n));
    await readFully(fileB, at, pieceB.subarray(0, n));
    for (let i = 0; i < n; i++) if (pieceA[i] !== pieceB[i]) return false;
  }
  return true;
}
