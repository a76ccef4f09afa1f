/**
 * `GrowingHashes`: the SHA-256 of files while they are being written, so a
 * download's digest is known when its last byte lands instead of costing a
 * second read of the whole file after it (for 1 GiB of artifacts that read
 * and hash took about 0.6 s of one core, all of it after the downloads).
 *
 * The caller (the extraction Worker, for `fetchArtifacts`) starts a watch
 * once a download's `.part` is being appended to, and drops it when that
 * attempt ends in any other way than success; the watch reads what was
 * written so far, a piece at a time, and waits for more. When the file is
 * complete, {@linkcode GrowingHashes.finish} reads to its end and returns
 * the digest with the identity of the file it read (device, inode, size):
 * the digest is worth something only for that very file, and
 * `extractZip` uses it only after checking that the archive it opened is
 * that file (see `KnownDigest`). Anything unusual (the file missing, an
 * error) ends the watch without a digest, and the archive is hashed whole
 * as before.
 *
 * A watch told {@linkcode GrowingHashes.hashedElsewhere} goes on reading
 * (for its staged entries) but leaves the SHA-256 to the thread that
 * writes the file, which hashes the bytes as it writes them (`fetchArtifacts`'
 * main thread: the hash was most of this Worker's work, and the run's
 * serial path); that digest is used only when it covers exactly the bytes
 * the watch read ({@linkcode withDigest}).
 *
 * Reads are synchronous (this runs in a Worker, the one place allowed to
 * block) into one shared buffer, so memory is one buffer however many
 * watches there are.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { type Staged, ZipStreamer } from "./zip_stream.ts";

/** A file's SHA-256, valid only for the file with this identity. */
export interface KnownDigest {
  /** The file's device. */
  dev: number;
  /** The file's inode. */
  ino: number;
  /** How many bytes were read (and hashed): the file's size when it was finished. */
  size: number;
  /**
   * The SHA-256 of those bytes, lower-case hex; none when the watch left
   * that to another thread ({@linkcode GrowingHashes.hashedElsewhere}),
   * whose digest {@linkcode withDigest} adds.
   */
  sha256?: string;
  /** The stored entries written out from those very bytes (see `ZipStreamer`), when asked. */
  staged?: Staged;
}

/**
 * Whether `known` was taken from the file `info` describes (same device,
 * inode and size): only then is it worth anything.
 *
 * @param known A digest taken by a watch, if any.
 * @param info The file's information.
 * @returns Whether it is that file's.
 */
export function isDigestOf(
  known: KnownDigest | undefined,
  info: Deno.FileInfo,
): boolean {
  return known !== undefined && known.sha256 !== undefined &&
    known.dev === info.dev && known.ino === info.ino &&
    known.size === info.size;
}

/**
 * A SHA-256 taken elsewhere of the first `size` bytes written to a watched
 * file (the main thread hashes a download's pieces as it writes them).
 */
export interface SizedDigest {
  /** The SHA-256, lower-case hex. */
  sha256: string;
  /** How many bytes, from the file's first, it covers. */
  size: number;
}

/**
 * A watch's file with the digest taken elsewhere of its bytes, when the
 * watch did not hash them itself and `digest` covers exactly the bytes it
 * read; else `known` as it is (without a digest it is worth nothing but
 * its staged entries, which are then removed unused).
 *
 * @param known What the watch gave.
 * @param digest The digest of the bytes written, if one was taken.
 * @returns The known digest.
 */
export function withDigest(
  known: KnownDigest | undefined,
  digest: SizedDigest | undefined,
): KnownDigest | undefined {
  if (
    known === undefined || known.sha256 !== undefined ||
    digest === undefined || digest.size !== known.size
  ) return known;
  return { ...known, sha256: digest.sha256 };
}

/** Where a watch stages a zip's stored entries as it reads them (see `ZipStreamer`). */
export interface StageOptions {
  /** The staging directory. */
  dir: string;
  /** Flush each staged entry. */
  durable: boolean;
}

/** Bytes read per read call. */
const PIECE = 1 << 20;
/** Most bytes one watch hashes before the others (and extractions) get a turn. */
const TURN = 8 << 20;
/** How long a watch that caught up waits before looking again. */
const POLL_MS = 15;

interface Watch {
  path: string;
  /** Its name once complete (see {@linkcode GrowingHashes.watch}). */
  complete?: string;
  file?: Deno.FsFile;
  /** None once another thread hashes the bytes written (see `hashedElsewhere`). */
  hash?: Hash;
  hashed: number;
  streamer?: ZipStreamer;
}

