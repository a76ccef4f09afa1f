/**
 * `ZipExtractor`: extraction (`extractZip`, `placeFile` of `unzip.ts`)
 * off the main thread, in one Worker kept for many archives, so zip.js and
 * the Worker's isolate load once, not once per archive (about 0.2 s each on
 * a 2-core machine).
 *
 * With `concurrency` 1 archives are extracted one at a time, in the order
 * asked, so `merge` sees every earlier archive's files; with more, the
 * Worker takes that many at once (never for `merge`): their reads and
 * writes overlap, which a second Worker would match at the cost of a second
 * isolate.
 *
 * @module
 */

import type { ExtractOptions, ExtractResult } from "./unzip.ts";
import type {
  ExtractReply,
  ExtractRequest,
  WatchMessage,
} from "./zip_worker.ts";
import { ExtractError } from "../core/errors.ts";
import type { SizedDigest, StageOptions } from "./growing_hash.ts";
import { fileURLToPath } from "node:url";

/** The Worker's script: it loads bulkget's modules from beside this one. */
const WORKER_URL = new URL("./zip_worker.ts", import.meta.url);

/**
 * The read permission the extraction Worker needs to load its modules
 * (bulkget's `lib/`, when run from source): Deno checks it for a Worker's
 * modules, not for the main program's, so a run without it would fail
 * each archive with Deno's own error. Ask it before the first request.
 *
 * @returns The descriptors to query (none for code that is not on disk).
 */
export function extractorReads(): Deno.ReadPermissionDescriptor[] {
  if (WORKER_URL.protocol !== "file:") return [];
  return [{
    name: "read",
    path: fileURLToPath(new URL("../", WORKER_URL)).replace(/\/+$/, ""),
  }];
}

/** How the Worker extracts one archive: {@linkcode ExtractOptions}, and the watch that hashed it. */
export interface WorkerExtractOptions extends Omit<ExtractOptions, "known"> {
  /**
   * The key of a {@linkcode ZipExtractor.watch} of the file while it was
   * written: its digest is used when it is this file's. @default none
   */
  hashedAs?: string;
  /**
   * The digest of that watch's file taken elsewhere, for a watch told
   * {@linkcode ZipExtractor.hashedElsewhere}: used when it covers exactly
   * the bytes the watch read. @default none
   */
  digest?: SizedDigest;
}

/** Options of {@linkcode ZipExtractor}. */
export interface ZipExtractorOptions {
  /**
   * Archives the Worker extracts at once. Keep 1 for `merge`, which needs
   * the order. @default 1
   */
  concurrency?: number;
}

