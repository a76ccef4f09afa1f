/**
 * `DownloadWatches`: follows each artifact's zip while the engine streams
 * it into its `.part`, so that its digest is known when the download ends
 * and the extraction need not read the whole zip first to check it. On
 * 1,010 MiB of artifacts this took the digest check's second read out of
 * the time after the last download: `bulkget artifacts` 2.18 → 1.79 s
 * (medians of 8 interleaved runs).
 *
 * Two threads share the work. The extraction Worker follows the `.part`
 * (`ZipExtractor.watch`), reading what was written, to stage the zip's
 * stored entries; this thread hashes an attempt that starts the file from
 * the engine's pieces as they are written ({@linkcode DownloadWatches.onBodyPiece})
 * and tells the Worker not to hash it too. A resumed attempt's `.part`
 * holds bytes this thread never saw, so there the Worker hashes the file
 * whole, as it reads it.
 *
 * A watch starts with an attempt's first body bytes, when the `.part` is
 * only appended to until the download ends, and is dropped when the
 * attempt ends any other way than done and OK (a retry may cut the `.part`
 * back or start it again). Only bodies that are surely streamed into the
 * `.part` are watched: a resumed one, or one announced larger than
 * {@linkcode WHOLE_BODY_LIMIT}. The rest (small bodies, which the writer
 * writes whole, and bodies of unannounced size) are read and hashed whole
 * by the Worker, as is any zip whose watch did not last.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import type { EngineEvent, EventListener } from "../core/events.ts";
import type { Job } from "../core/job.ts";
import type { ZipExtractor } from "../writer/zip_extractor.ts";
import type { SizedDigest } from "../writer/growing_hash.ts";
import { destPaths } from "../writer/paths.ts";

/**
 * Bodies of at most this many bytes are read whole and written in one go by
 * the writer; larger ones are streamed into their `.part`. Given to the
 * engine as its `smallBodyLimit`, so that which is which is known here.
 */
export const WHOLE_BODY_LIMIT = 1 << 20;

/** A watched download as the extraction takes it: the watch, and the digest taken here. */
export interface Watched {
  /** The watch's key (the extraction's `hashedAs`). */
  key: string;
  /** The SHA-256 of the bytes written, hashed on this thread, if it was. */
  digest?: SizedDigest;
}

/** A download's bytes hashed on this thread as they are written. */
interface PieceHash {
  hash: Hash;
  /** Bytes hashed: the file offset the next piece must start at. */
  next: number;
}

/**
 * The watches of one run, keyed by each job's `origin` (the artifact's id).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DownloadWatches, WHOLE_BODY_LIMIT } from "./download_watches.ts";
 * import { ZipExtractor } from "../writer/zip_extractor.ts";
 * import { download } from "../engine/download.ts";
 * import { startServer } from "../server/server.ts";
 *
 * await using server = await startServer({ alt: false });
 * const outDir = await Deno.makeTempDir();
 * using extractor = new ZipExtractor();
 * const watches = new DownloadWatches(extractor, outDir);
 * const jobs = [
 *   { url: `${server.url}/files/2m/big.zip`, dest: "big.zip", origin: "1" },
 *   { url: `${server.url}/files/10/small.zip`, dest: "small.zip", origin: "2" },
 * ];
 * const onEvent = watches.listener();
 * const { onBodyPiece } = watches;
 * for await (
 *   const outcome of download(jobs, { outDir, smallBodyLimit: WHOLE_BODY_LIMIT, onEvent, onBodyPiece })
 * ) {
 *   assert.equal(outcome.status, "ok");
 * }
 * // Streamed into its .part: followed by the Worker and hashed here as it
 * // came, for `extract`'s `hashedAs` and `digest`.
 * const watched = watches.take("1")!;
 * assert.equal(watched.key, "1");
 * assert.equal(watched.digest!.size, Deno.statSync(`${outDir}/big.zip`).size);
 * assert.equal(watches.take("1"), undefined); // each once
 * assert.equal(watches.take("2"), undefined); // written whole: hashed by extract
 * await Deno.remove(outDir, { recursive: true });
 * ```
 */
export class DownloadWatches {
  #extractor: ZipExtractor;
  #outDir: string;
  #durable: boolean | undefined;
  #watched = new Set<string>();
  #hashing = new Map<string, PieceHash>();
  #digests = new Map<string, SizedDigest>();
  /** Where each download's last attempt started in its file. */
  #startedAt = new Map<string, number>();

