/**
 * `extractZip`: extracts a downloaded zip file into a directory, safely.
 *
 * With `sha256`, the whole file's SHA-256 is checked first. Every entry is
 * checked before anything is written ({@linkcode readZipIndex}:
 * the same name rules as every other destination, no symlink, stored or
 * deflate only): one refused entry refuses the whole archive. Then each
 * entry's bytes are read straight from its range of the file, a stored
 * entry copied as is and a deflated one inflated by the runtime's native
 * `DecompressionStream`, written as `NAME.part`, its size and CRC-32 checked
 * (`node:zlib`'s native `crc32`), flushed (`fdatasync`), then renamed to
 * `NAME`; every directory it changed is flushed (`fsync`) before it returns,
 * so what it reports extracted survives a power cut (unless `durability`
 * is `"none"`, which flushes nothing). Memory stays
 * bounded whatever the archive's size: one read buffer per archive, and
 * inflated data in pieces.
 *
 * A stored entry that the download's watch already wrote out (`known.staged`,
 * see `ZipStreamer`) is taken from its staging file instead, for the very
 * file hashed only, once the digest and the whole index are checked, and
 * when its offset, method, sizes and CRC-32 match.
 *
 * With `merge`, an entry whose file already exists is compared with it:
 * identical bytes are fine, different bytes are a conflict, reported and
 * never written over. Without `merge` an existing file is replaced.
 *
 * `ZipExtractor` (`zip_extractor.ts`) runs this work in Workers
 * (`zip_worker.ts`), off the main thread.
 *
 * @module
 */

import { crc32 } from "node:zlib";
import { createHash } from "node:crypto";
import { PART_SUFFIX } from "./paths.ts";
import { checkName } from "./entry_names.ts";
import {
  entryDataStart,
  readFully,
  readZipIndex,
  type ZipEntryInfo,
} from "./zip_index.ts";
import { ExtractError } from "../core/errors.ts";
import { isDigestOf, type KnownDigest } from "./growing_hash.ts";
import type { Durability } from "./client.ts";
import { ChangedDirs } from "./changed_dirs.ts";
import { placer } from "./unzip_place.ts";
import { removeStaged, stagedByOffset, stagedFor } from "./zip_stream.ts";

/** Options of {@linkcode extractZip}. */
export interface ExtractOptions {
  /** Compare with existing files instead of replacing them; different bytes are a conflict. @default false */
  merge?: boolean;
  /** A label for conflict messages (e.g. the artifact's name). @default the zip's path */
  label?: string;
  /** Who wrote each existing file in this run, by destination (for conflict messages); updated. @default a new map */
  owners?: Map<string, string>;
  /**
   * First path components no entry may have, in any letter case, each with
   * what it is (e.g. `{".bulkget-artifacts": "bulkget's own work
   * directory"}`): the caller's own files in `destDir`. @default none
   */
  reserved?: Record<string, string>;
  /**
   * The SHA-256 (lower-case hex) the archive file must have: checked over
   * the whole file before anything is written; another one refuses it
   * ("digest mismatch"). @default none (not checked)
   */
  sha256?: string;
  /** Give the archive file's SHA-256 in the result (always so with `sha256`). @default false */
  hash?: boolean;
  /**
   * The archive file's SHA-256 as hashed while it was written
   * (`GrowingHashes`): used instead of reading the file again, but only
   * when the file opened is that very file (same device, inode and size).
   * @default none (the file is hashed)
   */
  known?: KnownDigest;
  /**
   * `"full"`: each file's bytes are flushed before its rename, and every
   * directory changed before the call returns; `"none"`: nothing is
   * flushed. @default "full"
   */
  durability?: Durability;
}

/** A merge conflict: two archives hold the same path with different bytes. */
export interface ExtractConflict {
  /** The path, relative to the directory. */
  path: string;
  /** Who wrote the file already there. */
  existing: string;
  /** Whose entry was not written. */
  incoming: string;
}

/** What {@linkcode extractZip} did. */
export interface ExtractResult {
  /** Files written or found identical. */
  files: number;
  /** Their bytes. */
  bytes: number;
  /** The conflicts (merge only). */
  conflicts: ExtractConflict[];
  /** The archive file's SHA-256, with the `hash` or `sha256` option. */
  sha256?: string;
  /** Files taken from the entries written out while the archive downloaded (`known.staged`). */
  streamed?: number;
}

/** Bytes read from the archive at a time (stored entries, comparisons). */
const CHUNK = 1 << 20;
/**
 * Compressed bytes fed to the inflater at a time: deflate expands at most
 * about 1,032 ×, so one piece inflates to at most about 32 MiB.
 */
