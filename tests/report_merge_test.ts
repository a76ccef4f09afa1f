import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import type { Report, ReportItem } from "../lib/report/json_report.ts";
import {
  type MergedReport,
  mergedReportText,
  mergeReports,
  parseReport,
} from "../lib/report/merge.ts";
import { shardOf } from "../lib/source/shard.ts";
import { emptyTotals } from "../lib/outputs/tally.ts";
import { startServer } from "../lib/server/server.ts";
import { runBulkget } from "./_helpers.ts";

function item(dest: string, status: ReportItem["status"] = "ok"): ReportItem {
  return {
    url: `https://example.com/${dest}`,
    dest,
    status,
    bytes: status === "ok" ? 10 : 0,
    sha256: null,
    attempts: status === "ok" ? 1 : 3,
    httpStatus: status === "ok" ? 200 : 503,
    reason: status === "ok" ? null : "HTTP error 503",
    elapsedMs: 1,
    origin: null,
  };
}

function report(
  items: ReportItem[],
  extra: Partial<Report> = {},
): Report {
  return {
    version: 1,
    tool: "bulkget 0.1.0",
    startedAt: "2026-01-01T00:00:00.000Z",
    items,
    totals: emptyTotals(),
    elapsedMs: 10,
    interrupted: false,
    ...extra,
  };
}

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
  ok(wrong.report.merge.misplaced > 0);
  match(wrong.report.merge.notes[0], /not in the shard their report names/);
});

