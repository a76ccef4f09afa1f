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
import type { Report, ReportItem } from "./json_report.ts";
import { REPORT_VERSION } from "./json_report.ts";
import { addOutcome, emptyTotals, exitCodeFor, type Totals } from "./tally.ts";
import { type Shard, shardKey, shardOf } from "../source/shard.ts";

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

const STATUSES = new Set([
  "ok",
  "skipped",
  "not_modified",
  "not_found",
  "error",
  "cancelled",
]);

/**
 * Parses a JSON report written by `bulkget get --report` (or by a merge),
 * checking its shape.
 *
 * @example Usage
 * ```ts
 * import { parseReport } from "./merge.ts";
 * import { equal } from "node:assert/strict";
 *
 * const text = JSON.stringify({
 *   version: 1, tool: "bulkget 0.1.0", startedAt: "2026-01-01T00:00:00.000Z",
 *   items: [], totals: {}, elapsedMs: 1, interrupted: false,
 * });
 * equal(parseReport(text, "r.json").items.length, 0);
 * ```
 *
 * @param text The file's text.
 * @param name How the error names it.
 * @returns The report.
 * @throws {TypeError} When it is not JSON or not a version 1 report:
 * `r.json: not a bulkget report: …`.
 */
export function parseReport(text: string, name: string): Report {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TypeError(
      `${name}: not a complete JSON report (${(error as Error).message})`,
      { cause: error },
    );
  }
  const fail = (why: string) =>
    new TypeError(`${name}: not a bulkget report: ${why}`);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail("expected a JSON object");
  }
  const report = value as Report;
  if (report.version !== REPORT_VERSION) {
    throw fail(
      `expected "version": ${REPORT_VERSION}, got ${
        JSON.stringify(report.version)
      }`,
    );
  }
  if (!Array.isArray(report.items)) throw fail(`"items" must be an array`);
  report.items.forEach((item, i) => {
    if (
      typeof item !== "object" || item === null ||
      typeof item.dest !== "string" || typeof item.url !== "string" ||
      !STATUSES.has(item.status)
    ) {
      throw fail(`item ${i + 1} needs "url", "dest" and a known "status"`);
    }
  });
  const shard = report.shard;
  if (
    shard !== undefined &&
    (typeof shard !== "object" || shard === null ||
      !Number.isInteger(shard.index) || !Number.isInteger(shard.count) ||
      shard.index < 1 || shard.index > shard.count)
  ) {
    throw fail(`"shard" must be {"index": K, "count": N} with 1 <= K <= N`);
  }
  return report;
}

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

/** Every report's items, their totals, and where each destination is. */
interface Collected {
  items: ReportItem[];
  totals: Totals;
  /** Key → index of the first report holding it. */
  where: Map<string, number>;
  /** Key → the reports holding it, for keys in two or more (at most `maxListed`). */
  duplicates: Map<string, Set<number>>;
  duplicateCount: number;
  /** Items not in the shard their report names. */
  misplaced: number;
}

/** Reads every item once: totals, holders of each destination, misplaced items. */
function collectItems(
  reports: readonly NamedReport[],
  maxListed: number,
): Collected {
  const collected: Collected = {
    items: [],
    totals: emptyTotals(),
    where: new Map(),
    duplicates: new Map(),
    duplicateCount: 0,
    misplaced: 0,
  };
  const { where, duplicates } = collected;
  for (const [index, { report }] of reports.entries()) {
    const shard = report.shard;
    // Jobs an interrupted run never read have no item: their count carries over.
    collected.totals.not_started += Number(report.totals?.not_started) || 0;
    for (const item of report.items) {
      collected.items.push(item);
      addOutcome(collected.totals, {
        job: { url: item.url, dest: item.dest },
        status: item.status,
        bytes: item.bytes ?? 0,
        attempts: item.attempts ?? 0,
        elapsedMs: 0,
      }, Number(item.transferred) || 0);
      const key = shardKey(item);
      if (shard && shardOf(key, shard.count) !== shard.index) {
        collected.misplaced++;
      }
      const first = where.get(key);
      if (first === undefined) where.set(key, index);
      else if (first !== index) {
        let holders = duplicates.get(key);
        if (holders === undefined) {
          collected.duplicateCount++;
          if (duplicates.size >= maxListed) continue;
          holders = new Set([first]);
          duplicates.set(key, holders);
        }
        holders.add(index);
      }
    }
  }
  return collected;
}

