/**
 * README claims of the `bulkget get` section that no other test covered:
 * the input order, `--keep-paths`, the `-m` default and `--per-host`, the
 * `--retries` default, `--timeout`, `--no-resume`, a mirror switch counted as
 * a retry, `-q`, and no colour. The checklist is `tests/CLAIMS.md`.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { drawFaults, type FaultConfig } from "../lib/server/faults.ts";
import { generatedBody } from "../lib/server/files.ts";
import { createRandom } from "../lib/server/random.ts";
import type { Report } from "../lib/report/json_report.ts";
import { flagFile, listDir, MAIN, runBulkget, sameBytes } from "./_helpers.ts";

/** A seed whose first draw of `faults` gives `first` and whose second does not. */
function seedWhere(
  faults: FaultConfig,
  first: (plan: ReturnType<typeof drawFaults>) => boolean,
): number {
  for (let seed = 1; seed < 10_000; seed++) {
    const random = createRandom(seed);
    if (
      first(drawFaults(faults, random)) && !first(drawFaults(faults, random))
    ) {
      return seed;
    }
  }
  throw new Error("no such seed");
}

Deno.test("README get: arguments come first, then the -i files, then the manifests", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(`${cwd}/l.txt`, `${server.url}/files/10/b.bin\n`);
  await Deno.writeTextFile(
    `${cwd}/m.jsonl`,
    JSON.stringify({ url: `${server.url}/files/10/c.bin` }) + "\n",
  );
  // Written in the other order on the command line, on purpose.
  const result = await runBulkget([
    "get",
    "--manifest",
    "m.jsonl",
    "-i",
    "l.txt",
    `${server.url}/files/10/a.bin`,
    "-m",
    "1",
    "-o",
    "out",
  ], { cwd });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(server.stats().recent.map((r) => r.path), [
    "/files/10/a.bin",
    "/files/10/b.bin",
    "/files/10/c.bin",
  ]);
});

Deno.test("README get: --keep-paths mirrors each URL's path under DIR, without the host", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget([
    "get",
    "--keep-paths",
    `${server.url}/flags/br/br.gif`,
    `${server.url}/files/100/n.bin`,
    "-o",
    "out",
  ], { cwd });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(listDir(`${cwd}/out`), ["files", "flags"]);
  assert.ok(sameBytes(`${cwd}/out/flags/br/br.gif`, flagFile("br")));
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/out/files/100/n.bin`),
    generatedBody("n.bin", 100),
  );
});

Deno.test("README get: -m defaults to 16 downloads at once; --per-host N caps each host:port", async () => {
  const latency = { latency: { rate: 1, ms: 800 } };
  {
    await using server = await startServer({ faults: latency, alt: false });
    const urls = Array.from(
      { length: 40 },
      (_, i) => `${server.url}/files/10/f${i}.bin`,
    );
    const result = await runBulkget(["get", ...urls, "-o", "out"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(server.stats().maxInFlight, 16);
  }
  await using a = await startServer({ faults: latency, alt: false });
  await using b = await startServer({ faults: latency, alt: false });
  const urls = [a, b].flatMap((server) =>
    Array.from(
      { length: 8 },
      (_, i) => `${server.url}/files/10/${server.port}-${i}.bin`,
    )
  );
  const result = await runBulkget([
    "get",
    "--per-host",
    "3",
    ...urls,
    "-o",
    "out",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(a.stats().maxInFlight, 3);
  assert.equal(b.stats().maxInFlight, 3);
});

Deno.test("README get: --retries defaults to 5 retries per file", async () => {
  await using server = await startServer({
    faults: { statuses: [{ status: 429, rate: 1, retryAfter: 0 }] },
    alt: false,
  });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(
    ["get", `${server.url}/files/10/a.bin`, "--report", "r.json"],
    { cwd },
  );
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`)) as Report;
  assert.equal(report.items[0].attempts, 6);
  assert.equal(report.totals.retries, 5);
  assert.equal(server.stats().requests, 6);
});

