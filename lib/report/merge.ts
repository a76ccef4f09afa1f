/**
 * Merges the JSON reports of sharded runs (`bulkget get --shard K/N
 * --report …`) into one, and says whether the whole job list succeeded:
 * every job ended ok, skipped or not modified, none is missing, none ran in
 * two reports, and no shard is unaccounted for.
 *
 * The merged report has the shape of a single run's (see `json_report.ts`):
 * the items of every report in the order given, totals counted again from
 * those items, the earliest `startedAt`, the longest `elapsedMs` (the
 * workers ran side by side), `interrupted` when any was, `error` naming
 * every report whose run an input error cut short (else null); no `shard`. It adds
 * one field, `merge` ({@linkcode MergeSummary}).
 *
 * Jobs are compared by destination (the URL when an item has none), as
 * sharding assigns them. Without the expected job list (the manifest) a
 * merge can detect overlaps, failures and, when the reports carry their
 * `shard`, a missing shard; only with it can it name jobs that are in no
 * report.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import type { Report } from "./json_report.ts";
import { REPORT_VERSION } from "./json_report.ts";
import { exitCodeFor } from "../outputs/tally.ts";
import type { Shard } from "../source/shard.ts";
import {
  checkExpected,
  checkRuns,
  checkShards,
  collectItems,
} from "./merge_checks.ts";

/** One report to merge, with the name messages give it (its path). */
export interface NamedReport {
  /** How messages name it, e.g. its path. */
  name: string;
  /** The report, as {@linkcode parseReport} returns it. */
  report: Report;
}

/** A job of the expected list that no report has. */
export interface MissingJob {
  /** The job's URL, as the list has it. */
  url: string;
  /** Its destination. */
  dest: string;
  /** Where the list has it, e.g. `m.jsonl:12`. */
  origin: string | null;
}

/** A destination present in more than one report. */
export interface DuplicateJob {
  /** The destination. */
  dest: string;
  /** The reports it is in, in the order given. */
  reports: string[];
}

/** What the merge found; the merged report's `merge` field. */
export interface MergeSummary {
  /** The reports merged, by name, in order. */
  reports: string[];
  /** The shard of each report (null for a report without one), in order. */
  shards: (Shard | null)[];
  /** Shard indexes (1 to N) no report covers, when the reports carry shards. */
  missingShards: number[];
  /** Jobs of the expected list; null without one. */
  expectedJobs: number | null;
  /** Expected jobs in no report (empty without an expected list). */
  missing: MissingJob[];
  /** Destinations in two or more reports. */
  duplicates: DuplicateJob[];
  /** Items whose destination the expected list does not have. */
  unexpected: number;
  /** Items not in the shard their report names (workers ran with different inputs or options). */
  misplaced: number;
  /** Every reason the merge is not a success, one line each, for people. */
  problems: string[];
  /** Remarks that do not fail the merge (unexpected or misplaced items). */
  notes: string[];
}

/** The merged report. */
export interface MergedReport extends Report {
  /** What the merge found. */
  merge: MergeSummary;
}

/** Options for {@linkcode mergeReports}. */
export interface MergeOptions {
  /**
   * The jobs the reports together should hold (the manifest), streamed; each
   * is matched by destination. Without it, jobs missing from every report
   * cannot be detected.
   *
   * @default {undefined}
   */
  expected?: AsyncIterable<Pick<Job, "url" | "dest" | "origin">>;
  /**
   * The merged report's `tool` field.
   *
   * @default {"bulkget"}
   */
  tool?: string;
  /**
   * Most missing and duplicate jobs listed in the summary (the counts in
   * `problems` stay exact).
   *
   * @default {100000}
   */
  maxListed?: number;
}

/** The outcome of a merge. */
export interface MergeResult {
  /** The merged report. */
  report: MergedReport;
  /** 0 when every job of the list succeeded exactly once; 1 otherwise. */
  exitCode: 0 | 1;
}

export { parseReport } from "./parse_report.ts";

