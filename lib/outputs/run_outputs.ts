/**
 * The outputs of one run fed from one place: every engine event and every
 * outcome goes to each {@linkcode RunListener}, with the bytes each job
 * received in this run; the totals and the first failures are kept here, and
 * so are the jobs read but not finished, so that none goes unaccounted for.
 *
 * @module
 */

import type { EngineEvent } from "../core/events.ts";
import type { Job, Outcome } from "../core/job.ts";
import type { RunEnd, RunListener } from "./listener.ts";
import { jobKey } from "./progress_state.ts";
import { addOutcome, emptyTotals, type Totals } from "./tally.ts";

/** Most failed jobs listed at the end of a run (the report has them all). */
export const MAX_LISTED_FAILURES = 20;

/** The outputs of a run, fed as one. */
export interface RunOutputs {
  /** An engine event. */
  event(event: EngineEvent): void;
  /** A job was read from the inputs: it is kept until its outcome. */
  read(job: Job): void;
  /** A job's outcome. */
  outcome(outcome: Outcome): void;
  /** The total of jobs, final or (`growing`) so far. */
  total(total: number, growing: boolean): void;
  /** Stops the live outputs (the bar, status lines, the log); safe to repeat. */
  stop(): void;
  /** The jobs read that have no outcome yet. */
  unfinished(): Job[];
  /** Counts jobs of the inputs never read (the run stopped first). */
  neverRead(count: number): void;
  /**
   * Ends the run: every listener's `finish`, in order.
   *
   * @returns The totals.
   */
  finish(end: Omit<RunEnd, "totals" | "failures">): Promise<Totals>;
}

/**
 * Feeds `listeners` as one.
 *
 * @param listeners The outputs, in the order they should hear things.
 * @returns The feed.
 */
export function runOutputs(listeners: readonly RunListener[]): RunOutputs {
  const totals = emptyTotals();
  const failures: Outcome[] = [];
  /** Body bytes received so far by each job still running. */
  const receiving = new Map<string, number>();
  /**
   * Retries so far of each job still running: a `--split` range's retry is
   * one too, though not an attempt of the job's.
   */
  const retrying = new Map<string, number>();
  /** Jobs read from the inputs that have no outcome yet. */
  const unfinished = new Map<string, Job>();
  return {
    event(event) {
      if (event.type === "bytes") {
        const key = jobKey(event.job);
        receiving.set(key, (receiving.get(key) ?? 0) + event.bytes);
      } else if (event.type === "retrying") {
        const key = jobKey(event.job);
        retrying.set(key, (retrying.get(key) ?? 0) + 1);
      }
      for (const listener of listeners) listener.event?.(event);
    },
    read(job) {
      unfinished.set(jobKey(job), job);
      for (const listener of listeners) listener.read?.(job);
    },
    outcome(outcome) {
      const key = jobKey(outcome.job);
      const transferred = receiving.get(key) ?? 0;
      const retries = Math.max(outcome.attempts - 1, retrying.get(key) ?? 0);
      receiving.delete(key);
      retrying.delete(key);
      unfinished.delete(key);
      addOutcome(totals, outcome, transferred, retries);
      if (outcome.status === "error" || outcome.status === "not_found") {
        if (failures.length < MAX_LISTED_FAILURES) failures.push(outcome);
      }
      for (const listener of listeners) {
        listener.outcome?.(outcome, transferred);
      }
    },
    total(total, growing) {
      for (const listener of listeners) listener.total?.(total, growing);
    },
    stop() {
      for (const listener of listeners) listener.stop?.();
    },
    unfinished: () => [...unfinished.values()],
    neverRead(count) {
      totals.not_started += count;
    },
    async finish(end) {
      for (const listener of listeners) {
        await listener.finish?.({ ...end, totals, failures });
      }
      return totals;
    },
  };
}
