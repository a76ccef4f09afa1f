/**
 * `extractZip`: extracts a downloaded zip file into a directory, safely.
 *
 * The archive is read by random access from the file (its central
 * directory first, then each entry), so memory stays bounded by the
 * library's buffers whatever the archive's size; zip64 archives are
 * supported. Before anything is written, every entry name goes through the
 * same rules as every other destination ({@linkcode safeDest}: no `..`, no
 * absolute path, no drive letter, no backslash, ...) and symlink entries are
 * refused: one unsafe entry refuses the whole archive, and nothing is
 * written. Each entry is written as `NAME.part`, its CRC-32 and size checked,
 * then renamed to `NAME`.
 *
 * With `merge`, an entry whose file already exists is compared with it:
 * identical bytes are fine, different bytes are a conflict, reported and
 * never written over. Without `merge` an existing file is replaced.
 *
 * {@linkcode ZipExtractor} runs the same work in a Worker kept for many
 * archives, off the main thread ({@linkcode extractZipInWorker} for one).
 *
 * @module
 */

import { configure, Reader, ZipReader } from "@zip.js/zip.js";
import { createHash } from "node:crypto";
import { safeDest, UnsafeNameError } from "./safe_name.ts";
import { PART_SUFFIX, pathExists } from "./paths.ts";

configure({ useWebWorkers: false });

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
}

