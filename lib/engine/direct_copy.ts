/**
 * The direct copy of a body of bulkget's own HTTP client into its file:
 * socket reads land in one reused buffer, and pieces of it are written
 * while the next reads fill the rest, so no buffer is allocated per read
 * and a file write (a hand-off to another thread) carries many reads.
 *
 * @module
 */

import type { DirectBody } from "./http_response.ts";

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

/** How a direct copy reads, and who hears of its pieces. */
export interface DirectCopyLimits {
  /** Waits after each read for the rate limits, when there are any. */
  pace?: (bytes: number) => Promise<void>;
  /** Most bytes one read may take (`Infinity`: the buffer's free space). */
  readSize: number;
  /** Hears of every piece as it is handed to the file, in order. */
  onWritten?: (piece: Uint8Array) => void;
}

/**
 * Copies a body of bulkget's own HTTP client into `file` through one reused
 * buffer (its connection closes on the attempt's deadline, failing the
 * read). Bytes are written when the buffer is full, and at least every
 * {@linkcode DIRECT_FLUSH_MS} while reads go on, so what arrived is on disk
 * even while the server stalls (and a resume after a crash starts after
 * it). `onRead` hears of every read, so progress and the idle deadline see
 * bytes as they arrive.
 *
 * @param body The body, read into our buffer.
 * @param file The `.part`, opened to append.
 * @param stopped The reason to stop before the next read, if any.
 * @param onRead Hears of every read's length.
 * @param limit How to read (rate limits), and who hears of the pieces.
 */
export async function copyDirect(
  body: DirectBody,
  file: Deno.FsFile,
  stopped: () => Error | undefined,
  onRead: (bytes: number) => void,
  limit: DirectCopyLimits = { readSize: Infinity },
): Promise<void> {
  directCopies++;
  const share = Math.floor(DIRECT_BUFFER.budget / directCopies);
  const buffer = new Uint8Array(
    Math.max(DIRECT_BUFFER.min, Math.min(DIRECT_BUFFER.max, share)),
  );
  let filled = 0; // bytes of buffer read
  let handed = 0; // bytes of buffer given to a write
  const writes = appendQueue(file);
  const handOver = () => {
    if (handed === filled) return;
    const piece = buffer.subarray(handed, filled);
    handed = filled;
    limit.onWritten?.(piece);
    writes.push(piece);
  };
  const drain = () => {
    handOver();
    return writes.drain();
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

/** Writes to one file that run one after another, in the order pushed. */
interface AppendQueue {
  /** Queues `piece` to be written whole after the pieces before it. */
  push(piece: Uint8Array): void;
  /** Waits for every queued write; throws the first one's failure. */
  drain(): Promise<void>;
}

/**
 * A queue of appends to `file`. A failed write is caught at once (a
 * rejection nobody awaits yet would end the process), skips the writes
 * after it, and is thrown by `drain()`.
 */
function appendQueue(file: Deno.FsFile): AppendQueue {
  let writes: Promise<void> = Promise.resolve();
  let failure: unknown;
  return {
    push(piece) {
      writes = writes.then(async () => {
        if (failure !== undefined) return;
        let written = 0;
        while (written < piece.length) {
          written += await file.write(piece.subarray(written));
        }
      }).catch((error) => {
        failure ??= error;
      });
    },
    async drain() {
      await writes;
      if (failure !== undefined) throw failure;
    },
  };
}
