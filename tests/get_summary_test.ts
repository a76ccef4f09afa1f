/**
 * What `bulkget get` says when a run ends, and that it is true: bytes that
 * crossed the network (not the sizes of files already there), a report that
 * says why a run was cut short, a report path checked before the first
 * request, a GitHub step summary that cannot be written costing only a
 * warning, and manifest labels in failure lines and the report.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import type { Report } from "../lib/report/json_report.ts";
import { bulkgetCommand, MAIN, runBulkget } from "./_helpers.ts";

const readReport = async (path: string) =>
  JSON.parse(await Deno.readTextFile(path)) as Report;

Deno.test("a rerun of finished jobs reports 0 B received, and the files' size apart", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const args = [
    "get",
    `${server.url}/files/100000/a.bin`,
    `${server.url}/files/27000/b.bin`,
    "-o",
    "out",
    "--report",
    "r.json",
  ];
  const first = await runBulkget(args, { cwd });
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stdout,
    /^bulkget: 2 downloaded; 124\.0 KiB received in /m,
  );
  assert.doesNotMatch(
    first.stdout,
    /complete files/,
    "all of it came now",
  );
  assert.equal((await readReport(`${cwd}/r.json`)).totals.transferred, 127000);

  const second = await runBulkget(args, { cwd });
  assert.equal(second.code, 0, second.stderr);
  assert.match(
    second.stdout,
    /^bulkget: 0 downloaded, 2 already complete; 0 B received in [\d.]+ s, 0 B\/s \(124\.0 KiB in complete files\)$/m,
  );
  const report = await readReport(`${cwd}/r.json`);
  assert.equal(report.totals.transferred, 0);
  assert.equal(report.totals.bytes, 127000);
  assert.deepEqual(report.items.map((i) => i.transferred), [0, 0]);
});

/** Waits (bounded: 20 s) until `path` holds at least `bytes`. */
async function waitForSize(path: string, bytes: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      if ((await Deno.stat(path)).size >= bytes) return;
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${path} never reached ${bytes} bytes`);
}

Deno.test("Ctrl-C mid-body reports the bytes received; the resumed rerun only the rest", async () => {
  const SIZE = 2_000_000, SENT = 600_000;
  const dir = await Deno.makeTempDir();
  let port: number;
  let url: string;
  {
    await using server = await startServer({
      faults: { stall: { rate: 1, ms: 60_000, after: SENT } },
      alt: false,
    });
    port = server.port;
    url = `${server.url}/files/${SIZE}/big.bin`;
    const child = bulkgetCommand([
      "get",
      url,
      "-o",
      dir,
      "--report",
      `${dir}/r1.json`,
    ]).spawn();
    await waitForSize(`${dir}/big.bin.part`, SENT);
    child.kill("SIGINT");
    const result = await child.output();
    assert.equal(result.code, 130);
    assert.match(
      new TextDecoder().decode(result.stdout),
      /^bulkget: 0 downloaded, 1 interrupted; 585\.9 KiB received in [\d.]+ s, [\d.]+ [KMG]?i?B\/s$/m,
      "what came before Ctrl-C is said, and no '0 B on disk' beside it",
    );
    const report = await readReport(`${dir}/r1.json`);
    assert.equal(report.totals.transferred, SENT);
    assert.equal(report.items[0].transferred, SENT);
    assert.equal(report.items[0].status, "cancelled");
  }
  await using server = await startServer({ port, alt: false });
  const result = await runBulkget([
    "get",
    url,
    "-o",
    dir,
    "--report",
    `${dir}/r2.json`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(server.stats().recent[0].status, 206, "it was resumed");
  assert.match(
    result.stdout,
    /^bulkget: 1 downloaded; 1\.3 MiB received in [\d.]+ s, [\d.]+ [KMG]?i?B\/s \(1\.9 MiB in complete files\)$/m,
  );
  const report = await readReport(`${dir}/r2.json`);
  assert.equal(report.totals.transferred, SIZE - SENT);
  assert.equal(report.items[0].bytes, SIZE);
});

Deno.test("--limit-rate: a small body counts as received once it has crossed the network, also when Ctrl-C comes while the rate holds it back", async () => {
  // Read whole (one paced read: at 1 KB/s, 16 KiB), then ~16 s paced.
  const SIZE = 16_000;
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const child = bulkgetCommand([
    "get",
    `${server.url}/files/${SIZE}/small.bin`,
    "-o",
    dir,
    "--limit-rate",
    "1k",
    "--report",
    `${dir}/r.json`,
    "--log",
    `${dir}/run.log`,
    "--status-interval",
    "0.1",
  ]).spawn();
  // Until a status line counts the body (it crossed at once; 16 s of
  // pacing follow), or for at most 10 s.
  for (let i = 0; i < 200; i++) {
    const log = await Deno.readTextFile(`${dir}/run.log`).catch(() => "");
    if (log.includes("15.6 KiB")) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(server.stats().inFlight, 0, "the body was sent");
  child.kill("SIGINT");
  const result = await child.output();
  assert.equal(result.code, 130);
  assert.match(
    new TextDecoder().decode(result.stdout),
    /^bulkget: 0 downloaded, 1 interrupted; 15\.6 KiB received in /m,
  );
  const report = await readReport(`${dir}/r.json`);
  assert.equal(report.items[0].status, "cancelled");
  assert.equal(report.items[0].transferred, SIZE);
  assert.equal(report.totals.transferred, SIZE);
});

Deno.test("a bad --report path stops the run before any request: one line, exit 2", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/adir`);
  const url = `${server.url}/files/10/a`;
  for (
    const [path, message] of [
      ["/nonexistent/r.json", /the directory \/nonexistent does not exist/],
      ["missing/r.json", /the directory missing does not exist/],
      ["adir", /is a directory/],
    ] as const
  ) {
    const result = await runBulkget(
      ["get", url, "-o", "out", "--report", path],
      { cwd },
    );
    assert.equal(result.code, 2, `${path}: ${result.stderr}`);
    assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
    assert.match(result.stderr, /^bulkget get: --report /);
    assert.match(result.stderr, message);
  }
  assert.equal(server.stats().requests, 0, "nothing was downloaded");
});