Deno.test("parseReport refuses what is not a complete version 1 report", () => {
  const good = JSON.stringify(
    report([item("x")], { shard: { index: 1, count: 2 } }),
  );
  equal(parseReport(good, "r.json").items.length, 1);
  const bad: [string, RegExp][] = [
    [good.slice(0, -20), /^r\.json: not a complete JSON report/],
    ["[]", /expected a JSON object/],
    [
      JSON.stringify({ ...report([]), version: 2 }),
      /expected "version": 1, got 2/,
    ],
    [JSON.stringify({ ...report([]), items: {} }), /"items" must be an array/],
    [
      JSON.stringify(report([{ ...item("x"), status: "fine" as never }])),
      /item 1 needs/,
    ],
    [
      JSON.stringify(report([], { shard: { index: 3, count: 2 } })),
      /"shard" must be/,
    ],
  ];
  for (const [text, message] of bad) {
    throws(() => parseReport(text, "r.json"), { name: "TypeError", message });
  }
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

Deno.test("bulkget report merge: usage errors exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bulkget-merge-" });
  try {
    await Deno.writeTextFile(`${dir}/r.json`, JSON.stringify(report([])));
    const cases: [string[], RegExp][] = [
      [["report"], /give a subcommand/],
      [["report", "split"], /unknown subcommand "split"/],
      [["report", "merge"], /no reports to merge/],
      [["report", "merge", "nope.json"], /nope\.json: no such file/],
      [["report", "merge", "r.json", "--bogus"], /unknown option --bogus$/m],
      [
        ["report", "merge", "r.json", "--manifest", "no.jsonl"],
        /no\.jsonl: no such file/,
      ],
    ];
    const results = await Promise.all(
      cases.map(([args]) => runBulkget(args, { cwd: dir })),
    );
    for (const [i, result] of results.entries()) {
      equal(result.code, 2, `${cases[i][0].join(" ")}: ${result.stderr}`);
      match(result.stderr, cases[i][1]);
      match(result.stderr, /usage: bulkget report merge/);
    }
    const help = await runBulkget(["report", "merge", "-h"], { cwd: dir });
    equal(help.code, 0);
    match(help.stdout, /--manifest FILE/);
    match((await runBulkget(["report", "-h"], { cwd: dir })).stdout, /merge/);
    match(
      (await runBulkget(["-h"], { cwd: dir })).stdout,
      /bulkget report merge/,
    );
    const denied = await runBulkget(["report", "merge", "r.json"], {
      cwd: dir,
      permissions: [],
    });
    equal(denied.code, 2);
    match(denied.stderr, /--allow-read=r\.json/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "bulkget report merge over real sharded runs: complete, missing, twice, failed, broken",
  sanitizeResources: false,
  async fn() {
    await using server = await startServer({ alt: false });
    const dir = await Deno.makeTempDir({ prefix: "bulkget-merge-" });
    try {
      const manifest = `${dir}/m.jsonl`;
      const lines = Array.from({ length: 40 }, (_, i) =>
        JSON.stringify({
          url: `${server.url}/files/1k/n${i}.bin`,
          dest: `d/n${i}.bin`,
        }));
      // One job that fails: a flag that does not exist.
      lines.push(JSON.stringify({
        url: `${server.url}/flags/zz/zz.gif`,
        dest: "zz.gif",
      }));
      await Deno.writeTextFile(manifest, lines.join("\n") + "\n");
      const runs = await Promise.all([1, 2, 3].map((k) =>
        runBulkget([
          "get",
          "--manifest",
          manifest,
          "--shard",
          `${k}/3`,
          "-q",
          "-o",
          "out",
          "--report",
          `r${k}.json`,
        ], { cwd: dir })
      ));
      const failing = shardOf("zz.gif", 3);
      for (const [i, run] of runs.entries()) {
        equal(run.code, i + 1 === failing ? 1 : 0, run.stderr);
      }
      equal(server.stats().requests, 41);
      const merge = (...args: string[]) =>
        runBulkget(["report", "merge", ...args], { cwd: dir });

      // All three: one job failed → 1, and the report says so.
      const all = await merge(
        "r1.json",
        "r2.json",
        "r3.json",
        "--manifest",
        manifest,
        "-o",
        "all.json",
      );
      equal(all.code, 1, all.stderr);
      match(
        all.stdout,
        /3 reports \(of 3 shards\), 41 jobs \(the list has 41\): 40 downloaded, 1 not found/,
      );
      match(all.stderr, /: 1 job did not succeed \(1 not_found\)$/m);
      const merged: MergedReport = JSON.parse(
        await Deno.readTextFile(`${dir}/all.json`),
      );
      equal(merged.totals.jobs, 41);
      equal(merged.totals.ok, 40);
      equal(merged.totals.bytes, 40 * 1024);

      // Drop the failing job from the list and its item: exit 0.
      const okOnly = lines.slice(0, 40).join("\n") + "\n";
      await Deno.writeTextFile(`${dir}/ok.jsonl`, okOnly);
      const fixed: Report = JSON.parse(
        await Deno.readTextFile(`${dir}/r${failing}.json`),
      );
      fixed.items = fixed.items.filter((i) => i.dest !== "zz.gif");
      await Deno.writeTextFile(
        `${dir}/r${failing}.json`,
        JSON.stringify(fixed),
      );
      const good = await merge(
        "r1.json",
        "r2.json",
        "r3.json",
        "--manifest",
        "ok.jsonl",
      );
      equal(good.code, 0, good.stderr);
      match(good.stdout, /every job of the list succeeded once/);

      // A directory stands for its reports.
      await Deno.mkdir(`${dir}/reports`);
      for (const k of [1, 2, 3]) {
        await Deno.copyFile(`${dir}/r${k}.json`, `${dir}/reports/r${k}.json`);
      }
      equal(
        (await merge(
          "reports",
          "--manifest",
          "ok.jsonl",
          "-o",
          "reports/merged.json",
        )).code,
        0,
      );
      equal(
        (await merge(
          "reports",
          "--manifest",
          "ok.jsonl",
          "-o",
          "reports/merged.json",
        )).code,
        0,
      );

      // Without the list, a missing report is still seen from the shards.
      const two = await merge("r1.json", "r3.json");
      equal(two.code, 1);
      match(two.stderr, /no report for shard 2\/3/);
      match(
        two.stdout,
        /without --manifest\/-i, jobs missing from every report cannot be detected/,
      );
      const twoListed = await merge(
        "r1.json",
        "r3.json",
        "--manifest",
        "ok.jsonl",
      );
      equal(twoListed.code, 1);
      match(twoListed.stderr, /jobs of the list are in no report/);
      match(twoListed.stderr, /missing: d\/n\d+\.bin \(ok\.jsonl:\d+\)/);

      // The same report twice: every job ran twice.
      const twice = await merge("r1.json", "r1.json", "r2.json", "r3.json");
      equal(twice.code, 1);
      match(twice.stderr, /shard 1\/3 is in two reports/);
      match(twice.stderr, /destinations are in two or more reports/);

      // A truncated report (a worker killed mid-run) counts as missing jobs.
      const text = await Deno.readTextFile(`${dir}/r2.json`);
      await Deno.writeTextFile(
        `${dir}/cut.json`,
        text.slice(0, text.length / 2),
      );
      const cut = await merge(
        "r1.json",
        "cut.json",
        "r3.json",
        "--manifest",
        "ok.jsonl",
      );
      equal(cut.code, 1);
      match(
        cut.stderr,
        /cut\.json: not a complete JSON report .*: its jobs count as missing/,
      );
      match(cut.stderr, /no report for shard 2\/3/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
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

Deno.test("bulkget report merge: shards cut short by a bad line exit 1, even without the list", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir({ prefix: "bulkget-merge-" });
  // 20 good lines, then one bad one: every shard stops at line 21.
  const lines = Array.from(
    { length: 20 },
    (_, i) => `${server.url}/files/10/n${i}.bin`,
  );
  lines.push("not-a-url", `${server.url}/files/10/late.bin`);
  await Deno.writeTextFile(`${dir}/list.txt`, lines.join("\n") + "\n");
  await Deno.mkdir(`${dir}/reports`);
  for (const k of [1, 2, 3]) {
    const run = await runBulkget([
      "get",
      "-i",
      "list.txt",
      "--shard",
      `${k}/3`,
      "-q",
      "-o",
      "out",
      "--report",
      `reports/r${k}.json`,
    ], { cwd: dir });
    equal(run.code, 2, run.stderr);
  }
  const merge = await runBulkget(
    ["report", "merge", "reports", "-o", "reports/merged.json"],
    { cwd: dir },
  );
  equal(merge.code, 1, merge.stdout);
  match(merge.stderr, /r1\.json: its run was cut short \(list\.txt:21: /);
  ok(!merge.stdout.includes("succeeded once"), merge.stdout);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bulkget report merge DIR -o NAME never reads its own earlier output back, however -o is spelled", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir({ prefix: "bulkget-merge-" });
  const lines = Array.from(
    { length: 20 },
    (_, i) => `${server.url}/files/10/n${i}.bin`,
  );
  await Deno.mkdir(`${dir}/reports`);
  for (const k of [1, 2, 3]) {
    const run = await runBulkget([
      "get",
      ...lines.slice(0, 20),
      "--shard",
      `${k}/3`,
      "-q",
      "-o",
      "out2",
      "--report",
      `reports/r${k}.json`,
    ], { cwd: dir });
    equal(run.code, 0, run.stderr);
  }
  for (const round of [1, 2]) {
    const again = await runBulkget(
      ["report", "merge", ".", "-o", "merged.json"],
      { cwd: `${dir}/reports` },
    );
    equal(again.code, 0, `round ${round}: ${again.stderr}`);
    match(again.stdout, /3 reports \(of 3 shards\), 20 jobs/);
    match(again.stdout, /every job in the reports succeeded once/);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bulkget report merge: a list cut at 10 lines says how many more there are", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bulkget-merge-" });
  const dests = Array.from({ length: 12 }, (_, i) => `d${i}.bin`);
  const a = report(dests.map((d) => item(d)));
  const b = report(dests.map((d) => item(d)));
  for (const r of [a, b]) r.totals = { ...emptyTotals(), ok: 12, jobs: 12 };
  b.interrupted = true; // one more problem, printed after the list
  await Deno.writeTextFile(`${dir}/a.json`, JSON.stringify(a));
  await Deno.writeTextFile(`${dir}/b.json`, JSON.stringify(b));
  const run = await runBulkget(["report", "merge", "a.json", "b.json"], {
    cwd: dir,
  });
  equal(run.code, 1, run.stderr);
  match(
    run.stderr,
    /^bulkget report merge: 12 destinations are in two or more reports$/m,
  );
  const lines = run.stderr.trimEnd().split("\n");
  const listed = lines.filter((l) => l.startsWith("  in "));
  equal(listed.length, 10);
  // Each list follows its own line, not the last problem's.
  const at = lines.findIndex((l) => l.endsWith("in two or more reports"));
  deepEqual(lines.slice(at + 1, at + 11), listed);
  match(lines.at(-1)!, /^bulkget report merge: interrupted runs: b\.json$/);
  match(
    run.stderr,
    /^ {2}… and 2 more, listed in the merged report \(-o FILE\)$/m,
  );
  await Deno.remove(dir, { recursive: true });
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
