import assert from "node:assert/strict";
import { startGithubDouble } from "../lib/server/github_api.ts";
import { makeZip } from "../lib/server/zip_maker.ts";
import {
  bulkgetCommand,
  firstLine,
  githubRunArgs,
  runBulkget,
} from "./_helpers.ts";
import { STATE_FILE } from "../lib/writer/paths.ts";

const zip = (files: Record<string, string>) =>
  makeZip(Object.entries(files).map(([name, data]) => ({ name, data })));

async function tree(dir: string, prefix = ""): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) {
      names.push(...await tree(`${dir}/${e.name}`, `${prefix}${e.name}/`));
    } else if (prefix !== "" || e.name !== STATE_FILE) {
      names.push(prefix + e.name); // the top's state file is bulkget's own
    }
  }
  return names.sort();
}

Deno.test("artifacts cli: --list prints a table, --list --json the artifacts, nothing downloaded", async () => {
  await using gh = await startGithubDouble({
    artifacts: [
      { name: "logs", body: zip({ a: "1" }), runId: 5 },
      {
        name: "old",
        body: zip({ a: "2" }),
        runId: 5,
        expired: true,
        digest: null,
      },
    ],
  });
  const cwd = await Deno.makeTempDir();
  const table = await runBulkget([
    ...githubRunArgs(gh, 5),
    "--list",
  ], { cwd });
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split("\n");
  assert.match(lines[0], /^NAME\s+ID\s+SIZE\s+DIGEST\s+EXPIRED$/);
  assert.match(lines[1], /^old\s+2\s+.*-\s+yes$/);
  assert.match(lines[2], /^logs\s+1\s+.*sha256:[0-9a-f]{12}…\s+no$/);
  const json = await runBulkget([
    ...githubRunArgs(gh, 5),
    "--list",
    "--json",
  ], { cwd });
  const listed = JSON.parse(json.stdout);
  assert.deepEqual(
    listed.map((a: { name: string; expired: boolean }) => [a.name, a.expired]),
    [["old", true], ["logs", false]],
  );
  assert.deepEqual(await tree(cwd), []);
  assert.equal(gh.blobRequests.length, 0);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli: downloads a run, token from GITHUB_TOKEN to the API only, JSON report, exit 1 when one fails; a rerun skips what is done", async () => {
  await using gh = await startGithubDouble({
    token: "t0k3n",
    artifacts: [
      { name: "one", body: zip({ "a.txt": "A" }), runId: 9 },
      { name: "two", body: zip({ "b/c.txt": "C" }), runId: 9 },
      {
        name: "evil",
        body: makeZip([{ name: "../escape.txt", data: "x" }]),
        runId: 9,
      },
    ],
  });
  const cwd = await Deno.makeTempDir();
  const args = [
    "artifacts",
    "github",
    "--api-url",
    gh.apiUrl,
    "-o",
    "out",
    "--report",
    "report.json",
  ];
  const env = {
    GITHUB_TOKEN: "t0k3n",
    GITHUB_REPOSITORY: gh.repository,
    GITHUB_RUN_ID: "9",
  };
  const first = await runBulkget(args, { cwd, env });
  assert.equal(first.code, 1, first.stderr);
  assert.ok(!first.stderr.includes("t0k3n"));
  assert.deepEqual(await tree(`${cwd}/out`), [
    ".bulkget-artifacts/done.json",
    "one/a.txt",
    "two/b/c.txt",
  ]);
  await assert.rejects(Deno.lstat(`${cwd}/escape.txt`), Deno.errors.NotFound);
  await assert.rejects(
    Deno.lstat(`${cwd}/out/escape.txt`),
    Deno.errors.NotFound,
  );
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/report.json`));
  const byName = Object.fromEntries(
    report.artifacts.map((a: { name: string }) => [a.name, a]),
  );
  assert.equal(byName.one.status, "ok");
  assert.equal(byName.one.files, 1);
  assert.match(byName.one.digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(byName.evil.status, "error");
  assert.match(
    byName.evil.reason,
    /entry refused: Unsafe destination "\.\.\/escape\.txt"/,
  );
  for (const r of gh.blobRequests) {
    assert.equal(r.headers.authorization, undefined);
  }
  assert.ok(
    gh.apiRequests.every((r) => r.headers.authorization === "Bearer t0k3n"),
  );

  const blobsBefore = gh.blobRequests.length;
  const second = await runBulkget(args, { cwd, env });
  assert.equal(second.code, 1);
  assert.match(second.stderr, /skipped\s+one/);
  assert.match(second.stderr, /skipped\s+two/);
  assert.equal(gh.blobRequests.length, blobsBefore + 1); // only "evil" again
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli: the closing line counts what was downloaded and what was already complete, bytes only of the downloaded", async () => {
  const bodies = [zip({ "a.txt": "A" }), zip({ "b.txt": "BB" })];
  await using gh = await startGithubDouble({
    artifacts: [
      { name: "one", body: bodies[0], runId: 6 },
      { name: "two", body: bodies[1], runId: 6 },
    ],
  });
  const cwd = await Deno.makeTempDir();
  const base = [
    ...githubRunArgs(gh, 6),
    "-o",
    "out",
  ];
  const closing = (stderr: string) => stderr.trim().split("\n").at(-1)!;
  const first = await runBulkget([...base, "--name", "one", "--name", "two"], {
    cwd,
  });
  assert.equal(first.code, 0, first.stderr);
  const both = bodies[0].length + bodies[1].length;
  assert.match(
    closing(first.stderr),
    new RegExp(`^2 of 2 artifacts done: 2 downloaded \\(${both} B\\) in \\d`),
  );
  await Deno.remove(`${cwd}/out/two`, { recursive: true }); // "two" again
  const second = await runBulkget([...base, "--name", "one", "--name", "two"], {
    cwd,
  });
  assert.equal(second.code, 0, second.stderr);
  assert.match(
    closing(second.stderr),
    new RegExp(
      `^2 of 2 artifacts done: 1 downloaded \\(${
        bodies[1].length
      } B\\), 1 already complete in \\d`,
    ),
  );
  const third = await runBulkget([...base, "--name", "one", "--name", "two"], {
    cwd,
  });
  assert.equal(third.code, 0, third.stderr);
  assert.match(
    closing(third.stderr),
    /^2 of 2 artifacts done: 0 downloaded, 2 already complete in \d/,
  );
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli: --merge puts identical paths together and reports a conflict naming both artifacts", async () => {
  await using gh = await startGithubDouble({
    artifacts: [
      {
        name: "a",
        body: zip({ "same.txt": "S", "clash.txt": "from a" }),
        runId: 3,
        id: 1,
      },
      {
        name: "b",
        body: zip({ "same.txt": "S", "clash.txt": "from b" }),
        runId: 3,
        id: 2,
      },
    ],
  });
  const cwd = await Deno.makeTempDir();
  const run = await runBulkget([
    ...githubRunArgs(gh, 3),
    "--merge",
    "-m",
    "1",
    "-o",
    "out",
  ], { cwd });
  assert.equal(run.code, 1, run.stderr);
  assert.match(
    run.stderr,
    /merge conflict: clash\.txt differs in (a and b|b and a)/,
  );
  const clash = await Deno.readTextFile(`${cwd}/out/clash.txt`);
  assert.ok(clash === "from a" || clash === "from b");
  assert.equal(await Deno.readTextFile(`${cwd}/out/same.txt`), "S");
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli: one --name extracts into DIR itself; --no-extract keeps NAME.zip, a raw one under its Content-Disposition name; a raw (unzipped) artifact is kept as its file", async () => {
  const body = zip({ "x.txt": "X" });
  await using gh = await startGithubDouble({
    artifacts: [
      { name: "only", body, runId: 4 },
      {
        name: "report.html",
        body: new TextEncoder().encode("<html></html>"),
        rawName: "report.html",
        runId: 4,
      },
      // Its server names it like bulkget's work directory: kept as "sneaky".
      {
        name: "sneaky",
        body: new TextEncoder().encode("S"),
        rawName: ".BULKGET-artifacts",
        runId: 4,
      },
      // Named as a zip by its server, but no zip: kept as "blob.zip", and
      // its line says what it is.
      {
        name: "blob",
        body: new TextEncoder().encode("B"),
        rawName: "data.zip",
        runId: 4,
      },
    ],
  });
  const cwd = await Deno.makeTempDir();
  const base = [
    ...githubRunArgs(gh, 4),
  ];
  const one = await runBulkget([...base, "--name", "only", "-o", "flat"], {
    cwd,
  });
  assert.equal(one.code, 0, one.stderr);
  assert.equal(await Deno.readTextFile(`${cwd}/flat/x.txt`), "X");
  assert.match(one.stderr, /^ok +only \(\d+\): \d+ B, 1 file -> /m);
  const kept = await runBulkget([...base, "--no-extract", "-o", "zips"], {
    cwd,
  });
  assert.equal(kept.code, 0, kept.stderr);
  assert.deepEqual(await Deno.readFile(`${cwd}/zips/only.zip`), body);
  // A kept zip's line says it was kept, not that it held no files.
  assert.match(
    kept.stderr,
    /^ok +only \(\d+\): \d+ B, zip kept, not extracted -> only\.zip$/m,
  );
  // The raw one is no zip: kept under the name its server gives, said so.
  assert.deepEqual(await tree(`${cwd}/zips`), [
    ".bulkget-artifacts/done.json",
    "blob.zip",
    "only.zip",
    "report.html",
    "sneaky",
  ]);
  assert.match(kept.stderr, /^ok +blob \(\d+\): 1 B, not a zip -> blob\.zip$/m);
  assert.match(kept.stderr, /^ok +sneaky \(\d+\): 1 B, not a zip -> sneaky$/m);
  assert.equal(
    await Deno.readTextFile(`${cwd}/zips/report.html`),
    "<html></html>",
  );
  assert.match(
    kept.stderr,
    /^ok +report\.html \(\d+\): 13 B, not a zip -> report\.html$/m,
  );
  const blobsBefore = gh.blobRequests.length;
  const again = await runBulkget([...base, "--no-extract", "-o", "zips"], {
    cwd,
  });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /^skipped +report\.html /m);
  assert.equal(gh.blobRequests.length, blobsBefore);
  const raw = await runBulkget(
    [...base, "--name", "report.html", "-o", "raw"],
    { cwd },
  );
  assert.equal(raw.code, 0, raw.stderr);
  assert.equal(
    await Deno.readTextFile(`${cwd}/raw/report.html`),
    "<html></html>",
  );
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli: usage errors exit 2", async () => {
  const cwd = await Deno.makeTempDir();
  for (
    const args of [
      ["artifacts", "github"],
      ["artifacts", "github", "not-a-repo"],
      ["artifacts", "travis"],
      ["artifacts", "github", "o/r", "--json"],
    ]
  ) {
    const r = await runBulkget(args, {
      cwd,
      env: { GITHUB_REPOSITORY: "", GITHUB_RUN_ID: "" },
    });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  }
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli: Ctrl-C during downloads exits 130 and leaves no extracted file of the unfinished artifact", async () => {
  const big = makeZip([{
    name: "big.bin",
    data: new Uint8Array(4 * 1024 * 1024),
  }]);
  await using gh = await startGithubDouble({
    artifacts: Array.from(
      { length: 4 },
      (_, i) => ({
        name: `b${i}`,
        body: big,
        runId: 1,
        truncateTo: i === 0 ? 1000 : undefined,
      }),
    ),
  });
  const cwd = await Deno.makeTempDir();
  const args = [
    ...githubRunArgs(gh, 1),
    "-o",
    "out",
    "--retries",
    "50",
  ];
  const child = bulkgetCommand(args, { cwd }).spawn();
  // Wait for the first blob request, then interrupt (b0 keeps failing, so the run is still going).
  for (let i = 0; i < 500 && gh.blobRequests.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGINT");
  const { code } = await child.output();
  assert.equal(code, 130);
  const files = (await tree(`${cwd}/out`).catch(() => [])).filter((f) =>
    f.startsWith("b0/")
  );
  assert.deepEqual(files, []);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("serve --github-api: the double on the command line, downloaded by artifacts github", async () => {
  const server = bulkgetCommand([
    "serve",
    "--github-api",
    "--port",
    "0",
    "--artifacts",
    "3",
    "--size",
    "64k",
  ], {}).spawn();
  try {
    const first = await firstLine(server.stdout);
    const api = /GitHub API double: (http:\/\/[^ ]+)/.exec(first)?.[1];
    assert.ok(api, first);
    const cwd = await Deno.makeTempDir();
    const run = await runBulkget([
      "artifacts",
      "github",
      "octo/demo",
      "--run",
      "1",
      "--api-url",
      api,
      "-o",
      "out",
    ], { cwd });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      (await tree(`${cwd}/out`)).filter((f) => !f.startsWith(".")),
      [
        "artifact-1/artifact-1.bin",
        "artifact-2/artifact-2.bin",
        "artifact-3/artifact-3.bin",
      ],
    );
    assert.equal(
      (await Deno.stat(`${cwd}/out/artifact-2/artifact-2.bin`)).size,
      65536,
    );
    await Deno.remove(cwd, { recursive: true });
  } finally {
    server.kill("SIGTERM");
    await server.stdout.cancel().catch(() => {});
    await server.status;
  }
});

Deno.test("artifacts cli: a raw (unzipped) artifact among zips goes to DIR/NAME/NAME; with --merge it is one more file, a clash with a zip's entry a reported conflict, the first kept", async () => {
  const raw = (name: string, text: string, id: number) => ({
    name,
    body: new TextEncoder().encode(text),
    rawName: name,
    runId: 6,
    id,
  });
  await using gh = await startGithubDouble({
    artifacts: [
      {
        name: "site",
        body: zip({ "report.html": "Z", "notes.txt": "N" }),
        runId: 6,
        id: 3,
      },
      raw("report.html", "R", 2),
      raw("notes.txt", "N", 1),
    ],
  });
  const cwd = await Deno.makeTempDir();
  const base = [
    ...githubRunArgs(gh, 6),
    "-m",
    "1",
  ];
  const apart = await runBulkget([...base, "-o", "apart"], { cwd });
  assert.equal(apart.code, 0, apart.stderr);
  assert.deepEqual(await tree(`${cwd}/apart`), [
    ".bulkget-artifacts/done.json",
    "notes.txt/notes.txt",
    "report.html/report.html",
    "site/notes.txt",
    "site/report.html",
  ]);
  assert.equal(
    await Deno.readTextFile(`${cwd}/apart/report.html/report.html`),
    "R",
  );

  const merged = await runBulkget([
    ...base,
    "--merge",
    "-o",
    "merged",
    "--report",
    "r.json",
  ], { cwd });
  assert.equal(merged.code, 1, merged.stderr);
  assert.deepEqual(await tree(`${cwd}/merged`), [
    ".bulkget-artifacts/done.json",
    "notes.txt",
    "report.html",
  ]);
  assert.equal(await Deno.readTextFile(`${cwd}/merged/report.html`), "Z");
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`));
  assert.deepEqual(
    report.artifacts.map((
      a: { name: string; status: string; files: number },
    ) => [a.name, a.status, a.files]),
    [["site", "ok", 2], ["report.html", "error", 0], ["notes.txt", "ok", 1]],
  );
  assert.equal(
    report.artifacts[1].reason,
    "merge conflict: report.html differs in site and report.html",
  );
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli: --token-env NAME reads the token from $NAME (to the API only), the API base from GITHUB_API_URL", async () => {
  await using gh = await startGithubDouble({
    token: "s3kret",
    artifacts: [{ name: "one", body: zip({ "a.txt": "A" }), runId: 3 }],
  });
  const cwd = await Deno.makeTempDir();
  const r = await runBulkget(
    ["artifacts", "github", gh.repository, "--run", "3", "-o", "out"].concat(
      ["--token-env", "MY_TOKEN"],
    ),
    {
      cwd,
      env: { MY_TOKEN: "s3kret", GITHUB_TOKEN: "", GITHUB_API_URL: gh.apiUrl },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await Deno.readTextFile(`${cwd}/out/one/a.txt`), "A");
  assert.ok(gh.apiRequests.length > 0);
  for (const call of gh.apiRequests) {
    assert.equal(call.headers.authorization, "Bearer s3kret");
  }
  assert.ok(gh.blobRequests.length > 0);
  for (const call of gh.blobRequests) {
    assert.equal(call.headers.authorization, undefined);
  }
  await Deno.remove(cwd, { recursive: true });
});
