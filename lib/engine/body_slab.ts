/**
 * Memory for small response bodies, cut from shared slabs: each body is a
 * view of its own bytes of a larger buffer, never reused, so a body stays
 * valid as long as it is held. A new `Uint8Array` per body cost a backing
 * store each (allocated, tracked and later swept: about a microsecond a
 * file on 1 KiB bodies); a view of a slab costs an object. A slab is freed
 * once no body cut from it is held.
 *
 * A view shares its buffer: never transfer `view.buffer` (the other bodies
 * of its slab would be detached); copy it (`ownBuffer`, `slice`) first.
 *
 * @module
 */

/** Bytes of one slab. */
const SLAB_BYTES = 64 * 1024;

/**
 * Largest body cut from a slab; larger ones get their own buffer. Small
 * enough that a body held long (a slow writer) keeps little else alive.
 */
export const SLAB_PIECE_LIMIT = 8 * 1024;

let slab = new Uint8Array(0);
let used = 0;

/**
 * Memory for a body of `length` bytes (zeroed): a view of a slab when it
 * is at most {@linkcode SLAB_PIECE_LIMIT}, else a buffer of its own.
 *
 * @param length The body's length.
 * @returns A view of exactly `length` bytes, used by nobody else.
 */
export function bodyMemory(length: number): Uint8Array {
  if (length > SLAB_PIECE_LIMIT) return new Uint8Array(length);
  if (used + length > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const view = slab.subarray(used, used + length);
  used += length;
  return view;
}
