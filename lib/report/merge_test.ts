import { deepEqual, equal, match, ok } from "node:assert/strict";
import type { Report } from "./json_report.ts";
import { mergedReportText, mergeReports } from "./merge.ts";
import { shardOf } from "../source/shard.ts";
import { emptyTotals } from "../outputs/tally.ts";
import { item, report } from "./_test_reports.ts";

/** Destinations split as `--shard K/3` would. */
const DESTS = Array.from({ length: 30 }, (_, i) => `f${i}.bin`);
function shardReport(index: number, count = 3): Report {
  return report(
    DESTS.filter((dest) => shardOf(dest, count) === index).map((d) => item(d)),
    { shard: { index, count }, startedAt: `2026-01-0${index}T00:00:00.000Z` },
  );
}
async function* expected(dests = DESTS) {
  for (const dest of dests) {
    yield { url: `https://example.com/${dest}`, dest, origin: `m:${dest}` };
  }
}

Deno.test("mergeReports: complete shards merge with exit 0", async () => {
  const reports = [1, 2, 3].map((k) => ({
    name: `${k}.json`,
    report: shardReport(k),
  }));
  reports[1].report.elapsedMs = 99;
  const { report: merged, exitCode } = await mergeReports(reports, {
    expected: expected(),
    tool: "bulkget test",
  });
  equal(exitCode, 0);
  equal(merged.items.length, 30);
  equal(merged.totals.ok, 30);
  equal(merged.totals.jobs, 30);
  equal(merged.totals.bytes, 300);
  equal(merged.elapsedMs, 99);
  equal(merged.startedAt, "2026-01-01T00:00:00.000Z");
  equal(merged.tool, "bulkget test");
  equal(merged.shard, undefined);
  deepEqual(
    merged.merge.shards,
    [1, 2, 3].map((index) => ({ index, count: 3 })),
  );
  equal(merged.merge.expectedJobs, 30);
  deepEqual(merged.merge.problems, []);
  deepEqual(merged.merge.notes, []);
});

Deno.test("mergeReports: a missing report is missing jobs and a missing shard", async () => {
  const reports = [1, 3].map((k) => ({
    name: `${k}.json`,
    report: shardReport(k),
  }));
  const lost = DESTS.filter((dest) => shardOf(dest, 3) === 2);
  const withList = await mergeReports(reports, { expected: expected() });
  equal(withList.exitCode, 1);
  deepEqual(withList.report.merge.missingShards, [2]);
  deepEqual(withList.report.merge.missing.map((m) => m.dest), lost);
  equal(withList.report.merge.missing[0].origin, `m:${lost[0]}`);
  match(withList.report.merge.problems.join("\n"), /no report for shard 2\/3/);
  match(
    withList.report.merge.problems.join("\n"),
    new RegExp(`${lost.length} of 30 jobs of the list are in no report`),
  );

  // Without the list, the shard fields still reveal the gap.
  const without = await mergeReports(reports);
  equal(without.exitCode, 1);
  equal(without.report.merge.expectedJobs, null);
  deepEqual(without.report.merge.missing, []);
  deepEqual(without.report.merge.missingShards, [2]);
});

