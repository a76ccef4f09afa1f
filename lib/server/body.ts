/**
 * Response bodies with body faults applied: a reset or a truncation (the
 * stream ends before `Content-Length` bytes, so the server closes the
 * connection), a stall, a bytes-per-second cap, and a flipped byte.
 *
 * Deno cannot send a TCP RST, so a "reset" and a "truncate" both end the
 * connection with a FIN before the promised length; a client sees the body
 * read fail (Deno's `fetch`: `TypeError: error reading a body from
 * connection`). They differ in where the body stops: a reset after N bytes
 * from the start, a truncation N bytes before the end.
 *
 * @module
 */

import { sleepUnlessAborted } from "../core/sleep.ts";
import type { FaultPlan } from "./faults.ts";

/** The body faults to apply to one response body. */
export interface BodyFaults {
  /** Bytes to send before ending the stream (less than the body's length). */
  send: number;
  /** Pause before sending byte `after` (relative to the body's start). */
  stall?: { ms: number; after: number };
  /** Bytes-per-second cap. */
  slow?: number;
  /** Flip the byte at this offset (relative to the body's start). */
  corruptAt?: number;
}

/** Flips one byte of a copy of `chunk` when `at` falls inside it. */
function corruptChunk<T extends Uint8Array>(
  chunk: T,
  offset: number,
  at?: number,
): T {
  if (at === undefined || at < offset || at >= offset + chunk.length) {
    return chunk;
  }
  const copy = chunk.slice() as T;
  copy[at - offset] ^= 0xff;
  return copy;
}

/**
 * Builds a body stream from pieces, applying `faults`. The stream closes
 * early on `signal` (server closing), so no timer outlives the server.
 *
 * @param pieces The body's pieces, in order (for example 64 KiB each).
 * @param faults What to do to the body.
 * @param signal Aborts pauses and ends the body.
 * @returns The stream to put in a `Response`.
 */
export function faultyBody(
  pieces: Iterator<Uint8Array>,
  faults: BodyFaults,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  const cancelled = new AbortController();
  let sent = 0;
  let pending: Uint8Array | undefined;
  const started = performance.now();
  let stalled = false;
  const step = faults.slow === undefined
    ? 65536
    : Math.max(1, Math.min(65536, Math.floor(faults.slow / 20)));
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= faults.send) return controller.close();
      if (!pending || pending.length === 0) {
        const next = pieces.next();
        if (next.done) return controller.close();
        pending = next.value;
      }
      let limit = Math.min(pending.length, faults.send - sent, step);
      const stall = faults.stall;
      if (stall && !stalled) {
        if (sent >= stall.after) {
          stalled = true;
          if (!await sleepUnlessAborted(stall.ms, signal, cancelled.signal)) {
            return controller.close();
          }
        } else limit = Math.min(limit, stall.after - sent);
      }
      if (faults.slow !== undefined) {
        const due = started + ((sent + limit) / faults.slow) * 1000;
        const wait = due - performance.now();
        if (
          wait > 0 && !await sleepUnlessAborted(wait, signal, cancelled.signal)
        ) {
          return controller.close();
        }
      }
      const chunk = pending.subarray(0, limit);
      pending = pending.subarray(limit);
      controller.enqueue(corruptChunk(chunk, sent, faults.corruptAt));
      sent += limit;
    },
    cancel() {
      cancelled.abort();
    },
  }, { highWaterMark: 0 });
}

/**
 * Applies only a flipped byte to an in-memory body (no stream needed).
 *
 * @param body The body.
 * @param at The offset of the byte to flip.
 * @returns A corrupted copy.
 */
export function corruptBody(
  body: Uint8Array<ArrayBuffer>,
  at: number,
): Uint8Array<ArrayBuffer> {
  return corruptChunk(body, 0, at);
}

/**
 * The body faults of a request's plan that apply to a body of `length`
 * bytes: a reset past the end does not happen, a stall cannot come after
 * the last byte sent, and a flipped byte must be one that is sent.
 *
 * @param plan The request's drawn faults.
 * @param length The body's length (more than 0).
 * @param record Called with each fault kind that applies (for the statistics).
 * @returns The faults, or `undefined` when none applies.
 */
export function bodyFaultsFor(
  plan: FaultPlan,
  length: number,
  record: (kind: string) => void,
): BodyFaults | undefined {
  let send = length;
  let any = false;
  if (plan.reset !== undefined) {
    const after = plan.reset < 0 ? Math.floor(length / 2) : plan.reset;
    if (after < length) {
      send = after;
      record("reset");
      any = true;
    }
  } else if (plan.truncate !== undefined) {
    send = Math.max(0, length - plan.truncate);
    record("truncate");
    any = true;
  }
  let stall: { ms: number; after: number } | undefined;
  if (plan.stall) {
    stall = { ms: plan.stall.ms, after: Math.min(plan.stall.after, send) };
    record("stall");
    any = true;
  }
  if (plan.slow !== undefined) {
    record("slow");
    any = true;
  }
  let corruptAt: number | undefined;
  if (plan.corrupt) {
    corruptAt = Math.floor(length / 2);
    if (corruptAt < send) {
      record("corrupt");
      any = true;
    } else corruptAt = undefined;
  }
  return any ? { send, stall, slow: plan.slow, corruptAt } : undefined;
}
