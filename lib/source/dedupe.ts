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
}

/** Above this many distinct origin prefixes, first jobs are named `job N`. */
const MAX_PREFIXES = 4096;
const INITIAL_CAPACITY = 1024;

/**
 * Passes `jobs` through, refusing any job whose `dest` an earlier job
 * already has:
 * `list.txt:7: destination "a.gif" is already used by list.txt:3`.
 *
 * Destinations are remembered as 64-bit hashes in an open-addressing table
 * of typed arrays (about 14 bytes a slot, at most half full: some 29 MiB
 * for a million jobs), with the first job's origin stored as a line number
 * and an index into the few distinct file names, not as strings. Two
 * different destinations whose hashes agree would be taken for duplicates:
 * for a million jobs the chance is about 1 in 37 million.
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
  return generate(jobs, options.caseInsensitive ?? false, options.onDuplicate);
}

async function* generate(
  jobs: AsyncIterable<Job> | Iterable<Job>,
  caseInsensitive: boolean,
  onDuplicate: DedupeOptions["onDuplicate"],
): AsyncGenerator<Job, void, undefined> {
  const table = new HashTable();
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
    const slot = table.insert(key, prefix, number);
    if (slot === -1) {
      yield job;
      continue;
    }
    const first = prefixNames[table.prefixes[slot]] + table.numbers[slot];
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

/** Open addressing, linear probing, 64-bit hashes; `numbers[slot] === 0` is empty. */
class HashTable {
  lows = new Uint32Array(INITIAL_CAPACITY);
  highs = new Uint32Array(INITIAL_CAPACITY);
  numbers = new Uint32Array(INITIAL_CAPACITY);
  prefixes = new Uint16Array(INITIAL_CAPACITY);
  #size = 0;
  #low = 0;
  #high = 0;

  /** Inserts `key`; returns -1, or the slot of the same key inserted before. */
  insert(key: string, prefix: number, number: number): number {
    this.#hash(key);
    const mask = this.numbers.length - 1;
    let slot = this.#low & mask;
    while (this.numbers[slot] !== 0) {
      if (this.lows[slot] === this.#low && this.highs[slot] === this.#high) {
        return slot;
      }
      slot = (slot + 1) & mask;
    }
    this.lows[slot] = this.#low;
    this.highs[slot] = this.#high;
    this.numbers[slot] = number;
    this.prefixes[slot] = prefix;
    if (++this.#size * 2 > this.numbers.length) this.#grow();
    return -1;
  }

  #grow(): void {
    const { lows, highs, numbers, prefixes } = this;
    const capacity = numbers.length * 2;
    const mask = capacity - 1;
    this.lows = new Uint32Array(capacity);
    this.highs = new Uint32Array(capacity);
    this.numbers = new Uint32Array(capacity);
    this.prefixes = new Uint16Array(capacity);
    for (let old = 0; old < numbers.length; old++) {
      if (numbers[old] === 0) continue;
      let slot = lows[old] & mask;
      while (this.numbers[slot] !== 0) slot = (slot + 1) & mask;
      this.lows[slot] = lows[old];
      this.highs[slot] = highs[old];
      this.numbers[slot] = numbers[old];
      this.prefixes[slot] = prefixes[old];
    }
  }

  /** cyrb53's two 32-bit lanes, kept whole: a 64-bit hash of the UTF-16 units. */
  #hash(key: string): void {
    let h1 = 0xdeadbeef;
    let h2 = 0x41c6ce57;
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ code, 2654435761);
      h2 = Math.imul(h2 ^ code, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    this.#low = h1 >>> 0;
    this.#high = h2 >>> 0;
  }
}