/** Shards: one report per index, one count for all, none missing. */
function checkShards(
  reports: readonly NamedReport[],
  misplaced: number,
): { missingShards: number[]; problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  const missingShards: number[] = [];
  const withShard = reports.filter(({ report }) => report.shard);
  if (withShard.length > 0) {
    const counts = new Set(withShard.map(({ report }) => report.shard!.count));
    if (counts.size > 1) {
      problems.push(
        `the reports disagree on the shard count: ${
          withShard.map(({ name, report }) =>
            `${name} is ${report.shard!.index}/${report.shard!.count}`
          ).join(", ")
        }`,
      );
    } else {
      const count = [...counts][0];
      const seen = new Map<number, string>();
      for (const { name, report } of withShard) {
        const other = seen.get(report.shard!.index);
        if (other !== undefined) {
          problems.push(
            `shard ${
              report.shard!.index
            }/${count} is in two reports: ${other} and ${name}`,
          );
        }
        seen.set(report.shard!.index, name);
      }
      for (let i = 1; i <= count; i++) if (!seen.has(i)) missingShards.push(i);
      if (missingShards.length > 0) {
        problems.push(
          `no report for shard${missingShards.length > 1 ? "s" : ""} ${
            listShards(missingShards, count)
          }`,
        );
      }
    }
    if (withShard.length < reports.length) {
      notes.push(
        `${
          reports.length - withShard.length
        } of the reports come from runs without --shard`,
      );
    }
  }
  if (misplaced > 0) {
    notes.push(
      `${misplaced} items are not in the shard their report names (were the workers given different inputs, --keep-paths, or bulkget versions?)`,
    );
  }
  return { missingShards, problems, notes };
}

/** The expected list: every job in some report, and what the reports hold besides. */
async function checkExpected(
  expected: NonNullable<MergeOptions["expected"]>,
  where: Map<string, number>,
  maxListed: number,
): Promise<{
  expectedJobs: number;
  missing: MissingJob[];
  unexpected: number;
  problems: string[];
  notes: string[];
}> {
  const missing: MissingJob[] = [];
  let missingCount = 0;
  let expectedJobs = 0;
  let unexpected = 0;
  const matched = new Set<string>();
  for await (const job of expected) {
    expectedJobs++;
    const key = shardKey(job);
    if (where.has(key)) {
      matched.add(key);
      continue;
    }
    missingCount++;
    if (missing.length < maxListed) {
      missing.push({
        url: job.url,
        dest: job.dest,
        origin: job.origin ?? null,
      });
    }
  }
  for (const key of where.keys()) if (!matched.has(key)) unexpected++;
  return {
    expectedJobs,
    missing,
    unexpected,
    problems: missingCount > 0
      ? [`${missingCount} of ${expectedJobs} jobs of the list are in no report`]
      : [],
    notes: unexpected > 0
      ? [`${unexpected} destinations in the reports are not in the list`]
      : [],
  };
}

/** What the runs themselves say: duplicates, failures, interruptions, runs cut short. */
function checkRuns(
  reports: readonly NamedReport[],
  collected: Collected,
): { problems: string[]; interrupted: boolean; error: string | null } {
  const problems: string[] = [];
  const { totals, duplicateCount } = collected;
  if (duplicateCount > 0) {
    problems.push(`${duplicateCount} destinations are in two or more reports`);
  }
  const failed = totals.error + totals.not_found + totals.cancelled;
  if (failed > 0) {
    problems.push(
      `${failed} jobs did not succeed (${
        (["error", "not_found", "cancelled"] as const)
          .filter((status) => totals[status] > 0)
          .map((status) => `${totals[status]} ${status}`).join(", ")
      })`,
    );
  }
  const interruptedRuns = reports.filter(({ report }) =>
    report.interrupted === true
  );
  if (interruptedRuns.length > 0) {
    problems.push(
      `interrupted runs: ${interruptedRuns.map(({ name }) => name).join(", ")}`,
    );
  }
  const cutShort = reports.filter(({ report }) =>
    typeof report.error === "string"
  );
  for (const { name, report } of cutShort) {
    problems.push(
      `${name}: its run was cut short (${report.error}); the jobs after that were never read`,
    );
  }
  return {
    problems,
    interrupted: interruptedRuns.length > 0,
    error: cutShort.length === 0
      ? null
      : cutShort.map(({ name, report }) => `${name}: ${report.error}`).join(
        "; ",
      ),
  };
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

function listShards(indexes: number[], count: number): string {
  const shown = indexes.slice(0, 20).map((i) => `${i}/${count}`).join(", ");
  return indexes.length > 20 ? `${shown}, … (${indexes.length} in all)` : shown;
}
