/**
 * The writer Worker: the one thread that touches the disk.
 *
 * It writes synchronously on purpose. This thread does nothing else, and a
 * hundred concurrent async writes into one directory spend their time
 * contending for its lock, while one thread writing in turn does not. Every
 * file is written to `NAME.part`, checked against its expected size and
 * SHA-256, and only then renamed to `NAME`. Every file it completes is
 * hashed (SHA-256) and recorded with its size in the state file, so a rerun
 * can tell the file it wrote from one changed since (unless the caller opts
 * out, `digest: false`, for a file checked elsewhere that no rerun skips). It starts loading
 * `node:crypto` when it starts (loading the module is most of its start-up),
 * and a batch that hashes waits for it.
 *
 * Durability (`durability: "full"`, the default): each file's data is flushed
 * (`fdatasync` of `NAME.part`) before its rename, and at the end of each
 * batch the state file's new lines are flushed and every directory the batch
 * renamed into is flushed (`fsync` of the directory, once per batch however
 * many files it holds), before the batch's replies, and so any OK, reach the
 * main thread. `"none"` flushes nothing: a file is complete when renamed,
 * but a power cut may lose or empty it.
 *
 * The Worker is started from a Blob URL made of this function's source (see
 * {@linkcode writerWorkerUrl}), not from this file's path, so that loading
 * it needs no `--allow-read` on bulkget's own code: under narrow permission
 * flags only the output directory is readable. The function must therefore
 * be self-contained: it uses only what `deps` passes in.
 *
 * @module
 */

import type { createHash as CreateHash, Hash } from "node:crypto";
import { destPaths, META_SUFFIX, PART_SUFFIX, STATE_FILE } from "./paths.ts";
import { type splitFiles, splitFilesSource } from "./split_files.ts";
import type {
  Expectation,
  PartMeta,
  ProbeResult,
  Validators,
  WriterBatch,
  WriterReply,
  WriterRequest,
  WrittenFile,
} from "./protocol.ts";

/** What the Worker's code gets from the module that starts it. */
export interface WriterWorkerDeps {
  /** Loads `node:crypto` (for `createHash`), on the first request that hashes. */
  loadCrypto: () => Promise<{ createHash: typeof CreateHash }>;
  /** Where a destination's files live (from `paths.ts`). */
  destPaths: typeof destPaths;
  /** The state file's name in the output directory (validators for `--update`). */
  stateFile: string;
  /** Positional writes of segmented downloads (from `split_files.ts`). */
  splitFiles: typeof splitFiles;
}

/** What the state file records of a file bulkget completed. */
interface FileRecord {
  /** Its size in bytes. */
  size: number;
  /** Its SHA-256 (absent in lines of older versions). */
  sha256?: string;
  /** Its modification time (ms) after it was written. */
  mtime?: number;
  /** Its change time (ms; whole seconds on some systems) after it was written. */
  ctime?: number;
}

/** The global scope of the Worker, as this code uses it. */
interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
}

/**
 * A Blob URL holding the writer Worker's code: this module's
 * {@linkcode writerWorker} and `paths.ts`'s `destPaths`, with their imports.
 *
 * @returns A URL for `new Worker(url, { type: "module" })`.
 */
export function writerWorkerUrl(): string {
  const source = [
    `const PART_SUFFIX = ${JSON.stringify(PART_SUFFIX)};`,
    `const META_SUFFIX = ${JSON.stringify(META_SUFFIX)};`,
    destPaths.toString(),
    splitFilesSource(),
    `(${writerWorker.toString()})({ loadCrypto: () => import("node:crypto"), destPaths, splitFiles, stateFile: ${
      JSON.stringify(STATE_FILE)
    } });`,
  ].join("\n");
  return URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
}

/**
 * The Worker's body: answers batches of {@linkcode WriterRequest}s.
 *
 * @param deps Hashing and path helpers (see {@linkcode WriterWorkerDeps}).
 */
