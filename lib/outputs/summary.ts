/**
 * The lines a run ends with on stdout: counts, bytes received and on disk,
 * the rate, retries, then the first failures.
 *
 * @module
 */

import type { Outcome } from "../core/job.ts";
import { failureLine } from "./ci_log.ts";
import { formatBytes, plural } from "./format.ts";
import type { Totals } from "./tally.ts";
import type { RunListener } from "./listener.ts";

/**
 * The counts of a run in words, `0` omitted but for the downloaded:
 * `98 downloaded, 2 already complete, 1 not found`.
 *
 * @param totals The counts.
 * @returns The phrases, in order.
 */
export function outcomeCounts(totals: Totals): string[] {
  const parts = [`${totals.ok} downloaded`];
  if (totals.skipped) parts.push(`${totals.skipped} already complete`);
  if (totals.not_modified) parts.push(`${totals.not_modified} unchanged`);
  if (totals.not_found) parts.push(`${totals.not_found} not found`);
  if (totals.error) parts.push(`${totals.error} failed`);
  if (totals.cancelled) parts.push(`${totals.cancelled} interrupted`);
  if (totals.not_started) parts.push(`${totals.not_started} not started`);
  return parts;
}

/**
 * Prints the run's summary.
 *
 * @param totals The counts.
 * @param failures The first failures (the report has them all).
 * @param elapsedMs The run's wall time.
 * @param secrets Values never to show.
 * @param print Where a line goes. @default console.log
 */
export function printSummary(
  totals: Totals,
  failures: readonly Outcome[],
  elapsedMs: number,
  secrets: readonly string[],
  print: (line: string) => void = console.log,
): void {
  const seconds = elapsedMs / 1000;
  const parts = outcomeCounts(totals);
  // Rates are of bytes that crossed the network in this run; the size of
  // the complete files (skipped, unchanged, resumed ones too) is said apart
  // when it differs, and not at all when there is none: after a Ctrl-C
  // "0 B on disk" would deny the .part files kept for the next run.
  const rate = seconds > 0
    ? `, ${formatBytes(totals.transferred / seconds)}/s`
    : "";
  const onDisk = totals.bytes > 0 && totals.bytes !== totals.transferred
    ? ` (${formatBytes(totals.bytes)} in complete files)`
    : "";
  print(
    `bulkget: ${parts.join(", ")}; ${
      formatBytes(totals.transferred)
    } received in ${seconds.toFixed(2)} s${rate}${onDisk}` +
      (totals.retries ? `; ${plural(totals.retries, "retry", "retries")}` : ""),
  );
  if (failures.length > 0) {
    const more = totals.error + totals.not_found - failures.length;
    print("failed:");
    for (const outcome of failures) {
      print(`  ${failureLine(outcome, secrets).replace(/^FAILED /, "")}`);
    }
    if (more > 0) {
      print(`  … and ${more} more (--report FILE lists them all)`);
    }
  }
}

/**
 * The summary as an output of a run. A run that a bad first line stopped
 * before any job prints none: the error alone says it.
 *
 * @param secrets Values never to show.
 * @param print Where a line goes. @default console.log
 * @returns The listener.
 */
export function summaryOutput(
  secrets: readonly string[],
  print: (line: string) => void = console.log,
): RunListener {
  return {
    finish({ totals, failures, elapsedMs, error }) {
      if (error !== undefined && totals.jobs === 0) return;
      printSummary(totals, failures, elapsedMs, secrets, print);
    },
  };
}