/**
 * The watches of one Worker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHash } from "node:crypto";
 * import { GrowingHashes } from "./growing_hash.ts";
 *
 * const path = await Deno.makeTempFile();
 * const hashes = new GrowingHashes();
 * await Deno.writeTextFile(path, "first bytes, ");
 * hashes.watch("7", path); // hashes what is there, then what is appended
 * await Deno.writeTextFile(path, "the rest", { append: true });
 * const known = hashes.finish("7")!; // the file is complete
 * const sha256 = createHash("sha256").update("first bytes, the rest").digest("hex");
 * assert.deepEqual([known.size, known.sha256], [21, sha256]);
 * assert.equal(known.ino, Deno.statSync(path).ino); // valid for that very file
 * await Deno.remove(path);
 * ```
 */
export class GrowingHashes {
  #watches = new Map<string, Watch>();
  #buffer = new Uint8Array(PIECE);
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Starts hashing `path` under `key` (replacing a watch of that key). The
   * file must be appended to only, from now until it is finished.
   *
   * @param key Names the watch.
   * @param path The file being written.
   * @param stage Also stage the stored entries of the zip it is (see
   *   `ZipStreamer`). @default not staged
   * @param complete The name the file is renamed to once complete, read
   *   instead when `path` is gone already (only the very file read counts:
   *   see {@linkcode isDigestOf}). @default none
   */
  watch(
    key: string,
    path: string,
    stage?: StageOptions,
    complete?: string,
  ): void {
    this.drop(key);
    let streamer;
    try {
      if (stage) streamer = new ZipStreamer(stage.dir, stage.durable);
    } catch {
      streamer = undefined; // only hashed
    }
    const hash = createHash("sha256");
    // Opened now, not at the first turn: a small download may be complete
    // and renamed by then (and it was read whole again after).
    const file = openIfThere(path) ?? openIfThere(complete);
    this.#watches.set(key, { path, complete, file, hash, hashed: 0, streamer });
    this.#schedule(0);
  }

  /**
   * Stops hashing the file of `key` (if watched): another thread hashes
   * the bytes as they are written, and its digest is given at the
   * extraction ({@linkcode withDigest}). The watch goes on reading (and
   * staging) the file.
   *
   * @param key The watch.
   */
  hashedElsewhere(key: string): void {
    const watch = this.#watches.get(key);
    if (watch) watch.hash = undefined;
  }

  /**
   * Ends the watch of `key`, if any, without a digest.
   *
   * @param key The watch.
   */
  drop(key: string): void {
    const watch = this.#watches.get(key);
    if (!watch) return;
    this.#watches.delete(key);
    watch.file?.close();
    watch.streamer?.abandon();
  }

  /**
   * Ends the watch of `key`: hashes the rest of its file (complete now) and
   * returns the digest with the file's identity.
   *
   * @param key The watch.
   * @returns The digest, or undefined when there was no usable watch.
   */
  finish(key: string): KnownDigest | undefined {
    const watch = this.#watches.get(key);
    if (!watch) return undefined;
    try {
      if (this.#advance(watch, Infinity) < 0) return undefined;
      const { dev, ino } = watch.file!.statSync();
      if (ino === null) return undefined;
      const sha256 = watch.hash?.digest("hex");
      const staged = watch.streamer?.finish();
      watch.streamer = undefined; // kept: the extraction takes it over
      const known: KnownDigest = { dev, ino, size: watch.hashed, sha256 };
      return staged ? { ...known, staged } : known;
    } catch {
      return undefined;
    } finally {
      this.drop(key);
    }
  }

  /** Hashes what each watch's file has gained, a turn each. */
  #tick() {
    this.#timer = undefined;
    let more = false;
    for (const [key, watch] of this.#watches) {
      try {
        const read = this.#advance(watch, TURN);
        if (read < 0) this.drop(key);
        else if (read >= TURN) more = true;
      } catch {
        this.drop(key);
      }
    }
    if (this.#watches.size > 0) this.#schedule(more ? 0 : POLL_MS);
  }

  /**
   * Reads and hashes up to about `limit` bytes of what the watch's file
   * holds past what was hashed; returns how many, or -1 when the file
   * cannot be opened (the watch is then dropped).
   */
  #advance(watch: Watch, limit: number): number {
    watch.file ??= openIfThere(watch.path) ?? openIfThere(watch.complete);
    if (!watch.file) return -1;
    let done = 0;
    while (done < limit) {
      const n = watch.file.readSync(this.#buffer);
      if (n === null || n === 0) break;
      const piece = this.#buffer.subarray(0, n);
      watch.hash?.update(piece);
      watch.streamer?.feed(piece);
      watch.hashed += n;
      done += n;
    }
    return done;
  }

  #schedule(ms: number) {
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#tick(), ms);
    }
  }
}

/** `path` opened for reading, or undefined when it cannot be. */
function openIfThere(path: string | undefined): Deno.FsFile | undefined {
  if (path === undefined) return undefined;
  try {
    return Deno.openSync(path, { read: true });
  } catch {
    return undefined;
  }
}