Deno.test("mergeReports: jobs in two reports, failures, interruptions", async () => {
  const twice = await mergeReports([
    { name: "a.json", report: report([item("x"), item("y")]) },
    { name: "b.json", report: report([item("y"), item("z")]) },
    { name: "c.json", report: report([item("y")]) },
  ], { expected: expected(["x", "y", "z"]) });
  equal(twice.exitCode, 1);
  deepEqual(twice.report.merge.duplicates, [
    { dest: "y", reports: ["a.json", "b.json", "c.json"] },
  ]);
  match(
    twice.report.merge.problems[0],
    /^1 destination is in two or more reports$/,
  );

  // A duplicate inside one report is that run's own (already failed) job.
  const within = await mergeReports([{
    name: "a.json",
    report: report([item("x"), item("x", "error")]),
  }]);
  deepEqual(within.report.merge.duplicates, []);
  equal(within.exitCode, 1);

  const failed = await mergeReports([
    { name: "a.json", report: report([item("x"), item("y", "not_found")]) },
    { name: "b.json", report: report([item("z", "error")]) },
  ]);
  equal(failed.exitCode, 1);
  deepEqual(failed.report.merge.problems, [
    "2 jobs did not succeed (1 error, 1 not_found)",
  ]);
  equal(failed.report.totals.error, 1);
  equal(failed.report.totals.not_found, 1);
  equal(failed.report.totals.retries, 4);

  const skipped = await mergeReports([
    { name: "a.json", report: report([item("x", "skipped")]) },
  ]);
  equal(skipped.exitCode, 0);

  const interrupted = await mergeReports([
    { name: "a.json", report: report([item("x")], { interrupted: true }) },
  ]);
  equal(interrupted.exitCode, 1);
  equal(interrupted.report.interrupted, true);
  match(interrupted.report.merge.problems[0], /interrupted runs: a\.json/);

  // Jobs an interrupted run never read have no item: their count carries over.
  const unread = await mergeReports([
    {
      name: "a.json",
      report: report([item("x")], {
        interrupted: true,
        totals: { ...emptyTotals(), ok: 1, jobs: 1, not_started: 7 },
      }),
    },
    { name: "b.json", report: report([item("y")]) },
  ]);
  equal(unread.exitCode, 1);
  equal(unread.report.totals.not_started, 7);

  equal((await mergeReports([])).exitCode, 1);
});

Deno.test("mergeReports: shard counts that disagree, a shard twice, misplaced and unexpected items", async () => {
  const mixed = await mergeReports([
    { name: "a.json", report: shardReport(1, 3) },
    { name: "b.json", report: shardReport(2, 4) },
  ]);
  equal(mixed.exitCode, 1);
  match(
    mixed.report.merge.problems[0],
    /disagree on the shard count: a\.json is 1\/3, b\.json is 2\/4/,
  );

  const again = await mergeReports([
    { name: "a.json", report: shardReport(1, 2) },
    { name: "b.json", report: shardReport(1, 2) },
  ]);
  equal(again.exitCode, 1);
  match(
    again.report.merge.problems.join("\n"),
    /shard 1\/2 is in two reports: a\.json and b\.json/,
  );
  match(again.report.merge.problems.join("\n"), /no report for shard 2\/2/);

  // Items in the wrong shard and not in the list are notes, not failures.
  const odd = await mergeReports([{
    name: "a.json",
    report: report([...DESTS, "extra"].map((d) => item(d)), {
      shard: { index: 1, count: 1 },
    }),
  }], { expected: expected() });
  equal(odd.exitCode, 0);
  equal(odd.report.merge.unexpected, 1);
  match(
    odd.report.merge.notes.join("\n"),
    /^1 destination in the reports is not in the list$/,
  );
  const wrong = await mergeReports([{
    name: "a.json",
    report: report([item("f0.bin"), item("f1.bin"), item("f2.bin")], {
      shard: { index: 1, count: 2 },
    }),
  }, {
    name: "b.json",
    report: report([], { shard: { index: 2, count: 2 } }),
  }]);
  const misplaced = wrong.report.merge.misplaced;
  ok(misplaced > 1);
  match(
    wrong.report.merge.notes[0],
    new RegExp(`^${misplaced} items are not in the shard their report names`),
  );
  // One misplaced item is told in the singular.
  const inShard2 = ["f0.bin", "f1.bin", "f2.bin"].find((d) =>
    shardOf(d, 2) === 2
  )!;
  const single = await mergeReports([{
    name: "a.json",
    report: report([item(inShard2)], { shard: { index: 1, count: 2 } }),
  }, {
    name: "b.json",
    report: report([], { shard: { index: 2, count: 2 } }),
  }]);
  equal(single.report.merge.misplaced, 1);
  match(
    single.report.merge.notes[0],
    /^1 item is not in the shard its report names/,
  );
});

