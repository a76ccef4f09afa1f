/**
 * The main thread's side of the writer Worker.
 *
 * Requests are queued and sent in batches (one `postMessage` per
 * `maxBatch` requests or `batchDelayMs`), body buffers are transferred, not
 * copied, and the bytes sent but not yet written are bounded: a caller of
 * {@linkcode Writer.write} waits while more than `maxInFlightBytes` are
 * queued, so memory stays flat whatever the file sizes.
 *
 * @module
 */

import type {
  Expectation,
  PartMeta,
  ProbeResult,
  Validators,
  WriterBatch,
  WriterFailure,
  WriterReply,
  WriterRequest,
  WrittenFile,
} from "./protocol.ts";
import { writerWorkerUrl } from "./worker.ts";
import { BulkgetError, ERROR_CODES } from "../core/errors.ts";
import { destPaths } from "./paths.ts";

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
   */
  seal(
    dest: string,
    expect: Expectation,
    record?: Validators,
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

/** Consecutive on-time 1 ms timer ticks that show this thread is idle. */
const IDLE_TICKS = 5;
/** Latest a 1 ms tick may fire and still count as on time. */
const IDLE_TICK_SLACK_MS = 2.5;

/** Options defaults, in one place. */
const DEFAULTS = {
  maxInFlightBytes: 4 << 20,
  maxBatch: 64,
  batchDelayMs: 1,
  durability: "full" as Durability,
};

/**
 * The main thread's error for a failure the Worker reported: a missing
 * permission is Deno's `NotCapable` again (it stops the run); anything else
 * a {@linkcode BulkgetError} with the Worker's code (`VERIFY_FAILED`,
 * `WRITE_FAILED`).
 */
function fromWorker(failure: WriterFailure): Error {
  return failure.code === ERROR_CODES.permission
    ? new Deno.errors.NotCapable(failure.message)
    : new BulkgetError(failure.code, failure.message);
}

/**
 * Calls `callback` once this thread's event loop is idle: when
 * {@linkcode IDLE_TICKS} 1 ms timers in a row fire on time. The ticks use
 * `AbortSignal.timeout`, not the global `setTimeout`, whose first call loads
 * Deno's Node timers (about 11 ms) and would land before the first request.
 *
 * @returns A function that stops watching.
 */
function whenIdle(callback: () => void): () => void {
  let onTime = 0;
  let last = performance.now();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const now = performance.now();
    onTime = now - last <= IDLE_TICK_SLACK_MS ? onTime + 1 : 0;
    last = now;
    if (onTime >= IDLE_TICKS) callback();
    else next();
  };
  const next = () =>
    AbortSignal.timeout(1).addEventListener("abort", tick, { once: true });
  next();
  return () => {
    stopped = true;
  };
}

/**
 * Starts the writer Worker.
 *
 * @example
 * ```ts ignore
 * import { openWriter } from "./client.ts";
 * const writer = openWriter({ outDir: "downloads" });
 * await writer.put("hello.txt", new TextEncoder().encode("hi"), {});
 * await writer.close();
 * ```
 *
 * @param options Where to write and how to batch.
 * @returns The writer.
 */
