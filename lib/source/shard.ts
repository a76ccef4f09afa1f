/**
 * Sharding: split one job list across N workers (a CI matrix, a Kubernetes
 * Indexed Job) so that each job lands on exactly one worker, with no
 * coordination between them.
 *
 * Every worker reads the whole input, lazily, and keeps the jobs whose key
 * hashes to its share. The key is the job's destination as bulkget will
 * write it (after `--keep-paths` and sanitising), or its URL when it has no
 * destination; so two jobs that would write the same file always land on the
 * same worker, where the usual duplicate check catches them.
 *
 * ## The assignment (frozen)
 *
 * ```
 * shard(key, N) = (murmur3_x86_32(utf8(key), seed 0) mod N) + 1
 * ```
 *
 * MurmurHash3 x86 32-bit (Austin Appleby's reference `MurmurHash3_x86_32`)
 * over the UTF-8 bytes of the key, seed 0, read as an unsigned 32-bit
 * integer. It is pure integer arithmetic, so it gives the same answer on
 * every platform, runtime and version. It is frozen: workers of different
 * bulkget versions must agree, so changing it would be a breaking change
 * (and `tests/shard_test.ts` pins it). Any other tool can reproduce it, e.g.
 * Python's `mmh3.hash(key, 0, signed=False) % N + 1`.
 *
 * The hash balances job *counts*, not bytes: a few large files make the
 * shards' byte totals uneven (see the README).
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { checkJobsIterable } from "./_util.ts";

/** One worker's share: the `K` and `N` of `--shard K/N`. */
export interface Shard {
  /** This worker's shard, from 1 to `count`. */
  index: number;
  /** How many shards (workers) in all. */
  count: number;
}

/** The most shards supported (a Kubernetes Indexed Job allows 100,000 completions). */
export const MAX_SHARDS = 1_000_000;

/** The variable Kubernetes sets in each pod of an Indexed Job (0-based). */
export const JOB_COMPLETION_INDEX = "JOB_COMPLETION_INDEX";

const encoder = new TextEncoder();

/**
 * MurmurHash3 x86 32-bit of `data` with `seed`: the hash under
 * {@linkcode shardOf}. Strings are hashed as their UTF-8 bytes.
 *
 * @example Usage
 * ```ts
 * import { murmur3 } from "./shard.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(murmur3("Hello, world!", 0x9747b28c), 0x24884cba);
 * ```
 *
 * @param data The bytes, or a string (hashed as UTF-8).
 * @param seed An unsigned 32-bit seed (default 0).
 * @returns The hash, an unsigned 32-bit integer.
 */
