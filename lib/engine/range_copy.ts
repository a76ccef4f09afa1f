/**
 * Copies the body of one range of a segmented download (`--split`) to the
 * writer Worker, which writes it at its place in the `.part`: read into
 * buffers of at most {@linkcode RANGE_PIECE} bytes, each transferred to the
 * Worker, waiting while the Worker is behind (so memory stays bounded
 * however many ranges run), paced by the rate limits.
 *
 * @module
 */

import { AttemptError, ERROR_CODES } from "../core/errors.ts";
import { bodyFailure } from "./classify.ts";
import type { AttemptDeadline } from "./deadline.ts";
import { directBody, type HttpResponse } from "./http_response.ts";
import { pace, type RateLimit, readSizeFor } from "./rate_limit.ts";
import type { Writer } from "../writer/client.ts";

/** Largest piece of a range sent to the Worker in one message. */
export const RANGE_PIECE = 512 << 10;
/** Pieces of one range at the Worker at most (see `copyRange`). */
const PIECES_IN_FLIGHT = 2;
/** Longest bytes read wait before they are sent to the Worker, in ms (a slow range still moves its sidecar on). */
const RANGE_FLUSH_MS = 100;

/** Where a range's bytes go. */
export interface RangeTarget {
  /** The writer. */
  writer: Writer;
  /** The destination. */
  dest: string;
  /** Which range of the download. */
  range: number;
  /** The first byte to write (where the range stopped so far). */
  from: number;
  /** One past the range's last byte. */
  end: number;
}

/** What watches the copy. */
export interface RangeWatch {
  /** The request's deadline (told of every read). */
  deadline: AttemptDeadline;
  /** Rate limits to pace reads by. */
  limits: readonly RateLimit[];
  /** Hears of every read (progress). */
  onBytes: (bytes: number) => void;
  /** Hears of bytes handed to the writer, in order (how far the range got). */
  onQueued: (bytes: number) => void;
  /** Ends the copy when aborted (another range failed). */
  stop: AbortSignal;
}

/**
 * Copies bytes `[target.from, target.end)` from the response's body to the
 * writer. With `whole`, the body is the whole file from byte 0 (the answer
 * that began the download): only the range's bytes are read, then the body
 * is cancelled. Otherwise the body must be exactly the range. Bytes read
 * before a failure are still written (they are where the server said), so a
 * retry continues after them; when they are the whole range, they are on
 * disk before the failure is thrown.
 *
 * @param response The answer, already judged.
 * @param target Where its bytes go.
 * @param watch Deadline, limits and progress.
 * @param whole The body is the whole file rather than the range.
 * @throws {AttemptError} When the body ends early or runs past the range.
 */
export async function copyRange(
  response: HttpResponse,
  target: RangeTarget,
  watch: RangeWatch,
  whole: boolean,
): Promise<void> {
  const reader = pieceReader(response);
  const onStop = () => reader.cancel();
  watch.stop.addEventListener("abort", onStop, { once: true });
  const readSize = readSizeFor(watch.limits);
  const pieces = rangePieces(target);
  let at = target.from;
  let buffer = await pieces.next(Math.min(RANGE_PIECE, target.end - at));
  let filled = 0;
  let since = performance.now();
  const queue = async () => {
    if (filled === 0) return;
    await pieces.send(buffer.subarray(0, filled), at);
    at += filled;
    watch.onQueued(filled);
    filled = 0;
    buffer = await pieces.next(Math.min(RANGE_PIECE, target.end - at));
    since = performance.now();
  };
  try {
    while (at + filled < target.end) {
      watch.stop.throwIfAborted();
      const { byteOffset, length } = buffer;
      const got = await reader.read(
        buffer.subarray(filled, Math.min(length, filled + readSize)),
      );
      // A BYOB read moves the memory into a new ArrayBuffer, the one that
      // ends the body too: follow it, or the bytes filled so far are lost.
      if (
        got.buffer !== buffer.buffer &&
        got.buffer.byteLength >= byteOffset + length
      ) {
        buffer = new Uint8Array(got.buffer as ArrayBuffer, byteOffset, length);
      }
      const n = got.length;
      if (n === 0) break;
      filled += n;
      watch.deadline.activity();
      watch.onBytes(n);
      await pace(watch.limits, n, {
        signal: watch.deadline.signal,
        onWait: () => watch.deadline.activity(),
      });
      if (
        filled === buffer.length ||
        performance.now() - since >= RANGE_FLUSH_MS
      ) await queue();
    }
    await queue();
    if (at < target.end) {
      throw new AttemptError(
        `truncated range: got ${at - target.from} of ${
          target.end - target.from
        } bytes`,
        "retryable",
        { code: ERROR_CODES.length },
      );
    }
    if (whole) reader.cancel();
    else if ((await reader.read(new Uint8Array(1))).length > 0) {
      throw new AttemptError(
        `body longer than its range of ${target.end - target.from} bytes`,
        "retryable",
        { code: ERROR_CODES.length },
      );
    }
  } catch (error) {
    await queue().catch(() => {});
    reader.cancel();
    // Every byte of the range came before the failure: written before the
    // caller judges whether the range is complete (a write's own failure
    // is thrown instead).
    if (at === target.end) await pieces.written();
    throw bodyFailure(error, watch.deadline.signal);
  } finally {
    watch.stop.removeEventListener("abort", onStop);
  }
  await pieces.written();
}