/**
 * Merges sharded reports into one and checks the whole: failures, jobs in
 * two reports, missing shards and (given the expected list) missing jobs.
 *
 * @example Usage
 * ```ts
 * import { mergeReports } from "./merge.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const item = (dest: string) => ({
 *   url: `https://example.com/${dest}`, dest, status: "ok" as const,
 *   bytes: 1, sha256: null, attempts: 1, httpStatus: 200, reason: null,
 *   elapsedMs: 1, origin: null,
 * });
 * const report = (dests: string[]) => ({
 *   version: 1, tool: "bulkget", startedAt: "2026-01-01T00:00:00.000Z",
 *   items: dests.map(item), totals: {} as never, elapsedMs: 5,
 *   interrupted: false,
 * });
 * const { report: merged, exitCode } = await mergeReports([
 *   { name: "1.json", report: report(["a", "b"]) },
 *   { name: "2.json", report: report(["b"]) },
 * ]);
 * equal(exitCode, 1);
 * deepEqual(merged.merge.duplicates, [{ dest: "b", reports: ["1.json", "2.json"] }]);
 * ```
 *
 * @param reports The reports, each with its name.
 * @param options The expected jobs; the `tool` field.
 * @returns The merged report and the exit code.
 * @throws {TypeError} When `reports` is not an array.
 */
export async function mergeReports(
  reports: readonly NamedReport[],
  options: MergeOptions = {},
): Promise<MergeResult> {
  if (!Array.isArray(reports)) {
    throw new TypeError(
      `Cannot merge reports: expected an array, got ${typeof reports}`,
    );
  }
  const { expected, tool = "bulkget", maxListed = 100_000 } = options;
  const collected = collectItems(reports, maxListed);
  const shardCheck = checkShards(reports, collected.misplaced);
  const listCheck = expected === undefined
    ? {
      expectedJobs: null,
      missing: [],
      problems: [],
      notes: [],
      unexpected: 0,
    }
    : await checkExpected(expected, collected.where, maxListed);
  const runCheck = checkRuns(reports, collected);
  const problems = [
    ...shardCheck.problems,
    ...listCheck.problems,
    ...runCheck.problems,
  ];
  if (reports.length === 0) problems.push("no reports to merge");
  const { totals, items, duplicates } = collected;
  const startedAt = reports.map(({ report }) => report.startedAt)
    .filter((at) => typeof at === "string").sort()[0] ??
    new Date().toISOString();
  const merged: MergedReport = {
    version: REPORT_VERSION,
    tool,
    startedAt,
    items,
    totals,
    elapsedMs: Math.max(
      0,
      ...reports.map(({ report }) => Number(report.elapsedMs) || 0),
    ),
    interrupted: runCheck.interrupted,
    error: runCheck.error,
    merge: {
      reports: reports.map(({ name }) => name),
      shards: reports.map(({ report }) => report.shard ?? null),
      missingShards: shardCheck.missingShards,
      expectedJobs: listCheck.expectedJobs,
      missing: listCheck.missing,
      duplicates: [...duplicates].map(([dest, holders]) => ({
        dest,
        reports: [...holders].sort((a, b) => a - b).map((i) => reports[i].name),
      })),
      unexpected: listCheck.unexpected,
      misplaced: collected.misplaced,
      problems,
      notes: [...shardCheck.notes, ...listCheck.notes],
    },
  };
  const exitCode = problems.length > 0 || exitCodeFor(totals) !== 0 ? 1 : 0;
  return { report: merged, exitCode };
}

/**
 * The merged report as JSON text, in pieces (one item a line, as a single
 * run's report), so a large report can be written without one huge string.
 *
 * @param report The merged report.
 * @returns The text, piece by piece.
 */
export function* mergedReportText(report: MergedReport): Generator<string> {
  yield `{\n  "version": ${report.version},\n  "tool": ${
    JSON.stringify(report.tool)
  },\n  "startedAt": ${JSON.stringify(report.startedAt)},\n  "items": [`;
  let chunk = "";
  for (const [i, item] of report.items.entries()) {
    chunk += (i === 0 ? "\n    " : ",\n    ") + JSON.stringify(item);
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = "";
    }
  }
  yield chunk;
  yield `${report.items.length === 0 ? "" : "\n  "}],\n  "totals": ${
    JSON.stringify(report.totals)
  },\n  "elapsedMs": ${Math.round(report.elapsedMs * 10) / 10},\n` +
    `  "interrupted": ${report.interrupted},\n  "error": ${
      JSON.stringify(report.error ?? null)
    },\n  "merge": ${
      JSON.stringify(report.merge, null, 2).replaceAll("\n", "\n  ")
    }\n}\n`;
}