export function murmur3(data: string | Uint8Array, seed = 0): number {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const length = bytes.length;
  const blocks = length & ~3;
  let h = seed >>> 0;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) |
      (bytes[i + 3] << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (length & 3) {
    case 3:
      k ^= bytes[blocks + 2] << 16;
    // falls through
    case 2:
      k ^= bytes[blocks + 1] << 8;
    // falls through
    case 1:
      k ^= bytes[blocks];
      k = Math.imul(k, c1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, c2);
      h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The key a job is sharded by: its destination, or its URL when it has none.
 *
 * @param job A job.
 * @returns The key.
 */
export function shardKey(job: Pick<Job, "url" | "dest">): string {
  return job.dest || job.url;
}

/**
 * The shard (1 to `count`) a key belongs to. Frozen; see the module doc.
 *
 * @example Usage
 * ```ts
 * import { shardOf } from "./shard.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(shardOf("a.bin", 1), 1);
 * ```
 *
 * @param key A job's key (see {@linkcode shardKey}).
 * @param count How many shards.
 * @returns The shard, from 1 to `count`.
 * @throws {RangeError} When `count` is not an integer from 1 to {@linkcode MAX_SHARDS}.
 */
export function shardOf(key: string, count: number): number {
  checkCount(count);
  return (murmur3(key) % count) + 1;
}

/**
 * Keeps the jobs of one shard, streamed: the other shards' jobs are read and
 * dropped, never held.
 *
 * @example Usage
 * ```ts
 * import { shardJobs, shardOf } from "./shard.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const jobs = ["a", "b", "c", "d"].map((name) => ({
 *   url: `https://example.com/${name}`,
 *   dest: name,
 * }));
 * const first = await Array.fromAsync(shardJobs(jobs, { index: 1, count: 2 }));
 * deepEqual(first, jobs.filter((job) => shardOf(job.dest, 2) === 1));
 * ```
 *
 * @param jobs The jobs, from any source.
 * @param shard Which share to keep.
 * @returns This shard's jobs, in input order.
 * @throws {TypeError} When `jobs` is not iterable.
 * @throws {RangeError} When `shard` is not a valid shard.
 */
export function shardJobs(
  jobs: AsyncIterable<Job> | Iterable<Job>,
  shard: Shard,
): AsyncGenerator<Job, void, undefined> {
  checkJobsIterable(jobs, "Cannot shard jobs");
  checkShard(shard);
  return generate(jobs, shard);
}

async function* generate(
  jobs: AsyncIterable<Job> | Iterable<Job>,
  { index, count }: Shard,
): AsyncGenerator<Job, void, undefined> {
  for await (const job of jobs) {
    if (count === 1 || (murmur3(shardKey(job)) % count) + 1 === index) {
      yield job;
    }
  }
}

/**
 * Parses `K/N` (`--shard 2/3`): shard K of N, K counted from 1 as
 * Playwright's and Jest's `--shard` do.
 *
 * @example Usage
 * ```ts
 * import { parseShard } from "./shard.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(parseShard("2/3"), { index: 2, count: 3 });
 * throws(() => parseShard("0/3"), RangeError);
 * ```
 *
 * @param text The value as typed.
 * @param what How errors name the value (default `--shard`).
 * @returns The shard.
 * @throws {RangeError} When it is not `K/N` with 1 ≤ K ≤ N ≤ {@linkcode MAX_SHARDS}.
 */
export function parseShard(text: string, what = "--shard"): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(String(text));
  if (!match) {
    throw new RangeError(
      `${what} must be K/N (shard K of N, e.g. 2/3), got ${
        JSON.stringify(text)
      }`,
    );
  }
  const count = parseCount(match[2], what);
  const index = Number(match[1]);
  if (index < 1 || index > count) {
    throw new RangeError(
      `${what} ${match[1]}/${match[2]}: K must be from 1 to ${count}`,
    );
  }
  return { index, count };
}

/**
 * Parses a shard count (`--shard-count N`).
 *
 * @param text The value as typed.
 * @param what How errors name the value (default `--shard-count`).
 * @returns The count.
 * @throws {RangeError} When it is not a whole number from 1 to {@linkcode MAX_SHARDS}.
 */
export function parseCount(text: string, what = "--shard-count"): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(String(text)) || value < 1 || value > MAX_SHARDS) {
    throw new RangeError(
      `${what}: the shard count must be a whole number from 1 to ${MAX_SHARDS}, got ${
        JSON.stringify(text)
      }`,
    );
  }
  return value;
}

/** How a command line chose its shard: the three `get` options. */
export interface ShardChoice {
  /** `--shard K/N`, as typed. */
  shard?: string;
  /** `--shard-count N`, as typed. */
  count?: string;
  /** `--shard-from-env VAR`. */
  fromEnv?: string;
}

/**
 * The environment variable a shard choice reads, if any: `--shard-from-env
 * VAR`'s, or `JOB_COMPLETION_INDEX` for `--shard-count N` alone.
 *
 * @param choice The options given.
 * @returns The variable's name, or undefined.
 */
export function shardVariable(choice: ShardChoice): string | undefined {
  if (choice.fromEnv !== undefined) return choice.fromEnv;
  if (choice.count !== undefined && choice.shard === undefined) {
    return JOB_COMPLETION_INDEX;
  }
  return undefined;
}

