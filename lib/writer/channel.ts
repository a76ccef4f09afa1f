/**
 * The main thread's line to the writer Worker: it starts the Worker, sends
 * requests in batches and settles each request's promise with its reply.
 *
 * Requests are queued and sent in batches (one `postMessage` per `maxBatch`
 * requests, 1 MiB of bodies, or `batchDelayMs`); a request's own body buffer
 * (`data`) is transferred, not copied, and a body given without one is
 * packed with the batch's others into one buffer. The bytes sent but not yet written are counted so that a writer
 * can wait for room ({@linkcode WriterChannel.waitForRoom}).
 *
 * Creating the Worker blocks this thread for about 40 ms (Deno waits for
 * the new isolate), time better spent sending the first requests: it
 * starts when the first batch is sent, or as soon as this thread is idle
 * (e.g. all requests sent, responses not yet back), whichever comes first.
 * A fixed delay landed in the middle of sending 100 requests.
 *
 * @module
 */

import type {
  ReplyBatch,
  WriterBatch,
  WriterFailure,
  WriterRequest,
} from "./protocol.ts";
import { writerWorkerUrl } from "./worker.ts";
import { BulkgetError, ERROR_CODES, STOP_CODES } from "../core/errors.ts";
import { whenIdle } from "./idle.ts";

/** A request before the channel numbers it. */
export type NewRequest = WriterRequest extends infer R
  ? R extends WriterRequest ? Omit<R, "id"> : never
  : never;

/** Options for {@linkcode openChannel}. */
export interface ChannelOptions {
  /** The `init` message, sent first. */
  init: { outDir: string; durability: "full" | "none" };
  /** Bytes in flight above which {@linkcode WriterChannel.waitForRoom} waits. */
  maxInFlightBytes: number;
  /** Requests per message at most. */
  maxBatch: number;
  /** Longest a request waits for more to share its message, in ms. */
  batchDelayMs: number;
}

/** The channel's API, used by the writer client. */
export interface WriterChannel {
  /**
   * Queues a request and resolves with its reply's value; rejects with the
   * Worker's error. `data`, a body, is counted in flight; unless the request
   * carries its buffer (transferred), it is packed into the batch's arena.
   */
  send<T>(request: NewRequest, data?: Uint8Array): Promise<T>;
  /** Resolves once the bytes in flight are at most `maxInFlightBytes` (or the Worker failed). */
  waitForRoom(): Promise<void>;
  /**
   * Ends the Worker, after a `close` and its reply when the Worker may still
   * have something to do (see `mustAskToClose`).
   */
  close(): Promise<void>;
}

/** Bytes of bodies queued that make a batch go at once. */
const BATCH_BYTES = 1 << 20;

/** A request waiting for its reply. */
interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  bytes: number;
}

/** A small body waiting to be packed into the next batch's arena. */
export interface Pack {
  /** Its request, told where the body lies. */
  request: { packed?: [number, number] };
  /** The body. */
  data: Uint8Array;
}

/** The channel's state. */
interface ChannelState {
  options: ChannelOptions;
  worker?: Worker;
  stopIdleWatch: () => void;
  nextId: number;
  pending: Map<number, Pending>;
  queue: WriterRequest[];
  transfer: ArrayBuffer[];
  packs: Pack[];
  packedBytes: number;
  queuedBytes: number;
  /**
   * The batch timer while one is armed: an `AbortSignal.timeout`, like
   * `whenIdle`'s ticks, since the global `setTimeout` would load Deno's Node
   * timers (about 8 ms of CPU) for this alone in a plain run.
   */
  timer?: AbortSignal;
  /** What the timer calls: this channel's flush. */
  onTimer: () => void;
  inFlightBytes: number;
  roomWaiters: (() => void)[];
  /** Whether a segmented `.part` was ever opened: the Worker's `close` saves it. */
  splitStarted: boolean;
  closed: boolean;
  failure?: Error;
}