/**
 * The pieces of one range on their way to the Worker. Buffers the Worker
 * gave back after writing them are filled again, and a range waits for its
 * oldest piece rather than have more than {@linkcode PIECES_IN_FLIGHT} at
 * the Worker: new buffers handed to a Worker are freed only when it
 * collects garbage, and memory grew with the file.
 */
function rangePieces(target: RangeTarget) {
  const written: Promise<void>[] = [];
  let settled = 0;
  const spare: ArrayBuffer[] = [];
  return {
    /** A buffer of `length` bytes to fill: one given back, or a new one. */
    async next(length: number): Promise<Uint8Array> {
      while (
        spare.length === 0 && written.length - settled >= PIECES_IN_FLIGHT
      ) await written[settled];
      const reused = spare.pop();
      return reused !== undefined && reused.byteLength >= length
        ? new Uint8Array(reused, 0, length)
        : new Uint8Array(length);
    },
    /** Queues `piece` for the Worker, to be written at `at` (its buffer is transferred). */
    async send(piece: Uint8Array, at: number): Promise<void> {
      const sent = await target.writer.writeAt(
        target.dest,
        target.range,
        at,
        piece,
      );
      const back = sent.written.then((buffer) => {
        spare.push(buffer);
      }).finally(() => settled++);
      back.catch(() => {}); // awaited by written(); never unhandled if the copy fails first
      written.push(back);
    },
    /** Waits for every piece to be written; rejects with a write's failure. */
    async written(): Promise<void> {
      await Promise.all(written);
    },
  };
}

/** A body read into the caller's buffers, whichever client it came from. */
interface PieceReader {
  /**
   * Reads into `into` (not empty); returns the bytes read, as a view of the
   * memory `into` was (possibly in a new ArrayBuffer: a BYOB read moves the
   * memory, also the read that finds the end); empty at the end.
   */
  read(into: Uint8Array): Promise<Uint8Array>;
  /** Gives up the body (its connection is not reused). */
  cancel(): void;
}

/**
 * The own client's direct reader, or `fetch`'s stream read into a buffer
 * kept for it and copied into the caller's (BYOB; a stream of new buffers
 * grew memory with eight ranges at once), or piece by piece when the stream
 * has no BYOB reader.
 */
function pieceReader(response: HttpResponse): PieceReader {
  const direct = directBody(response);
  if (direct) {
    return {
      read: async (into) => {
        const n = await direct.readInto(into);
        return into.subarray(0, n ?? 0);
      },
      cancel: () => direct.cancel(),
    };
  }
  if (response.body === null) {
    return {
      read: (into) => Promise.resolve(into.subarray(0, 0)),
      cancel: () => {},
    };
  }
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = response.body.getReader({ mode: "byob" });
  } catch {
    // not a byte stream: read its pieces below
  }
  if (byob) {
    const reader = byob;
    // Each read goes into a buffer of the reader's own, then is copied: a
    // read hands its buffer to the stream, and one that fails (a cut) never
    // gives it back, so the bytes already in the caller's buffer would be
    // lost with it, and the range asked again from before them.
    let scratch = new ArrayBuffer(0);
    return {
      async read(into) {
        if (scratch.byteLength < into.length) {
          scratch = new ArrayBuffer(into.length);
        }
        // undefined only when the stream was cancelled: the copy is failing.
        const { value } = await reader.read(
          new Uint8Array(scratch, 0, into.length),
        );
        if (value === undefined) return new Uint8Array(0);
        scratch = value.buffer as ArrayBuffer;
        into.set(value);
        return into.subarray(0, value.length);
      },
      cancel() {
        reader.cancel().catch(() => {});
      },
    };
  }
  const reader = response.body.getReader();
  let rest: Uint8Array = new Uint8Array(0);
  return {
    async read(into) {
      if (rest.length === 0) {
        const { done, value } = await reader.read();
        if (done) return into.subarray(0, 0);
        rest = value;
      }
      const n = Math.min(into.length, rest.length);
      into.set(rest.subarray(0, n));
      rest = rest.subarray(n);
      return into.subarray(0, n);
    },
    cancel() {
      reader.cancel().catch(() => {});
    },
  };
}
