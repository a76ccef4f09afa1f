/**
 * `get --log FILE`: each file, each retry and the totals, time-stamped, in
 * the file (with -q on the terminal); no secret in it; an unwritable path
 * is one line and exit 2.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { runBulkget } from "./_helpers.ts";
import { scriptedServer } from "./_scripted_server.ts";

Deno.test("get --log FILE: OK, FAILED, retry and totals lines, time-stamped, no secrets", async () => {
  await using server = await startServer({
    alt: false,
    faults: { statuses: [{ status: 503, rate: 0.5 }] },
    seed: 7,
  });
  const dir = await Deno.makeTempDir();
  const authority = server.url.replace("http://", "http://user:hunter2@");
  const result = await runBulkget([
    "get",
    `${authority}/files/1k/a.bin`,
    `${server.url}/nothing/b.bin`,
    ...Array.from({ length: 6 }, (_, i) => `${server.url}/files/1k/c${i}`),
    "-o",
    "out",
    "-q",
    "--retries",
    "8",
    "-H",
    "X-Token: t0ps3cret",
    "--log",
    "run.log",
  ], { cwd: dir });
  assert.equal(result.code, 1, result.stderr);
  const log = await Deno.readTextFile(`${dir}/run.log`);
  const lines = log.trimEnd().split("\n");
  for (const line of lines) {
    assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
  }
  assert.match(log, / OK a\.bin \(1\.0 KiB\)$/m);
  assert.match(log, / FAILED b\.bin <- .*: not found/);
  assert.match(log, / retry \d+ c?\S+: HTTP error 503/);
  // The last line counts as the summary does.
  const counts = /^bulkget: ([^;]*);/m.exec(result.stdout)![1];
  assert.equal(counts, "7 downloaded, 1 not found");
  assert.match(
    lines.at(-1)!,
    new RegExp(
      `\\[bulkget\\] finished: ${counts}; \\S+ \\S+ received, \\d+ retr(y|ies), `,
    ),
  );
  assert.ok(!log.includes("hunter2") && !log.includes("t0ps3cret"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --log FILE: status lines every --status-interval, also when the terminal shows none (-q)", async () => {
  await using server = await startServer({
    alt: false,
    faults: { latency: { rate: 1, ms: 300 } },
  });
  const dir = await Deno.makeTempDir();
  const urls = Array.from(
    { length: 6 },
    (_, i) => `${server.url}/files/1k/f${i}`,
  );
  const result = await runBulkget(
    ["get", ...urls, "-o", "out", "-q", "-m", "2"].concat(
      ["--log", "run.log", "--status-interval", "0.2"],
    ),
    { cwd: dir },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /\[bulkget\]/, "-q: none on the terminal");
  const log = await Deno.readTextFile(`${dir}/run.log`);
  const done = [...log.matchAll(/Z \[bulkget\] (\d+)\/6 done, /g)].map((m) =>
    Number(m[1])
  );
  // Three rounds of 300 ms: status lines come while the files do.
  assert.ok(done.length >= 2, log);
  assert.deepEqual(done, [...done].sort((a, b) => a - b), "counts only grow");
  assert.ok(done[0] < 6, log);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --log into a missing directory: one line, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const result = await runBulkget(
    ["get", "http://127.0.0.1:9/x", "--log", "no/such/dir/run.log"],
    { cwd: dir },
  );
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^bulkget get: --log no\/such\/dir\/run\.log: /);
  assert.equal(result.stderr.trim().split("\n").length, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --report with a bad --log: one line, exit 2, no report left, no request (either order)", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/adir`);
  const url = `${server.url}/files/10/a`;
  for (const log of ["no/such/dir/run.log", "adir"]) {
    for (
      const args of [
        ["--report", "r.json", "--log", log],
        ["--log", log, "--report", "r.json"],
      ]
    ) {
      const result = await runBulkget(["get", url, "-o", "out", ...args], {
        cwd: dir,
      });
      assert.equal(result.code, 2, `${args}: ${result.stderr}`);
      assert.equal(result.stderr.trimEnd().split("\n").length, 1);
      assert.match(result.stderr, /^bulkget get: --log /);
      const left = [];
      for await (const entry of Deno.readDir(dir)) left.push(entry.name);
      assert.deepEqual(left, ["adir"], `${args}: left behind`);
    }
  }
  assert.equal(server.stats().requests, 0, "nothing was requested");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --log: the totals line says '1 retry' in the singular, as the summary does", async () => {
  await using server = scriptedServer((n) => ({
    send: n === 0
      ? "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nretry-after: 0\r\n\r\n"
      : "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
    close: true,
  }));
  const dir = await Deno.makeTempDir();
  const result = await runBulkget(
    ["get", `${server.url}/a.txt`, "-o", "out", "-q", "--log", "run.log"],
    { cwd: dir },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /; 1 retry$/m);
  const last = (await Deno.readTextFile(`${dir}/run.log`)).trimEnd().split("\n")
    .at(-1)!;
  assert.match(
    last,
    /\[bulkget\] finished: 1 downloaded; 5 B received, 1 retry, \d+\.\d s$/,
  );
  await Deno.remove(dir, { recursive: true });
});
