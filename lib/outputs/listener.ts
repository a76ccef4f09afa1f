/**
 * What every output of a run is: a listener that hears the engine's events
 * and each job's outcome, and may say something when the run ends. The
 * command (`lib/cli/get.ts`) builds the ones asked for; `run_outputs.ts`
 * feeds them all.
 *
 * @module
 */

import type { EngineEvent } from "../core/events.ts";
import type { Job, Outcome } from "../core/job.ts";
import type { Totals } from "./tally.ts";

/** How a run ended, for {@linkcode RunListener.finish}. */
export interface RunEnd {
  /** The counts by status, bytes, retries. */
  totals: Totals;
  /** The first failures, for listing. */
  failures: readonly Outcome[];
  /** The run's wall time, in ms. */
  elapsedMs: number;
  /** Whether a signal stopped the run. */
  interrupted: boolean;
  /** The input error that cut the run short (redacted), if any. */
  error?: string;
}

/** One output of a run. */
export interface RunListener {
  /** Hears that a job was read from the inputs (before it starts). */
  read?(job: Job): void;
  /** Hears an engine event as it happens. */
  event?(event: EngineEvent): void;
  /** Hears a job's outcome, with the body bytes received for it in this run. */
  outcome?(outcome: Outcome, transferred: number): void;
  /**
   * The total of jobs: final, or (`growing`) the count so far of an input
   * still being read.
   */
  total?(total: number, growing: boolean): void;
  /**
   * Live output ends (on the first Ctrl-C, and again when the run ends):
   * stop redrawing, close files. Called once or twice.
   */
  stop?(): void;
  /** The run ended: say or write what is left. */
  finish?(end: RunEnd): void | Promise<void>;
}