Deno.test("mergedReportText is the merged report as JSON, one item a line", async () => {
  const { report: merged } = await mergeReports(
    [1, 2, 3].map((k) => ({ name: `${k}.json`, report: shardReport(k) })),
  );
  const text = [...mergedReportText(merged)].join("");
  deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(merged)));
  equal(text.split("\n").filter((l) => l.startsWith('    {"url"')).length, 30);
  const empty = await mergeReports([{ name: "e.json", report: report([]) }]);
  deepEqual(
    JSON.parse([...mergedReportText(empty.report)].join("")).items,
    [],
  );
});

Deno.test("mergeReports: a report cut short by an input error never merges as a success", async () => {
  const reports = [1, 2, 3].map((k) => ({
    name: `r${k}.json`,
    report: k === 2
      ? { ...shardReport(k), error: "list.txt:301: not an http(s) URL" }
      : shardReport(k),
  }));
  const { report: merged, exitCode } = await mergeReports(reports);
  equal(exitCode, 1);
  ok(
    merged.merge.problems.some((p) =>
      p.startsWith("r2.json: its run was cut short (list.txt:301:")
    ),
    merged.merge.problems.join("\n"),
  );
  equal(merged.error, "r2.json: list.txt:301: not an http(s) URL");
  const text = [...mergedReportText(merged)].join("");
  equal(JSON.parse(text).error, "r2.json: list.txt:301: not an http(s) URL");
});

Deno.test("mergeReports: the runs' retries carry over, a --split range's included (no item's attempts count those)", async () => {
  // Run a: one job tried twice; its totals also count 3 retries of ranges.
  const a = report([{ ...item("a"), attempts: 2 }]);
  a.totals = { ...emptyTotals(), ok: 1, jobs: 1, retries: 4 };
  const b = report([{ ...item("b"), attempts: 3 }]);
  b.totals = { ...emptyTotals(), ok: 1, jobs: 1, retries: 2 };
  const merged = await mergeReports([
    { name: "a.json", report: a },
    { name: "b.json", report: b },
  ]);
  equal(merged.report.totals.retries, 6);
});

Deno.test("mergeReports: past maxListed a destination in three reports still counts once", async () => {
  const three = (dests: string[]) =>
    ["a", "b", "c"].map((name) => ({
      name: `${name}.json`,
      report: report(dests.map((dest) => item(dest))),
    }));
  const { report: merged } = await mergeReports(three(["y", "w"]), {
    maxListed: 1,
  });
  deepEqual(merged.merge.duplicates, [
    { dest: "y", reports: ["a.json", "b.json", "c.json"] },
  ]);
  deepEqual(merged.merge.problems, [
    "2 destinations are in two or more reports",
  ]);
});

Deno.test("mergeReports: missing shards are listed up to 20, then counted; reports without a shard are noted", async () => {
  const many = await mergeReports([
    { name: "1.json", report: report([], { shard: { index: 1, count: 25 } }) },
    { name: "plain.json", report: report([]) },
  ]);
  const missing = Array.from({ length: 20 }, (_, i) => `${i + 2}/25`);
  deepEqual(many.report.merge.problems, [
    `no report for shards ${missing.join(", ")}, … (24 in all)`,
  ]);
  equal(many.report.merge.missingShards.length, 24);
  deepEqual(many.report.merge.notes, [
    "1 of the reports comes from a run without --shard",
  ]);
  const twoPlain = await mergeReports([
    { name: "1.json", report: report([], { shard: { index: 1, count: 1 } }) },
    { name: "p.json", report: report([]) },
    { name: "q.json", report: report([]) },
  ]);
  deepEqual(twoPlain.report.merge.notes, [
    "2 of the reports come from runs without --shard",
  ]);
  const one = await mergeReports([
    { name: "1.json", report: report([], { shard: { index: 1, count: 2 } }) },
  ]);
  deepEqual(one.report.merge.problems, ["no report for shard 2/2"]);
});
