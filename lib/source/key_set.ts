/**
 * An exact set of strings in little memory, for the millions of
 * destinations of one run: each string is filed under a 32-bit hash in an
 * open-addressing table, and kept itself, front-coded, in a log of bytes
 * that a hash match is checked against. Two strings are the same entry
 * only when they are equal, whatever their hashes.
 *
 * @module
 */

/** A string's entry: the origin stored with it (a prefix id and a number). */
export interface KeyOrigin {
  /** The id of the origin's prefix (`list.txt:`), as the caller numbers them. */
  prefix: number;
  /** The number after the prefix (a line number, a position). */
  number: number;
}

const INITIAL_SLOTS = 1024;
/** Records a log block holds between two written in full. */
const RESTART_EVERY = 16;
const FIRST_BLOCK_BYTES = 16 * 1024;
const MAX_BLOCK_BYTES = 1024 * 1024;
/** Log offsets are stored plus one in 32 bits (0 marks an empty slot). */
const MAX_LOG_BYTES = 0xffff_fffe;

/**
 * Strings with their origins: {@linkcode KeySet.add} tells a new string from
 * one added before. Memory: 8 bytes a slot of the table (at most half
 * full), and the log: some 5 bytes a string plus its UTF-16 units not
 * shared with the string that opens its group of 16 (one byte each below
 * U+0080), so names of one list that differ in a few characters take
 * about 12 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeySet } from "./key_set.ts";
 * const set = new KeySet();
 * assert.equal(set.add("a.gif", 1, 3), undefined);
 * assert.deepEqual(set.add("a.gif", 2, 9), { prefix: 1, number: 3 });
 * ```
 */
export class KeySet {
  #hashes = new Uint32Array(INITIAL_SLOTS);
  /** Log offset + 1 of each slot's string; 0 is an empty slot. */
  #refs = new Uint32Array(INITIAL_SLOTS);
  #size = 0;
  #log = new KeyLog();
  #hash: (key: string) => number;

  /**
   * @param hash The 32-bit hash that files a string (replaceable for
   *   tests); it decides only where a string is looked for.
   */
  constructor(hash: (key: string) => number = cyrb53) {
    this.#hash = hash;
  }

  /**
   * Adds `key` with its origin, unless it is in the set.
   *
   * @param key The string.
   * @param prefix Its origin's prefix id (0 to 65,535 fit best).
   * @param number Its origin's number (a non-negative safe integer).
   * @returns undefined when `key` is new; else the origin it was added with.
   * @throws {RangeError} When the log outgrows 4 GiB (hundreds of millions of strings).
   */
  add(key: string, prefix: number, number: number): KeyOrigin | undefined {
    const hash = this.#hash(key) >>> 0;
    const mask = this.#refs.length - 1;
    let slot = hash & mask;
    while (this.#refs[slot] !== 0) {
      if (this.#hashes[slot] === hash) {
        const entry = this.#log.read(this.#refs[slot] - 1);
        if (entry.key === key) {
          return { prefix: entry.prefix, number: entry.number };
        }
      }
      slot = (slot + 1) & mask;
    }
    this.#hashes[slot] = hash;
    this.#refs[slot] = this.#log.append(key, prefix, number) + 1;
    if (++this.#size * 2 > this.#refs.length) this.#grow();
    return undefined;
  }

  #grow(): void {
    const hashes = this.#hashes;
    const refs = this.#refs;
    const mask = refs.length * 2 - 1;
    this.#hashes = new Uint32Array(refs.length * 2);
    this.#refs = new Uint32Array(refs.length * 2);
    for (let old = 0; old < refs.length; old++) {
      if (refs[old] === 0) continue;
      let slot = hashes[old] & mask;
      while (this.#refs[slot] !== 0) slot = (slot + 1) & mask;
      this.#hashes[slot] = hashes[old];
      this.#refs[slot] = refs[old];
    }
  }
}

/** A decoded log record. */
interface Entry extends KeyOrigin {
  key: string;
}

/**
 * The strings in insertion order, in blocks of bytes. Every 16th record
 * (and a block's first) is a restart, written in full; the others keep
 * only what differs from their restart: the length of the prefix they
 * share with it, the rest of their UTF-16 units (as varints), and their
 * number as a difference. A record is read from its own bytes and its
 * restart's, whose distance back it starts with (0 for a restart).
 */
class KeyLog {
  #blocks: Uint8Array[] = [];
  /** Log offset of each block's first byte. */
  #starts: number[] = [];
  #block = new Uint8Array(0);
  #base = 0;
  #pos = 0;
  #restartPos = 0;
  #restartKey = "";
  #restartNumber = 0;
  #sinceRestart = 0;