Deno.test("an output directory that cannot be made stops the run before any request: one line, exit 2", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(`${cwd}/afile`, "");
  const url = `${server.url}/files/10/a`;
  for (const out of ["afile", "afile/sub"]) {
    const result = await runBulkget(["get", url, "-o", out], { cwd });
    assert.equal(result.code, 2, `${out}: ${result.stderr}`);
    assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^bulkget get: -o ${out}: `));
    assert.equal(result.stdout, "");
  }
  assert.equal(server.stats().requests, 0, "nothing was downloaded");
  assert.equal(await Deno.readTextFile(`${cwd}/afile`), "", "nothing lost");
});

/** Mounts a read-only tmpfs on `dir`: why it cannot be done here, or undefined. */
async function mountReadOnly(dir: string): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "not root (mount needs root)";
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  return mount?.success ? undefined : "mount -t tmpfs -o ro failed";
}

/** Why this machine cannot give the next test a read-only mount, if it cannot. */
const NO_READ_ONLY_MOUNT = await (async () => {
  const dir = await Deno.makeTempDir();
  const why = await mountReadOnly(dir);
  if (why === undefined) {
    await new Deno.Command("umount", { args: [dir] }).output();
  }
  await Deno.remove(dir);
  return why;
})();

Deno.test({
  name:
    "an output directory bulkget cannot write (a read-only mount) stops the run before any request: one line, exit 2",
  ignore: NO_READ_ONLY_MOUNT !== undefined,
  async fn() {
    const cwd = await Deno.makeTempDir();
    await Deno.mkdir(`${cwd}/ro`);
    const failed = await mountReadOnly(`${cwd}/ro`);
    assert.equal(failed, undefined, "the read-only mount");
    try {
      await using server = await startServer({ alt: false });
      const url = `${server.url}/files/10/a`;
      for (const out of ["ro", "ro/sub"]) {
        const result = await runBulkget([
          "get",
          url,
          url.replace(/a$/, "b"),
          "-o",
          out,
        ], {
          cwd,
        });
        assert.equal(result.code, 2, `${out}: ${result.stderr}`);
        assert.deepEqual(result.stderr.trimEnd().split("\n"), [
          `bulkget get: -o ${out}: cannot write: read-only file system`,
        ]);
        assert.equal(result.stdout, "");
      }
      assert.equal(server.stats().requests, 0, "nothing was downloaded");
    } finally {
      await new Deno.Command("umount", { args: [`${cwd}/ro`] }).output();
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

/** Runs bulkget's arguments in a directory. */
type Run = (args: string[], cwd: string) => Promise<Deno.CommandOutput>;

/** Whether `setpriv` runs here. */
const HAS_SETPRIV = await new Deno.Command("setpriv", { args: ["--version"] })
  .output().then((o) => o.success, () => false);

/**
 * Calls `fn` with a way to run bulkget as a user the file modes apply to:
 * as it is when not root; as `nobody` (through `setpriv`, with a link to
 * this Deno where nobody can reach it and a cache of its own, removed
 * after) when root, whom modes do not stop.
 */
async function asUnprivileged(fn: (run: Run) => Promise<void>): Promise<void> {
  if (Deno.uid() !== 0) {
    return await fn((args, cwd) => bulkgetCommand(args, { cwd }).output());
  }
  const home = await Deno.makeTempDir({ prefix: "bulkget-nobody-" });
  try {
    await Deno.chmod(home, 0o755);
    const deno = `${home}/deno`;
    await Deno.link(Deno.execPath(), deno)
      .catch(() => Deno.copyFile(Deno.execPath(), deno));
    await Deno.mkdir(`${home}/cache`);
    await Deno.chown(`${home}/cache`, 65534, 65534);
    await fn((args, cwd) =>
      new Deno.Command("setpriv", {
        args: ["--reuid=65534", "--regid=65534", "--clear-groups", deno]
          .concat(["run", "--quiet", "--allow-all", MAIN, ...args]),
        cwd,
        env: { NO_COLOR: "1", DENO_DIR: `${home}/cache`, HOME: home },
        stdin: "null",
      }).output()
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test({
  name:
    "-o, --report or --log where the user may not write (a read-only directory, not root) stops the run before any request: one line, exit 2, nothing lost or left",
  ignore: Deno.uid() === 0 && !HAS_SETPRIV,
  fn: () =>
    asUnprivileged(async (run) => {
      await using server = await startServer({ alt: false });
      const cwd = await Deno.makeTempDir();
      await Deno.chmod(cwd, 0o777);
      await Deno.mkdir(`${cwd}/ro`);
      await Deno.writeTextFile(`${cwd}/ro/keep.txt`, "kept");
      await Deno.chmod(`${cwd}/ro`, 0o555);
      const url = `${server.url}/files/10/keep.txt`;
      const cases = [
        [["-o", "ro"], "-o ro"],
        [["-o", "ro/sub"], "-o ro/sub"],
        [["-o", "out", "--report", "ro/r.json"], "--report ro/r.json"],
        [["-o", "out", "--log", "ro/run.log"], "--log ro/run.log"],
      ] as const;
      for (const [args, what] of cases) {
        const result = await run(["get", url, ...args], cwd);
        const stderr = new TextDecoder().decode(result.stderr);
        assert.equal(result.code, 2, `${what}: ${stderr}`);
        assert.deepEqual(stderr.trimEnd().split("\n"), [
          `bulkget get: ${what}: cannot write: permission denied`,
        ]);
        assert.equal(result.stdout.length, 0);
      }
      assert.equal(server.stats().requests, 0, "nothing was downloaded");
      assert.deepEqual([...Deno.readDirSync(cwd)].map((e) => e.name), ["ro"]);
      assert.deepEqual([...Deno.readDirSync(`${cwd}/ro`)].map((e) => e.name), [
        "keep.txt",
      ]);
      assert.equal(await Deno.readTextFile(`${cwd}/ro/keep.txt`), "kept");
      await Deno.chmod(`${cwd}/ro`, 0o755);
      await Deno.remove(cwd, { recursive: true });
    }),
});

Deno.test("a --report inside -o gets its directory created", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget([
    "get",
    `${server.url}/files/10/a`,
    "-o",
    "out",
    "--report",
    "out/logs/r.json",
  ], { cwd });
  assert.equal(result.code, 0, result.stderr);
  assert.equal((await readReport(`${cwd}/out/logs/r.json`)).totals.ok, 1);
});

Deno.test("a bad input line: the report says the run was cut short, and why", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${cwd}/list.txt`,
    `${server.url}/files/10/a\nnot-a-url\n${server.url}/files/10/c\n`,
  );
  const result = await runBulkget([
    "get",
    "-i",
    "list.txt",
    "-o",
    "out",
    "--report",
    "r.json",
  ], { cwd });
  assert.equal(result.code, 2);
  const report = await readReport(`${cwd}/r.json`);
  assert.equal(report.interrupted, false);
  assert.match(report.error ?? "", /^list\.txt:2: not an http\(s\) URL/);
  const fine = await runBulkget([
    "get",
    `${server.url}/files/10/a`,
    "--report",
    "r2.json",
  ], { cwd });
  assert.equal(fine.code, 0);
  assert.equal((await readReport(`${cwd}/r2.json`)).error, null);
});