/**
 * Opens a channel; the Worker starts when first needed or idle.
 *
 * @param options The `init` message and the batching limits.
 * @returns The channel.
 */
export function openChannel(options: ChannelOptions): WriterChannel {
  const state: ChannelState = {
    options,
    stopIdleWatch: () => {},
    nextId: 1,
    pending: new Map(),
    queue: [],
    transfer: [],
    packs: [],
    packedBytes: 0,
    queuedBytes: 0,
    inFlightBytes: 0,
    roomWaiters: [],
    splitStarted: false,
    closed: false,
    onTimer: () => flush(state),
  };
  state.stopIdleWatch = whenIdle(() => startWorker(state));
  return {
    send: (request, data) => send(state, request, data),
    async waitForRoom() {
      while (state.inFlightBytes > options.maxInFlightBytes && !state.failure) {
        flush(state);
        await new Promise<void>((resolve) => state.roomWaiters.push(resolve));
      }
    },
    async close() {
      if (state.closed) return;
      try {
        if (!state.failure && mustAskToClose(state)) {
          await send(state, { op: "close" });
        }
      } finally {
        state.closed = true;
        state.stopIdleWatch();
        state.worker?.terminate();
      }
    },
  };
}

/**
 * Whether ending the Worker needs its `close`: a request still unanswered
 * (it must be answered first), or a segmented `.part` it may hold open.
 * Otherwise its `close` would do nothing (a batch's state lines and
 * directory flushes are done before its reply), and the round trip costs
 * 3-4 ms at the end of every run (bench/NOTES.md, DELAY-100); a Worker
 * never started is not started for it.
 */
function mustAskToClose(state: ChannelState): boolean {
  return state.pending.size > 0 || state.splitStarted;
}

/**
 * The Worker, started on first use. A batch that starts it travels in the
 * `init` message, so the Worker answers it before it loads its hashing
 * modules when it needs none of them (a large body's `prepare` then waits
 * for no module).
 */
function startWorker(
  state: ChannelState,
  batch?: WriterBatch<WriterRequest>,
  transfer: ArrayBuffer[] = [],
): Worker {
  if (state.worker) return state.worker;
  state.stopIdleWatch();
  const worker = new Worker(writerWorkerUrl(), { type: "module" });
  worker.postMessage({ init: state.options.init, batch }, transfer);
  worker.onmessage = (event) => onReplies(state, event);
  worker.onerror = (event) => onCrash(state, event);
  state.worker = worker;
  return worker;
}

/** Settles the requests of a batch of replies and wakes writers waiting for room. */
function onReplies(
  state: ChannelState,
  event: MessageEvent<ReplyBatch>,
): void {
  const { items, written, crc32s } = event.data;
  for (const reply of items) {
    const entry = settled(state, reply.id);
    if (!entry) continue;
    if (reply.ok) entry.resolve(reply.value);
    else entry.reject(fromWorker(reply.error));
  }
  // The packed puts: id and size in turns, their CRC-32s in one string.
  for (let i = 0; written && i < written.length; i += 2) {
    const crc32 = crc32s!.slice(i * 4, i * 4 + 8);
    settled(state, written[i])?.resolve({ bytes: written[i + 1], crc32 });
  }
  if (
    state.inFlightBytes <= state.options.maxInFlightBytes &&
    state.roomWaiters.length > 0
  ) {
    for (const wake of state.roomWaiters.splice(0)) wake();
  }
}

/** The pending request `id`, taken off the books (its bytes no longer in flight). */
function settled(state: ChannelState, id: number): Pending | undefined {
  const entry = state.pending.get(id);
  if (!entry) return undefined;
  state.pending.delete(id);
  state.inFlightBytes -= entry.bytes;
  return entry;
}

/** A crashed Worker fails every request in flight and every later one. */
function onCrash(state: ChannelState, event: ErrorEvent): void {
  event.preventDefault();
  const failure = new BulkgetError(
    ERROR_CODES.write,
    `The writer stopped: ${event.message}`,
  );
  state.failure = failure;
  for (const entry of state.pending.values()) entry.reject(failure);
  state.pending.clear();
  for (const wake of state.roomWaiters.splice(0)) wake();
}

