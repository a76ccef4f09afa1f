/**
 * `ZipExtractor`: extraction (`extractZip`, `placeFile` of `unzip.ts`)
 * off the main thread, in Workers kept for many archives, so zip.js and a
 * Worker's isolate load once per Worker, not once per archive (about 0.2 s
 * each on a 2-core machine).
 *
 * Each Worker takes one archive at a time. With `concurrency` 1 archives
 * are extracted in the order asked, so `merge` sees every earlier archive's
 * files; with more, that many at once (never for `merge`).
 *
 * @module
 */

import type { ExtractOptions, ExtractResult } from "./unzip.ts";
import { ExtractError } from "./entry_names.ts";
import type { ExtractReply, ExtractRequest } from "./zip_worker.ts";

/** Options of {@linkcode ZipExtractor}. */
export interface ZipExtractorOptions {
  /**
   * Archives extracted at once, each in a Worker of its own (started when
   * first needed). Keep 1 for `merge`, which needs the order. @default 1
   */
  concurrency?: number;
}

/**
 * Extraction Workers kept for many archives.
 *
 * @example
 * ```ts ignore
 * using extractor = new ZipExtractor();
 * await extractor.extract("a.zip", "out");
 * await extractor.extract("b.zip", "out");
 * ```
 */
export class ZipExtractor implements Disposable {
  #idle: Worker[] = [];
  #all = new Set<Worker>();
  #waiting: (() => void)[] = [];
  #busy = 0;
  #concurrency: number;

  /**
   * Makes the extractor; no Worker starts before the first archive.
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
   * Extracts `zipPath` into `destDir` in a Worker, when one is free (with
   * concurrency 1: after every archive asked for before it).
   *
   * @param zipPath The zip file.
   * @param destDir The directory entries go to.
   * @param options See {@linkcode ExtractOptions}; `owners` is updated.
   * @returns Counts and conflicts.
   * @throws {ExtractError} As `extractZip`.
   */
  extract(
    zipPath: string,
    destDir: string,
    options: ExtractOptions = {},
  ): Promise<ExtractResult> {
    return this.#submit({ zipPath, destDir, options: {} }, options);
  }

  /**
   * Puts a file that is not an archive into `destDir` as `name`
   * (`placeFile`) in a Worker, in turn with the archives.
   *
   * @param path The file; moved or removed.
   * @param destDir The directory it goes to.
   * @param name Its name there.
   * @param options See {@linkcode ExtractOptions}; `owners` is updated.
   * @returns Counts and conflicts.
   * @throws {ExtractError} As `placeFile`.
   */
  place(
    path: string,
    destDir: string,
    name: string,
    options: ExtractOptions = {},
  ): Promise<ExtractResult> {
    return this.#submit(
      { zipPath: path, destDir, rawName: name, options: {} },
      options,
    );
  }

  /** Ends every Worker; a later archive starts a new one. */
  close(): void {
    for (const worker of this.#all) worker.terminate();
    this.#all.clear();
    this.#idle = [];
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
    const worker = this.#idle.pop() ?? this.#start();
    try {
      return await this.#run(worker, request, options);
    } finally {
      if (this.#all.has(worker)) this.#idle.push(worker);
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy--;
    }
  }

  #start(): Worker {
    const worker = new Worker(new URL("./zip_worker.ts", import.meta.url), {
      type: "module",
    });
    this.#all.add(worker);
    return worker;
  }

  #run(
    worker: Worker,
    request: ExtractRequest,
    options: ExtractOptions,
  ): Promise<ExtractResult> {
    const { owners, ...rest } = options;
    return new Promise<ExtractResult>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<ExtractReply>) => {
        const reply = event.data;
        if (reply.ok) {
          if (owners) { for (const [k, v] of reply.owners) owners.set(k, v); }
          resolve(reply.result);
        } else {
          reject(
            reply.extract
              ? new ExtractError(reply.message)
              : new Error(reply.message),
          );
        }
      };
      worker.onerror = (event) => {
        // This Worker is gone: the next archive gets a new one.
        event.preventDefault();
        worker.terminate();
        this.#all.delete(worker);
        reject(new Error(event.message));
      };
      request.options = { ...rest, owners: owners ? [...owners] : undefined };
      worker.postMessage(request);
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
