/**
 * The main thread's side of the writer Worker: the {@linkcode Writer} API
 * the engine uses.
 *
 * Requests go to the Worker in batches through `channel.ts`; the bytes sent
 * but not yet written are bounded: a caller of {@linkcode Writer.put} waits
 * while more than `maxInFlightBytes` are queued, so memory stays flat
 * whatever the file sizes. Most probes are answered on this thread, without
 * asking the Worker (see `probeShortcuts`).
 *
 * @module
 */

import type {
  Expectation,
  PartMeta,
  ProbeResult,
  Validators,
  WrittenFile,
} from "./protocol.ts";
import { openChannel, ownBuffer } from "./channel.ts";
import { destPaths } from "./paths.ts";
import { isMissingOrEmpty } from "./worker_disk.ts";

export { isMissingOrEmpty };

/** Options for {@linkcode openWriter}. */
export interface WriterOptions {
  /** Directory every destination is relative to. */
  outDir: string;
  /** Bytes sent to the Worker but not yet written before writers must wait. @default 4194304 (4 MiB) */
  maxInFlightBytes?: number;
  /** Requests per message at most. @default 64 */
  maxBatch?: number;
  /** Longest a request waits for more to share its message, in ms. @default 1 */
  batchDelayMs?: number;
  /**
   * `"full"`: a file's reply (so its OK) comes only after its data, its
   * rename and the state file's line about it are on stable storage
   * (`fdatasync`, rename, directory `fsync`, batched). `"none"`: nothing is
   * flushed; a power cut may lose or empty files already reported.
   * @default "full"
   */
  durability?: Durability;
}

/** How far a reported file is guaranteed to survive a crash (see {@linkcode WriterOptions.durability}). */
export type Durability = "full" | "none";

/** The durability policies, for argument checks. */
export const DURABILITIES: readonly Durability[] = ["full", "none"];

/** The writer's API, used by the engine. */
export interface Writer {
  /**
   * Writes a whole body as `dest` (via `.part`, verified, renamed), and
   * records its validators in the state file when `record` is given.
   */
  put(
    dest: string,
    data: Uint8Array,
    expect: Expectation,
    record?: Validators,
  ): Promise<WrittenFile>;
  /** What is on disk for `dest`: a final file, a `.part` with resume facts. */
  probe(dest: string): Promise<ProbeResult>;
  /** Hashes the final file and checks it; rejects with an error coded `VERIFY_FAILED` on mismatch. */
  verify(dest: string, expect: Expectation): Promise<WrittenFile>;
  /**
   * Readies `dest.part` for streaming: created empty, or cut to `offset` to
   * resume, with the resume facts beside it. Resolves to the path the caller
   * appends the body to (large bodies go from the socket to the file without
   * passing through JavaScript; see fetch-one).
   */
  prepare(dest: string, offset: number, meta?: PartMeta): Promise<string>;
  /**
   * Hashes the streamed `.part` whole, checks it against `expect`, renames it
   * into place (and records `record`, as `put` does); a wrong one is removed.
   * `crc32`, the CRC-32 of every byte of the `.part` taken as they were
   * written, spares reading it back when that is the digest recorded.
   */
  seal(
    dest: string,
    expect: Expectation,
    record?: Validators,
    crc32?: string,
  ): Promise<WrittenFile>;
  /** Gives up a streamed `.part`: kept (with its resume facts) or removed. */
  release(dest: string, keepPart: boolean): Promise<void>;
  /**
   * Opens `dest.part` for a segmented download (`--split`, see
   * `split_files.ts`): a new one of the file's full size (`fresh`), or the
   * one an earlier attempt left; `meta.split` holds the ranges and how much
   * of each is written. `seal` and `release` end it as any `.part`.
   */
  startSplit(dest: string, meta: PartMeta, fresh: boolean): Promise<void>;
  /**
   * Queues the next bytes of range `range` of a segmented download, to be
   * written at `offset`; `data`'s buffer is transferred (do not use it
   * again). Waits while the Worker is behind, as `put` does, so memory stays
   * bounded. Resolves once queued, to the promise of the write itself, which
   * gives the buffer back (transferred again) to be filled anew.
   */
  writeAt(
    dest: string,
    range: number,
    offset: number,
    data: Uint8Array,
  ): Promise<{ written: Promise<ArrayBuffer> }>;
  /** Flushes everything, closes open files (keeping their `.part`) and ends the Worker. */
  close(): Promise<void>;
}

/** Bodies up to this size are copied into the batch's arena instead of transferred one by one. */
const PACK_LIMIT = 64 * 1024;