Deno.test("README get: --timeout S bounds a whole attempt", async () => {
  await using server = await startServer({
    faults: { slow: { rate: 1, bytesPerSecond: 20_000 } },
    alt: false,
  });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget([
    "get",
    `${server.url}/files/2m/slow.bin`,
    "--timeout",
    "0.3",
    "--retries",
    "0",
    "-o",
    "out",
  ], { cwd });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /slow\.bin .*total timeout/);
  assert.ok(!listDir(`${cwd}/out`).includes("slow.bin"));
});

Deno.test("README get: --no-resume restarts a .part instead of resuming it", async () => {
  const faults = { reset: { rate: 0.5, after: 1_500_000 } };
  const seed = seedWhere(faults, (plan) => plan.reset !== undefined);
  await using server = await startServer({ faults, seed, alt: false });
  const cwd = await Deno.makeTempDir();
  const url = `${server.url}/files/3000000/r.bin`;
  const first = await runBulkget(["get", url, "--retries", "0", "-o", "out"], {
    cwd,
  });
  assert.equal(first.code, 1, first.stderr);
  assert.ok(
    listDir(`${cwd}/out`).includes("r.bin.part"),
    "the reset left a .part to resume",
  );
  server.resetStats();
  const second = await runBulkget(["get", url, "--no-resume", "-o", "out"], {
    cwd,
  });
  assert.equal(second.code, 0, second.stderr);
  const [request] = server.stats().recent;
  assert.equal(request.headers.range, undefined, "no Range: a fresh start");
  assert.equal(request.status, 200);
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/out/r.bin`),
    generatedBody("r.bin", 3_000_000),
  );
  assert.deepEqual(listDir(`${cwd}/out`), ["r.bin"]);
});

Deno.test("README get: a switch to the next mirror counts as a retry", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${cwd}/in.txt`,
    `${server.url}/nothing/m.bin\t${server.url}/files/100/m.bin\n`,
  );
  const result = await runBulkget(
    ["get", "-i", "in.txt", "-o", "out", "--report", "r.json"],
    { cwd },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /; 1 retry$/m);
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`)) as Report;
  assert.equal(report.totals.retries, 1);
});

Deno.test("README get: -q prints only failures and the summary", async () => {
  await using server = await startServer({
    faults: { latency: { rate: 1, ms: 300 } },
    alt: false,
  });
  const args = [
    "get",
    `${server.url}/files/10/a.bin`,
    `${server.url}/nope/b.bin`,
    "--status-interval",
    "0.05",
    "-o",
    "out",
  ];
  const loud = await runBulkget(args);
  assert.match(loud.stderr, /^\[bulkget\] /m, "status lines without -q");
  const quiet = await runBulkget([...args, "-q"]);
  assert.equal(quiet.code, 1);
  assert.equal(
    quiet.stderr,
    `FAILED b.bin <- ${server.url}/nope/b.bin: not found\n`,
  );
  assert.match(quiet.stdout, /^bulkget: 1 downloaded, 1 not found;/m);
});

Deno.test("README get: bulkget prints no colour, with or without NO_COLOR", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const env: Record<string, string> = { PATH: Deno.env.get("PATH") ?? "" };
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "-A",
      MAIN,
      "get",
      "-v",
      `${server.url}/files/10/a.bin`,
      `${server.url}/nope/b.bin`,
      "-o",
      "out",
    ],
    cwd,
    clearEnv: true,
    env,
  }).output();
  assert.equal(output.code, 1);
  const text = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  assert.match(text, /FAILED b\.bin/);
  assert.ok(!text.includes("\u001b"), JSON.stringify(text));
});

Deno.test("README get: with --content-disposition resume is off (a retry starts the file again)", async () => {
  const faults = { reset: { rate: 0.5, after: 1_500_000 } };
  const seed = seedWhere(faults, (plan) => plan.reset !== undefined);
  await using server = await startServer({ faults, seed, alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget([
    "get",
    `${server.url}/files/3000000/r.bin?filename=named.bin`,
    "--content-disposition",
    "-o",
    "out",
  ], { cwd });
  assert.equal(result.code, 0, result.stderr);
  const [first, second] = server.stats().recent;
  assert.deepEqual(first.faults, ["reset"]);
  assert.equal(second.headers.range, undefined, "no Range on the retry");
  assert.equal(second.status, 200);
  assert.deepEqual(listDir(`${cwd}/out`), ["named.bin"]);
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/out/named.bin`),
    generatedBody("r.bin", 3_000_000),
  );
});

