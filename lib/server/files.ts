/**
 * What the test server serves: the book's flag files, loaded into memory at
 * start, and generated files of any size.
 *
 * ## Flag files
 *
 * `/flags/{cc}/{cc}.gif` (`image/gif`) and `/flags/{cc}/metadata.json`
 * (`application/json`), `cc` lower case, for the codes listed in
 * `{dataDir}/country_codes.txt`, read from `{dataDir}/flags/{cc}/`.
 *
 * ## Generated files
 *
 * `/files/{size}/{name}`: `size` is bytes, optionally with `k`, `m` or `g`
 * (KiB, MiB, GiB), at most 64 GiB; `name` is any path (it only seeds the
 * content and is the download's file name). The body is streamed, never held
 * whole. Its bytes are a pseudo-random 64 KiB block derived from the name and
 * size, repeated, with the index of each block mixed into its first bytes,
 * so a range taken from the wrong offset is detectable. Use
 * {@linkcode generatedBody} or {@linkcode generatedChunk} to know the bytes.
 *
 * Every file has a strong, stable `ETag` and the fixed
 * {@linkcode LAST_MODIFIED}.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { hash32 } from "./random.ts";

/** A file held in memory. */
export interface StaticFile {
  /** The whole body. */
  body: Uint8Array<ArrayBuffer>;
  /** The `content-type`. */
  contentType: string;
  /** A strong entity tag, quotes included. */
  etag: string;
}

/** The one `Last-Modified` of every file the server has. */
export const LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT";

/** The largest generated file: 64 GiB. */
export const MAX_GENERATED_SIZE = 64 * 1024 ** 3;

/** Blocks per streamed piece (64 KiB; larger pieces measured no faster). */
const PIECE_BLOCKS = 1;

/** The size of the repeated block of a generated file. */
export const BLOCK_SIZE = 65536;

const cache = new Map<string, Promise<Map<string, StaticFile>>>();

/**
 * Loads every flag file under `dataDir` into memory, keyed by its URL path
 * (`/flags/br/br.gif`). The result is shared by every server using the same
 * directory.
 *
 * @param dataDir The directory holding `country_codes.txt` and `flags/`.
 * @returns The files by path.
 * @throws {Deno.errors.NotFound} When `country_codes.txt` is missing.
 */
export function loadFlags(
  dataDir: string | URL,
): Promise<Map<string, StaticFile>> {
  const base = typeof dataDir === "string"
    ? new URL(dataDir.endsWith("/") ? dataDir : dataDir + "/", toDirUrl())
    : new URL(dataDir.href.endsWith("/") ? dataDir.href : dataDir.href + "/");
  let loading = cache.get(base.href);
  if (!loading) {
    loading = readFlags(base);
    cache.set(base.href, loading);
    loading.catch(() => cache.delete(base.href));
  }
  return loading;
}

function toDirUrl(): URL {
  // Relative directory strings resolve against the working directory.
  const cwd = Deno.cwd().replaceAll("\\", "/");
  return new URL(`file://${cwd.startsWith("/") ? "" : "/"}${cwd}/`);
}