/** An archive that cannot be extracted; `message` says why. */
export class ExtractError extends Error {
  /**
   * Makes the error.
   *
   * @param message Why.
   * @param options The cause.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ExtractError";
  }
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

class FileReader extends Reader<Deno.FsFile> {
  #file: Deno.FsFile;
  constructor(file: Deno.FsFile, size: number) {
    super(file);
    this.#file = file;
    // deno-lint-ignore no-explicit-any -- zip.js reads `size` from the reader
    (this as any).size = size;
  }
  override async init() {}
  override async readUint8Array(offset: number, length: number) {
    const buffer = new Uint8Array(length);
    await this.#file.seek(offset, Deno.SeekMode.Start);
    let got = 0;
    while (got < length) {
      const n = await this.#file.read(buffer.subarray(got));
      if (n === null) break;
      got += n;
    }
    if (got < length) throw new ExtractError("the zip file is truncated");
    return buffer;
  }
}

/**
 * Extracts `zipPath` into `destDir` (created when missing).
 *
 * @param zipPath The zip file.
 * @param destDir The directory entries go to.
 * @param options See {@linkcode ExtractOptions}.
 * @returns Counts and conflicts.
 * @throws {ExtractError} For an unsafe entry, a symlink, a bad CRC or size,
 *   or a file that is not a valid zip.
 *
 * @example
 * ```ts ignore
 * import { extractZip } from "./unzip.ts";
 * const { files } = await extractZip("logs.zip", "out/logs");
 * ```
 */
export async function extractZip(
  zipPath: string,
  destDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const label = options.label ?? zipPath;
  const owners = options.owners ?? new Map<string, string>();
  const file = await Deno.open(zipPath, { read: true });
  const result: ExtractResult = { files: 0, bytes: 0, conflicts: [] };
  try {
    const size = (await file.stat()).size;
    const reader = new ZipReader(new FileReader(file, size), {
      checkSignature: true,
    });
    let entries;
    try {
      entries = await reader.getEntries();
    } catch (error) {
      // zip.js refuses some names itself; say why in our rules' words.
      const refused = (error as { filename?: unknown }).filename;
      if (typeof refused === "string") {
        try {
          safeDest(refused);
        } catch (unsafe) {
          if (unsafe instanceof UnsafeNameError) {
            throw new ExtractError(`entry refused: ${unsafe.message}`);
          }
        }
        throw new ExtractError(
          `entry refused: unsafe name ${JSON.stringify(refused)}`,
        );
      }
      throw new ExtractError(
        `not a valid zip file (${
          error instanceof Error ? error.message : error
        })`,
        { cause: error },
      );
    }
    for (const entry of entries) {
      const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
      if (mode === S_IFLNK) {
        throw new ExtractError(
          `symlink entry ${JSON.stringify(entry.filename)} refused`,
        );
      }
      const name = entry.directory
        ? entry.filename.replace(/\/+$/, "")
        : entry.filename;
      checkName(name, options.reserved);
    }
    await Deno.mkdir(destDir, { recursive: true });
    for (const entry of entries) {
      if (entry.directory) {
        await Deno.mkdir(`${destDir}/${entry.filename}`, { recursive: true });
        continue;
      }
      const dest = `${destDir}/${entry.filename}`;
      const slash = dest.lastIndexOf("/");
      await Deno.mkdir(dest.slice(0, slash), { recursive: true });
      const part = dest + PART_SUFFIX;
      const out = await Deno.open(part, {
        write: true,
        create: true,
        truncate: true,
      });
      const hash = createHash("sha256");
      let written = 0;
      const sink = new WritableStream<Uint8Array>({
        async write(chunk) {
          hash.update(chunk);
          written += chunk.length;
          let at = 0;
          while (at < chunk.length) at += await out.write(chunk.subarray(at));
        },
      });
      try {
        await entry.getData!(sink, { checkSignature: true });
      } catch (error) {
        await Deno.remove(part).catch(() => {});
        const message = error instanceof Error ? error.message : String(error);
        throw new ExtractError(
          /signature|crc/i.test(message)
            ? `entry ${JSON.stringify(entry.filename)}: CRC-32 mismatch`
            : `entry ${JSON.stringify(entry.filename)}: ${message}`,
          { cause: error },
        );
      } finally {
        try {
          out.close();
        } catch { /* closed by the stream */ }
      }
      if (written !== entry.uncompressedSize) {
        await Deno.remove(part).catch(() => {});
        throw new ExtractError(
          `entry ${
            JSON.stringify(entry.filename)
          }: ${written} bytes, the archive says ${entry.uncompressedSize}`,
        );
      }
      const key = `${destDir}/${entry.filename}`;
      if (options.merge && await pathExists(dest)) {
        const same = await sameBytes(dest, hash.digest("hex"));
        await Deno.remove(part);
        if (!same) {
          result.conflicts.push({
            path: entry.filename,
            existing: owners.get(key) ?? "an earlier file",
            incoming: label,
          });
          continue;
        }
      } else {
        await Deno.rename(part, dest);
        owners.set(key, label);
      }
      result.files++;
      result.bytes += written;
    }
    await reader.close();
    return result;
  } finally {
    try {
      file.close();
    } catch { /* already closed */ }
  }
}

/**
 * What `path`'s first component is, when it is one of `reserved` (compared
 * in lower case, as a case-insensitive file system would).
 *
 * @param path A `/`-separated relative path.
 * @param reserved First components and what each is.
 * @returns What it is, or undefined when it is not reserved.
 */
export function reservedName(
  path: string,
  reserved: Record<string, string> = {},
): string | undefined {
  const first = path.split("/")[0].toLowerCase();
  for (const [name, what] of Object.entries(reserved)) {
    if (name.toLowerCase() === first) return `${what} (${name})`;
  }
  return undefined;
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
 * @throws {ExtractError} For a name the rules refuse.
 */
export async function placeFile(
  path: string,
  destDir: string,
  name: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  checkName(name, options.reserved);
  const label = options.label ?? path;
  const owners = options.owners ?? new Map<string, string>();
  const result: ExtractResult = { files: 0, bytes: 0, conflicts: [] };
  await Deno.mkdir(destDir, { recursive: true });
  const dest = `${destDir}/${name}`;
  const bytes = (await Deno.stat(path)).size;
  if (options.merge && await pathExists(dest)) {
    const same = await sameBytes(dest, await fileSha256(path));
    await Deno.remove(path);
    if (!same) {
      const existing = owners.get(dest) ?? "an earlier file";
      result.conflicts.push({ path: name, existing, incoming: label });
      return result;
    }
  } else {
    await Deno.rename(path, dest);
    owners.set(dest, label);
  }
  return { files: 1, bytes, conflicts: [] };
}

/** Refuses a name the rules or `reserved` refuse, with the reason. */
function checkName(name: string, reserved?: Record<string, string>) {
  try {
    safeDest(name);
  } catch (error) {
    if (!(error instanceof UnsafeNameError)) throw error;
    throw new ExtractError(`entry refused: ${error.message}`);
  }
  const what = reservedName(name, reserved);
  if (what !== undefined) {
    throw new ExtractError(
      `entry refused: ${JSON.stringify(name)} is in ${what}`,
    );
  }
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk); // closes it
  return hash.digest("hex");
}

async function sameBytes(path: string, sha256: string): Promise<boolean> {
  return await fileSha256(path) === sha256;
}

/** A request to the extraction Worker. */
interface ExtractRequest {
  zipPath: string;
  destDir: string;
  /** Set: the file is not an archive; {@linkcode placeFile} it under this name. */
  rawName?: string;
  options: Omit<ExtractOptions, "owners"> & {
    owners?: [string, string][];
  };
}

/** The extraction Worker's answer. */
type ExtractReply =
  | { ok: true; result: ExtractResult; owners: [string, string][] }
  | { ok: false; message: string; extract: boolean };

/**
 * One extraction Worker kept for many archives: zip.js and the Worker's
 * isolate load once (about 0.2 s each time on a 2-core machine, which a
 * Worker per artifact paid for every artifact). Archives are extracted one
 * at a time, in the order asked, so `merge` sees every earlier archive's
 * files.
 *
 * @example
 * ```ts ignore
 * using extractor = new ZipExtractor();
 * await extractor.extract("a.zip", "out");
 * await extractor.extract("b.zip", "out");
 * ```
 */
export class ZipExtractor implements Disposable {
  #worker: Worker | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Extracts `zipPath` into `destDir` in the Worker, after every archive
   * asked for before it.
   *
   * @param zipPath The zip file.
   * @param destDir The directory entries go to.
   * @param options See {@linkcode ExtractOptions}; `owners` is updated.
   * @returns Counts and conflicts.
   * @throws {ExtractError} As {@linkcode extractZip}.
   */
  extract(
    zipPath: string,
    destDir: string,
    options: ExtractOptions = {},
  ): Promise<ExtractResult> {
    return this.#enqueue({ zipPath, destDir, options: {} }, options);
  }