export function writerWorker(deps: WriterWorkerDeps): void {
  const { loadCrypto, destPaths, stateFile } = deps;
  const scope = self as unknown as WorkerScope;
  let createHash: typeof CreateHash | undefined;
  /** Batches waiting for `node:crypto` to load, and those behind them, in order. */
  let queue: Promise<void> | undefined;
  /** `node:crypto` loading, started by `init`. */
  let loading: Promise<void> | undefined;

  let outDir = ".";
  /** Whether files and directories are flushed before replies (see the module doc). */
  let durable = true;
  const madeDirs = new Set<string>();
  /** Directories that gained or lost a name in this batch, flushed at its end. */
  const dirtyDirs = new Set<string>();
  /** State lines waiting to be appended to the state file, one write per batch. */
  let stateLines = "";
  /** The buffer every whole-file read goes through. */
  let readBuffer: Uint8Array | undefined;
  /** What is recorded for each destination, read on the first probe that needs it. */
  let records: Map<string, FileRecord> | undefined;
  /** Segmented downloads' `.part`s, open for positional writes. */
  const split = deps.splitFiles({
    destPaths,
    outDir: () => outDir,
    durable: () => durable,
    ensureDir,
    dirty: (dir) => dirtyDirs.add(dir),
  });

  scope.onmessage = (event: MessageEvent) => {
    const message = event.data as WriterBatch<WriterRequest> | {
      init: { outDir: string; durability?: "full" | "none" };
    };
    if ("init" in message) {
      outDir = message.init.outDir;
      durable = message.init.durability !== "none";
      loading = loadHash();
      return;
    }
    if (
      queue === undefined &&
      (createHash !== undefined || !message.items.some(hashes))
    ) {
      answer(message);
      return;
    }
    const run: Promise<void> = (queue ?? loading ?? loadHash()).then(() =>
      answer(message)
    );
    queue = run;
    run.then(() => {
      if (queue === run) queue = undefined;
    });
  };

  /** Whether a request needs `createHash`. */
  function hashes(request: WriterRequest): boolean {
    switch (request.op) {
      case "put":
      case "seal":
        return wantsDigest(request.expect) ||
          request.expect.checksum !== undefined;
      case "verify":
      case "probe":
        return true;
      default:
        return false;
    }
  }

  /** Whether a file is hashed: always, unless the caller opted out with nothing to check. */
  function wantsDigest(expect: Expectation): boolean {
    return expect.sha256 !== undefined || expect.digest !== false;
  }

  /** Loads `node:crypto`; a failure surfaces as each hashing request's error. */
  function loadHash(): Promise<void> {
    return loadCrypto().then(
      (crypto) => {
        createHash = crypto.createHash;
      },
      () => {},
    );
  }

  function newHash(): Hash {
    if (createHash === undefined) {
      throw new Error("node:crypto could not be loaded to hash the file");
    }
    return createHash("sha256");
  }

  // --- remote time (issue 16) -------------------------------------------
  /** Gives a file just put or sealed the `mtime` it was sent with; a refusal is ignored. */
  function setRemoteTime(dest: string, expect: Expectation): void {
    if (expect.mtime === undefined) return;
    try {
      const when = new Date(expect.mtime);
      Deno.utimeSync(destPaths(outDir, dest).final, when, when);
    } catch {
      // The file is complete and verified; its time is a courtesy.
    }
  }
  // --- end of remote time --------------------------------------------------

  /** Handles one batch in order and posts its replies in one message. */
  function answer(message: WriterBatch<WriterRequest>): void {
    const replies: WriterReply[] = [];
    let closing = false;
    for (const request of message.items) {
      try {
        const value = handle(request, message.arena);
        replies.push({ id: request.id, ok: true, value });
      } catch (error) {
        const { name, message } = error instanceof Error
          ? error
          : { name: "Error", message: String(error) };
        replies.push({ id: request.id, ok: false, error: { name, message } });
      }
      if (request.op === "close") closing = true;
    }
    if (stateLines !== "") {
      try {
        appendState(stateLines);
      } finally {
        stateLines = "";
      }
    }
    flushDirs();
    // Buffers of positional writes go back to be filled again: without it
    // this thread frees them only when it collects garbage, which it rarely
    // does, and memory grew with the file.
    const buffers = replies.flatMap((reply) =>
      reply.ok && reply.value instanceof ArrayBuffer ? [reply.value] : []
    );
    scope.postMessage({ items: replies }, buffers);
    if (closing) scope.close();
  }

  function handle(
    request: WriterRequest,
    arena: ArrayBuffer | undefined,
  ): WrittenFile | ProbeResult | string | ArrayBuffer | undefined {
    // A segmented .part is closed, its sidecar saved, before it is sealed or given up.
    if (request.op === "seal" || request.op === "release") {
      split.settle(request.dest);
    } else if (request.op === "close") split.settle();
    switch (request.op) {
      case "put": {
        const written = put(
          request.dest,
          request.packed
            ? new Uint8Array(arena!, request.packed[0], request.packed[1])
            : new Uint8Array(request.data!),
          request.expect,
        );
        setRemoteTime(request.dest, request.expect); // issue 16: after the rename
        return remember(request.dest, written, request.record);
      }
      case "probe":
        return probe(request.dest);
      case "verify":
        return verify(request.dest, request.expect);
      case "prepare":
        return prepare(request.dest, request.offset, request.meta);
      case "seal": {
        const written = seal(request.dest, request.expect);
        setRemoteTime(request.dest, request.expect); // issue 16: after the rename
        return remember(request.dest, written, request.record);
      }
      case "release":
        release(request.dest, request.keepPart);
        return undefined;
      case "startSplit":
        split.start(request.dest, request.meta, request.fresh);
        return undefined;
      case "writeAt":
        split.writeAt(
          request.dest,
          request.range,
          request.offset,
          new Uint8Array(request.data),
        );
        return request.data;
      case "close":
        return undefined;
    }
  }

  /**
   * Queues a state line recording what was written as `dest`: its size, its
   * SHA-256, its stamp (modification and change times, read after the
   * rename and the remote time) and its validators.
   */
  function remember(
    dest: string,
    written: WrittenFile,
    record: Validators | undefined,
  ): WrittenFile {
    const line: FileRecord & { dest: string } = {
      dest,
      size: written.bytes,
      // Not hashed (digest: false): the size alone is recorded.
      ...(written.sha256 === "" ? {} : { sha256: written.sha256 }),
      ...stampOf(Deno.statSync(destPaths(outDir, dest).final)),
      ...record,
    };
    stateLines += JSON.stringify(line) + "\n";
    records?.set(dest, line);
    return written;
  }

  /** A file's modification and change times in ms, when the system gives both. */
  function stampOf(info: Deno.FileInfo): { mtime?: number; ctime?: number } {
    const mtime = info.mtime?.getTime();
    const ctime = info.ctime?.getTime();
    return mtime === undefined || ctime === undefined ? {} : { mtime, ctime };
  }

  /** Appends to the state file, flushed when durable (its directory with the batch's). */
  function appendState(text: string): void {
    const path = `${outDir}/${stateFile}`;
    const created = sizeOf(path) === undefined;
    const file = Deno.openSync(path, { append: true, create: true });
    try {
      writeAll(file, new TextEncoder().encode(text));
      if (durable) file.syncDataSync();
    } finally {
      file.close();
    }
    if (created) dirtyDirs.add(destPaths(outDir, stateFile).dir);
  }

  /** Flushes every directory this batch changed: one `fsync` each. */
  function flushDirs(): void {
    if (!durable) {
      dirtyDirs.clear();
      return;
    }
    try {
      for (const dir of dirtyDirs) {
        const file = Deno.openSync(dir, { read: true });
        try {
          file.syncSync();
        } finally {
          file.close();
        }
      }
    } finally {
      dirtyDirs.clear();
    }
  }

  /** Writes `bytes` to `path` (created or emptied), its data flushed when durable. */
  function writeDurably(path: string, bytes: Uint8Array): void {
    const file = Deno.openSync(path, {
      write: true,
      create: true,
      truncate: true,
    });
    try {
      writeAll(file, bytes);
      if (durable) file.syncDataSync();
    } finally {
      file.close();
    }
  }

  /** Flushes the data of a file written elsewhere (the main thread streams into `.part`s). */
  function syncData(path: string): void {
    if (!durable) return;
    const file = Deno.openSync(path, { read: true });
    try {
      file.syncDataSync();
    } finally {
      file.close();
    }
  }

  function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.byteLength) at += file.writeSync(bytes.subarray(at));
  }

  /** Renames `from` to `to` and marks their directory for the batch's flush. */
  function renameInto(from: string, to: string, dir: string): void {
    Deno.renameSync(from, to);
    dirtyDirs.add(dir);
  }

  /** What the state file last recorded for `dest`. */
  function recordOf(dest: string): FileRecord | undefined {
    if (records === undefined) {
      records = new Map();
      let text = "";
      try {
        text = Deno.readTextFileSync(`${outDir}/${stateFile}`);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue;
        try {
          const { dest, size, sha256, mtime, ctime } = JSON.parse(line);
          if (typeof dest !== "string") continue;
          if (typeof size === "number") {
            records.set(dest, {
              size,
              sha256: typeof sha256 === "string" ? sha256 : undefined,
              ...(typeof mtime === "number" && typeof ctime === "number"
                ? { mtime, ctime }
                : {}),
            });
          } else records.delete(dest); // a line of an older version: no record
        } catch {
          // a torn last line: that file has no record and is fetched again
        }
      }
    }
    return records.get(dest);
  }

  function put(
    dest: string,
    bytes: Uint8Array,
    expect: Expectation,
  ): WrittenFile {
    const paths = destPaths(outDir, dest);
    const sha256 = wantsDigest(expect)
      ? newHash().update(bytes).digest("hex")
      : "";
    check(expect, bytes.byteLength, sha256);
    checkOtherDigest(expect, bytes); // other checksums (issue 16)
    ensureDir(paths.dir);
    writeDurably(paths.part, bytes);
    renameInto(paths.part, paths.final, paths.dir);
    return { bytes: bytes.byteLength, sha256 };
  }

  /**
   * Readies `dest.part` for the main thread to stream into: created empty,
   * or cut to `offset` to resume; the resume facts are written beside it.
   * Returns the path to append to.
   */
  function prepare(
    dest: string,
    offset: number,
    meta: PartMeta | undefined,
  ): string {
    const paths = destPaths(outDir, dest);
    ensureDir(paths.dir);
    if (offset > 0) {
      const file = Deno.openSync(paths.part, { write: true });
      try {
        if (file.statSync().size < offset) {
          throw new Error(`The .part of "${dest}" shrank while resuming`);
        }
        file.truncateSync(offset);
        if (durable) file.syncDataSync();
      } finally {
        file.close();
      }
    } else {
      writeDurably(paths.part, new Uint8Array(0));
      dirtyDirs.add(paths.dir);
    }
    if (meta) {
      writeDurably(paths.meta, new TextEncoder().encode(JSON.stringify(meta)));
      dirtyDirs.add(paths.dir);
    }
    return paths.part;
  }

  /**
   * Hashes a streamed `.part` whole, checks it, and renames it into place;
   * a wrong one is removed.
   */
  function seal(dest: string, expect: Expectation): WrittenFile {
    const paths = destPaths(outDir, dest);
    // The other checksum is fed by the same read as SHA-256.
    const other = wantsDigest(expect) ? otherHash(expect) : undefined;
    const written = wantsDigest(expect)
      ? hashFile(paths.part, other)
      : { bytes: Deno.statSync(paths.part).size, sha256: "" };
    try {
      check(expect, written.bytes, written.sha256);
      checkOtherDigest(expect, other ?? paths.part); // issue 16
    } catch (error) {
      removeQuietly(paths.part);
      removeQuietly(paths.meta);
      throw error;
    }
    syncData(paths.part);
    renameInto(paths.part, paths.final, paths.dir);
    removeQuietly(paths.meta);
    return written;
  }

  /** Gives up a streamed `.part`: kept with its resume facts, or removed. */
  function release(dest: string, keepPart: boolean): void {
    const paths = destPaths(outDir, dest);
    if (keepPart && (sizeOf(paths.part) ?? 0) > 0) {
      syncData(paths.part); // the kept bytes are on disk before this run stops trusting them
      return;
    }
    removeQuietly(paths.part);
    removeQuietly(paths.meta);
  }

  function probe(dest: string): ProbeResult {
    const paths = destPaths(outDir, dest);
    const result: ProbeResult = {};
    const final = statOf(paths.final);
    if (final !== undefined) {
      result.finalSize = final.size;
      const record = recordOf(dest);
      if (record !== undefined) {
        result.recorded = matchesRecord(paths.final, final, record);
      }
    }
    const partSize = sizeOf(paths.part);
    if (partSize !== undefined) {
      let meta: PartMeta | undefined;
      try {
        meta = JSON.parse(Deno.readTextFileSync(paths.meta));
      } catch {
        meta = undefined; // no resume facts: the caller restarts the file
      }
      result.part = { size: partSize, meta };
    }
    return result;
  }

  /**
   * Whether the file at `path` is the one recorded: the same size, and the
   * same SHA-256 (read and hashed only when its stamp differs from the
   * recorded one: a file written since has another modification or change
   * time). A record of an older version, without a SHA-256, is matched by
   * size.
   */
  function matchesRecord(
    path: string,
    info: Deno.FileInfo,
    record: FileRecord,
  ): boolean {
    if (record.size !== info.size) return false;
    if (record.sha256 === undefined) return true;
    const stamp = stampOf(info);
    if (
      record.mtime !== undefined && record.mtime === stamp.mtime &&
      record.ctime === stamp.ctime
    ) return true;
    return hashFile(path).sha256 === record.sha256;
  }

  function verify(dest: string, expect: Expectation): WrittenFile {
    const other = otherHash(expect); // fed by the same read as SHA-256
    const written = hashFile(destPaths(outDir, dest).final, other);
    check(expect, written.bytes, written.sha256);
    if (other) checkOtherDigest(expect, other); // issue 16
    return written;
  }

  /** Throws a `VerifyError` when the bytes are not what was expected. */
  function check(expect: Expectation, bytes: number, sha256: string): void {
    if (expect.size !== undefined && bytes !== expect.size) {
      throw named(
        "VerifyError",
        `size mismatch: expected ${expect.size} bytes, got ${bytes}`,
      );
    }
    if (expect.sha256 !== undefined && sha256 !== expect.sha256.toLowerCase()) {
      throw named(
        "VerifyError",
        `checksum mismatch: expected sha256 ${expect.sha256}, got ${sha256}`,
      );
    }
  }

  function named(name: string, message: string): Error {
    const error = new Error(message);
    error.name = name;
    return error;
  }

  // --- other checksums (issue 16): md5, sha-1, sha-512 beside SHA-256 -----
  /** A fresh hash for `expect.checksum`, if there is one. */
  function otherHash(expect: Expectation): Hash | undefined {
    const want = expect.checksum;
    if (want === undefined) return undefined;
    if (createHash === undefined) {
      throw new Error("node:crypto could not be loaded to hash the file");
    }
    return createHash(want.algorithm.replace("-", ""));
  }

  /** Throws a `VerifyError` when `expect.checksum` does not match the bytes, a file, or a hash fed with it. */
  function checkOtherDigest(
    expect: Expectation,
    source: Uint8Array | string | Hash,
  ): void {
    const want = expect.checksum;
    if (want === undefined) return;
    const fed = typeof source !== "string" && !(source instanceof Uint8Array);
    const hash = fed ? source : otherHash(expect)!;
    if (source instanceof Uint8Array) hash.update(source);
    else if (typeof source === "string") feedFile(source, [hash]);
    const got = hash.digest("hex");
    if (got !== want.hex) {
      throw named(
        "VerifyError",
        `checksum mismatch: expected ${want.algorithm} ${want.hex}, got ${got}`,
      );
    }
  }
  // --- end of other checksums -----------------------------------------------

  /** Reads a whole file; returns its size and SHA-256 (and feeds `also`). */
  function hashFile(path: string, also?: Hash): WrittenFile {
    const hash = newHash();
    const bytes = feedFile(path, also ? [hash, also] : [hash]);
    return { bytes, sha256: hash.digest("hex") };
  }

  /** Reads a whole file once into every hash; returns its size. */
  function feedFile(path: string, hashes: Hash[]): number {
    const file = Deno.openSync(path, { read: true });
    try {
      // One buffer for every read: a rerun hashes thousands of small files,
      // and a fresh 1 MiB buffer each cost more than hashing them.
      const buffer = readBuffer ??= new Uint8Array(1 << 20);
      let bytes = 0;
      for (let n; (n = file.readSync(buffer)) !== null && n > 0;) {
        for (const hash of hashes) hash.update(buffer.subarray(0, n));
        bytes += n;
      }
      return bytes;
    } finally {
      file.close();
    }
  }

  function ensureDir(dir: string): void {
    if (madeDirs.has(dir)) return;
    Deno.mkdirSync(dir, { recursive: true });
    madeDirs.add(dir);
  }

  function sizeOf(path: string): number | undefined {
    return statOf(path)?.size;
  }

  function statOf(path: string): Deno.FileInfo | undefined {
    try {
      return Deno.statSync(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  function removeQuietly(path: string): void {
    try {
      Deno.removeSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}