/** Options defaults, in one place. */
const DEFAULTS = {
  maxInFlightBytes: 4 << 20,
  maxBatch: 64,
  batchDelayMs: 1,
  durability: "full" as Durability,
};

/**
 * Starts the writer Worker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openWriter } from "./client.ts";
 *
 * const outDir = await Deno.makeTempDir();
 * const writer = openWriter({ outDir });
 * const written = await writer.put("hello.txt", new TextEncoder().encode("hi"), { size: 2 });
 * await writer.close();
 * assert.equal(written.bytes, 2);
 * assert.equal(await Deno.readTextFile(`${outDir}/hello.txt`), "hi");
 * await Deno.remove(outDir, { recursive: true });
 * ```
 *
 * @param options Where to write and how to batch.
 * @returns The writer.
 */
export function openWriter(options: WriterOptions): Writer {
  const o = { ...DEFAULTS, ...options };
  const channel = openChannel({
    init: { outDir: o.outDir, durability: o.durability },
    maxInFlightBytes: o.maxInFlightBytes,
    maxBatch: o.maxBatch,
    batchDelayMs: o.batchDelayMs,
  });
  const lookups = probeShortcuts(o.outDir);
  return {
    async put(dest, data, expect, record) {
      // Bound the bodies queued for the Worker: wait while it is behind.
      await channel.waitForRoom();
      // Small bodies are packed into the batch's arena, larger ones transferred.
      const own = data.byteLength <= PACK_LIMIT ? undefined : ownBuffer(data);
      // Returned, not awaited: no frame kept while the Worker writes.
      return channel.send({ op: "put", dest, data: own, expect, record }, data);
    },
    probe(dest) {
      return lookups.needsProbe(dest)
        ? channel.send({ op: "probe", dest })
        : Promise.resolve({});
    },
    verify(dest, expect) {
      return channel.send({ op: "verify", dest, expect });
    },
    prepare(dest, offset, meta) {
      return channel.send({ op: "prepare", dest, offset, meta });
    },
    seal(dest, expect, record, crc32) {
      lookups.partKept(dest, false);
      return channel.send({ op: "seal", dest, expect, record, crc32 });
    },
    release(dest, keepPart) {
      lookups.partKept(dest, keepPart);
      return channel.send({ op: "release", dest, keepPart });
    },
    startSplit(dest, meta, fresh) {
      return channel.send({ op: "startSplit", dest, meta, fresh });
    },
    async writeAt(dest, range, offset, data) {
      await channel.waitForRoom();
      const written = channel.send<ArrayBuffer>(
        { op: "writeAt", dest, range, offset, data: ownBuffer(data) },
        data,
      );
      written.catch(() => {}); // the caller awaits it; never unhandled
      return { written };
    },
    close: () => channel.close(),
  };
}

/** What lets a probe be answered on this thread. */
interface ProbeShortcuts {
  /** Whether `dest` may have a final file or a `.part` the Worker must look at. */
  needsProbe(dest: string): boolean;
  /** Notes whether this run keeps the `.part` of `dest` (a later probe must find it). */
  partKept(dest: string, kept: boolean): void;
}

/**
 * Most destinations do not exist yet. In a directory that was missing or
 * empty when this run first looked, nothing can exist but what the run
 * itself writes (each destination once) and the `.part`s it kept after a
 * failed attempt, so no look is needed; elsewhere a stat on this thread
 * saves a round trip to the Worker.
 *
 * @param outDir The output directory.
 * @returns The shortcuts.
 */
function probeShortcuts(outDir: string): ProbeShortcuts {
  /** Destinations whose `.part` this run kept after a failed attempt. */
  const keptParts = new Set<string>();
  /** Directories by whether they were missing or empty when first looked at. */
  const emptyAtStart = new Map<string, boolean>();
  const wasEmpty = (dir: string): boolean => {
    let empty = emptyAtStart.get(dir);
    if (empty === undefined) {
      empty = isMissingOrEmpty(dir);
      emptyAtStart.set(dir, empty);
    }
    return empty;
  };
  return {
    needsProbe(dest) {
      const paths = destPaths(outDir, dest);
      if (wasEmpty(paths.dir) && !keptParts.has(dest)) return false;
      return exists(paths.final) || exists(paths.part);
    },
    partKept(dest, kept) {
      if (kept) keptParts.add(dest);
      else keptParts.delete(dest);
    },
  };
}

/**
 * Whether `path` exists. (Not `node:fs`'s `existsSync`: loading `node:fs`
 * costs some 40 ms of start-up, more than this costs in a whole run.)
 */
function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