Deno.test("README get: the duplicate check holds 28 to 56 bytes a job, none of it per job on the heap", async () => {
  const dedupe = new URL("../lib/source/dedupe.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    script,
    `import { dedupeDestinations } from "${dedupe}";
const N = Number(Deno.args[0]);
function* jobs() {
  for (let i = 1; i <= N; i++) {
    yield { url: "http://h/x", dest: "d/f-" + i + ".bin", origin: "l.txt:" + i };
  }
}
const gc = (globalThis as unknown as { gc(): void }).gc;
gc();
const before = Deno.memoryUsage();
let n = 0;
for await (const _ of dedupeDestinations(jobs())) {
  if (++n < N) continue;
  // The second collection waits for the first one's sweep of the arrays a
  // grown table left: until it ends they still count as external memory.
  gc();
  gc();
  const after = Deno.memoryUsage();
  console.log(JSON.stringify({
    external: (after.external - before.external) / N,
    heap: (after.heapUsed - before.heapUsed) / N,
  }));
}
`,
  );
  for (const jobs of [300_000, 1_000_000]) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--v8-flags=--expose-gc", script, `${jobs}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const perJob = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.ok(
      perJob.external >= 28 && perJob.external <= 56,
      `${jobs}: ${perJob.external}`,
    );
    assert.ok(perJob.heap < 4, `${jobs}: ${perJob.heap} heap bytes a job`);
  }
  await Deno.remove(script);
});

Deno.test("README get: --dry-run judges existing files as a run does (the state file's record, else a length check with the server)", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const url = (name: string) => `${server.url}/files/1000/${name}`;
  const first = await runBulkget(
    ["get", url("kept.bin"), url("damaged.bin"), "-o", "out"],
    { cwd },
  );
  assert.equal(first.code, 0, first.stderr);
  Deno.truncateSync(`${cwd}/out/damaged.bin`, 10); // damaged after the run
  await Deno.writeFile(
    `${cwd}/out/foreign.bin`,
    generatedBody("foreign.bin", 1000),
  ); // not written by bulkget
  server.resetStats();
  const urls = [url("kept.bin"), url("damaged.bin"), url("foreign.bin")];
  const dry = await runBulkget(["get", ...urls, "-o", "out", "--dry-run"], {
    cwd,
    permissions: [`--allow-read=${cwd}`],
  });
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(dry.stdout.trim().split("\n"), [
    "skip kept.bin (complete, 1000 B)",
    `download ${url("damaged.bin")} -> damaged.bin`,
    `check ${
      url("foreign.bin")
    } -> foreign.bin (exists, with no record of bulkget's: kept if the server's file is 1000 B long)`,
    "bulkget: dry run: 1 to download, 1 already complete, 1 to check with the server; nothing was fetched or written",
  ]);
  assert.equal(server.stats().requests, 0);
  // What the run then does.
  const run = await runBulkget(
    ["get", ...urls, "-o", "out", "--report", "r.json"],
    { cwd },
  );
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`)) as Report;
  assert.deepEqual(
    report.items.map((i) => [i.dest, i.status]).sort(),
    [["damaged.bin", "ok"], ["foreign.bin", "skipped"], [
      "kept.bin",
      "skipped",
    ]],
  );
});

Deno.test("README get: --status-interval defaults to 5 s (no status line before 5 s, one by 6 s)", async () => {
  await using server = await startServer({
    faults: { latency: { rate: 1, ms: 6500 } },
    alt: false,
  });
  const result = await runBulkget([
    "get",
    `${server.url}/files/10/a.bin`,
    "-o",
    "out",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stderr.split("\n").filter((l) =>
    l.startsWith("[bulkget] ")
  );
  assert.ok(lines.length >= 1, result.stderr);
  for (const line of lines) {
    const elapsed = Number(/, ([\d.]+) s(,|$)/.exec(line)?.[1]);
    assert.ok(elapsed >= 5, line);
  }
});
