/**
 * `bulkget get`'s command line and standard input as a user meets them: the
 * URL shorthand in any order, messages for bad numbers, a piped URL starting
 * at once, and every URL read accounted for on Ctrl-C.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { drawFaults } from "../lib/server/faults.ts";
import { createRandom } from "../lib/server/random.ts";
import {
  bulkgetCommand,
  flagFile,
  MAIN,
  runBulkget,
  sameBytes,
} from "./_helpers.ts";

/** Waits (bounded: 20 s) until `path` exists; false if it never did. */
async function appears(path: string): Promise<boolean> {
  for (let i = 0; i < 400; i++) {
    try {
      await Deno.stat(path);
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}

Deno.test("the URL shorthand works whatever the order of options and URLs", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const url = `${server.url}/flags/br/br.gif`;
  for (
    const args of [
      ["-o", "a", url],
      ["--use-fetch", "-o", "b", url],
      ["-q", url, "-o", "c"],
    ]
  ) {
    const result = await runBulkget(args, { cwd });
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    const dir = args[args.indexOf("-o") + 1];
    assert.ok(sameBytes(`${cwd}/${dir}/br.gif`, flagFile("br")), dir);
  }
  // Without a URL it is no shorthand: the message names the command.
  const none = await runBulkget(["-o", "d"], { cwd });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /unknown command "-o"/);
});

Deno.test("a negative number for a count says what is allowed, not 'ambiguous'", async () => {
  const cases: [string[], string][] = [
    [["--retries", "-1"], '--retries must be a whole number >= 0, got "-1"'],
    [["-m", "-3"], '-m must be a whole number >= 1, got "-3"'],
    [["--per-host", "0"], '--per-host must be a whole number >= 1, got "0"'],
    [["--retries", "x"], '--retries must be a whole number >= 0, got "x"'],
  ];
  for (const [args, message] of cases) {
    const result = await runBulkget(["get", ...args, "http://127.0.0.1:1/"]);
    assert.equal(result.code, 2, args.join(" "));
    assert.equal(result.stderr.split("\n")[0], `bulkget get: ${message}`);
  }
});

