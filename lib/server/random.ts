/**
 * A small seeded pseudo-random source, so that every fault the test server
 * injects can be repeated exactly by running again with the same seed.
 *
 * The generator is mulberry32 (32-bit state, period 2³²): fast, good enough
 * for drawing fault rates, and identical on every platform. It is not for
 * cryptography.
 *
 * @module
 */

/** A function returning the next number in `[0, 1)` of a seeded sequence. */
export type Random = () => number;

/**
 * Creates a seeded random source. The same seed always yields the same
 * sequence.
 *
 * @param seed Any finite number; only its integer part modulo 2³² is used.
 * @returns A function returning numbers in `[0, 1)`.
 * @throws {TypeError} When `seed` is not a finite number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRandom } from "./random.ts";
 * const draws = (seed: number) => Array.from({ length: 3 }, createRandom(seed));
 * assert.deepEqual(draws(7), draws(7));
 * assert.notDeepEqual(draws(7), draws(8));
 * assert.ok(draws(7).every((x) => x >= 0 && x < 1));
 * ```
 */
export function createRandom(seed: number): Random {
  if (typeof seed !== "number" || !Number.isFinite(seed)) {
    throw new TypeError(
      `Cannot use seed: expected a finite number, got ${seed}`,
    );
  }
  // Mix the seed once so that small neighbouring seeds start far apart.
  let state = hash32(Math.trunc(seed) >>> 0);
  return function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Hashes a string (or a 32-bit integer) to a 32-bit unsigned integer with
 * FNV-1a followed by a final avalanche, used to derive stable seeds and tags.
 *
 * @param value The string or integer to hash.
 * @returns An unsigned 32-bit integer.
 */
export function hash32(value: string | number): number {
  let h = 0x811c9dc5;
  if (typeof value === "number") {
    for (let i = 0; i < 4; i++) {
      h = Math.imul(h ^ ((value >>> (i * 8)) & 0xff), 0x01000193);
    }
  } else {
    for (let i = 0; i < value.length; i++) {
      h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
