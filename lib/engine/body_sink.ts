/**
 * Where a response's body goes: a small body read whole (and written in one
 * go by the writer), or a large one streamed into its `.part` — piped for
 * `fetch`'s bodies, copied through one reused buffer for the own client's.
 *
 * @module
 */

import { AttemptError, ERROR_CODES } from "../core/errors.ts";
import { bodyFailure } from "./classify.ts";
import { pace, type RateLimit, readSizeFor } from "./rate_limit.ts";
import { tooBig as tooBigError } from "./size_limit.ts";
import type { AttemptDeadline } from "./deadline.ts";
import {
  type DirectBody,
  directBody,
  Http1Response,
  type HttpResponse,
} from "./http_response.ts";

/** How often a streamed body's file is looked at for progress and deadlines. */
const STREAM_WATCH_MS = 200;

/**
 * Writes a response's body into the `.part` at `path` (appending), returning
 * the bytes written. A `fetch` body is piped, which the runtime does from
 * the socket to the file without JavaScript per chunk; a body of bulkget's
 * own client is read into one reused buffer and written from it (a stream
 * of new buffers took twice the time and memory). Progress, the idle
 * deadline and the size limit follow the bytes read (own client) or the
 * file's size, looked at every {@linkcode STREAM_WATCH_MS} (fetch's pipe).
 * Under rate limits both bodies are read in pieces, each piece paced
 * ({@linkcode pace}) before the next read; fetch's body is then read
 * instead of piped.
 */
export async function streamToFile(
  response: HttpResponse,
  path: string,
  watch: {
    deadline: AttemptDeadline;
    maxSize: number;
    onBytes: (bytes: number) => void;
    /** Rate limits to pace reads by. @default [] */
    limits?: readonly RateLimit[];
    /**
     * Hears of every piece as it is handed to the file, in order, when the
     * body passes through JavaScript (the own client's, or a paced one);
     * fetch's pipe gives none.
     */
    onWritten?: (piece: Uint8Array) => void;
  },
): Promise<number> {
  const limits = watch.limits ?? [];
  const paced = limits.length === 0
    ? undefined
    : (bytes: number) =>
      pace(limits, bytes, {
        signal: watch.deadline.signal,
        onWait: () => watch.deadline.activity(),
      });
  const file = await Deno.open(path, { write: true, append: true });
  const start = (await file.stat()).size;
  const stop = new AbortController();
  let seen = start;
  let tooBig: AttemptError | undefined;
  const look = (size: number) => {
    if (size > seen) {
      watch.deadline.activity();
      watch.onBytes(size - seen);
      seen = size;
    }
    if (size - start > watch.maxSize && !tooBig) {
      tooBig = tooBigError(watch.maxSize + start);
      stop.abort(tooBig);
    }
  };
  const direct = directBody(response);
  // A direct copy reports its reads; only fetch's pipe needs the file watched.
  const timer = direct || paced ? undefined : setInterval(() => {
    Deno.stat(path).then((info) => look(info.size), () => {});
  }, STREAM_WATCH_MS);
  try {
    if (direct) {
      // Bytes count as they are read (they reach the file a buffer later).
      let read = start;
      await copyDirect(direct, file, () => tooBig, (n) => look(read += n), {
        pace: paced,
        readSize: readSizeFor(limits),
        onWritten: watch.onWritten,
      });
    } else if (paced) {
      let read = start;
      await copyPaced(
        response.body!,
        file,
        () => tooBig ?? abortReason(watch.deadline.signal),
        (n) => look(read += n),
        paced,
        watch.onWritten,
      );
    } else {
      await response.body!.pipeTo(file.writable, {
        signal: AbortSignal.any([stop.signal, watch.deadline.signal]),
        preventAbort: true,
      });
    }
  } catch (error) {
    // Bytes already read may still be queued for the file: aborting it would
    // drop them, so let them land and a resume starts after them; they
    // crossed the network, so they count (fetch's pipe is only looked at).
    await file.writable.close().catch(() => {});
    if (!direct && !paced) {
      await Deno.stat(path).then((info) => look(info.size), () => {});
    }
    throw tooBig ?? error;
  } finally {
    clearInterval(timer);
    try {
      file.close();
    } catch {
      // pipeTo has closed it already
    }
  }
  const size = (await Deno.stat(path)).size;
  look(size);
  if (tooBig) throw tooBig;
  return size - start;
}

/**
 * Buffer of a body copied by {@linkcode copyDirect}: filled by several socket
 * reads (about 124 KiB each on loopback) before one write, because each
 * async file write is a hand-off to another thread. The buffers of all
 * copies in the process share a 16 MiB budget, so memory stays flat at any
 * concurrency.
 */
const DIRECT_BUFFER = { max: 4 << 20, min: 256 << 10, budget: 16 << 20 };
/** Bodies being copied by {@linkcode copyDirect} now, in this process. */
let directCopies = 0;

/** Bytes read by {@linkcode copyDirect} that are handed to a write without waiting for the buffer to fill. */
const DIRECT_PIECE = 1 << 20;

/** Longest a byte read by {@linkcode copyDirect} waits in memory before it is written. */
const DIRECT_FLUSH_MS = 100;

