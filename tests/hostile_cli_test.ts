// The hostile answers of the property test (tests/_hostile_answers.ts), sent
// to the command line rather than the engine: `bulkget get` of a list
// (whole files, resumed ones, --split), with either client, and what it
// says about the run checked against what it did and what the server sent:
//
// - every file under its final name is an OK item of the report with the
//   exact bytes of a complete, well-framed 200 (its size and SHA-256 those
//   of the report), and a failed item has no final name;
// - the exit code is 0 when every item is OK, else 1;
// - the report's totals add up its items (counts, bytes on disk, bytes
//   received), and the summary line says the same numbers;
// - no item counts more body bytes received than the server sent for it
//   (heads included: an upper bound), nor, from an empty directory, fewer
//   than its file holds; the retries are the attempts after each job's
//   first (a split's ranges retry on their own too). Not the requests the
//   server saw: a redirect is followed within an attempt, and an attempt
//   can time out before the server reads its request.
//
// The same answers to `bulkget flags` (the book's lines): each file it
// names OK is there with the exact bytes, each other has no final name, the
// counts it prints are those, and its exit code is 1 only with errors.
//
// Fixed seeds, loopback only, bounded by short deadlines. A wider sweep,
// outside the suite: SEEDS=40 SEED0=100 deno test -A tests/hostile_cli_test.ts
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  filesOf,
  hostileAnswer,
  type JobRecord,
  type Mode,
} from "./_hostile_answers.ts";
import { scriptedServer } from "./_scripted_server.ts";
import { runBulkget } from "./_helpers.ts";
import type { Report } from "../lib/report/json_report.ts";

const SEEDS = Deno.env.get("SEEDS")
  ? Array.from(
    { length: Number(Deno.env.get("SEEDS")) },
    (_, i) => i + Number(Deno.env.get("SEED0") ?? 1),
  )
  : [7, 12];
const JOBS = 8;
const CLIENTS = [["own client", []], ["--use-fetch", ["--use-fetch"]]] as const;

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function readIfThere(path: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Formats bytes as the summary does, for the few sizes compared here. */
function summaryNumbers(stdout: string) {
  const line = /^bulkget: (.*)$/m.exec(stdout)?.[1] ?? "";
  const count = (what: string) =>
    Number(new RegExp(`(\\d+) ${what}`).exec(line)?.[1] ?? 0);
  return {
    line,
    ok: count("downloaded"),
    failed: count("failed"),
    notFound: count("not found"),
    retries: Number(/; (\d+) retr(y|ies)$/.exec(line)?.[1] ?? 0),
  };
}

/** What breaks the rules above in one seed's run, one line each. */
async function runSeed(
  seed: number,
  mode: Mode,
  flags: readonly string[],
): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "bulkget-hostile-cli-" });
  const out = `${dir}/out`;
  const records: JobRecord[] = filesOf(seed, mode, JOBS, [2 << 20, 3 << 20])
    .map((file) => ({
      file,
      acceptable: [file.bytes],
      answers: [],
      honest: true,
    }));
  const asks = new Map<string, number>();
  const sentBytes = new Array<number>(JOBS).fill(0);
  await using server = scriptedServer((n) => {
    const head = server.requests[n];
    const j = Number(/^GET \/f(\d+)/.exec(head)![1]);
    const answer = hostileAnswer(seed, mode, records, asks, head);
    sentBytes[j] += answer.send.length + (answer.later?.send.length ?? 0);
    return answer;
  });
  await Deno.writeTextFile(
    `${dir}/list.txt`,
    records.map((_, j) => `${server.url}/f${j}.bin\n`).join(""),
  );
  const result = await runBulkget([
    "get",
    Deno.env.get("SHOW") ? "-v" : "-q",
    "-i",
    `${dir}/list.txt`,
    "-o",
    out,
    "--report",
    `${dir}/report.json`,
    "-m",
    "4",
    "--retries",
    "3",
    "--connect-timeout",
    "0.5",
    "--idle-timeout",
    "0.3",
    ...(mode === "split" ? ["--split", "3", "--min-split-size", "1M"] : []),
    ...flags,
  ]);
  const found: string[] = [];
  const say = (what: string) => found.push(`seed ${seed}: ${what}`);
  if (Deno.env.get("SHOW")) console.log(result.stdout, result.stderr);
  let report: Report;
  try {
    report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
  } catch (error) {
    say(`no report (${error}); exit ${result.code}: ${result.stderr}`);
    return found;
  }
  const items = report.items;
  const allOk = items.every((item) => item.status === "ok");
  if (result.code !== (allOk ? 0 : 1)) {
    say(`exit ${result.code} with ${allOk ? "every" : "not every"} item OK`);
  }
  if (items.length !== JOBS) say(`${items.length} items for ${JOBS} jobs`);
  let onDisk = 0;
  for (const item of items) {
    const j = Number(/f(\d+)\.bin$/.exec(item.dest)![1]);
    const record = records[j];
    const tell = (what: string) =>
      say(
        `job ${j} (${item.status} ${item.code ?? ""} ${
          item.reason ?? ""
        }): ${what}; answers: ${record.answers.join(" | ")}`,
      );
    const final = readIfThere(`${out}/f${j}.bin`);
    if (item.status === "ok") {
      if (!final) tell("OK without a file");
      else {
        onDisk += final.length;
        if (!record.acceptable.some((body) => same(body, final))) {
          tell(`OK with ${final.length} wrong bytes under the final name`);
        }
        if (item.bytes !== final.length) {
          tell(`report says ${item.bytes} bytes, the file has ${final.length}`);
        }
        const sha256 = createHash("sha256").update(final).digest("hex");
        if (item.sha256 !== sha256) tell(`report's SHA-256 is not the file's`);
        if ((item.transferred ?? 0) < final.length) {
          tell(`${item.transferred} bytes received for a new ${final.length}`);
        }
      }
    } else if (final) tell("a final name after a failure");
    if ((item.transferred ?? 0) > sentBytes[j]) {
      tell(
        `${item.transferred} bytes received, the server sent ${
          sentBytes[j]
        } with the heads`,
      );
    }
  }
  const { totals } = report;
  const count = (status: string) =>
    items.filter((item) => item.status === status).length;
  for (const status of ["ok", "error", "not_found"] as const) {
    if (totals[status] !== count(status)) {
      say(`totals.${status} ${totals[status]}, items ${count(status)}`);
    }
  }
  if (totals.bytes !== onDisk) {
    say(`totals.bytes ${totals.bytes}, files on disk ${onDisk}`);
  }
  const received = items.reduce((n, item) => n + (item.transferred ?? 0), 0);
  if (totals.transferred !== received) {
    say(`totals.transferred ${totals.transferred}, items ${received}`);
  }
  // Each attempt after a job's first is a retry; a split's ranges retry
  // on their own too.
  const after = items.reduce((n, item) => n + item.attempts - 1, 0);
  if (mode === "split" ? totals.retries < after : totals.retries !== after) {
    say(`${totals.retries} retries, the items' attempts make ${after}`);
  }
  const summary = summaryNumbers(result.stdout);
  if (
    summary.ok !== totals.ok || summary.failed !== totals.error ||
    summary.notFound !== totals.not_found ||
    summary.retries !== totals.retries
  ) {
    say(
      `summary "${summary.line}" against totals ${JSON.stringify(totals)}`,
    );
  }
  await Deno.remove(dir, { recursive: true });
  return found;
}

