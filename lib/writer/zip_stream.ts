/**
 * `ZipStreamer`: writes a zip's stored entries out while the zip itself is
 * still being downloaded, from the very bytes the download's watch reads
 * to hash it (`GrowingHashes`), so that extracting it later needs neither
 * a second read of those bytes nor their copy after the download.
 *
 * It follows the local headers from the start of the file: each stored
 * entry whose sizes its header gives goes to a staging file named by its
 * number in a staging directory (never a name from the archive), its
 * CRC-32 taken as it is written, and its bytes flushed when `durable`;
 * other entries are passed over. Anything it cannot follow (a data
 * descriptor, an unknown size, the central directory) ends the streaming;
 * what was staged so far stays usable. Nothing is trusted here: `extractZip`
 * takes a staged entry only for the very file that was hashed, after the
 * digest and every entry of the central directory were checked, and only
 * when the entry's offset, method, sizes and CRC-32 match what was staged.
 *
 * @module
 */

import { crc32 } from "node:zlib";
import { ExtractError } from "../core/errors.ts";
import type { ZipEntryInfo } from "./zip_index.ts";

/** An entry written out while its archive downloaded. */
export interface StagedEntry {
  /** Where its local header starts in the archive. */
  offset: number;
  /** Its bytes (stored: the same in the archive and out). */
  size: number;
  /** The CRC-32 of the bytes written, unsigned. */
  crc32: number;
  /** The staging file that holds them. */
  path: string;
}

/** What a {@linkcode ZipStreamer} staged: its directory and entries. */
export interface Staged {
  /** The staging directory (to remove once used). */
  dir: string;
  /** The complete entries, in the archive's order. */
  entries: StagedEntry[];
  /**
   * Resolves once every entry's bytes are flushed (when durable), rejects
   * when a flush failed: wait for it before an entry gets its name.
   */
  flushed(): Promise<void>;
}

const LOCAL_HEADER = 0x04034b50;
const HEAD = 30;
const STORED = 0;
/** Flags: bit 0 encrypted, bit 3 sizes after the data. */
const UNFOLLOWABLE = 0x1 | 0x8;

