import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import {
  bulkgetCommand,
  DATA,
  flagFile,
  hasScript,
  listDir,
  MAIN,
  runBulkget,
  sameBytes,
  underTerminal,
} from "./_helpers.ts";
import {
  everyCode,
  flagCodes,
  POPULOUS_20,
  selectCodes,
} from "../lib/source/country_codes.ts";
import {
  headerLines,
  parseFlagsArgs,
  summaryLines,
  verboseLine,
} from "../lib/cli/flags.ts";

const ALL = await flagCodes();

Deno.test("flags -s ERROR -al 100 -m 100: the book's lines, counts that add up, every OK file intact", async () => {
  await using server = await startServer({
    preset: "ERROR",
    seed: 7,
    alt: false,
  });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget([
    "flags",
    "-s",
    "ERROR",
    "--base-url",
    `${server.url}/flags`,
    "-al",
    "100",
    "-m",
    "100",
  ], { cwd });
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines[0], `ERROR site: ${server.url}/flags`);
  assert.equal(lines[1], "Searching for 100 flags: from AD to LK");
  assert.equal(lines[2], "100 concurrent connections will be used.");
  assert.equal(lines[3], "-".repeat(20));
  const ok = Number(/^ *(\d+) flags downloaded\.$/.exec(lines[4])![1]);
  const errors = Number(/^ *(\d+) errors?\.$/.exec(lines[5])![1]);
  assert.match(lines[6], /^Elapsed time: \d+\.\d\ds$/);
  assert.equal(lines.length, 7);
  assert.equal(ok + errors, 100);
  assert.ok(errors > 0, "the ERROR server fails a share of requests");
  assert.equal(result.code, 1, "errors make exit code 1");
  const files = listDir(`${cwd}/downloads`);
  assert.equal(files.length, ok);
  assert.equal(files.filter((f) => f.includes(".part")).length, 0);
  for (const file of files) {
    assert.ok(
      sameBytes(`${cwd}/downloads/${file}`, flagFile(file.slice(0, 2))),
      file,
    );
  }
  assert.ok(server.stats().maxInFlight <= 100);
});

