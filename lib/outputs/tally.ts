/**
 * Counts of a run by status, with bytes and retries: what every report
 * (text, JSON, GitHub summary) and the exit code are made from.
 *
 * @module
 */

import type { Outcome, OutcomeStatus } from "../core/job.ts";

/** Totals of a run. */
export interface Totals extends Record<OutcomeStatus, number> {
  /** Jobs that reached an outcome. */
  jobs: number;
  /** Bytes now on disk for ok, skipped and unchanged jobs (sizes of the files). */
  bytes: number;
  /**
   * Body bytes received over the network in this run, by every attempt
   * (failed, cut short or resumed ones too); what rates are made from.
   */
  transferred: number;
  /** Retries made (attempts after the first). */
  retries: number;
  /**
   * Jobs of the inputs never read because a signal stopped the run (known
   * from the up-front count of the regular input files): with `jobs`, every
   * job of the inputs.
   */
  not_started: number;
}

/** An empty set of totals. */
export function emptyTotals(): Totals {
  return {
    ok: 0,
    skipped: 0,
    not_modified: 0,
    not_found: 0,
    error: 0,
    cancelled: 0,
    jobs: 0,
    bytes: 0,
    transferred: 0,
    retries: 0,
    not_started: 0,
  };
}

/**
 * Adds an outcome to the totals (in place).
 *
 * @param totals The running totals.
 * @param outcome A finished job.
 * @param transferred Body bytes received for it in this run. @default 0
 * @param retries Its retries, a `--split` range's included. @default its attempts less one
 */
export function addOutcome(
  totals: Totals,
  outcome: Outcome,
  transferred = 0,
  retries = Math.max(0, outcome.attempts - 1),
): void {
  totals[outcome.status]++;
  totals.jobs++;
  totals.bytes += outcome.bytes;
  totals.transferred += transferred;
  totals.retries += retries;
}

/**
 * The exit code a run's totals call for: 0 when every job ended ok, skipped
 * or not modified; 1 otherwise.
 *
 * @param totals The run's totals.
 * @returns 0 or 1.
 */
export function exitCodeFor(totals: Totals): 0 | 1 {
  return totals.error + totals.not_found + totals.cancelled > 0 ? 1 : 0;
}