  /** Appends a record; returns its log offset. */
  append(key: string, prefix: number, number: number): number {
    // Each varint takes at most 5 bytes, each UTF-16 unit at most 3.
    const most = 25 + 3 * key.length;
    if (this.#pos + most > this.#block.length) this.#newBlock(most);
    const offset = this.#base + this.#pos;
    if (offset + most > MAX_LOG_BYTES) {
      throw new RangeError(
        "Too many distinct destinations to check for duplicates (over 4 GiB of names)",
      );
    }
    const restart = this.#sinceRestart === 0;
    const shared = restart ? 0 : sharedLength(this.#restartKey, key);
    let pos = this.#pos;
    pos = putVarint(
      this.#block,
      pos,
      restart ? 0 : this.#pos - this.#restartPos,
    );
    pos = putVarint(this.#block, pos, shared);
    pos = putVarint(this.#block, pos, key.length - shared);
    for (let i = shared; i < key.length; i++) {
      pos = putVarint(this.#block, pos, key.charCodeAt(i));
    }
    pos = putVarint(this.#block, pos, prefix);
    pos = putVarint(
      this.#block,
      pos,
      restart ? number : zigzag(number - this.#restartNumber),
    );
    if (restart) {
      this.#restartPos = this.#pos;
      this.#restartKey = key;
      this.#restartNumber = number;
    }
    this.#sinceRestart = (this.#sinceRestart + 1) % RESTART_EVERY;
    this.#pos = pos;
    return offset;
  }

  /** Decodes the record at `offset`. */
  read(offset: number): Entry {
    let index = this.#starts.length - 1;
    while (this.#starts[index] > offset) index--;
    const block = this.#blocks[index];
    const at = offset - this.#starts[index];
    const cursor = { block, pos: at };
    const back = readVarint(cursor);
    if (back === 0) return readRest(cursor);
    const restart = { block, pos: at - back };
    readVarint(restart); // its own distance back, 0
    return readRest(cursor, readRest(restart));
  }

  #newBlock(most: number): void {
    const size = Math.max(
      most,
      Math.min(MAX_BLOCK_BYTES, this.#block.length * 2 || FIRST_BLOCK_BYTES),
    );
    this.#base += this.#pos;
    this.#block = new Uint8Array(size);
    this.#blocks.push(this.#block);
    this.#starts.push(this.#base);
    this.#pos = 0;
    this.#sinceRestart = 0; // a block starts with a restart
  }
}

/** Where a record is read from; `pos` moves as it is read. */
interface Cursor {
  block: Uint8Array;
  pos: number;
}

/** Reads a record after its distance back; `restart` unless it is one. */
function readRest(cursor: Cursor, restart?: Entry): Entry {
  const shared = readVarint(cursor);
  const length = readVarint(cursor);
  let key = restart === undefined ? "" : restart.key.slice(0, shared);
  const units: number[] = [];
  for (let i = 0; i < length; i++) {
    units.push(readVarint(cursor));
    if (units.length === 4096 || i === length - 1) {
      key += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  const prefix = readVarint(cursor);
  const stored = readVarint(cursor);
  const number = restart === undefined
    ? stored
    : restart.number + unzigzag(stored);
  return { key, prefix, number };
}

function sharedLength(a: string, b: string): number {
  const most = Math.min(a.length, b.length);
  let i = 0;
  while (i < most && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function putVarint(block: Uint8Array, pos: number, value: number): number {
  while (value >= 128) {
    block[pos++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  block[pos++] = value;
  return pos;
}

function readVarint(cursor: Cursor): number {
  let value = 0;
  let scale = 1;
  while (true) {
    const byte = cursor.block[cursor.pos++];
    value += (byte & 127) * scale;
    if (byte < 128) return value;
    scale *= 128;
  }
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** cyrb53's first 32-bit lane (both lanes mixed in): the default hash. */
function cyrb53(key: string): number {
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
  return h1 >>> 0;
}
