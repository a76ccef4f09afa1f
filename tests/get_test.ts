/**
 * `bulkget get` end to end, as a child process against the built-in server:
 * every input form, names, duplicates, headers and tokens across redirects,
 * redaction, the JSON report, exit codes, CI and GitHub output, permissions.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import type { Report } from "../lib/report/json_report.ts";
import { flagFile, listDir, runBulkget, sameBytes } from "./_helpers.ts";

const sha256 = (bytes: Uint8Array) =>
  createHash("sha256").update(bytes).digest("hex");

Deno.test("get: URL arguments, and the bare `bulkget URL` shorthand", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const a = await runBulkget([
    "get",
    `${server.url}/flags/br/br.gif`,
    `${server.url}/files/2000/x.bin`,
    "-o",
    "out",
  ], { cwd });
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^bulkget: 2 downloaded; /m);
  assert.ok(sameBytes(`${cwd}/out/br.gif`, flagFile("br")));
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/out/x.bin`),
    generatedBody("x.bin", 2000),
  );
  const b = await runBulkget([`${server.url}/flags/fr/fr.gif`], { cwd });
  assert.equal(b.code, 0, b.stderr);
  assert.ok(
    sameBytes(`${cwd}/fr.gif`, flagFile("fr")),
    "default output directory is the current one",
  );
});

Deno.test("get -i: a URL list with comments and blank lines, and the same list on stdin", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const list =
    `# flags\n\n${server.url}/flags/br/br.gif\r\n  ${server.url}/flags/us/us.gif  \n# end\n${server.url}/files/100/n.bin`;
  await Deno.writeTextFile(`${cwd}/list.txt`, list);
  const fromFile = await runBulkget(["get", "-i", "list.txt", "-o", "a"], {
    cwd,
  });
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.deepEqual(listDir(`${cwd}/a`), ["br.gif", "n.bin", "us.gif"]);
  const fromStdin = await runBulkget(["get", "-i", "-", "-o", "b"], {
    cwd,
    stdin: list,
  });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.deepEqual(listDir(`${cwd}/b`), ["br.gif", "n.bin", "us.gif"]);
});

Deno.test("get -i: an aria2 input file with out, dir, checksum and header options", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const body = generatedBody("c.bin", 3000);
  await Deno.writeTextFile(
    `${cwd}/in.aria2`,
    [
      `${server.url}/flags/br/br.gif`,
      `  out=brazil.gif`,
      `  dir=flags`,
      `${server.url}/files/3000/c.bin`,
      `\tchecksum=sha-256=${sha256(body)}`,
      `\theader=X-Test: aria2`,
      `${server.url}/files/3000/bad.bin`,
      `  checksum=sha-256=${"0".repeat(64)}`,
    ].join("\n"),
  );
  const result = await runBulkget([
    "get",
    "-i",
    "in.aria2",
    "-o",
    "out",
    "--retries",
    "1",
  ], { cwd });
  assert.equal(result.code, 1);
  assert.ok(sameBytes(`${cwd}/out/flags/brazil.gif`, flagFile("br")));
  assert.deepEqual(Deno.readFileSync(`${cwd}/out/c.bin`), body);
  assert.ok(
    !listDir(`${cwd}/out`).includes("bad.bin"),
    "a checksum mismatch never gets the final name",
  );
  assert.match(result.stdout, /bad\.bin .*checksum mismatch/);
  const sent = server.stats().recent.find((r) =>
    r.path === "/files/3000/c.bin"
  );
  assert.equal(sent?.headers["x-test"], "aria2");
});

Deno.test("get --manifest: JSONL with dest, sha256, size and headers", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const body = generatedBody("m.bin", 5000);
  const lines = [
    {
      url: `${server.url}/files/5000/m.bin`,
      dest: "deep/m.bin",
      sha256: sha256(body),
      size: 5000,
    },
    { url: `${server.url}/flags/jp/jp.gif`, headers: { "X-Item": "jp" } },
  ].map((o) => JSON.stringify(o)).join("\n");
  await Deno.writeTextFile(`${cwd}/m.jsonl`, lines + "\n");
  const result = await runBulkget(
    ["get", "--manifest", "m.jsonl", "-o", "out"],
    { cwd },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(Deno.readFileSync(`${cwd}/out/deep/m.bin`), body);
  assert.ok(sameBytes(`${cwd}/out/jp.gif`, flagFile("jp")));
  assert.equal(
    server.stats().recent.find((r) => r.path === "/flags/jp/jp.gif")
      ?.headers["x-item"],
    "jp",
  );
});

Deno.test("get: a bad line names the file and line, exits 2, and keeps what came before", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${cwd}/list.txt`,
    `${server.url}/flags/br/br.gif\n\nftp://example.com/x\n`,
  );
  const result = await runBulkget(["get", "-i", "list.txt", "-o", "out"], {
    cwd,
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /list\.txt:3: .*ftp:\/\/example\.com\/x/);
  assert.ok(
    sameBytes(`${cwd}/out/br.gif`, flagFile("br")),
    "the job before the bad line completed",
  );
  const manifest = await runBulkget(["get", "--manifest", "-", "-o", "out"], {
    cwd,
    stdin: '{"url": 5}\n',
  });
  assert.equal(manifest.code, 2);
  assert.match(manifest.stderr, /stdin:1: /);
});

Deno.test("get: hostile names are refused and nothing is written outside the output directory", async () => {
  await using server = await startServer({ alt: false });
  const hostile = [
    "../../x",
    "/etc/x",
    "a\u0000b",
    "n".repeat(300),
    "CON",
    "con.txt",
    "a/../../b",
    "..\\x",
  ];
  for (const dest of hostile) {
    const cwd = await Deno.makeTempDir();
    const line = JSON.stringify({ url: `${server.url}/files/10/x`, dest });
    const result = await runBulkget([
      "get",
      "--manifest",
      "-",
      "-o",
      "out/inner",
    ], { cwd, stdin: line });
    assert.equal(result.code, 2, `${JSON.stringify(dest)}: ${result.stderr}`);
    assert.match(result.stderr, /stdin:1: /);
    assert.deepEqual(
      listDir(cwd),
      [],
      `nothing written for ${JSON.stringify(dest)}`,
    );
  }
});

Deno.test("get: a duplicate destination is refused naming both lines, and the first file is kept", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${cwd}/list.txt`,
    `${server.url}/flags/br/br.gif\n${server.url}/flags/us/us.gif\n${server.url}/other/br.gif\n`,
  );
  const result = await runBulkget(
    ["get", "-i", "list.txt", "-o", "out", "--report", "r.json"],
    { cwd },
  );
  assert.equal(result.code, 1);
  assert.match(
    result.stdout + result.stderr,
    /list\.txt:3: destination "br\.gif" is already used by list\.txt:1/,
  );
  assert.ok(sameBytes(`${cwd}/out/br.gif`, flagFile("br")));
  // A failed job has a code, as the README's report section says.
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`));
  const refused = report.items.filter((i: { status: string }) =>
    i.status === "error"
  );
  assert.equal(refused.length, 1);
  assert.equal(refused[0].origin, "list.txt:3");
  assert.equal(refused[0].code, "NAME_TAKEN");
  assert.equal(refused[0].attempts, 0);
});

Deno.test("get: -H and --token-env reach the first origin only; secrets never appear in output or report", async () => {
  await using server = await startServer({});
  const cwd = await Deno.makeTempDir();
  const token = "tok-5ecret-value-123";
  const urls = [
    `${server.url}/redirect/same/1/files/100/same.bin`,
    `${server.url}/redirect/cross/files/100/cross.bin`,
    `http://user:pa55word@127.0.0.1:${server.port}/files/100/userinfo.bin?sig=sigsecret&x=1`,
    `${server.url}/files/100/missing.bin?token=querysecret`.replace(
      "/files/100/",
      "/nope/",
    ),
  ];
  const result = await runBulkget(
    [
      "get",
      ...urls,
      "-o",
      "out",
      "-H",
      "X-Client-Id: hdr-secret-999",
      "-H",
      "X-Api-Key: key-secret-777",
      "--token-env",
      "MY_TOKEN",
      "--report",
      "r.json",
      "-v",
    ],
    { cwd, env: { MY_TOKEN: token } },
  );
  assert.equal(result.code, 1, result.stderr);
  const recent = server.stats().recent;
  for (const r of recent.filter((r) => r.listener === "main")) {
    assert.equal(
      r.headers.authorization?.startsWith("Bearer tok-") ||
        r.headers.authorization?.startsWith("Basic "),
      true,
      r.path,
    );
  }
  const alt = recent.filter((r) => r.listener === "alt");
  assert.equal(alt.length, 1);
  assert.equal(alt[0].headers.authorization, undefined);
  assert.equal(alt[0].headers["x-api-key"], undefined, "a token header");
  assert.equal(
    alt[0].headers["x-client-id"],
    "hdr-secret-999",
    "other headers do follow",
  );
  const everything = result.stdout + result.stderr +
    await Deno.readTextFile(`${cwd}/r.json`);
  for (
    const secret of [
      token,
      "hdr-secret-999",
      "key-secret-777",
      "pa55word",
      "sigsecret",
      "querysecret",
    ]
  ) {
    assert.ok(!everything.includes(secret), `${secret} leaked`);
  }
  assert.match(everything, /sig=\*\*\*/);
});