for (const [client, flags] of CLIENTS) {
  for (const mode of ["whole", "resume", "split"] as const) {
    Deno.test(`hostile answers through get (${client}, ${mode}): final files exact, exit code, report and summary true; seeds ${SEEDS}`, async () => {
      const found: string[] = [];
      for (const seed of SEEDS) found.push(...await runSeed(seed, mode, flags));
      assert.deepEqual(found, []);
    });
  }
}

/** What breaks the rules in one seed's `flags` run (whole files), one line each. */
async function runFlagsSeed(seed: number): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "bulkget-hostile-flags-" });
  const codes = ["AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO"];
  const records: JobRecord[] = filesOf(seed, "whole", codes.length).map((
    file,
  ) => ({ file, acceptable: [file.bytes], answers: [], honest: true }));
  const asks = new Map<string, number>();
  await using server = scriptedServer((n) => {
    // `GET /flags/ad/ad.gif` is job 0's `GET /f0.bin` to the answers.
    const head = server.requests[n].replace(
      /^GET \/flags\/([a-z]{2})\/\1\.gif/,
      (_, cc: string) => `GET /f${codes.indexOf(cc.toUpperCase())}.bin`,
    );
    return hostileAnswer(seed, "whole", records, asks, head);
  });
  const result = await runBulkget([
    "flags",
    "-v",
    "--base-url",
    `${server.url}/flags`,
    "-o",
    `${dir}/out`,
    "-m",
    "4",
    "--retries",
    "3",
    "--timeout",
    "1",
    ...codes,
  ]);
  const found: string[] = [];
  const say = (what: string) => found.push(`seed ${seed}: ${what}`);
  const said = (pattern: RegExp) =>
    Number(pattern.exec(result.stdout)?.[1] ?? 0);
  const ok = said(/^ *(\d+) flags? downloaded\.$/m);
  const errors = said(/^ *(\d+) errors?\.$/m) +
    said(/^ *(\d+) not found\.$/m);
  let files = 0;
  codes.forEach((cc, j) => {
    const final = readIfThere(`${dir}/out/${cc.toLowerCase()}.gif`);
    const line = new RegExp(`^${cc} (OK|error|not found)`, "m")
      .exec(result.stdout)?.[1];
    const tell = (what: string) =>
      say(
        `${cc} (${line}): ${what}; answers: ${records[j].answers.join(" | ")}`,
      );
    if (final) {
      files++;
      if (line !== "OK") tell("a final name, not said OK");
      if (!records[j].acceptable.some((body) => same(body, final))) {
        tell(`${final.length} wrong bytes under the final name`);
      }
    } else if (line === "OK") tell("said OK, no file");
    if (line === undefined) tell("no line");
  });
  if (ok !== files || ok + errors !== codes.length) {
    say(`${ok} downloaded and ${errors} errors said, ${files} files`);
  }
  if (result.code !== (errors ? 1 : 0)) {
    say(`exit ${result.code} with ${errors} errors`);
  }
  if (found.length && Deno.env.get("SHOW")) console.log(result.stdout);
  await Deno.remove(dir, { recursive: true });
  return found;
}

// `flags` has one client, the own one (as `get` without --use-fetch).
Deno.test(`hostile answers through flags: final files exact, its lines and exit code true; seeds ${SEEDS}`, async () => {
  const found: string[] = [];
  for (const seed of SEEDS) found.push(...await runFlagsSeed(seed));
  assert.deepEqual(found, []);
});