/**
 * The main thread's error for a failure the Worker reported: a missing
 * permission is Deno's `NotCapable` again (it stops the run); anything else
 * a {@linkcode BulkgetError} with the Worker's code (`VERIFY_FAILED`,
 * `WRITE_FAILED`).
 */
function fromWorker(failure: WriterFailure): Error {
  return failure.code === STOP_CODES.permission
    ? new Deno.errors.NotCapable(failure.message)
    : new BulkgetError(failure.code, failure.message);
}

/** Queues a request; the batch goes when full, at a `close`, or after the delay. */
function send<T>(
  state: ChannelState,
  fields: NewRequest,
  data?: Uint8Array,
): Promise<T> {
  if (state.failure) return Promise.reject(state.failure);
  if (state.closed) {
    return Promise.reject(
      new BulkgetError(ERROR_CODES.write, "The writer is closed"),
    );
  }
  const request = { ...fields, id: state.nextId++ } as WriterRequest;
  if (request.op === "startSplit") state.splitStarted = true;
  const bytes = data?.byteLength ?? 0;
  const promise = new Promise<T>((resolve, reject) => {
    state.pending.set(request.id, {
      resolve: resolve as (value: unknown) => void,
      reject,
      bytes,
    });
  });
  state.queue.push(request);
  // A body travels as its own transferred buffer, or packed into the arena.
  const buffer = (request as { data?: ArrayBuffer }).data;
  if (buffer) state.transfer.push(buffer);
  else if (data) {
    state.packs.push({ request: request as Pack["request"], data });
    state.packedBytes += data.byteLength;
  }
  state.inFlightBytes += bytes;
  state.queuedBytes += bytes;
  const { maxBatch, batchDelayMs } = state.options;
  // A `prepare` goes at once: a body waits for it, reading nothing.
  if (
    state.queue.length >= maxBatch || state.queuedBytes >= BATCH_BYTES ||
    request.op === "close" || request.op === "prepare"
  ) flush(state);
  else if (state.timer === undefined) {
    state.timer = AbortSignal.timeout(batchDelayMs);
    state.timer.addEventListener("abort", state.onTimer, { once: true });
  }
  return promise;
}

/** Sends the queued requests as one message, small bodies packed into its arena. */
function flush(state: ChannelState): void {
  state.timer?.removeEventListener("abort", state.onTimer);
  state.timer = undefined;
  if (state.queue.length === 0) return;
  const arena = state.packs.length > 0
    ? packArena(state.packs, state.packedBytes)
    : undefined;
  if (arena) state.transfer.push(arena);
  const batch = { items: state.queue, arena };
  if (state.worker) state.worker.postMessage(batch, state.transfer);
  else startWorker(state, batch, state.transfer);
  state.queue = [];
  state.transfer = [];
  state.packs = [];
  state.packedBytes = 0;
  state.queuedBytes = 0;
}

/**
 * Copies small bodies into one buffer and tells each request where its
 * body lies in it.
 *
 * @param packs The bodies and their requests.
 * @param total Their total size.
 * @returns The buffer.
 */
export function packArena(packs: Pack[], total: number): ArrayBuffer {
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const { request, data } of packs) {
    bytes.set(data, at);
    request.packed = [at, data.byteLength];
    at += data.byteLength;
  }
  return bytes.buffer;
}

/**
 * A buffer that can be transferred: the view's own bytes, copied only when
 * it shares a larger buffer.
 *
 * @param data A body.
 * @returns Its buffer.
 */
export function ownBuffer(data: Uint8Array): ArrayBuffer {
  const buffer = data.buffer as ArrayBuffer;
  if (data.byteOffset === 0 && data.byteLength === buffer.byteLength) {
    return buffer;
  }
  return data.slice().buffer as ArrayBuffer;
}