/**
 * Stages the stored entries of one archive as its bytes come, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ZipStreamer } from "./zip_stream.ts";
 * import { makeZip } from "../server/zip_maker.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const zip = makeZip([{ name: "a.txt", data: "hello" }]);
 * const streamer = new ZipStreamer(`${dir}/stage`, false);
 * streamer.feed(zip.subarray(0, 33)); // any pieces, in order
 * streamer.feed(zip.subarray(33));
 * const { entries } = streamer.finish();
 * assert.equal(entries.length, 1);
 * assert.equal(Deno.readTextFileSync(entries[0].path), "hello");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ZipStreamer {
  #dir: string;
  #durable: boolean;
  #entries: StagedEntry[] = [];
  /** Bytes of the archive seen so far. */
  #at = 0;
  #state: "head" | "data" | "skip" | "stopped" = "head";
  #head = new Uint8Array(HEAD);
  #headHave = 0;
  /** Bytes of the current entry's data still to come. */
  #left = 0;
  #current: StagedEntry | undefined;
  #out: Deno.FsFile | undefined;
  #crc = 0;
  /** Flushes under way or done (each closes its file after). */
  #flushes: Promise<void>[] = [];
  #flushError: unknown;

  /**
   * @param dir The staging directory (made on the first entry; anything
   *   there is removed first).
   * @param durable Flush each staged entry's bytes when it is complete.
   */
  constructor(dir: string, durable: boolean) {
    this.#dir = dir;
    this.#durable = durable;
    removeTree(dir);
  }

  /**
   * Takes the archive's next bytes (valid only during the call).
   *
   * @param piece The bytes that follow the ones fed before.
   */
  feed(piece: Uint8Array): void {
    try {
      for (let at = 0; at < piece.length && this.#state !== "stopped";) {
        const n = this.#state === "head"
          ? this.#takeHead(piece.subarray(at))
          : this.#takeData(piece.subarray(at));
        at += n;
        this.#at += n;
      }
    } catch {
      this.#stop();
    }
  }

  /**
   * Ends the streaming: what is staged, complete entries only.
   *
   * @returns The staging directory and its entries.
   */
  finish(): Staged {
    this.#stop();
    const flushes = this.#flushes;
    return {
      dir: this.#dir,
      entries: this.#entries,
      flushed: async () => {
        await Promise.all(flushes);
        if (this.#flushError !== undefined) throw this.#flushError;
      },
    };
  }

  /** Ends the streaming and removes everything staged (never throws). */
  abandon(): void {
    this.#stop();
    this.#entries = [];
    try {
      removeTree(this.#dir);
    } catch {
      // Left in the work directory; the next watch of this zip clears it.
    }
  }

  /** Adds header bytes; starts the entry once its header is whole. */
  #takeHead(bytes: Uint8Array): number {
    const want = Math.min(bytes.length, this.#head.length - this.#headHave);
    this.#head.set(bytes.subarray(0, want), this.#headHave);
    this.#headHave += want;
    if (this.#headHave < this.#head.length) return want;
    const view = new DataView(this.#head.buffer);
    if (this.#head.length === HEAD) {
      const size = view.getUint32(18, true);
      if (
        view.getUint32(0, true) !== LOCAL_HEADER ||
        (view.getUint16(6, true) & UNFOLLOWABLE) !== 0 ||
        size === 0xffffffff
      ) {
        this.#stop();
        return want;
      }
      // Now the name and the extra field.
      const whole = new Uint8Array(
        HEAD + view.getUint16(26, true) + view.getUint16(28, true),
      );
      whole.set(this.#head);
      this.#head = whole;
      if (whole.length > HEAD) return want;
    }
    this.#beginData(view, this.#at + want - this.#head.length);
    return want;
  }

  /** Starts the entry whose local header (at `offset`) `view` holds. */
  #beginData(view: DataView, offset: number) {
    const method = view.getUint16(8, true);
    const size = view.getUint32(18, true);
    this.#left = size;
    this.#head = new Uint8Array(HEAD);
    this.#headHave = 0;
    if (method !== STORED || size !== view.getUint32(22, true) || size === 0) {
      this.#state = size === 0 ? "head" : "skip";
      return;
    }
    if (this.#entries.length === 0) Deno.mkdirSync(this.#dir);
    const path = `${this.#dir}/${this.#entries.length}`;
    this.#current = { offset, size, crc32: 0, path };
    this.#out = Deno.openSync(path, { write: true, createNew: true });
    this.#crc = 0;
    this.#state = "data";
  }

  /** Writes (or passes over) the current entry's bytes. */
  #takeData(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.#left);
    if (this.#state === "data") {
      const piece = bytes.subarray(0, n);
      for (let at = 0; at < n;) at += this.#out!.writeSync(piece.subarray(at));
      this.#crc = crc32(piece, this.#crc);
    }
    this.#left -= n;
    if (this.#left === 0) {
      if (this.#state === "data") this.#endEntry();
      this.#state = "head";
    }
    return n;
  }

  #endEntry() {
    const out = this.#out!;
    this.#out = undefined;
    this.#entries.push({ ...this.#current!, crc32: this.#crc >>> 0 });
    this.#current = undefined;
    if (!this.#durable) {
      out.close();
      return;
    }
    // Flushed off this thread (Deno's blocking pool) while the next bytes
    // are read and hashed, instead of stopping them for the disk.
    this.#flushes.push(
      out.syncData().catch((error) => {
        this.#flushError ??= error;
      }).finally(() => out.close()),
    );
  }

  #stop() {
    this.#state = "stopped";
    this.#out?.close();
    this.#out = undefined;
    this.#current = undefined;
  }
}

/**
 * Removes what a streamer staged (used or not), if anything; never throws.
 *
 * @param staged What {@linkcode ZipStreamer.finish} gave.
 */
export async function removeStaged(staged: Staged | undefined): Promise<void> {
  if (staged) {
    await Deno.remove(staged.dir, { recursive: true }).catch(() => {});
  }
}

/** Removes `dir` and what it holds; nothing there is fine. */
function removeTree(dir: string) {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * The staged entries by the offset of their local header.
 *
 * @param staged What a streamer staged, if anything.
 * @returns The map, or undefined.
 */
export function stagedByOffset(
  staged: Staged | undefined,
): Map<number, StagedEntry> | undefined {
  if (!staged) return undefined;
  return new Map(staged.entries.map((entry) => [entry.offset, entry]));
}

/**
 * The staged file that holds `entry`'s bytes, if one does: staged from its
 * local header's offset, stored, of its size.
 *
 * @param entry An entry of the central directory, checked.
 * @param staged The staged entries by offset (of the very file).
 * @returns The staged entry, or undefined (the entry is extracted as usual).
 * @throws {ExtractError} When the staged bytes' CRC-32 is not the entry's.
 */
export function stagedFor(
  entry: ZipEntryInfo,
  staged: Map<number, StagedEntry> | undefined,
): StagedEntry | undefined {
  const found = staged?.get(entry.offset);
  if (
    !found || entry.method !== STORED || found.size !== entry.compressedSize ||
    found.size !== entry.uncompressedSize
  ) return undefined;
  if (found.crc32 !== entry.crc32 >>> 0) {
    throw new ExtractError(
      `entry ${JSON.stringify(entry.name)}: CRC-32 mismatch`,
    );
  }
  return found;
}