/**
 * Copies a body of bulkget's own HTTP client into `file` through one reused
 * buffer (its connection closes on the attempt's deadline, failing the
 * read). Bytes are written when the buffer is full, and at least every
 * {@linkcode DIRECT_FLUSH_MS} while reads go on, so what arrived is on disk
 * even while the server stalls (and a resume after a crash starts after
 * it). `onRead` hears of every read, so progress and the idle deadline see
 * bytes as they arrive.
 */
async function copyDirect(
  body: DirectBody,
  file: Deno.FsFile,
  stopped: () => Error | undefined,
  onRead: (bytes: number) => void,
  limit: {
    pace?: (bytes: number) => Promise<void>;
    readSize: number;
    onWritten?: (piece: Uint8Array) => void;
  } = { readSize: Infinity },
): Promise<void> {
  directCopies++;
  const share = Math.floor(DIRECT_BUFFER.budget / directCopies);
  const buffer = new Uint8Array(
    Math.max(DIRECT_BUFFER.min, Math.min(DIRECT_BUFFER.max, share)),
  );
  let filled = 0; // bytes of buffer read
  let handed = 0; // bytes of buffer given to a write
  // Writes run one after another (the file is appended to), while the next
  // reads fill the rest of the buffer.
  let writes: Promise<void> = Promise.resolve();
  // Caught at once (a rejection nobody awaits yet would end the process)
  // and thrown by drain().
  let writeFailure: unknown;
  const handOver = () => {
    if (handed === filled) return;
    const piece = buffer.subarray(handed, filled);
    handed = filled;
    limit.onWritten?.(piece);
    writes = writes.then(async () => {
      if (writeFailure !== undefined) return;
      let written = 0;
      while (written < piece.length) {
        written += await file.write(piece.subarray(written));
      }
    }).catch((error) => {
      writeFailure ??= error;
    });
  };
  const drain = async () => {
    handOver();
    await writes;
    if (writeFailure !== undefined) throw writeFailure;
  };
  const timer = setInterval(handOver, DIRECT_FLUSH_MS);
  try {
    for (;;) {
      const reason = stopped();
      if (reason) {
        body.cancel();
        throw reason;
      }
      const n = await body.readInto(
        buffer.subarray(
          filled,
          Math.min(buffer.length, filled + limit.readSize),
        ),
      );
      if (n === null) break;
      onRead(n);
      filled += n;
      if (limit.pace) {
        // Bytes read wait in the buffer while we pause: write them first.
        handOver();
        await limit.pace(n);
      }
      if (filled === buffer.length) {
        await drain();
        filled = handed = 0;
      } else if (filled - handed >= DIRECT_PIECE) {
        // Written while the next reads fill the rest: a full buffer then
        // waits for its last piece only.
        handOver();
      }
    }
    await drain();
  } catch (error) {
    await drain().catch(() => {});
    throw error;
  } finally {
    clearInterval(timer);
    directCopies--;
  }
}

/**
 * Copies a `fetch` body into `file` chunk by chunk, pacing after each chunk
 * (a pipe cannot be paced). A stop (too big, the attempt's deadline)
 * cancels the body and throws its reason.
 */
async function copyPaced(
  body: ReadableStream<Uint8Array>,
  file: Deno.FsFile,
  stopped: () => unknown,
  onRead: (bytes: number) => void,
  paced: (bytes: number) => Promise<void>,
  onWritten?: (piece: Uint8Array) => void,
): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      const reason = stopped();
      if (reason !== undefined) throw reason;
      const { done, value } = await reader.read();
      if (done) break;
      onWritten?.(value);
      let written = 0;
      while (written < value.length) {
        written += await file.write(value.subarray(written));
      }
      onRead(value.length);
      await paced(value.length);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/** The signal's reason once it aborted, else undefined. */
function abortReason(signal: AbortSignal): unknown {
  return signal.aborted ? signal.reason ?? new Error("aborted") : undefined;
}

/**
 * Reads a body of known, small length whole. The own client has read it
 * already (telling the deadline of each read); `fetch`'s is read piece by
 * piece so every piece pushes the idle deadline back, into a buffer of the
 * announced length, never more.
 *
 * @param response The response.
 * @param length Its body's announced length.
 * @param deadline The attempt's deadline.
 * @returns The body (shorter than `length` when it came short).
 */
export async function readSmallBody(
  response: HttpResponse,
  length: number,
  deadline: AttemptDeadline,
): Promise<Uint8Array> {
  try {
    if (response instanceof Http1Response || response.body === null) {
      return new Uint8Array(await response.arrayBuffer());
    }
    const body = new Uint8Array(length);
    let got = 0;
    for await (const piece of response.body) {
      deadline.activity();
      if (got + piece.length > length) {
        await response.body.cancel().catch(() => {});
        throw new AttemptError(
          `body longer than announced: over ${length} bytes`,
          "retryable",
          { code: ERROR_CODES.length },
        );
      }
      body.set(piece, got);
      got += piece.length;
    }
    return body.subarray(0, got);
  } catch (error) {
    throw bodyFailure(error, deadline.signal);
  }
}
