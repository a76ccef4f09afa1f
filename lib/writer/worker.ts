/**
 * The writer Worker: the one thread that touches the disk.
 *
 * It writes synchronously on purpose. This thread does nothing else, and a
 * hundred concurrent async writes into one directory spend their time
 * contending for its lock, while one thread writing in turn does not. Every
 * file is written to `NAME.part`, checked against its expected size and
 * SHA-256, and only then renamed to `NAME`. Every file it completes is
 * hashed (SHA-256, or only CRC-32 when the caller asks for that,
 * `digest: "crc32"`) and recorded with its size in the state file, so a
 * rerun can tell the file it wrote from one changed since (unless the
 * caller opts out, `digest: false`, for a file checked elsewhere that no
 * rerun skips).
 * Segmented downloads (`--split`) write at positions into one `.part`
 * (`split_files.ts`). It starts loading
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
 * The Worker is started from a Blob URL made of the source of its functions
 * (see {@linkcode writerWorkerUrl}), not from this file's path, so that
 * loading it needs no `--allow-read` on bulkget's own code (under narrow
 * permission flags only the output directory is readable) and works the
 * same in the compiled binary. Its code is therefore a set of
 * self-contained functions ({@linkcode WORKER_FUNCTIONS}: this module's
 * {@linkcode writerWorker}, the handlers of `worker_handlers.ts` and their
 * helpers), which call each other by name and share state through a
 * {@linkcode WorkerContext}.
 *
 * @module
 */

import { ERROR_CODES, type ErrorCode, STOP_CODES } from "../core/errors.ts";
import { destPaths, META_SUFFIX, PART_SUFFIX, STATE_FILE } from "./paths.ts";
import type {
  ReplyBatch,
  RequestOf,
  WriterBatch,
  WriterFailure,
  WriterReply,
  WriterRequest,
  WriterValue,
  WrittenFile,
} from "./protocol.ts";
import { parentOf } from "./changed_dirs.ts";
import { newWorkerContext, type WorkerContext } from "./worker_context.ts";
import {
  dropStaleFacts,
  ensureDir,
  flushDirs,
  isMissing,
  isMissingOrEmpty,
  mayHoldFacts,
  removeQuietly,
  renameInto,
  statOf,
  syncData,
  syncDir,
  writeAll,
} from "./worker_disk.ts";
import {
  checkOtherDigest,
  checkSizeAndSha256,
  crcFile,
  feedFile,
  hashFile,
  needsCrypto,
  newCrc,
  newHash,
  otherHash,
  recordDigest,
  verifyError,
} from "./worker_hash.ts";
import {
  endsInNewline,
  matchesRecord,
  parseRecords,
  recordOf,
  remember,
  stampOf,
  writeStateLines,
} from "./worker_records.ts";
import {
  handleClose,
  handlePrepare,
  handleProbe,
  handlePut,
  handleRelease,
  handleSeal,
  handleStartSplit,
  handleVerify,
  handleWriteAt,
  setRemoteTime,
  writeInPlace,
} from "./worker_handlers.ts";
import { splitFilesSource } from "./split_files.ts";

export type { WorkerContext };

/** A handler: does what a request of kind `K` asks, returns the reply's value. */
export type Handler<K extends WriterRequest["op"]> = (
  ctx: WorkerContext,
  request: RequestOf<K>,
  arena: ArrayBuffer | undefined,
) => WriterValue;

/** The global scope of the Worker, as this code uses it. */
interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
}

/**
 * Every function of the Worker's code, each turned into source text by
 * {@linkcode writerWorkerUrl}. A function the Worker calls must be here.
 */
export const WORKER_FUNCTIONS: readonly ((...args: never[]) => unknown)[] = [
  destPaths,
  newWorkerContext,
  writeAll,
  syncData,
  renameInto,
  flushDirs,
  syncDir,
  dropStaleFacts,
  mayHoldFacts,
  isMissingOrEmpty,
  ensureDir,
  parentOf,
  isMissing,
  statOf,
  removeQuietly,
  recordDigest,
  needsCrypto,
  newHash,
  otherHash,
  hashFile,
  crcFile,
  newCrc,
  feedFile,
  checkSizeAndSha256,
  checkOtherDigest,
  verifyError,
  remember,
  stampOf,
  writeStateLines,
  endsInNewline,
  parseRecords,
  recordOf,
  matchesRecord,
  handlePut,
  handlePrepare,
  handleSeal,
  handleRelease,
  handleProbe,
  handleVerify,
  handleStartSplit,
  handleWriteAt,
  handleClose,
  setRemoteTime,
  writeInPlace,
  failureOf,
  writerHandlers,
  answerBatch,
  writerWorker,
];

/**
 * A Blob URL holding the writer Worker's code: the constants it uses, every
 * function of {@linkcode WORKER_FUNCTIONS}, and the call that starts it.
 *
 * @returns A URL for `new Worker(url, { type: "module" })`.
 */
export function writerWorkerUrl(): string {
  const source = [
    `const PART_SUFFIX = ${JSON.stringify(PART_SUFFIX)};`,
    `const META_SUFFIX = ${JSON.stringify(META_SUFFIX)};`,
    `const STATE_FILE = ${JSON.stringify(STATE_FILE)};`,
    `const ERROR_CODES = ${JSON.stringify(ERROR_CODES)};`,
    `const STOP_CODES = ${JSON.stringify(STOP_CODES)};`,
    splitFilesSource(),
    ...WORKER_FUNCTIONS.map((fn) => fn.toString()),
    `writerWorker();`,
  ].join("\n");
  return URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
}