Deno.test("flags -e against LOCAL: 194 downloaded, 482 not found, nothing saved for not-found codes", async () => {
  await using server = await startServer({ preset: "LOCAL", alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget([
    "flags",
    "--base-url",
    `${server.url}/flags`,
    "-e",
    "-m",
    "50",
  ], { cwd });
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines[0], `LOCAL site: ${server.url}/flags`);
  assert.equal(lines[1], "Searching for 676 flags: from AA to ZZ");
  assert.equal(lines[2], "50 concurrent connections will be used.");
  assert.deepEqual(lines.slice(3, 6), [
    "-".repeat(20),
    "194 flags downloaded.",
    "482 not found.",
  ]);
  assert.match(lines[6], /^Elapsed time: \d+\.\d\ds$/);
  assert.equal(result.code, 0, "not found is a normal answer");
  assert.deepEqual(
    listDir(`${cwd}/downloads`),
    ALL.map((cc) => `${cc.toLowerCase()}.gif`),
  );
});

Deno.test("flags keeps -m requests in flight: DELAY with -m 20 reaches 20 and never more", async () => {
  await using server = await startServer({ preset: "DELAY", alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget([
    "flags",
    "-s",
    "DELAY",
    "--base-url",
    `${server.url}/flags`,
    "-a",
    "-l",
    "60",
    "-m",
    "20",
  ], { cwd });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /\n 60 flags downloaded\.\n/);
  assert.equal(server.stats().maxInFlight, 20);
});

Deno.test("flags -v prints one book line per code", async () => {
  await using server = await startServer({ preset: "LOCAL", alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget([
    "flags",
    "--base-url",
    `${server.url}/flags`,
    "-v",
    "br",
    "zz",
    "US",
  ], { cwd });
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines[1], "Searching for 3 flags: BR, US, ZZ");
  assert.equal(lines[2], "3 concurrent connections will be used.");
  assert.deepEqual(lines.slice(3, 6).sort(), [
    "BR OK",
    "US OK",
    `ZZ not found: ${server.url}/flags/zz/zz.gif`,
  ]);
  assert.deepEqual(lines.slice(6, 9), [
    "-".repeat(20),
    "  2 flags downloaded.",
    "  1 not found.",
  ]);
});

Deno.test("flags -v error lines name the HTTP error, and network errors their reason", async () => {
  await using server = await startServer({
    faults: { statuses: [{ status: 503, rate: 1 }] },
    alt: false,
  });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget([
    "flags",
    "--base-url",
    `${server.url}/flags`,
    "-v",
    "BA",
  ], { cwd });
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines[1], "Searching for 1 flag: BA");
  assert.equal(lines[2], "1 connection will be used.");
  assert.equal(lines[3], "BA error: HTTP error 503 - Service Unavailable");
  assert.deepEqual(lines.slice(4, 7), [
    "-".repeat(20),
    "  0 flags downloaded.",
    "  1 error.",
  ]);
  assert.equal(result.code, 1);
  const refused = await runBulkget([
    "flags",
    "--base-url",
    "http://127.0.0.1:9/flags",
    "-v",
    "BC",
  ], { cwd });
  assert.match(refused.stdout, /^BC error: \S.*$/m);
  assert.doesNotMatch(
    refused.stdout,
    /127\.0\.0\.1:9\/flags\/bc/,
    "the reason does not repeat the URL",
  );
});

Deno.test("flags --names fetches metadata.json and names files after the country", async () => {
  await using server = await startServer({ preset: "LOCAL", alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget([
    "flags",
    "--base-url",
    `${server.url}/flags`,
    "--names",
    "BR",
    "US",
    "ZZ",
  ], { cwd });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(listDir(`${cwd}/downloads`), [
    "Brazil.gif",
    "United_States_of_America.gif",
  ]);
  assert.ok(sameBytes(`${cwd}/downloads/Brazil.gif`, flagFile("br")));
  assert.match(result.stdout, /^ {2}1 not found\.$/m);
});

Deno.test("flags usage errors print the book's message and the usage line, exit 2", async () => {
  const cases: [string[], string][] = [
    [["-m", "0"], "--max_req CONCURRENT must be >= 1"],
    [["-l", "0"], "--limit N must be >= 1"],
    [
      ["-s", "NOPE"],
      "--server LABEL must be one of DELAY, ERROR, LOCAL, REMOTE",
    ],
    [["ABC"], "each CC argument must be A to Z or AA to ZZ."],
    [["1"], "each CC argument must be A to Z or AA to ZZ."],
  ];
  for (const [args, message] of cases) {
    const result = await runBulkget(["flags", ...args]);
    assert.equal(result.code, 2, args.join(" "));
    const lines = result.stdout.trimEnd().split("\n");
    assert.equal(lines[0], `*** Usage error: ${message}`);
    assert.match(lines[1], /^usage: bulkget flags /);
  }
});

Deno.test("flags without write permission prints one line naming the flag and exits 2", async () => {
  await using server = await startServer({ preset: "LOCAL", alt: false });
  const result = await runBulkget([
    "flags",
    "--base-url",
    `${server.url}/flags`,
    "BR",
  ], {
    permissions: [`--allow-net=127.0.0.1`, `--allow-read=.`],
  });
  assert.equal(result.code, 2);
  assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  assert.match(result.stderr, /--allow-write=downloads/);
  assert.doesNotMatch(result.stderr, /\bat .*\.ts:\d+/, "no stack trace");
});

Deno.test("flags selection follows the book: -e over -a over CCs, one-letter codes, default 20, sorted, limited", () => {
  assert.deepEqual(selectCodes({}, ALL), POPULOUS_20);
  assert.deepEqual(selectCodes({ limit: 3 }, ALL), ["BD", "BR", "CD"]);
  assert.equal(selectCodes({ all: true }, ALL).length, 194);
  assert.equal(
    selectCodes({ every: true, all: true, codes: ["br"] }, ALL).length,
    676,
  );
  assert.deepEqual(selectCodes({ all: true, codes: ["zz"], limit: 2 }, ALL), [
    "AD",
    "AE",
  ]);
  assert.deepEqual(
    selectCodes({ codes: ["b"] }, ALL),
    everyCode().filter((c) => c.startsWith("B")),
  );
  assert.deepEqual(
    selectCodes({ codes: ["us", "BR", "br", "c"], limit: 4 }, ALL),
    ["BR", "CA", "CB", "CC"],
  );
  assert.throws(() => selectCodes({ codes: ["é"] }, ALL), RangeError);
});

Deno.test("flags option parsing: defaults, long forms, short groups", async () => {
  const defaults = await parseFlagsArgs([]);
  assert.equal(defaults.concurrency, 5);
  assert.equal(defaults.label, "LOCAL");
  assert.equal(defaults.baseUrl, "http://localhost:8001/flags");
  assert.equal(defaults.retries, 0);
  assert.equal(defaults.outDir, "downloads");
  assert.deepEqual(defaults.codes, POPULOUS_20);
  const grouped = await parseFlagsArgs(["-s", "error", "-al", "100", "-m100"]);
  assert.equal(grouped.label, "ERROR");
  assert.equal(grouped.codes.length, 100);
  assert.equal(grouped.concurrency, 100);
  assert.equal((await parseFlagsArgs(["--max-req", "7"])).concurrency, 7);
  assert.equal(
    (await parseFlagsArgs(["--max_req", "8", "--server", "REMOTE"])).baseUrl,
    "https://www.fluentpython.com/data/flags",
  );
});

Deno.test("flags header and summary lines: plurals, lists and 3-column padding", () => {
  const opts = (codes: string[]) =>
    ({
      codes,
      label: "LOCAL",
      baseUrl: "http://localhost:8001/flags",
    }) as Parameters<typeof headerLines>[0];
  assert.deepEqual(headerLines(opts(["BR"]), 1), [
    "LOCAL site: http://localhost:8001/flags",
    "Searching for 1 flag: BR",
    "1 connection will be used.",
  ]);
  const ten = everyCode().slice(0, 10);
  assert.equal(
    headerLines(opts(ten), 5)[1],
    `Searching for 10 flags: ${ten.join(", ")}`,
  );
  assert.equal(
    headerLines(opts(everyCode().slice(0, 11)), 5)[1],
    "Searching for 11 flags: from AA to AK",
  );
  assert.deepEqual(summaryLines({ ok: 1, notFound: 0, error: 1 }, 1.234), [
    "--------------------",
    "  1 flag downloaded.",
    "  1 error.",
    "Elapsed time: 1.23s",
  ]);
  assert.deepEqual(summaryLines({ ok: 0, notFound: 482, error: 0 }, 0), [
    "--------------------",
    "  0 flags downloaded.",
    "482 not found.",
    "Elapsed time: 0.00s",
  ]);
  const job = { url: "http://h/flags/zz/zz.gif", dest: "zz.gif", label: "ZZ" };
  assert.equal(
    verboseLine({
      job,
      status: "not_found",
      bytes: 0,
      attempts: 1,
      elapsedMs: 1,
    }),
    "ZZ not found: http://h/flags/zz/zz.gif",
  );
  assert.equal(
    verboseLine({
      job,
      status: "error",
      reason: "x",
      bytes: 0,
      attempts: 1,
      elapsedMs: 1,
    }),
    "ZZ error: x",
  );
});

Deno.test("flags -s ERROR -al 100 -m 100 --retries 5 brings every flag home (fixed seed)", async () => {
  await using server = await startServer({
    preset: "ERROR",
    seed: 7,
    alt: false,
  });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(
    [
      "flags",
      "-s",
      "ERROR",
      "--base-url",
      `${server.url}/flags`,
      "-al",
      "100",
      "-m",
      "100",
      "--retries",
      "5",
    ],
    { cwd },
  );
  assert.equal(result.code, 0, result.stdout);
  assert.match(result.stdout, /\n100 flags downloaded\.\nElapsed time: /);
  const files = listDir(`${cwd}/downloads`);
  assert.equal(files.length, 100);
  for (const f of files) {
    assert.ok(sameBytes(`${cwd}/downloads/${f}`, flagFile(f.slice(0, 2))), f);
  }
  assert.ok(
    server.stats().requests > 100,
    "some requests failed and were retried",
  );
});

Deno.test("flags runs under the README's narrow permissions", async () => {
  await using server = await startServer({ preset: "LOCAL", alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget([
    "flags",
    "--base-url",
    `${server.url}/flags`,
    "-a",
    "-l",
    "30",
    "-m",
    "10",
  ], {
    cwd,
    permissions: [
      `--allow-net=127.0.0.1:${server.port}`,
      `--allow-read=${DATA},./downloads`,
      "--allow-write=./downloads",
    ],
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /\n 30 flags downloaded\.\n/);
  assert.equal(listDir(`${cwd}/downloads`).length, 30);
});

Deno.test("flags on Ctrl-C prints the partial report and exits 130, with no partial file", async () => {
  await using server = await startServer({ preset: "DELAY", alt: false });
  const cwd = await Deno.makeTempDir();
  const child = bulkgetCommand(
    ["flags", "--base-url", `${server.url}/flags`, "-a", "-m", "5"],
    { cwd },
  ).spawn();
  // Bounded wait (10 s) for some flags to land, then interrupt.
  for (let i = 0; i < 200 && listDir(`${cwd}/downloads`).length < 5; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGINT");
  const result = await child.output();
  const stdout = new TextDecoder().decode(result.stdout);
  assert.equal(result.code, 130);
  const ok = Number(/^ *(\d+) flags? downloaded\.$/m.exec(stdout)?.[1]);
  assert.ok(ok >= 5 && ok < 194, stdout);
  assert.match(stdout, /^Elapsed time: \d+\.\d\ds$/m);
  const files = listDir(`${cwd}/downloads`);
  assert.equal(files.filter((f) => f.includes(".part")).length, 0);
  assert.equal(
    files.length,
    ok,
    "every file reported OK is on disk, and nothing else",
  );
  for (const f of files) {
    assert.ok(sameBytes(`${cwd}/downloads/${f}`, flagFile(f.slice(0, 2))), f);
  }
});

Deno.test({
  name:
    "flags on a terminal: the bar counts not found apart, as the closing lines do, never as failed",
  ignore: !(await hasScript()),
  async fn() {
    await using server = await startServer({ preset: "LOCAL", alt: false });
    const cwd = await Deno.makeTempDir();
    const flags = `'${Deno.execPath()}' run --quiet -A '${MAIN}' flags ` +
      `--base-url ${server.url}/flags -e -l 60 -m 10`;
    const { code, text } = await underTerminal(flags, cwd);
    assert.equal(code, 0, text);
    const notFound = /^ *(\d+) not found\.\r?$/m.exec(text)?.[1];
    assert.ok(notFound !== undefined && Number(notFound) > 0, text);
    const frames = text.split(/\r|\n/).filter((l) => / 60\/60 \[/.test(l));
    assert.ok(frames.length > 0, text);
    assert.match(frames.at(-1)!, new RegExp(`, ${notFound} not found$`));
    assert.ok(!frames.some((f) => f.includes("failed")), frames.join("\n"));
  },
});