Deno.test("an unwritable $GITHUB_STEP_SUMMARY costs one warning, not the run", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const summary = `${cwd}/summary.md`;
  await Deno.writeTextFile(summary, "");
  const result = await runBulkget([
    "get",
    `${server.url}/files/10/a`,
    "-o",
    "out",
  ], {
    cwd,
    permissions: [
      `--allow-net=${server.hostname}:${server.port}`,
      "--allow-env",
      `--allow-read=out`,
      `--allow-write=out`,
    ],
    env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^bulkget: 1 downloaded;/m);
  assert.match(
    result.stderr,
    /^bulkget get: warning: cannot write the step summary to \$GITHUB_STEP_SUMMARY \(.*summary\.md\): no write permission \(add --allow-write=.*summary\.md\); skipped$/m,
  );
  assert.equal(await Deno.readTextFile(summary), "");
});

Deno.test("a manifest's label is shown in failure lines and written to the report", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${cwd}/m.jsonl`,
    [
      { url: `${server.url}/nope/a`, label: "nightly build" },
      { url: `${server.url}/files/10/b` },
    ].map((o) => JSON.stringify(o)).join("\n"),
  );
  const result = await runBulkget([
    "get",
    "--manifest",
    "m.jsonl",
    "-o",
    "out",
    "--report",
    "r.json",
  ], { cwd });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^FAILED a \[nightly build\] <- .*\/nope\/a: not found$/m,
  );
  assert.match(result.stdout, /^ {2}a \[nightly build\] <- .*: not found$/m);
  const report = await readReport(`${cwd}/r.json`);
  assert.deepEqual(report.items.map((i) => [i.dest, i.label]).sort(), [
    ["a", "nightly build"],
    ["b", null],
  ]);
});

Deno.test("a manifest's label is in the GitHub annotation and the step summary's failure row", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${cwd}/m.jsonl`,
    JSON.stringify({ url: `${server.url}/nope/a`, label: "nightly build" }),
  );
  const summary = `${cwd}/summary.md`;
  await Deno.writeTextFile(summary, "");
  const result = await runBulkget(
    ["get", "--manifest", "m.jsonl", "-o", "out"],
    {
      cwd,
      env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary },
    },
  );
  assert.equal(result.code, 1);
  assert.match(
    result.stdout,
    /^::error title=bulkget%3A a \[nightly build\]::.*\/nope\/a: not found$/m,
  );
  assert.match(
    await Deno.readTextFile(summary),
    /^\| a \[nightly build\] \| .*\/nope\/a \| not found \|$/m,
  );
});

Deno.test("the GitHub step summary lists the first 20 failures and says how many more there are", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const summary = `${cwd}/summary.md`;
  const urls = Array.from(
    { length: 25 },
    (_, i) => `${server.url}/nope/f${i}.bin`,
  );
  const result = await runBulkget(["get", ...urls, "-o", "out"], {
    cwd,
    env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary },
  });
  assert.equal(result.code, 1, result.stderr);
  const text = await Deno.readTextFile(summary);
  const rows = text.split("\n").filter((line) => /^\| f\d+\.bin \|/.test(line));
  assert.equal(rows.length, 20);
  assert.match(text, /^… and 5 more \(`--report FILE` lists them all\)$/m);
  // The terminal's summary says the same.
  assert.match(
    result.stdout,
    /^ {2}… and 5 more \(--report FILE lists them all\)$/m,
  );
});