  /**
   * @param extractor The Worker that hashes and later extracts.
   * @param outDir The engine's output directory (the `.part`s are in it).
   * @param stage Also have the Worker write each zip's stored entries out
   *   as they come (into `DEST.staged/`, flushed when `durable`), for the
   *   extraction to take instead of copying them after. @default not staged
   */
  constructor(
    extractor: ZipExtractor,
    outDir: string,
    stage?: { durable: boolean },
  ) {
    this.#extractor = extractor;
    this.#outDir = outDir;
    this.#durable = stage?.durable;
  }

  /**
   * The engine's event listener: starts and drops watches, then passes
   * every event on.
   *
   * @param forward Where events go next, if anywhere.
   * @returns The listener.
   */
  listener(forward?: EventListener): EventListener {
    return (event) => {
      this.#see(event);
      forward?.(event);
    };
  }

  /**
   * The engine's `onBodyPiece`: hashes the pieces of an attempt that
   * starts the file on this thread, as they are written, and has the
   * watch leave the hashing to it. The Worker that follows the file then
   * only reads it for its staged entries, and the digest is known as the
   * download ends (the SHA-256 was most of that Worker's work, and the
   * serial path of a run). A resumed attempt's `.part` holds bytes this
   * thread never saw: the watch hashes that file whole, as before.
   */
  readonly onBodyPiece = (job: Job, piece: Uint8Array, at: number): void => {
    const key = job.origin!;
    let hashing = this.#hashing.get(key);
    if (at === 0) {
      hashing = { hash: createHash("sha256"), next: 0 };
      this.#hashing.set(key, hashing);
      if (this.#watched.has(key)) this.#extractor.hashedElsewhere(key);
    }
    if (hashing === undefined) return;
    if (hashing.next !== at) {
      // Not the bytes that follow: no digest (the extraction reads the file).
      this.#hashing.delete(key);
      return;
    }
    hashing.hash.update(piece);
    hashing.next += piece.length;
  };

  /**
   * Whether the last attempt of a download continued a `.part` kept from
   * before (a resume), rather than starting the file.
   *
   * @param key The job's origin.
   * @returns True for a resume.
   */
  resumed(key: string): boolean {
    return (this.#startedAt.get(key) ?? 0) > 0;
  }

  /**
   * The watch of a download that ended OK, for the extraction; each once.
   *
   * @param key The job's origin.
   * @returns The watch and the digest taken here, or undefined when the
   *   download was not watched.
   */
  take(key: string): Watched | undefined {
    const digest = this.#digests.get(key);
    this.#digests.delete(key);
    return this.#watched.delete(key) ? { key, digest } : undefined;
  }

  #see(event: EngineEvent) {
    if (event.type === "started" || event.type === "retrying") {
      this.#drop(event.job.origin!);
      this.#startedAt.delete(event.job.origin!);
    } else if (event.type === "done") {
      const key = event.outcome.job.origin!;
      const hashing = this.#hashing.get(key);
      this.#hashing.delete(key);
      if (event.outcome.status !== "ok") this.#drop(key);
      else if (hashing) {
        const sha256 = hashing.hash.digest("hex");
        this.#digests.set(key, { sha256, size: hashing.next });
      }
    } else if (event.type === "bytes") {
      const key = event.job.origin!;
      if (!this.#startedAt.has(key)) {
        this.#startedAt.set(key, event.offset ?? 0);
      }
      if (!this.#watched.has(key)) this.#watch(event);
    }
  }

  /** Starts the watch of a download whose first bytes `event` tells of, if surely streamed. */
  #watch(event: EngineEvent & { type: "bytes" }) {
    const { offset, total } = event;
    const streamed = offset !== undefined &&
      (offset > 0 || (total !== undefined && total > WHOLE_BODY_LIMIT));
    if (!streamed) return;
    this.#watched.add(event.job.origin!);
    const paths = destPaths(this.#outDir, event.job.dest);
    const durable = this.#durable;
    this.#extractor.watch(
      event.job.origin!,
      paths.part,
      durable === undefined
        ? undefined
        : { dir: `${paths.final}.staged`, durable },
      paths.final,
    );
  }

  #drop(key: string) {
    this.#hashing.delete(key);
    this.#digests.delete(key);
    if (this.#watched.delete(key)) this.#extractor.drop(key);
  }
}