const INFLATE_CHUNK = 32 << 10;
const STORED = 0;

/**
 * Extracts `zipPath` into `destDir` (created when missing).
 *
 * @param zipPath The zip file.
 * @param destDir The directory entries go to.
 * @param options See {@linkcode ExtractOptions}.
 * @returns Counts and conflicts.
 * @throws {ExtractError} For another SHA-256 than `sha256` ("digest
 *   mismatch"), an unsafe entry, a symlink, an unsupported method, a bad
 *   CRC or size, or a file that is not a valid zip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extractZip } from "./unzip.ts";
 * import { makeZip } from "../server/zip_maker.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/logs.zip`, makeZip([{ name: "a/b.txt", data: "hi" }]));
 * const { files, bytes } = await extractZip(`${dir}/logs.zip`, `${dir}/logs`);
 * assert.deepEqual([files, bytes], [1, 2]);
 * assert.equal(await Deno.readTextFile(`${dir}/logs/a/b.txt`), "hi");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function extractZip(
  zipPath: string,
  destDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const durable = options.durability !== "none";
  const changed = new ChangedDirs(destDir);
  const place = placeIn(destDir, options, options.label ?? zipPath, changed);
  const file = await Deno.open(zipPath, { read: true });
  try {
    const info = await file.stat();
    const size = info.size;
    const buffer = new Uint8Array(CHUNK);
    const sha256 = await checkDigest(file, info, options, buffer);
    const entries = await readZipIndex(file, size, options.reserved);
    // Entries written out while this very file downloaded (see ZipStreamer).
    const staged = isDigestOf(options.known, info)
      ? stagedByOffset(options.known!.staged)
      : undefined;
    // Their bytes reach the disk before any of them gets its name.
    if (staged && durable) await options.known!.staged!.flushed();
    await Deno.mkdir(destDir, { recursive: true });
    const made = new Set<string>([destDir]);
    for (const entry of entries) {
      const dest = `${destDir}/${entry.name}`;
      if (entry.directory) {
        await makeDir(dest, made, changed);
        continue;
      }
      await makeDir(dest.slice(0, dest.lastIndexOf("/")), made, changed);
      let part = dest + PART_SUFFIX;
      const ready = stagedFor(entry, staged);
      if (ready) {
        part = ready.path;
        place.result.streamed = (place.result.streamed ?? 0) + 1;
      } else {
        try {
          await writeEntry(file, size, entry, part, buffer, durable);
        } catch (error) {
          await Deno.remove(part).catch(() => {});
          throw error;
        }
      }
      await place(part, entry.name, entry.uncompressedSize, buffer);
    }
    if (durable) await changed.flush();
    return sha256 === undefined ? place.result : { ...place.result, sha256 };
  } finally {
    file.close();
    await removeStaged(options.known?.staged);
  }
}

/**
 * Puts one file (an artifact uploaded unzipped) into `destDir` as `name`,
 * by the rules of an archive's entry: the same name rules, and with `merge`
 * a file already there is compared, never written over.
 *
 * @param path The file; moved (or, when found identical, removed).
 * @param destDir The directory it goes to.
 * @param name Its name there.
 * @param options See {@linkcode ExtractOptions}.
 * @returns Counts and conflicts, as for an archive of one entry.
 * @throws {ExtractError} For another SHA-256 than `sha256` ("digest
 *   mismatch") or a name the rules refuse.
 */
export async function placeFile(
  path: string,
  destDir: string,
  name: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const buffer = new Uint8Array(CHUNK);
  let sha256;
  let bytes;
  {
    using file = await Deno.open(path, { read: true });
    const info = await file.stat();
    bytes = info.size;
    sha256 = await checkDigest(file, info, options, buffer);
    // Downloaded without a flush: its bytes reach the disk before its name.
    if (options.durability !== "none") await file.syncData();
  }
  checkName(name, options.reserved);
  const changed = new ChangedDirs(destDir);
  const place = placeIn(destDir, options, options.label ?? path, changed);
  await Deno.mkdir(destDir, { recursive: true });
  const dest = `${destDir}/${name}`;
  const made = new Set([destDir]);
  await makeDir(dest.slice(0, dest.lastIndexOf("/")), made, changed);
  await place(path, name, bytes, buffer);
  if (options.durability !== "none") await changed.flush();
  await removeStaged(options.known?.staged); // none for a file not a zip
  return sha256 === undefined ? place.result : { ...place.result, sha256 };
}

/**
 * The SHA-256 of the whole `file`, with the `hash` or `sha256` option, after
 * checking it against `sha256`: the `known` one when it is this file's,
 * else read and hashed.
 *
 * @throws {ExtractError} "digest mismatch" when it differs.
 */
