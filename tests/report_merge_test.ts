import { deepEqual, equal, match, ok } from "node:assert/strict";
import type { Report } from "../lib/report/json_report.ts";
import type { MergedReport } from "../lib/report/merge.ts";
import { shardOf } from "../lib/source/shard.ts";
import { emptyTotals } from "../lib/outputs/tally.ts";
import { startServer } from "../lib/server/server.ts";
import { runBulkget } from "./_helpers.ts";
import { item, report } from "../lib/report/_test_reports.ts";

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

Deno.test("bulkget report merge: the counts line says '1 report', '1 job' and '1 shard' in the singular", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bulkget-merge-" });
  try {
    await Deno.writeTextFile(
      `${dir}/one.json`,
      JSON.stringify(
        report([item("a.bin")], { shard: { index: 1, count: 1 } }),
      ),
    );
    await Deno.writeTextFile(
      `${dir}/two.json`,
      JSON.stringify(report([item("b.bin"), item("c.bin")])),
    );
    const one = await runBulkget(["report", "merge", "one.json"], { cwd: dir });
    equal(one.code, 0, one.stderr);
    match(
      one.stdout,
      /^bulkget report merge: 1 report \(of 1 shard\), 1 job: 1 downloaded; 10 B in complete files$/m,
    );
    const two = await runBulkget(["report", "merge", "two.json"], { cwd: dir });
    equal(two.code, 0, two.stderr);
    match(
      two.stdout,
      /^bulkget report merge: 1 report, 2 jobs: 2 downloaded; 20 B in complete files$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bulkget report merge: the counts line calls the files' size what it is, apart from the bytes received", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bulkget-merge-" });
  try {
    // A rerun: one file fetched now, two already complete from before.
    const fetched = { ...item("a.bin"), transferred: 10 };
    const kept = [item("b.bin"), item("c.bin")].map((i) => ({
      ...i,
      status: "skipped" as const,
      transferred: 0,
    }));
    await Deno.writeTextFile(
      `${dir}/r.json`,
      JSON.stringify(report([fetched, ...kept])),
    );
    const result = await runBulkget(["report", "merge", "r.json"], {
      cwd: dir,
    });
    equal(result.code, 0, result.stderr);
    match(
      result.stdout,
      /^bulkget report merge: 1 report, 3 jobs: 1 downloaded, 2 already complete; 30 B in complete files, 10 B received$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