async function readFlags(base: URL): Promise<Map<string, StaticFile>> {
  const text = await Deno.readTextFile(new URL("country_codes.txt", base));
  const codes = text.split(/\s+/).filter((cc) => /^[A-Za-z]{2}$/.test(cc));
  const files = new Map<string, StaticFile>();
  await Promise.all(codes.map(async (code) => {
    const cc = code.toLowerCase();
    for (const [name, contentType] of FLAG_FILES) {
      const file = name.replace("{cc}", cc);
      try {
        const body = await Deno.readFile(new URL(`flags/${cc}/${file}`, base));
        files.set(`/flags/${cc}/${file}`, {
          body,
          contentType,
          etag: `"${
            createHash("sha1").update(body).digest("hex").slice(0, 20)
          }"`,
        });
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
  }));
  return files;
}

const FLAG_FILES = [
  ["{cc}.gif", "image/gif"],
  ["metadata.json", "application/json"],
] as const;

/** A generated file named by a `/files/{size}/{name}` path. */
export interface GeneratedFile {
  /** The name (everything after the size). */
  name: string;
  /** Its size in bytes. */
  size: number;
  /** A strong entity tag, quotes included. */
  etag: string;
}

/**
 * The name a generated file's bytes and ETag come from: the name in its
 * path, and the server's content version when it is not 0 (a server that
 * "changed" its files; see `ServerOptions.contentVersion`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generatedBody, versionedName } from "./files.ts";
 * assert.equal(versionedName("a.bin", 0), "a.bin");
 * const v0 = generatedBody(versionedName("a.bin", 0), 64);
 * const v1 = generatedBody(versionedName("a.bin", 1), 64);
 * assert.equal(v1.length, 64);
 * assert.notDeepEqual(v1, v0); // same size, other bytes
 * ```
 *
 * @param name The name in the path.
 * @param version The content version.
 * @returns The name to generate from.
 */
export function versionedName(name: string, version: number): string {
  return version === 0 ? name : `${name}\0v${version}`;
}

/**
 * Reads a `/files/{size}/{name}` path.
 *
 * @param path The URL path (already percent-decoded or not: it is used as is).
 * @param version The server's content version (see {@linkcode versionedName}). @default 0
 * @returns The file, or `undefined` when the path does not name one (bad
 *   size, too big, no name); its `name` is the one its bytes come from.
 */
export function parseGeneratedPath(
  path: string,
  version = 0,
): GeneratedFile | undefined {
  const m = /^\/files\/(\d{1,12})([kmg]?)\/(.+)$/i.exec(path);
  if (!m) return undefined;
  const unit = m[2].toLowerCase();
  const size = Number(m[1]) *
    (unit === "k"
      ? 1024
      : unit === "m"
      ? 1024 ** 2
      : unit === "g"
      ? 1024 ** 3
      : 1);
  if (size > MAX_GENERATED_SIZE) return undefined;
  const name = versionedName(m[3], version);
  const tag = (hash32(`${name}\0${size}`) >>> 0).toString(16).padStart(8, "0");
  return { name, size, etag: `"g-${size.toString(16)}-${tag}"` };
}

const blocks = new Map<string, Uint8Array>();
const BLOCK_CACHE_LIMIT = 16;

function seedOf(name: string, size: number): number {
  return hash32(`${name}\0${size}`);
}

/** Fills `out` with base-block bytes `[from, from + out.length)`. */
function fillBase(seed: number, from: number, out: Uint8Array): void {
  const key = `${seed}`;
  const cached = blocks.get(key);
  if (cached) {
    out.set(cached.subarray(from, from + out.length));
    return;
  }
  if (out.length >= 8192) {
    const block = baseBlock(seed);
    if (blocks.size >= BLOCK_CACHE_LIMIT) {
      blocks.delete(blocks.keys().next().value!);
    }
    blocks.set(key, block);
    out.set(block.subarray(from, from + out.length));
    return;
  }
  // Small: compute only the words needed.
  const first = from >>> 2, last = (from + out.length - 1) >>> 2;
  for (let w = first; w <= last; w++) {
    const word = wordAt(seed, w);
    for (let k = 0; k < 4; k++) {
      const pos = w * 4 + k - from;
      if (pos >= 0 && pos < out.length) out[pos] = (word >>> (k * 8)) & 0xff;
    }
  }
}

function wordAt(seed: number, index: number): number {
  let t = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
  t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
  return (t ^ (t >>> 16)) >>> 0;
}

function baseBlock(seed: number): Uint8Array {
  const block = new Uint8Array(BLOCK_SIZE);
  const view = new DataView(block.buffer);
  for (let w = 0; w < BLOCK_SIZE / 4; w++) {
    view.setUint32(w * 4, wordAt(seed, w), true);
  }
  return block;
}

/**
 * The bytes `[start, end)` of the generated file `name` of `size` bytes.
 *
 * @param name The file's name.
 * @param size The file's size.
 * @param start First byte offset (inclusive).
 * @param end Last byte offset (exclusive), at most `size`.
 * @returns A new array of `end - start` bytes.
 * @throws {RangeError} When the offsets are out of range or span more than
 *   64 MiB.
 */
export function generatedChunk(
  name: string,
  size: number,
  start: number,
  end: number,
): Uint8Array<ArrayBuffer> {
  if (
    !Number.isSafeInteger(size) || size < 0 ||
    !Number.isSafeInteger(start) || !Number.isSafeInteger(end) ||
    start < 0 || end < start || end > size
  ) {
    throw new RangeError(
      `Cannot generate bytes ${start} to ${end} of a ${size}-byte file`,
    );
  }
  if (end - start > 64 * 1024 ** 2) {
    throw new RangeError(
      `Cannot generate ${end - start} bytes at once: at most 64 MiB`,
    );
  }
  const seed = seedOf(name, size);
  const out = new Uint8Array(end - start);
  let offset = start;
  while (offset < end) {
    const block = Math.floor(offset / BLOCK_SIZE);
    const inBlock = offset - block * BLOCK_SIZE;
    const n = Math.min(BLOCK_SIZE - inBlock, end - offset);
    const segment = out.subarray(offset - start, offset - start + n);
    fillBase(seed, inBlock, segment);
    // Mix the block index into the block's first 8 bytes (little endian).
    for (let k = inBlock; k < 8 && k < inBlock + n; k++) {
      segment[k - inBlock] ^= k < 4
        ? (block >>> (k * 8)) & 0xff
        : (Math.floor(block / 2 ** 32) >>> ((k - 4) * 8)) & 0xff;
    }
    offset += n;
  }
  return out;
}

/**
 * The whole body of a generated file, for tests.
 *
 * @param name The file's name, as in `/files/{size}/{name}`.
 * @param size Its size in bytes, at most 64 MiB here.
 * @returns The bytes the server sends.
 * @throws {RangeError} When `size` is negative or over 64 MiB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generatedBody } from "./files.ts";
 * import { startServer } from "./server.ts";
 * await using server = await startServer({ alt: false });
 * const response = await fetch(`${server.url}/files/10/a.bin`);
 * assert.deepEqual(new Uint8Array(await response.arrayBuffer()), generatedBody("a.bin", 10));
 * ```
 */
export function generatedBody(
  name: string,
  size: number,
): Uint8Array<ArrayBuffer> {
  return generatedChunk(name, size, 0, size);
}

/**
 * Streams the bytes `[start, end)` of a generated file in pieces of at most
 * 64 KiB (on block boundaries).
 *
 * @param name The file's name.
 * @param size Its size.
 * @param start First byte (inclusive).
 * @param end Last byte (exclusive).
 * @returns The pieces, in order.
 */
export function* generatedChunks(
  name: string,
  size: number,
  start: number,
  end: number,
): Generator<Uint8Array> {
  for (let offset = start; offset < end;) {
    const next = Math.min(
      end,
      (Math.floor(offset / BLOCK_SIZE) + PIECE_BLOCKS) * BLOCK_SIZE,
    );
    yield generatedChunk(name, size, offset, next);
    offset = next;
  }
}