/**
 * What a handler threw, as it crosses to the main thread: a coded error
 * keeps its code, a missing permission is `PERMISSION_MISSING`, anything
 * else `WRITE_FAILED`.
 *
 * @param error What was thrown.
 * @returns Its code and message.
 */
export function failureOf(error: unknown): WriterFailure {
  if (!(error instanceof Error)) {
    return { code: ERROR_CODES.write, message: String(error) };
  }
  const message = error.message || error.name;
  const own = (error as { code?: unknown }).code;
  if (Object.values(ERROR_CODES).includes(own as ErrorCode)) {
    return { code: own as ErrorCode, message };
  }
  if (error instanceof Deno.errors.NotCapable) {
    return { code: STOP_CODES.permission, message };
  }
  return { code: ERROR_CODES.write, message };
}

/** One handler per request kind: a new kind gets its line here. */
export type WriterHandlers = { [K in WriterRequest["op"]]: Handler<K> };

/**
 * The Worker's handlers, by request kind.
 *
 * @returns The table.
 */
export function writerHandlers(): WriterHandlers {
  return {
    put: handlePut,
    probe: handleProbe,
    verify: handleVerify,
    prepare: handlePrepare,
    seal: handleSeal,
    release: handleRelease,
    startSplit: handleStartSplit,
    writeAt: handleWriteAt,
    close: handleClose,
  };
}

/**
 * Handles one batch in order, each request by its kind's handler, then
 * appends the batch's state lines and flushes its directories; the replies
 * are for one message.
 *
 * @param ctx The Worker's state.
 * @param handlers The handlers by kind.
 * @param batch The requests (and the arena of their small bodies).
 * @returns The replies, and whether the batch closes the Worker.
 */
export function answerBatch(
  ctx: WorkerContext,
  handlers: WriterHandlers,
  batch: WriterBatch<WriterRequest>,
): { replies: ReplyBatch; closing: boolean } {
  const items: WriterReply[] = [];
  const written: number[] = [];
  let crc32s = "";
  let closing = false;
  for (const request of batch.items) {
    try {
      const handler = handlers[request.op] as Handler<typeof request.op>;
      const value = handler(ctx, request as never, batch.arena);
      const file = value as WrittenFile;
      if (
        request.op === "put" && file.sha256 === undefined &&
        file.crc32?.length === 8
      ) {
        written.push(request.id, file.bytes);
        crc32s += file.crc32;
      } else items.push({ id: request.id, ok: true, value });
    } catch (error) {
      items.push({ id: request.id, ok: false, error: failureOf(error) });
    }
    if (request.op === "close") closing = true;
  }
  writeStateLines(ctx);
  flushDirs(ctx);
  const replies: ReplyBatch = { items };
  if (written.length > 0) {
    replies.written = new Float64Array(written);
    replies.crc32s = crc32s;
  }
  return { replies, closing };
}

/**
 * The Worker's body: answers batches of {@linkcode WriterRequest}s in order
 * ({@linkcode answerBatch}) and replies once per batch. A batch that hashes
 * waits for `node:crypto`, whose loading starts with `init`; the batches
 * behind it wait too.
 */
export function writerWorker(): void {
  const scope = self as unknown as WorkerScope;
  const handlers = writerHandlers();
  const ctx: WorkerContext = newWorkerContext(".", true);
  /** Batches waiting for `node:crypto` to load, and those behind them, in order. */
  let queue: Promise<void> | undefined;
  /** `node:crypto` loading, started by `init`. */
  let loading: Promise<void> | undefined;

  /**
   * Loads `node:crypto` and `node:zlib` (its CRC-32); a failure surfaces as
   * each hashing request's error.
   */
  const loadCrypto = (): Promise<void> =>
    Promise.all([
      import("node:crypto").catch(() => undefined),
      import("node:zlib").catch(() => undefined),
    ]).then(([crypto, zlib]) => {
      // Both at once: a batch that finds createHash finds crc32 too.
      ctx.crc32 = zlib?.crc32;
      ctx.createHash = crypto?.createHash;
    });

  const answer = (batch: WriterBatch<WriterRequest>): void => {
    const { replies, closing } = answerBatch(ctx, handlers, batch);
    // Buffers of positional writes go back to be filled again: without it
    // this thread frees them only when it collects garbage, which it rarely
    // does, and memory grew with the file.
    const buffers = replies.items.flatMap((reply) =>
      reply.ok && reply.value instanceof ArrayBuffer ? [reply.value] : []
    );
    scope.postMessage(replies, buffers);
    if (closing) scope.close();
  };

  const onBatch = (batch: WriterBatch<WriterRequest>): void => {
    const waits = ctx.createHash === undefined &&
      batch.items.some(needsCrypto);
    if (queue === undefined && !waits) {
      answer(batch);
      return;
    }
    const run: Promise<void> = (queue ?? loading ?? loadCrypto()).then(() =>
      answer(batch)
    );
    queue = run;
    run.then(() => {
      if (queue === run) queue = undefined;
    });
  };

  scope.onmessage = (event: MessageEvent) => {
    const message = event.data as WriterBatch<WriterRequest> | {
      init: { outDir: string; durability?: "full" | "none" };
      batch?: WriterBatch<WriterRequest>;
    };
    if (!("init" in message)) return onBatch(message);
    ctx.outDir = message.init.outDir;
    ctx.durable = message.init.durability !== "none";
    const first = message.batch;
    // Loading the modules holds this thread for 10-40 ms: a first batch
    // that needs none of them (a large body's `prepare`) goes before.
    if (first && !first.items.some(needsCrypto)) answer(first);
    loading = loadCrypto();
    if (first?.items.some(needsCrypto)) onBatch(first);
  };
}
