/**
 * Counts the jobs of an input file without parsing it, so a progress bar can
 * show the total (and a remaining time) from the first second: one streaming
 * pass over the bytes, far cheaper than the downloads it announces.
 *
 * @module
 */

import { openInput } from "./open_input.ts";
import { jobsFromUrls } from "./args.ts";
import { jobsFromInputFiles } from "./inputs.ts";
import { type Shard, shardJobs } from "./shard.ts";

/** Options for {@linkcode countJobs}. */
export interface CountOptions {
  /**
   * The file's syntax: `list` (a URL list or aria2 input file: each
   * non-blank line that is neither a comment nor an indented option line
   * is one job) or `manifest` (JSONL: each non-blank line is one job).
   *
   * @default {"list"}
   */
  kind?: "list" | "manifest";
  /** Stops counting (the promise then rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * The number of jobs in an input file, as its job source would read them
 * when every line is valid (a bad line ends the run anyway).
 *
 * @example Usage
 * ```ts
 * import { countJobs } from "./count.ts";
 * import { equal } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "# a list\nhttp://h/a\n  out=b\n\n http://h/c\n");
 * equal(await countJobs(path), 2);
 * await Deno.remove(path);
 * ```
 *
 * @param path A file path (not `-`: standard input can be read only once).
 * @param options The file's syntax; cancellation.
 * @returns The count.
 * @throws {SourceError} When the file cannot be opened (as the source would).
 */
export async function countJobs(
  path: string,
  options: CountOptions = {},
): Promise<number> {
  const manifest = options.kind === "manifest";
  const stream = await openInput(path);
  let count = 0;
  // Per line: 0 = at its start (only blanks so far), 1 = counted or
  // skipped (ignore the rest), 2 = indented, deciding whether it is a URL.
  let state = 0;
  let indented = false;
  let head = ""; // the first letters after an indent, to spot "http"
  for await (const chunk of stream) {
    options.signal?.throwIfAborted();
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === 10) {
        state = 0;
        indented = false;
        head = "";
        continue;
      }
      if (state === 1) continue;
      if (byte === 32 || byte === 9 || byte === 13) {
        if (head === "") {
          if (byte !== 13 && state === 0) indented = true;
          continue;
        }
      }
      if (manifest) {
        count++;
        state = 1;
        continue;
      }
      if (head === "" && byte === 35) { // "#": a comment
        state = 1;
        continue;
      }
      if (!indented) {
        count++;
        state = 1;
        continue;
      }
      // Indented: a URL (a plain list with leading spaces), or an option.
      head += String.fromCharCode(byte | 0x20);
      if (!"http".startsWith(head.slice(0, 4))) {
        state = 1; // an option line
      } else if (head.length === 4) {
        count++;
        state = 1;
      }
    }
  }
  return count;
}

/** The inputs of a run, for {@linkcode countInputJobs}. */
export interface RunInputs {
  /** URL arguments. */
  urls: readonly string[];
  /** `-i` files (`-`, standard input, is not counted). */
  lists: readonly string[];
  /** `--manifest` files (`-` is not counted). */
  manifests: readonly string[];
  /** Mirror URL paths (names decide the shard). @default false */
  keepPaths?: boolean;
  /** Count only the jobs this shard keeps. */
  shard?: Shard;
}

/**
 * The jobs of a run's arguments and regular input files, counted in one
 * pass before (and beside) the downloads. Without a shard the lines are
 * counted ({@linkcode countJobs}); with one each job's destination decides,
 * so the lines are parsed as the run will parse them (ignored-option
 * warnings are left to the run).
 *
 * @param inputs The arguments and files; the shard.
 * @param signal Stops counting.
 * @returns The count.
 * @throws {SourceError} For a file that cannot be read or (with a shard) a bad line.
 */
export async function countInputJobs(
  inputs: RunInputs,
  signal?: AbortSignal,
): Promise<number> {
  const regular = (paths: readonly string[]) => paths.filter((p) => p !== "-");
  if (inputs.shard) {
    const jobs = (async function* () {
      yield* jobsFromUrls(inputs.urls, { keepPaths: inputs.keepPaths });
      yield* jobsFromInputFiles({
        lists: regular(inputs.lists),
        manifests: regular(inputs.manifests),
        keepPaths: inputs.keepPaths,
        onWarning: () => {},
      });
    })();
    const checked = (async function* () {
      for await (const job of jobs) {
        signal?.throwIfAborted();
        yield job;
      }
    })();
    let count = 0;
    for await (const _ of shardJobs(checked, inputs.shard)) count++;
    return count;
  }
  let count = inputs.urls.length;
  for (const path of regular(inputs.lists)) {
    count += await countJobs(path, { signal });
  }
  for (const path of regular(inputs.manifests)) {
    count += await countJobs(path, { kind: "manifest", signal });
  }
  return count;
}
