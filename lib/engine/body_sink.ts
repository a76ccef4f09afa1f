/**
 * Where a response's body goes: a small body read whole (and written in one
 * go by the writer), or a large one streamed into its `.part` — piped for
 * `fetch`'s bodies, copied through one reused buffer for the own client's
 * (`direct_copy.ts`).
 *
 * @module
 */

import { AttemptError, ERROR_CODES } from "../core/errors.ts";
import { bodyFailure } from "./classify.ts";
import { pace, type RateLimit, readSizeFor } from "./rate_limit.ts";
import { tooBig as tooBigError } from "./size_limit.ts";
import type { AttemptDeadline } from "./deadline.ts";
import { copyDirect } from "./direct_copy.ts";
import {
  directBody,
  Http1Response,
  type HttpResponse,
} from "./http_response.ts";

/** How often a streamed body's file is looked at for progress and deadlines. */
const STREAM_WATCH_MS = 200;

/** What a streamed body is watched by, and where its progress goes. */
export interface StreamWatch {
  /** The attempt's deadline (the idle one is pushed back by every byte). */
  deadline: AttemptDeadline;
  /** Most bytes this body may add to the file. */
  maxSize: number;
  /** Hears of the bytes added since it last heard. */
  onBytes: (bytes: number) => void;
  /** Rate limits to pace reads by. @default [] */
  limits?: readonly RateLimit[];
  /**
   * Hears of every piece as it is handed to the file, in order, when the
   * body passes through JavaScript (the own client's, or a paced one);
   * fetch's pipe gives none.
   */
  onWritten?: (piece: Uint8Array) => void;
}

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
  watch: StreamWatch,
): Promise<number> {
  const limits = watch.limits ?? [];
  const paced = pacer(limits, watch.deadline);
  const file = await Deno.open(path, { write: true, append: true });
  const start = (await file.stat()).size;
  const size = watchSize(start, watch);
  const direct = directBody(response);
  try {
    if (direct) {
      await copyDirect(
        direct,
        file,
        () => size.tooBig,
        readsFrom(start, size),
        {
          pace: paced,
          readSize: readSizeFor(limits),
          onWritten: watch.onWritten,
        },
      );
    } else if (paced) {
      await copyPaced(
        response.body!,
        file,
        () => size.tooBig ?? abortReason(watch.deadline.signal),
        readsFrom(start, size),
        paced,
        watch.onWritten,
      );
    } else {
      await pipeWatched(response.body!, file, path, size, watch.deadline);
    }
  } catch (error) {
    // Bytes already read may still be queued for the file: aborting it would
    // drop them, so let them land and a resume starts after them.
    await file.writable.close().catch(() => {});
    throw size.tooBig ?? error;
  } finally {
    try {
      file.close();
    } catch {
      // pipeTo, or the failure above, has closed it already
    }
  }
  const written = (await Deno.stat(path)).size;
  size.look(written);
  if (size.tooBig) throw size.tooBig;
  return written - start;
}

/** Paces reads by `limits` under the deadline; undefined without limits. */
function pacer(
  limits: readonly RateLimit[],
  deadline: AttemptDeadline,
): ((bytes: number) => Promise<void>) | undefined {
  if (limits.length === 0) return undefined;
  return (bytes) =>
    pace(limits, bytes, {
      signal: deadline.signal,
      onWait: () => deadline.activity(),
    });
}

/** Follows a streamed body's size for progress, the deadline and the limit. */
interface SizeWatcher {
  /** Hears the file's size now: new bytes are progress and activity. */
  look(size: number): void;
  /** The body's failure once it grew past the limit. */
  readonly tooBig: AttemptError | undefined;
  /** Aborted (with {@linkcode tooBig}) when the body grows past the limit. */
  readonly stop: AbortSignal;
}

/** A size watcher of a file that held `start` bytes before the body. */
function watchSize(start: number, watch: StreamWatch): SizeWatcher {
  const stop = new AbortController();
  let seen = start;
  let tooBig: AttemptError | undefined;
  return {
    look(size) {
      if (size > seen) {
        watch.deadline.activity();
        watch.onBytes(size - seen);
        seen = size;
      }
      if (size - start > watch.maxSize && !tooBig) {
        tooBig = tooBigError(watch.maxSize + start);
        stop.abort(tooBig);
      }
    },
    get tooBig() {
      return tooBig;
    },
    stop: stop.signal,
  };
}

/**
 * Counts a copy's reads into the size watcher: bytes count as they are
 * read (they reach the file a write later).
 */
function readsFrom(start: number, size: SizeWatcher): (bytes: number) => void {
  let read = start;
  return (bytes) => size.look(read += bytes);
}

/**
 * Pipes a `fetch` body into `file`, which the runtime does without
 * JavaScript per chunk; the file's size is looked at every
 * {@linkcode STREAM_WATCH_MS}, and once more after a failure (bytes that
 * crossed the network count).
 */
async function pipeWatched(
  body: ReadableStream<Uint8Array>,
  file: Deno.FsFile,
  path: string,
  size: SizeWatcher,
  deadline: AttemptDeadline,
): Promise<void> {
  const lookNow = () =>
    Deno.stat(path).then((info) => size.look(info.size), () => {});
  const timer = setInterval(lookNow, STREAM_WATCH_MS);
  try {
    await body.pipeTo(file.writable, {
      signal: AbortSignal.any([size.stop, deadline.signal]),
      preventAbort: true,
    });
  } catch (error) {
    // Queued bytes land before the last look (see streamToFile).
    await file.writable.close().catch(() => {});
    await lookNow();
    throw error;
  } finally {
    clearInterval(timer);
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
    // The own client's body as it holds it (a view of a slab: the writer
    // copies small bodies into its batch, it never transfers this buffer).
    if (response instanceof Http1Response) return await response.bytes();
    if (response.body === null) {
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