async function checkDigest(
  file: Deno.FsFile,
  info: Deno.FileInfo,
  options: ExtractOptions,
  buffer: Uint8Array,
): Promise<string | undefined> {
  if (!options.hash && options.sha256 === undefined) return undefined;
  const known = options.known;
  let sha256: string;
  if (isDigestOf(known, info)) {
    sha256 = known!.sha256!;
  } else {
    const hash = createHash("sha256");
    for await (const piece of readRange(file, 0, info.size, buffer)) {
      hash.update(piece);
    }
    sha256 = hash.digest("hex");
  }
  if (options.sha256 !== undefined && sha256 !== options.sha256) {
    throw new ExtractError(
      `digest mismatch: the file's SHA-256 is ${sha256}, expected ${options.sha256}`,
    );
  }
  return sha256;
}

/** Makes `dir` (and its parents) unless this archive made it already. */
async function makeDir(dir: string, made: Set<string>, changed: ChangedDirs) {
  if (made.has(dir)) return;
  await Deno.mkdir(dir, { recursive: true });
  made.add(dir);
  changed.add(dir);
}

/** The {@linkcode placer} of one archive (or file) by its options. */
function placeIn(
  destDir: string,
  options: ExtractOptions,
  label: string,
  changed: ChangedDirs,
) {
  const owners = options.owners ?? new Map<string, string>();
  return placer(destDir, { merge: !!options.merge, owners, label, changed });
}

/**
 * Writes `entry`'s bytes to `part`: a stored entry copied from its range of
 * the archive, a deflated one inflated; its size and CRC-32 checked; its
 * bytes flushed when `durable`.
 */
async function writeEntry(
  file: Deno.FsFile,
  size: number,
  entry: ZipEntryInfo,
  part: string,
  buffer: Uint8Array,
  durable: boolean,
) {
  const what = `entry ${JSON.stringify(entry.name)}`;
  const start = await entryDataStart(file, entry, buffer);
  if (start + entry.compressedSize > size) {
    throw new ExtractError(`${what}: its data runs past the end of the file`);
  }
  const out = await Deno.open(part, {
    write: true,
    create: true,
    truncate: true,
  });
  let crc = 0;
  let written = 0;
  try {
    const raw = readRange(file, start, entry.compressedSize, buffer);
    const chunks = entry.method === STORED ? raw : inflate(raw, what);
    for await (const chunk of chunks) {
      written += chunk.length;
      if (written > entry.uncompressedSize) break;
      crc = crc32(chunk, crc);
      await writeAll(out, chunk);
    }
    if (durable && written === entry.uncompressedSize) await out.syncData();
  } finally {
    out.close();
  }
  if (written > entry.uncompressedSize) {
    throw new ExtractError(
      `${what}: more bytes than the archive says (${entry.uncompressedSize})`,
    );
  }
  if (written !== entry.uncompressedSize) {
    throw new ExtractError(
      `${what}: ${written} bytes, the archive says ${entry.uncompressedSize}`,
    );
  }
  if (crc >>> 0 !== entry.crc32 >>> 0) {
    throw new ExtractError(`${what}: CRC-32 mismatch`);
  }
}

/**
 * The `length` bytes from `offset` of `file`, in pieces of `buffer` (each
 * piece is valid until the next is asked for).
 */
async function* readRange(
  file: Deno.FsFile,
  offset: number,
  length: number,
  buffer: Uint8Array,
): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < length;) {
    const piece = buffer.subarray(0, Math.min(buffer.length, length - at));
    await readFully(file, offset + at, piece);
    at += piece.length;
    yield piece;
  }
}

/** Inflates raw deflate data, fed in small copies (the source reuses its buffer). */
async function* inflate(
  raw: AsyncIterable<Uint8Array>,
  what: string,
): AsyncGenerator<Uint8Array> {
  async function* copies() {
    for await (const piece of raw) {
      for (let at = 0; at < piece.length; at += INFLATE_CHUNK) {
        yield piece.slice(at, at + INFLATE_CHUNK);
      }
    }
  }
  const inflated = ReadableStream.from(copies()).pipeThrough(
    new DecompressionStream("deflate-raw"),
  );
  try {
    yield* inflated;
  } catch (error) {
    if (error instanceof ExtractError) throw error;
    throw new ExtractError(
      `${what}: not valid deflate data (${
        error instanceof Error ? error.message : error
      })`,
      { cause: error },
    );
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array) {
  for (let at = 0; at < bytes.length;) {
    at += await file.write(bytes.subarray(at));
  }
}