/**
 * An extraction Worker kept for many archives.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ZipExtractor } from "./zip_extractor.ts";
 * import { makeZip } from "../server/zip_maker.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/a.zip`, makeZip([{ name: "a.txt", data: "a" }]));
 * await Deno.writeFile(`${dir}/b.zip`, makeZip([{ name: "b.txt", data: "b" }]));
 * {
 *   using extractor = new ZipExtractor(); // one Worker for both archives
 *   await extractor.extract(`${dir}/a.zip`, `${dir}/out`);
 *   await extractor.extract(`${dir}/b.zip`, `${dir}/out`);
 * } // the Worker ends here
 * const names = [...Deno.readDirSync(`${dir}/out`)].map((e) => e.name);
 * assert.deepEqual(names.sort(), ["a.txt", "b.txt"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ZipExtractor implements Disposable {
  #worker: Worker | undefined;
  #replies = new Map<number, (reply: ExtractReply | Error) => void>();
  #nextId = 1;
  #waiting: (() => void)[] = [];
  #busy = 0;
  #concurrency: number;

  /**
   * Makes the extractor; its Worker starts with the first archive (or
   * {@linkcode ZipExtractor.start}).
   *
   * @param options See {@linkcode ZipExtractorOptions}.
   * @throws {RangeError} For a concurrency below 1.
   */
  constructor(options: ZipExtractorOptions = {}) {
    this.#concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) {
      throw new RangeError(
        `Invalid concurrency ${options.concurrency}: expected an integer of at least 1`,
      );
    }
  }

  /**
   * Starts the Worker now, so that loading it overlaps other work (e.g. the
   * downloads whose archives it will take).
   */
  start(): void {
    this.#workerNow();
  }

  /**
   * Has the Worker hash `path` while it is written (see `GrowingHashes`),
   * so that extracting it later needs no second read for its digest. The
   * file must only be appended to from now on; {@linkcode ZipExtractor.drop}
   * the watch as soon as that may no longer hold (the attempt writing it
   * failed).
   *
   * @param key Names the watch (e.g. the artifact's id).
   * @param path The file being written.
   * @param stage Also write the stored entries of the zip out as they come
   *   (`ZipStreamer`), for the extraction to take instead of copying them.
   *   @default not staged
   * @param complete The file's name once complete, read instead when
   *   `path` is gone already (a small download may end before the Worker
   *   looks). @default none
   */
  watch(
    key: string,
    path: string,
    stage?: StageOptions,
    complete?: string,
  ): void {
    this.#post({ type: "watch", key, path, stage, complete });
  }

  /**
   * Has a {@linkcode ZipExtractor.watch} stop hashing its file (it goes on
   * reading and staging it): the caller hashes the bytes as they are
   * written and gives the digest at the extraction (`digest`).
   *
   * @param key The watch.
   */
  hashedElsewhere(key: string): void {
    if (this.#worker) this.#post({ type: "hashedElsewhere", key });
  }

  /**
   * Ends a {@linkcode ZipExtractor.watch} without using it.
   *
   * @param key The watch.
   */
  drop(key: string): void {
    if (this.#worker) this.#post({ type: "drop", key });
  }

  /**
   * Extracts `zipPath` into `destDir` in the Worker, when a slot is free
   * (with concurrency 1: after every archive asked for before it).
   *
   * @param zipPath The zip file.
   * @param destDir The directory entries go to.
   * @param options See {@linkcode WorkerExtractOptions}; `owners` is updated.
   * @returns Counts and conflicts.
   * @throws {ExtractError} As `extractZip`.
   */
  extract(
    zipPath: string,
    destDir: string,
    options: WorkerExtractOptions = {},
  ): Promise<ExtractResult> {
    const { hashedAs, digest, ...rest } = options;
    return this.#submit(
      { id: 0, zipPath, destDir, hashedAs, digest, options: {} },
      rest,
    );
  }

  /**
   * Puts a file that is not an archive into `destDir` as `name`
   * (`placeFile`) in the Worker, in turn with the archives.
   *
   * @param path The file; moved or removed.
   * @param destDir The directory it goes to.
   * @param name Its name there.
   * @param options See {@linkcode WorkerExtractOptions}; `owners` is updated.
   * @returns Counts and conflicts.
   * @throws {ExtractError} As `placeFile`.
   */
  place(
    path: string,
    destDir: string,
    name: string,
    options: WorkerExtractOptions = {},
  ): Promise<ExtractResult> {
    const { hashedAs, digest, ...rest } = options;
    return this.#submit(
      {
        id: 0,
        zipPath: path,
        destDir,
        rawName: name,
        hashedAs,
        digest,
        options: {},
      },
      rest,
    );
  }

  /** Ends the Worker; a later archive starts a new one. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#failAll(new Error("the extraction Worker was closed"));
  }

  /** Same as {@linkcode ZipExtractor.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  async #submit(
    request: ExtractRequest,
    options: ExtractOptions,
  ): Promise<ExtractResult> {
    // First come, first served: a slot is handed on in the order asked.
    if (this.#busy >= this.#concurrency || this.#waiting.length > 0) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#busy++;
    }
    try {
      return await this.#run(request, options);
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy--;
    }
  }

  #post(message: WatchMessage) {
    this.#workerNow().postMessage(message);
  }

  #workerNow(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_URL, { type: "module" });
    worker.onmessage = (event: MessageEvent<ExtractReply>) => {
      const settle = this.#replies.get(event.data.id);
      this.#replies.delete(event.data.id);
      settle?.(event.data);
    };
    worker.onerror = (event) => {
      // The Worker is gone with what it was doing; the next archive gets a new one.
      event.preventDefault();
      worker.terminate();
      if (this.#worker === worker) this.#worker = undefined;
      this.#failAll(new Error(event.message));
    };
    return this.#worker = worker;
  }

  #failAll(error: Error) {
    const settles = [...this.#replies.values()];
    this.#replies.clear();
    for (const settle of settles) settle(error);
  }

  #run(
    request: ExtractRequest,
    options: ExtractOptions,
  ): Promise<ExtractResult> {
    const worker = this.#workerNow();
    const { owners, ...rest } = options;
    const id = this.#nextId++;
    return new Promise<ExtractResult>((resolve, reject) => {
      this.#replies.set(id, (reply) => {
        if (reply instanceof Error) {
          reject(reply);
        } else if (reply.ok) {
          if (owners) { for (const [k, v] of reply.owners) owners.set(k, v); }
          resolve(reply.result);
        } else {
          reject(
            reply.extract
              ? new ExtractError(reply.message)
              : new Error(reply.message),
          );
        }
      });
      worker.postMessage({
        ...request,
        id,
        options: { ...rest, owners: owners ? [...owners] : undefined },
      });
    });
  }
}

/**
 * Runs `extractZip` in a Worker of its own, ended after: for one
 * archive. For several, keep one {@linkcode ZipExtractor}.
 *
 * @param zipPath The zip file.
 * @param destDir The directory entries go to.
 * @param options See {@linkcode ExtractOptions}; `owners` is updated.
 * @returns Counts and conflicts.
 * @throws {ExtractError} As `extractZip`.
 */
export async function extractZipInWorker(
  zipPath: string,
  destDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  using extractor = new ZipExtractor();
  return await extractor.extract(zipPath, destDir, options);
}