/**
 * Resolves the shard from the command line and the environment:
 *
 * - `--shard K/N`: shard K of N.
 * - `--shard-from-env VAR`: VAR holds `K/N`, or K (from 1) with
 *   `--shard-count N`; GitLab's `CI_NODE_INDEX`, a matrix value.
 * - `--shard-count N` alone: Kubernetes' `JOB_COMPLETION_INDEX`, which counts
 *   from 0, so shard = index + 1. `JOB_COMPLETION_INDEX` counts from 0 when
 *   named by `--shard-from-env` too.
 *
 * @example Usage
 * ```ts
 * import { resolveShard } from "./shard.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const env = { JOB_COMPLETION_INDEX: "0", CI_NODE_INDEX: "3" };
 * const get = (name: string) => env[name as keyof typeof env];
 * deepEqual(resolveShard({ count: "4" }, get), { index: 1, count: 4 });
 * deepEqual(
 *   resolveShard({ fromEnv: "CI_NODE_INDEX", count: "4" }, get),
 *   { index: 3, count: 4 },
 * );
 * ```
 *
 * @param choice The options given.
 * @param getEnv Reads a variable (e.g. `Deno.env.get`).
 * @returns The shard, or undefined when no option asks for one.
 * @throws {RangeError} For a bad value, a conflict, or a variable that is
 * unset or not a shard; the message names the option.
 */
export function resolveShard(
  choice: ShardChoice,
  getEnv: (name: string) => string | undefined,
): Shard | undefined {
  const { shard, count, fromEnv } = choice;
  if (shard !== undefined && (count !== undefined || fromEnv !== undefined)) {
    throw new RangeError(
      `--shard K/N cannot be used with --shard-count or --shard-from-env`,
    );
  }
  if (shard !== undefined) return parseShard(shard);
  const variable = shardVariable(choice);
  if (variable === undefined) return undefined;
  const what = fromEnv === undefined
    ? `--shard-count ${count}`
    : `--shard-from-env ${fromEnv}`;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) {
    throw new RangeError(
      `--shard-from-env must name an environment variable, got ${
        JSON.stringify(variable)
      }`,
    );
  }
  const total = count === undefined ? undefined : parseCount(count);
  const value = getEnv(variable);
  if (value === undefined || value.trim() === "") {
    throw new RangeError(
      `${what}: the variable ${variable} is not set or empty${
        fromEnv === undefined
          ? " (Kubernetes sets it in Indexed Jobs; elsewhere use --shard K/N or --shard-from-env VAR)"
          : ""
      }`,
    );
  }
  const where = `${what}: ${variable}=${JSON.stringify(value)}`;
  if (value.includes("/")) {
    const parsed = parseShard(value, where);
    if (total !== undefined && total !== parsed.count) {
      throw new RangeError(
        `${where}: the count ${parsed.count} disagrees with --shard-count ${total}`,
      );
    }
    return parsed;
  }
  if (total === undefined) {
    throw new RangeError(
      `${where}: give --shard-count N, or set the variable to K/N`,
    );
  }
  if (!/^\s*\d+\s*$/.test(value)) {
    throw new RangeError(
      `${where}: expected a whole number (the shard index) or K/N`,
    );
  }
  const zeroBased = variable === JOB_COMPLETION_INDEX;
  const index = Number(value) + (zeroBased ? 1 : 0);
  if (index < 1 || index > total) {
    throw new RangeError(
      `${where}: the index must be from ${zeroBased ? 0 : 1} to ${
        zeroBased ? total - 1 : total
      } (${variable} counts from ${zeroBased ? 0 : 1})`,
    );
  }
  return { index, count: total };
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) {
    throw new RangeError(
      `Cannot use shard count ${count}: expected an integer from 1 to ${MAX_SHARDS}`,
    );
  }
}

function checkShard(shard: Shard): void {
  if (shard === null || typeof shard !== "object") {
    throw new TypeError(
      `Cannot use shard: expected { index, count }, got ${typeof shard}`,
    );
  }
  checkCount(shard.count);
  if (
    !Number.isInteger(shard.index) || shard.index < 1 ||
    shard.index > shard.count
  ) {
    throw new RangeError(
      `Cannot use shard ${shard.index}/${shard.count}: expected an index from 1 to ${shard.count}`,
    );
  }
}
