/**
 * After a Ctrl-C every job of a list is accounted for, in the summary, the
 * report and the --log file's last line: downloaded, failed, interrupted, or
 * not started (never read, counted from the list: up front when status lines
 * show the total, after the Ctrl-C with `-q`).
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import type { Report } from "../lib/report/json_report.ts";
import { shardOf } from "../lib/source/shard.ts";
import { bulkgetCommand } from "./_helpers.ts";

/** Waits (bounded: 20 s) until `dir` holds at least `count` complete `.bin` files. */
async function waitForFiles(dir: string, count: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    if (names.filter((n) => n.endsWith(".bin")).length >= count) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${dir} never held ${count} files`);
}

/** The number before `word` in the summary line, or 0. */
function countOf(summary: string, word: string): number {
  const match = summary.match(new RegExp(`(\\d+) ${word}`));
  return match ? Number(match[1]) : 0;
}

const JOBS = 200;

/**
 * Runs `get` over a 200-line list at 2 downloads at once against a slow
 * server, sends SIGINT once 3 files are done, and checks that the summary
 * and the report account for `expected` jobs (and the `--log` file, unless
 * `withLog` is false: a log shows the total, so it is counted up front).
 */
async function interruptList(
  extraArgs: string[],
  expected: (dests: string[]) => number,
  withLog = true,
): Promise<void> {
  await using server = await startServer({
    faults: { latency: { rate: 1, ms: 200 } },
    alt: false,
  });
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/out`);
  const stepSummary = `${cwd}/step-summary.md`;
  await Deno.writeTextFile(stepSummary, "");
  const dests = Array.from({ length: JOBS }, (_, i) => `f${i}.bin`);
  await Deno.writeTextFile(
    `${cwd}/list.txt`,
    dests.map((dest) => `${server.url}/files/100/${dest}`).join("\n") + "\n",
  );
  const child = bulkgetCommand(
    [
      "get",
      "-i",
      "list.txt",
      "-o",
      "out",
      "-m",
      "2",
      "--report",
      "r.json",
      ...(withLog ? ["--log", "run.log"] : []),
      ...extraArgs,
    ],
    {
      cwd,
      env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: stepSummary },
    },
  ).spawn();
  await waitForFiles(`${cwd}/out`, 3);
  child.kill("SIGINT");
  const result = await child.output();
  const stdout = new TextDecoder().decode(result.stdout);
  assert.equal(result.code, 130, new TextDecoder().decode(result.stderr));
  const summary = stdout.match(/^bulkget: .*$/m)?.[0] ?? "";
  const downloaded = countOf(summary, "downloaded");
  const interrupted = countOf(summary, "interrupted");
  const notStarted = countOf(summary, "not started");
  assert.ok(downloaded >= 3, summary);
  assert.ok(notStarted > 0, summary);
  assert.equal(downloaded + interrupted + notStarted, expected(dests), summary);

  const report = JSON.parse(
    await Deno.readTextFile(`${cwd}/r.json`),
  ) as Report;
  assert.equal(report.interrupted, true);
  assert.equal(report.totals.ok, downloaded);
  assert.equal(report.totals.cancelled, interrupted);
  assert.equal(report.totals.not_started, notStarted);
  assert.equal(report.items.length, report.totals.jobs);
  assert.equal(
    report.totals.jobs + report.totals.not_started,
    expected(dests),
  );
  assert.match(
    await Deno.readTextFile(stepSummary),
    new RegExp(
      `^${notStarted} jobs not started \\(the run was stopped before reading them\\)$`,
      "m",
    ),
    "the GitHub step summary says it too",
  );
  if (!withLog) return;
  const log = (await Deno.readTextFile(`${cwd}/run.log`)).trimEnd();
  // Every interrupted job has its line, as the summary words it.
  assert.equal(
    log.match(/ INTERRUPTED f\d+\.bin \(\S+ \S+ received\)$/gm)?.length ?? 0,
    interrupted,
    log,
  );
  const counts = summary.slice("bulkget: ".length, summary.indexOf(";"));
  assert.ok(
    log.split("\n").at(-1)!.includes(`[bulkget] finished: ${counts};`),
    `the log's last line says what the summary says: ${counts}`,
  );
}

Deno.test("Ctrl-C during a 200-line list: downloaded + interrupted + not started = 200, in the summary and the report", async () => {
  await interruptList([], () => JOBS);
});

Deno.test("Ctrl-C during a 200-line list with --shard 1/2: the sum is the jobs this shard keeps", async () => {
  await interruptList(
    ["--shard", "1/2"],
    (dests) => dests.filter((dest) => shardOf(dest, 2) === 1).length,
  );
});

Deno.test("Ctrl-C with -q (no total shown, the list counted after the Ctrl-C): the sum is still 200", async () => {
  await interruptList(["-q"], () => JOBS, false);
});

Deno.test("Ctrl-C with -q and --shard 1/2: the sum is the jobs this shard keeps", async () => {
  await interruptList(
    ["-q", "--shard", "1/2"],
    (dests) => dests.filter((dest) => shardOf(dest, 2) === 1).length,
    false,
  );
});