Deno.test("one retry is '1 retry' in the summary", async () => {
  // A seed whose first request draws the 503 and whose second does not.
  const faults = { statuses: [{ status: 503, rate: 0.5 }] };
  let seed = 1;
  for (;; seed++) {
    const random = createRandom(seed);
    const first = drawFaults(faults, random),
      second = drawFaults(faults, random);
    if (first.status && !second.status) break;
  }
  await using server = await startServer({ faults, seed, alt: false });
  const result = await runBulkget([
    "get",
    `${server.url}/files/10/a`,
    "-o",
    "out",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /; 1 retry$/m);
});

/**
 * Pipes one URL, waits for its file, then pipes a second; `rerun` first
 * puts a complete file in the output directory (a rerun: the existing
 * files are probed ahead of the downloads, which must not hold a line).
 */
async function pipedUrlStartsAtOnce(rerun: boolean): Promise<void> {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  if (rerun) {
    const first = await runBulkget([
      "get",
      "-q",
      `${server.url}/flags/de/de.gif`,
      "-o",
      dir,
    ]);
    assert.equal(first.code, 0, first.stderr);
  }
  const child = bulkgetCommand(["get", "-i", "-", "-o", dir], {
    stdin: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  await stdin.write(
    new TextEncoder().encode(`${server.url}/flags/br/br.gif\n`),
  );
  // Nothing more is written until the first file is complete.
  const first = await appears(`${dir}/br.gif`);
  await stdin.write(
    new TextEncoder().encode(`${server.url}/flags/fr/fr.gif\n`),
  );
  await stdin.close();
  const output = await child.output();
  assert.ok(first, "the first URL was downloaded before the second line");
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.match(
    new TextDecoder().decode(output.stdout),
    /^bulkget: 2 downloaded/m,
  );
  assert.ok(sameBytes(`${dir}/fr.gif`, flagFile("fr")));
}

Deno.test("a URL piped on stdin starts at once, not when the next line comes", async () => {
  await pipedUrlStartsAtOnce(false);
});

Deno.test("a URL piped on stdin starts at once in a rerun too (output directory not empty)", async () => {
  await pipedUrlStartsAtOnce(true);
});

Deno.test("an aria2 entry piped in one write keeps its option lines", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const result = await runBulkget(["get", "-i", "-", "-o", dir], {
    stdin: `${server.url}/flags/br/br.gif\n  out=brazil.gif\n`,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(sameBytes(`${dir}/brazil.gif`, flagFile("br")));
});

Deno.test("Ctrl-C while a piped URL is in progress counts it as interrupted, in the summary and the report", async () => {
  // Every response waits 30 s for its headers: the job is surely running.
  await using server = await startServer({
    faults: { latency: { rate: 1, ms: 30_000 } },
    alt: false,
  });
  const dir = await Deno.makeTempDir();
  const child = bulkgetCommand([
    "get",
    "-i",
    "-",
    "-o",
    dir,
    "--report",
    `${dir}/r.json`,
  ], { stdin: "piped" }).spawn();
  const stdin = child.stdin.getWriter();
  await stdin.write(new TextEncoder().encode(`${server.url}/files/10/slow\n`));
  let asked = false;
  for (let i = 0; i < 400 && !asked; i++) { // at most 20 s
    asked = server.stats().requests > 0;
    if (!asked) await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGINT");
  const output = await child.output();
  await stdin.close().catch(() => {});
  assert.ok(asked, "the piped URL was requested while stdin stayed open");
  assert.equal(output.code, 130);
  assert.match(
    new TextDecoder().decode(output.stdout),
    /^bulkget: 0 downloaded, 1 interrupted;/m,
  );
  const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
  assert.equal(report.interrupted, true);
  assert.deepEqual(
    report.items.map((i: { status: string; origin: string }) => [
      i.status,
      i.origin,
    ]),
    [["cancelled", "stdin:1"]],
  );
});

Deno.test("Ctrl-C: URLs already piped in but not started (-m 1) are counted as interrupted, not dropped", async () => {
  await using server = await startServer({
    faults: { latency: { rate: 1, ms: 30_000 } },
    alt: false,
  });
  const dir = await Deno.makeTempDir();
  const child = bulkgetCommand([
    "get",
    "-i",
    "-",
    "-m",
    "1",
    "-o",
    dir,
    "--report",
    `${dir}/r.json`,
  ], { stdin: "piped" }).spawn();
  const stdin = child.stdin.getWriter();
  await stdin.write(
    new TextEncoder().encode(
      [1, 2, 3].map((n) => `${server.url}/files/10/f${n}\n`).join(""),
    ),
  );
  let asked = false;
  for (let i = 0; i < 400 && !asked; i++) { // at most 20 s
    asked = server.stats().requests > 0;
    if (!asked) await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGINT");
  const output = await child.output();
  await stdin.close().catch(() => {});
  assert.ok(asked, "the first URL was requested");
  assert.equal(output.code, 130);
  assert.match(
    new TextDecoder().decode(output.stdout),
    /^bulkget: 0 downloaded, 3 interrupted;/m,
  );
  const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
  assert.deepEqual(
    report.items.map((i: { origin: string }) => i.origin).sort(),
    ["stdin:1", "stdin:2", "stdin:3"],
  );
});

Deno.test("a bad URL argument is one line and the usage, exit 2, before any request (a good one before it is not fetched)", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  for (const bad of ["htp://example", "not-a-url", "http://", "ftp://x/y"]) {
    const result = await runBulkget(
      ["get", `${server.url}/files/10/a`, bad, "-o", "out"],
      { cwd },
    );
    assert.equal(result.code, 2, result.stderr);
    assert.deepEqual(result.stderr.trimEnd().split("\n"), [
      `bulkget get: argument 2: not an http(s) URL: "${bad}"`,
      "usage: bulkget get [options] [URL ...]   (or: bulkget [options] URL ...)",
    ]);
    assert.equal(result.stdout, "");
  }
  assert.equal(server.stats().requests, 0);
  // On a terminal no progress bar is drawn before the error either.
  const script = await new Deno.Command("script", {
    args: [
      "-qec",
      `'${Deno.execPath()}' run --quiet -A '${MAIN}' get htp://example`,
      "/dev/null",
    ],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
  }).output().catch(() => undefined);
  if (script) {
    const screen = new TextDecoder().decode(script.stdout);
    assert.match(screen, /not an http\(s\) URL/);
    assert.doesNotMatch(screen, /files\/s/, "no bar drawn");
  }
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("a mistyped option is one line naming the option meant, and the usage, exit 2", async () => {
  const result = await runBulkget([
    "get",
    "--retires",
    "3",
    "http://127.0.0.1:9/x",
  ]);
  assert.equal(result.code, 2);
  assert.deepEqual(result.stderr.trimEnd().split("\n"), [
    "bulkget get: unknown option --retires (did you mean --retries?)",
    "usage: bulkget get [options] [URL ...]   (or: bulkget [options] URL ...)",
  ]);
});