Deno.test("get --report writes the documented shape", async () => {
  await using server = await startServer({ faults: {}, alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(
    [
      "get",
      `${server.url}/files/1000/a.bin`,
      `${server.url}/flags/zz/zz.gif`,
      "-o",
      "out",
      "--report",
      "r.json",
    ],
    { cwd },
  );
  assert.equal(result.code, 1);
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`)) as Report;
  assert.equal(report.version, 1);
  assert.match(report.tool, /^bulkget \d+\.\d+\.\d+$/);
  assert.ok(!Number.isNaN(Date.parse(report.startedAt)));
  assert.equal(report.interrupted, false);
  assert.ok(report.elapsedMs > 0);
  assert.equal(report.error, null);
  assert.equal(report.totals.transferred, 1000);
  assert.deepEqual(
    { ...report.totals, bytes: 0, transferred: 0 },
    {
      ok: 1,
      skipped: 0,
      not_modified: 0,
      not_found: 1,
      error: 0,
      cancelled: 0,
      jobs: 2,
      bytes: 0,
      transferred: 0,
      retries: 0,
      not_started: 0,
    },
  );
  const ok = report.items.find((i) => i.status === "ok")!;
  assert.deepEqual(Object.keys(ok).sort(), [
    "attempts",
    "bytes",
    "code",
    "dest",
    "elapsedMs",
    "httpStatus",
    "label",
    "origin",
    "reason",
    "sha256",
    "status",
    "transferred",
    "url",
  ]);
  assert.equal(ok.sha256, sha256(generatedBody("a.bin", 1000)));
  assert.equal(ok.bytes, 1000);
  assert.equal(ok.httpStatus, 200);
  assert.equal(ok.origin, "argument 1");
  const missing = report.items.find((i) => i.status === "not_found")!;
  assert.equal(missing.httpStatus, 404);
  assert.equal(missing.reason, "HTTP error 404 - Not Found");
  assert.equal(missing.code, "NOT_FOUND");
  assert.equal(ok.code, null);
});

Deno.test("get exit codes: 0 all ok, 1 some failed, 2 usage error", async () => {
  await using server = await startServer({ alt: false });
  assert.equal((await runBulkget(["get", `${server.url}/files/10/a`])).code, 0);
  assert.equal((await runBulkget(["get", `${server.url}/nope`])).code, 1);
  for (
    const args of [
      [],
      ["-m", "0", "http://x/"],
      ["--bogus"],
      ["-i", "missing.txt"],
      ["--max-size", "lots", "http://x/"],
      [
        "-H",
        "bad header",
        "http://x/",
      ],
      ["--token-env", "UNSET_VAR_FOR_TEST", "http://x/"],
    ]
  ) {
    const result = await runBulkget(["get", ...args]);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(
      result.stderr,
      /^bulkget get: .+\nusage: bulkget get/,
      args.join(" "),
    );
  }
});

Deno.test("get in a CI log: periodic status lines and one line per failure on stderr", async () => {
  await using server = await startServer({
    faults: { latency: { rate: 1, ms: 400 } },
    alt: false,
  });
  const result = await runBulkget([
    "get",
    `${server.url}/files/10/a`,
    `${server.url}/nope/b`,
    "--status-interval",
    "0.1",
    "-o",
    "out",
  ]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^\[bulkget\] \d\/2 done/m);
  assert.match(result.stderr, /^FAILED b <- .*\/nope\/b: not found$/m);
  assert.ok(
    !result.stderr.includes("\r") && !result.stderr.includes("\u001b["),
    "no carriage returns or escape codes in a log",
  );
});

Deno.test("get under GitHub Actions: ::error:: annotations and a step summary table", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const summary = `${cwd}/summary.md`;
  await Deno.writeTextFile(summary, "before\n");
  const result = await runBulkget([
    "get",
    `${server.url}/files/10/a`,
    `${server.url}/nope/b`,
    "-o",
    "out",
  ], {
    cwd,
    env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary },
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stdout,
    /^::error title=bulkget%3A b::http:\/\/127\.0\.0\.1:\d+\/nope\/b: not found$/m,
  );
  const text = await Deno.readTextFile(summary);
  assert.ok(text.startsWith("before\n### bulkget"), text);
  assert.match(text, /\| 1 \| 0 \| 1 \| 0 \|/);
  assert.match(
    text,
    /\| b \| http:\/\/127\.0\.0\.1:\d+\/nope\/b \| not found \|/,
  );
});

Deno.test("get under narrow permissions works, and a missing one is one line naming the flag", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${cwd}/list.txt`,
    `${server.url}/flags/br/br.gif\n`,
  );
  const narrow = [
    `--allow-net=127.0.0.1:${server.port}`,
    "--allow-read=./list.txt,./out",
    "--allow-write=./out",
  ];
  const ok = await runBulkget(["get", "-i", "list.txt", "-o", "out"], {
    cwd,
    permissions: narrow,
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(sameBytes(`${cwd}/out/br.gif`, flagFile("br")));
  const cases: [string[], RegExp][] = [
    [narrow.filter((p) => !p.startsWith("--allow-write")), /--allow-write=out/],
    [
      narrow.filter((p) => !p.startsWith("--allow-read")),
      /--allow-read=list\.txt/,
    ],
    [narrow.filter((p) => !p.startsWith("--allow-net")), /--allow-net/],
  ];
  for (const [permissions, flag] of cases) {
    const result = await runBulkget([
      "get",
      "-i",
      "list.txt",
      "-o",
      "out",
      "--force",
    ], { cwd, permissions });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, flag);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
});

Deno.test("get --update asks with the remembered validators and fetches only what changed", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const urls = [
    `${server.url}/files/1000/a.bin`,
    `${server.url}/files/3000000/b.bin`,
  ];
  const first = await runBulkget(["get", ...urls, "-o", "out", "--update"], {
    cwd,
  });
  assert.equal(first.code, 0, first.stderr);
  assert.ok(listDir(`${cwd}/out`, true).includes(".bulkget-state.jsonl"));
  server.resetStats();
  const second = await runBulkget([
    "get",
    ...urls,
    "-o",
    "out",
    "--update",
    "--report",
    "r.json",
  ], { cwd });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^bulkget: 0 downloaded, 2 unchanged;/m);
  const recent = server.stats().recent;
  assert.equal(recent.length, 2);
  for (const r of recent) {
    assert.ok(r.headers["if-none-match"], `${r.path} sent its ETag`);
    assert.equal(r.status, 304);
  }
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`)) as Report;
  assert.equal(report.totals.not_modified, 2);
  // A file whose remembered ETag no longer matches is fetched again, whole.
  const state = `${cwd}/out/.bulkget-state.jsonl`;
  await Deno.writeTextFile(
    state,
    JSON.stringify({ dest: "a.bin", etag: '"old"' }) + "\n",
    { append: true },
  );
  server.resetStats();
  const third = await runBulkget(["get", ...urls, "-o", "out", "--update"], {
    cwd,
  });
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /^bulkget: 1 downloaded, 1 unchanged;/m);
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/out/a.bin`),
    generatedBody("a.bin", 1000),
  );
  assert.equal(
    (await runBulkget(["get", urls[0], "--update", "--force"], { cwd })).code,
    2,
  );
});

