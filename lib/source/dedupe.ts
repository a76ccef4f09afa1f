/**
 * Refuses a job whose destination an earlier job of the same run already
 * has, as the jobs stream, in memory that stays small for millions of jobs.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { checkJobsIterable } from "./_util.ts";
import { quote } from "../core/printable.ts";
import { SourceError } from "../core/errors.ts";
import { KeySet } from "./key_set.ts";

/** Options for {@linkcode dedupeDestinations}. */
export interface DedupeOptions {
  /**
   * Compare destinations ignoring case (after Unicode NFC normalisation), for
   * case-insensitive file systems (Windows, macOS by default), where `A.gif`
   * and `a.gif` are the same file. Otherwise they are compared exactly.
   *
   * @default {false}
   */
  caseInsensitive?: boolean;
  /**
   * Called for each duplicate, which is then left out, instead of throwing.
   * The CLI can turn it into a per-job failure this way.
   *
   * @default {undefined (a duplicate throws)}
   */
  onDuplicate?: (error: SourceError, job: Job) => void;
  /**
   * The 32-bit hash that files a destination in the table; replaceable for
   * tests (a constant one makes every destination collide). Whatever it
   * returns, only equal destinations are duplicates.
   *
   * @default {cyrb53's first 32-bit lane}
   */
  hash?: (key: string) => number;
}

/** Above this many distinct origin prefixes, first jobs are named `job N`. */
const MAX_PREFIXES = 4096;

/**
 * Passes `jobs` through, refusing any job whose `dest` an earlier job
 * already has:
 * `list.txt:7: destination "a.gif" is already used by list.txt:3`.
 *
 * Destinations are remembered exactly, in typed arrays rather than strings
 * ({@linkcode KeySet}): a 32-bit hash per slot of a table at most half
 * full (8 bytes a slot), and each destination front-coded in a log, with
 * the first job's origin stored as a line number and an index into the few
 * distinct file names. Names of one list that differ in a few characters
 * take 29 to 43 bytes a job (28 MiB for a million); two different
 * destinations are never taken for one, whatever their hashes.
 *
 * An origin that does not end in a number (or a job without one) is named
 * by its position in the stream, `job N`.
 *
 * @example Usage
 * ```ts
 * import { dedupeDestinations } from "./dedupe.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const jobs = [
 *   { url: "https://a.example/x.gif", dest: "x.gif", origin: "l.txt:1" },
 *   { url: "https://b.example/x.gif", dest: "x.gif", origin: "l.txt:2" },
 * ];
 * await rejects(
 *   Array.fromAsync(dedupeDestinations(jobs)),
 *   { message: 'l.txt:2: destination "x.gif" is already used by l.txt:1' },
 * );
 * ```
 *
 * @param jobs The jobs, from any source.
 * @param options Case folding; what to do with a duplicate.
 * @returns The same jobs, in order, without duplicates.
 * @throws {SourceError} (while iterating) On the first duplicate, unless
 * `onDuplicate` is given; its `origin` is the duplicate's.
 */
export function dedupeDestinations(
  jobs: AsyncIterable<Job> | Iterable<Job>,
  options: DedupeOptions = {},
): AsyncGenerator<Job, void, undefined> {
  checkJobsIterable(jobs, "Cannot check destinations");
  if (
    options.onDuplicate !== undefined &&
    typeof options.onDuplicate !== "function"
  ) {
    throw new TypeError(
      `Invalid option "onDuplicate": expected a function, got ${typeof options
        .onDuplicate}`,
    );
  }
  return generate(
    jobs,
    options.caseInsensitive ?? false,
    options.onDuplicate,
    options.hash,
  );
}

async function* generate(
  jobs: AsyncIterable<Job> | Iterable<Job>,
  caseInsensitive: boolean,
  onDuplicate: DedupeOptions["onDuplicate"],
  hash: DedupeOptions["hash"],
): AsyncGenerator<Job, void, undefined> {
  const seen = new KeySet(hash);
  const prefixes = new Map<string, number>();
  const prefixNames = ["job "];
  let index = 0;
  for await (const job of jobs) {
    index++;
    const key = caseInsensitive
      ? job.dest.normalize("NFC").toLowerCase()
      : job.dest;
    // Split "list.txt:12" into a prefix id and 12, to keep them small.
    let prefix = 0;
    let number = index;
    const split = splitOrigin(job.origin);
    if (split !== undefined) {
      let id = prefixes.get(split.prefix);
      if (id === undefined && prefixNames.length < MAX_PREFIXES) {
        id = prefixNames.length;
        prefixNames.push(split.prefix);
        prefixes.set(split.prefix, id);
      }
      if (id !== undefined) {
        prefix = id;
        number = split.number;
      }
    }
    const earlier = seen.add(key, prefix, number);
    if (earlier === undefined) {
      yield job;
      continue;
    }
    const first = prefixNames[earlier.prefix] + earlier.number;
    const origin = job.origin ?? `job ${index}`;
    const error = new SourceError(
      origin,
      `destination ${quote(job.dest)} is already used${
        caseInsensitive ? " (ignoring case)" : ""
      } by ${first}`,
    );
    if (onDuplicate === undefined) throw error;
    onDuplicate(error, job);
  }
}

/**
 * Splits `list.txt:12` into `list.txt:` and 12, such that prefix + number
 * gives the origin back; `undefined` when it does not end in a number that
 * fits (1 to 999,999,999, no leading zero).
 */
function splitOrigin(
  origin: string | undefined,
): { prefix: string; number: number } | undefined {
  if (origin === undefined) return undefined;
  let start = origin.length;
  while (start > 0 && start > origin.length - 9) {
    const code = origin.charCodeAt(start - 1);
    if (code < 48 || code > 57) break;
    start--;
  }
  // Skip leading zeros: they stay in the prefix.
  while (start < origin.length && origin.charCodeAt(start) === 48) start++;
  if (start === origin.length) return undefined;
  return {
    prefix: origin.slice(0, start),
    number: Number(origin.slice(start)),
  };
}