  /**
   * Puts a file that is not an archive into `destDir` as `name`
   * ({@linkcode placeFile}) in the Worker, in turn with the archives.
   *
   * @param path The file; moved or removed.
   * @param destDir The directory it goes to.
   * @param name Its name there.
   * @param options See {@linkcode ExtractOptions}; `owners` is updated.
   * @returns Counts and conflicts.
   * @throws {ExtractError} As {@linkcode placeFile}.
   */
  place(
    path: string,
    destDir: string,
    name: string,
    options: ExtractOptions = {},
  ): Promise<ExtractResult> {
    return this.#enqueue(
      { zipPath: path, destDir, rawName: name, options: {} },
      options,
    );
  }

  /** Ends the Worker; a later {@linkcode ZipExtractor.extract} starts a new one. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
  }

  /** Same as {@linkcode ZipExtractor.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #enqueue(
    request: ExtractRequest,
    options: ExtractOptions,
  ): Promise<ExtractResult> {
    const run = this.#queue.then(() => this.#run(request, options));
    this.#queue = run.catch(() => {});
    return run;
  }

  #run(
    request: ExtractRequest,
    options: ExtractOptions,
  ): Promise<ExtractResult> {
    const worker = this.#worker ??= new Worker(import.meta.url, {
      type: "module",
    });
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
        // The Worker is gone: the next archive gets a new one.
        event.preventDefault();
        this.close();
        reject(new Error(event.message));
      };
      request.options = { ...rest, owners: owners ? [...owners] : undefined };
      worker.postMessage(request);
    });
  }
}

/**
 * Runs {@linkcode extractZip} in a Worker of its own, ended after: for one
 * archive. For several, keep one {@linkcode ZipExtractor}.
 *
 * @param zipPath The zip file.
 * @param destDir The directory entries go to.
 * @param options See {@linkcode ExtractOptions}; `owners` is updated.
 * @returns Counts and conflicts.
 * @throws {ExtractError} As {@linkcode extractZip}.
 */
export async function extractZipInWorker(
  zipPath: string,
  destDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  using extractor = new ZipExtractor();
  return await extractor.extract(zipPath, destDir, options);
}

// deno-lint-ignore no-explicit-any -- the Worker global
const self_ = globalThis as any;
if (
  typeof self_.WorkerGlobalScope !== "undefined" &&
  self_ instanceof self_.WorkerGlobalScope
) {
  self_.onmessage = async (event: MessageEvent<ExtractRequest>) => {
    const { zipPath, destDir, rawName, options } = event.data;
    const owners = new Map(options.owners ?? []);
    try {
      const result = rawName === undefined
        ? await extractZip(zipPath, destDir, { ...options, owners })
        : await placeFile(zipPath, destDir, rawName, { ...options, owners });
      self_.postMessage({ ok: true, result, owners: [...owners] });
    } catch (error) {
      self_.postMessage({
        ok: false,
        message: error instanceof Error ? error.message : String(error),
        extract: error instanceof ExtractError,
      });
    }
  };
}