Deno.test("get --content-disposition names files as the server says, made safe, never overwriting another", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const urls = [
    `${server.url}/files/100/a.bin?filename=report%202026.csv`,
    `${server.url}/files/200/b.bin?filename=../../etc/passwd`,
    `${server.url}/files/300/c.bin`,
    `${server.url}/files/400/d.bin?filename=report%202026.csv`,
  ];
  const result = await runBulkget([
    "get",
    ...urls,
    "-o",
    "out",
    "--content-disposition",
    "-m",
    "1",
    "--report",
    "r.json",
  ], {
    cwd,
  });
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(listDir(`${cwd}/out`), [
    "c.bin",
    "passwd",
    "report 2026.csv",
  ]);
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/out/report 2026.csv`),
    generatedBody("a.bin", 100),
  );
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/out/passwd`),
    generatedBody("b.bin", 200),
  );
  assert.deepEqual(
    listDir(cwd).sort(),
    ["out", "r.json"],
    "nothing outside the output directory",
  );
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`)) as Report;
  const d = report.items.find((i) => i.url.includes("d.bin"))!;
  assert.equal(d.status, "error");
  assert.match(
    d.reason!,
    /Content-Disposition name "report 2026\.csv" is already used/,
  );
  assert.equal(
    report.items.find((i) => i.url.includes("a.bin"))!.dest,
    "report 2026.csv",
  );
});

Deno.test("get sends http:// with its own HTTP/1.1 client; --use-fetch hands them to fetch", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const urls = ["br", "fr", "us"].map((cc) =>
    `${server.url}/flags/${cc}/${cc}.gif`
  );
  const own = await runBulkget(["get", ...urls, "-o", "own", "-m", "1"], {
    cwd,
  });
  assert.equal(own.code, 0, own.stderr);
  const ownAgents = server.stats().recent.map((r) => r.headers["user-agent"]);
  assert.deepEqual(ownAgents, ["bulkget", "bulkget", "bulkget"]);
  server.resetStats();
  const viaFetch = await runBulkget(
    ["get", ...urls, "-o", "fetch", "-m", "1", "--use-fetch"],
    { cwd },
  );
  assert.equal(viaFetch.code, 0, viaFetch.stderr);
  for (const request of server.stats().recent) {
    assert.match(request.headers["user-agent"], /^Deno\//);
  }
  for (const dir of ["own", "fetch"]) {
    for (const cc of ["br", "fr", "us"]) {
      assert.ok(sameBytes(`${cwd}/${dir}/${cc}.gif`, flagFile(cc)));
    }
  }
});

Deno.test("get leaves http:// to fetch when a readable proxy variable is set (fetch honours it)", async () => {
  // The built-in server doubles as the "proxy": fetch sends it the absolute URL.
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(
    ["get", `${server.url}/flags/br/br.gif`, "-o", "out"],
    { cwd, env: { HTTP_PROXY: server.url, NO_PROXY: "" } },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.ok(sameBytes(`${cwd}/out/br.gif`, flagFile("br")));
  const [request] = server.stats().recent;
  assert.match(request.headers["user-agent"], /^Deno\//);
});
