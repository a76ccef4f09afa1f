/**
 * What a merge of shard reports checks, one function per question: every
 * item read once (totals, where each destination is, duplicates), the
 * shards (one report each, one count, none missing), the expected list
 * (every job in some report) and the runs themselves (failures,
 * interruptions, runs cut short). `merge.ts` puts the answers together.
 *
 * @module
 */

import type { ReportItem } from "./json_report.ts";
import type { MergeOptions, MissingJob, NamedReport } from "./merge.ts";
import { addOutcome, emptyTotals, type Totals } from "../outputs/tally.ts";
import { plural } from "../outputs/format.ts";
import { shardKey, shardOf } from "../source/shard.ts";

/** Every report's items, their totals, and where each destination is. */
export interface Collected {
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
export function collectItems(
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
  const unlisted = new Set<string>();
  for (const [index, { report }] of reports.entries()) {
    const shard = report.shard;
    // Jobs an interrupted run never read have no item: their count carries over.
    collected.totals.not_started += Number(report.totals?.not_started) || 0;
    // So do the retries of --split ranges, which no item's attempts count.
    const retriesBefore = collected.totals.retries;
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
          // Past the list's limit a key is remembered only to count it once.
          if (unlisted.has(key)) continue;
          collected.duplicateCount++;
          if (duplicates.size >= maxListed) {
            unlisted.add(key);
            continue;
          }
          holders = new Set([first]);
          duplicates.set(key, holders);
        }
        holders.add(index);
      }
    }
    const itemRetries = collected.totals.retries - retriesBefore;
    collected.totals.retries += Math.max(
      0,
      (Number(report.totals?.retries) || 0) - itemRetries,
    );
  }
  return collected;
}

/** Shards: one report per index, one count for all, none missing. */
export function checkShards(
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
      const plain = reports.length - withShard.length;
      notes.push(
        plain === 1
          ? "1 of the reports comes from a run without --shard"
          : `${plain} of the reports come from runs without --shard`,
      );
    }
  }
  if (misplaced > 0) {
    notes.push(
      `${
        misplaced === 1
          ? "1 item is not in the shard its report names"
          : `${misplaced} items are not in the shard their report names`
      } (were the workers given different inputs, --keep-paths, or bulkget versions?)`,
    );
  }
  return { missingShards, problems, notes };
}

/** The expected list: every job in some report, and what the reports hold besides. */
export async function checkExpected(
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
    // `bulkget report merge` lists the jobs after the line ending so.
    problems: missingCount > 0
      ? [
        `${missingCount} of ${expectedJobs} jobs of the list ${
          missingCount === 1 ? "is" : "are"
        } in no report`,
      ]
      : [],
    notes: unexpected > 0
      ? [
        `${plural(unexpected, "destination")} in the reports ${
          unexpected === 1 ? "is" : "are"
        } not in the list`,
      ]
      : [],
  };
}

/** What the runs themselves say: duplicates, failures, interruptions, runs cut short. */
export function checkRuns(
  reports: readonly NamedReport[],
  collected: Collected,
): { problems: string[]; interrupted: boolean; error: string | null } {
  const problems: string[] = [];
  const { totals, duplicateCount } = collected;
  if (duplicateCount > 0) {
    // `bulkget report merge` lists the jobs after the line ending so.
    problems.push(
      `${plural(duplicateCount, "destination")} ${
        duplicateCount === 1 ? "is" : "are"
      } in two or more reports`,
    );
  }
  const failed = totals.error + totals.not_found + totals.cancelled;
  if (failed > 0) {
    problems.push(
      `${plural(failed, "job")} did not succeed (${
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

function listShards(indexes: number[], count: number): string {
  const shown = indexes.slice(0, 20).map((i) => `${i}/${count}`).join(", ");
  return indexes.length > 20 ? `${shown}, … (${indexes.length} in all)` : shown;
}