export function openWriter(options: WriterOptions): Writer {
  const o = { ...DEFAULTS, ...options };
  // Creating the Worker blocks this thread for about 40 ms (Deno waits for
  // the new isolate), time better spent sending the first requests: it
  // starts when the first request for it is sent, or as soon as this thread
  // is idle (e.g. all requests sent, responses not yet back), whichever
  // comes first. A fixed delay landed in the middle of sending 100 requests.
  let worker: Worker | undefined;
  const startWorker = (): Worker => {
    if (worker) return worker;
    stopIdleWatch();
    worker = new Worker(writerWorkerUrl(), { type: "module" });
    worker.postMessage({
      init: { outDir: o.outDir, durability: o.durability },
    });
    worker.onmessage = onReplies;
    worker.onerror = onCrash;
    return worker;
  };
  const stopIdleWatch = whenIdle(startWorker);

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

  let nextId = 1;
  const pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; bytes: number }
  >();
  let queue: WriterRequest[] = [];
  let transfer: ArrayBuffer[] = [];
  /** Small bodies waiting to be packed into the next batch's arena. */
  let packs: { request: { packed?: [number, number] }; data: Uint8Array }[] =
    [];
  let packedBytes = 0;
  let queuedBytes = 0;
  /**
   * The batch timer while one is armed: an `AbortSignal.timeout`, like
   * `whenIdle`'s ticks, since the global `setTimeout` would load Deno's Node
   * timers (about 8 ms of CPU) for this alone in a plain run.
   */
  let timer: AbortSignal | undefined;
  let inFlightBytes = 0;
  let roomWaiters: (() => void)[] = [];
  let closed = false;
  let failure: Error | undefined;

  const onReplies = (event: MessageEvent<WriterBatch<WriterReply>>) => {
    for (const reply of event.data.items) {
      const entry = pending.get(reply.id);
      if (!entry) continue;
      pending.delete(reply.id);
      inFlightBytes -= entry.bytes;
      if (reply.ok) entry.resolve(reply.value);
      else entry.reject(fromWorker(reply.error));
    }
    if (inFlightBytes <= o.maxInFlightBytes && roomWaiters.length > 0) {
      const waiters = roomWaiters;
      roomWaiters = [];
      for (const wake of waiters) wake();
    }
  };
  const onCrash = (event: ErrorEvent) => {
    event.preventDefault();
    failure = new BulkgetError(
      ERROR_CODES.write,
      `The writer stopped: ${event.message}`,
    );
    for (const entry of pending.values()) entry.reject(failure);
    pending.clear();
    for (const wake of roomWaiters.splice(0)) wake();
  };

  const flush = () => {
    if (timer !== undefined) timer.removeEventListener("abort", flush);
    timer = undefined;
    if (queue.length === 0) return;
    let arena: ArrayBuffer | undefined;
    if (packs.length > 0) {
      const bytes = new Uint8Array(packedBytes);
      let at = 0;
      for (const { request, data } of packs) {
        bytes.set(data, at);
        request.packed = [at, data.byteLength];
        at += data.byteLength;
      }
      arena = bytes.buffer;
      transfer.push(arena);
    }
    startWorker().postMessage({ items: queue, arena }, transfer);
    queue = [];
    transfer = [];
    packs = [];
    packedBytes = 0;
    queuedBytes = 0;
  };

  function send<T>(request: WriterRequest, data?: Uint8Array): Promise<T> {
    if (failure) return Promise.reject(failure);
    if (closed) {
      return Promise.reject(
        new BulkgetError(ERROR_CODES.write, "The writer is closed"),
      );
    }
    const bytes = data?.byteLength ?? 0;
    const promise = new Promise<T>((resolve, reject) => {
      pending.set(request.id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        bytes,
      });
    });
    queue.push(request);
    const buffer = (request as { data?: ArrayBuffer }).data;
    if (buffer) transfer.push(buffer);
    else if (data) {
      packs.push({ request: request as { packed?: [number, number] }, data });
      packedBytes += data.byteLength;
    }
    inFlightBytes += bytes;
    queuedBytes += bytes;
    if (
      queue.length >= o.maxBatch || queuedBytes >= 1 << 20 ||
      request.op === "close"
    ) flush();
    else if (timer === undefined) {
      timer = AbortSignal.timeout(o.batchDelayMs);
      timer.addEventListener("abort", flush, { once: true });
    }
    return promise;
  }

  /** Bounds the bodies queued for the Worker: waits while it is behind. */
  const room = async () => {
    while (inFlightBytes > o.maxInFlightBytes && !failure) {
      flush();
      await new Promise<void>((resolve) => roomWaiters.push(resolve));
    }
  };

  return {
    async put(dest, data, expect, record) {
      await room();
      return await send<WrittenFile>({
        op: "put",
        id: nextId++,
        dest,
        data: data.byteLength <= PACK_LIMIT ? undefined : ownBuffer(data),
        expect,
        record,
      }, data);
    },
    probe(dest) {
      // Most destinations do not exist yet. In a directory that was missing
      // or empty when this run first looked, nothing can exist but what the
      // run itself writes (each destination once), so no look is needed;
      // elsewhere a stat on this thread saves a round trip to the Worker.
      const paths = destPaths(o.outDir, dest);
      if (wasEmpty(paths.dir) && !keptParts.has(dest)) {
        return Promise.resolve({});
      }
      if (!exists(paths.final) && !exists(paths.part)) {
        return Promise.resolve({});
      }
      return send({ op: "probe", id: nextId++, dest });
    },
    verify(dest, expect) {
      return send({ op: "verify", id: nextId++, dest, expect });
    },
    prepare(dest, offset, meta) {
      return send({ op: "prepare", id: nextId++, dest, offset, meta });
    },
    seal(dest, expect, record) {
      keptParts.delete(dest);
      return send({ op: "seal", id: nextId++, dest, expect, record });
    },
    release(dest, keepPart) {
      // A kept .part must be found by the next probe, even in a directory
      // that was empty at the start.
      if (keepPart) keptParts.add(dest);
      else keptParts.delete(dest);
      return send({ op: "release", id: nextId++, dest, keepPart });
    },
    startSplit(dest, meta, fresh) {
      return send({ op: "startSplit", id: nextId++, dest, meta, fresh });
    },
    async writeAt(dest, range, offset, data) {
      await room();
      const written = send<ArrayBuffer>({
        op: "writeAt",
        id: nextId++,
        dest,
        range,
        offset,
        data: ownBuffer(data),
      }, data);
      written.catch(() => {}); // the caller awaits it; never unhandled
      return { written };
    },
    async close() {
      if (closed) return;
      try {
        if (!failure) await send({ op: "close", id: nextId++ });
      } finally {
        closed = true;
        stopIdleWatch();
        worker?.terminate();
      }
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

/** Whether `dir` does not exist or holds nothing. */
function isMissingOrEmpty(dir: string): boolean {
  try {
    for (const _ of Deno.readDirSync(dir)) return false;
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return true;
    throw error;
  }
}

/** A buffer that can be transferred: the view's own bytes, copied only when it shares a larger buffer. */
function ownBuffer(data: Uint8Array): ArrayBuffer {
  const buffer = data.buffer as ArrayBuffer;
  if (data.byteOffset === 0 && data.byteLength === buffer.byteLength) {
    return buffer;
  }
  return data.slice().buffer as ArrayBuffer;
}
