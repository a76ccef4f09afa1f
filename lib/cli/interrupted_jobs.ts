/**
 * What a Ctrl-C leaves of a run's input, accounted for: the jobs read but
 * never started become `cancelled` outcomes, and the lines standard input
 * already delivered are still read, so that no job read goes unaccounted
 * for (the signals themselves are `interrupt.ts`).
 *
 * @module
 */

import type { Job, Outcome } from "../core/job.ts";

/** A job source the pool cannot close. */
export interface HeldSource {
  /** The jobs, for the pool: its `return()` leaves the source open. */
  readonly jobs: AsyncIterable<Job>;
  /** Reads what the source can still give at once (see {@linkcode drainReady}). */
  drain(): Promise<void>;
  /** Closes the source (without waiting: it may be waiting for a line). */
  close(): void;
}

/**
 * Holds a source open: the pool closes its source when it stops, and after
 * a Ctrl-C the jobs already read from standard input must still be counted.
 *
 * @param source The jobs.
 * @returns The held source.
 */
export function holdOpen(source: AsyncIterable<Job>): HeldSource {
  const iterator = source[Symbol.asyncIterator]();
  return {
    jobs: {
      [Symbol.asyncIterator]: () => ({
        next: () => iterator.next(),
        return: () => Promise.resolve({ done: true, value: undefined }),
      }),
    },
    drain: () => drainReady(iterator),
    close() {
      iterator.return?.().catch(() => {}); // may wait for a line: not awaited
    },
  };
}

/**
 * The outcome of a job read but never started: the pool stopped on Ctrl-C.
 *
 * @param job The job.
 * @returns A `cancelled` outcome.
 */
export function interruptedOutcome(job: Job): Outcome {
  return {
    job,
    status: "cancelled",
    bytes: 0,
    attempts: 0,
    reason: "interrupted",
    elapsedMs: 0,
  };
}

/** How long {@linkcode drainReady} waits for one more job, and in all, in ms. */
const DRAIN_MS = { gap: 200, total: 2000 };

/**
 * Takes the jobs a source can still give at once (lines standard input
 * already delivered) after a Ctrl-C, so they are counted as interrupted
 * rather than dropped without a word. Stops at the first pause (longer than
 * an aria2 entry's hold), at the end, at an error, or after a bound.
 */
async function drainReady(source: AsyncIterator<Job>): Promise<void> {
  const until = performance.now() + DRAIN_MS.total;
  while (performance.now() < until) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pause = new Promise<"pause">((resolve) => {
      timer = setTimeout(() => resolve("pause"), DRAIN_MS.gap);
    });
    try {
      const next = await Promise.race([source.next(), pause]);
      if (next === "pause" || next.done) return;
    } catch {
      return; // a bad line: the jobs before it were counted
    } finally {
      clearTimeout(timer);
    }
  }
}
