/**
 * `get` under a narrow `--allow-net`: a host it was not given is one line
 * naming the flag to add, exit 2, and never Deno's interactive prompt in the
 * middle of the progress bar (checked under a pseudo-terminal, where Deno
 * would prompt).
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { hasScript, MAIN, runBulkget, underTerminal } from "./_helpers.ts";

/** Narrow permissions: read and write anywhere, the network only as given. */
const narrow = (net: string) => ["--allow-read", "--allow-write", net];

/** Whether a file exists. */
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("get: a URL argument whose host:port --allow-net does not grant is one line naming it, exit 2, before any request or file", async () => {
  await using server = await startServer({ alt: false });
  const port = new URL(server.url).port;
  const cases = [
    // Another name of the same machine is another host to Deno.
    [`http://localhost:${port}/files/1k/a.bin`, `localhost:${port}`],
    // The scheme's default port, made explicit.
    ["http://127.0.0.1/a.bin", "127.0.0.1:80"],
    ["https://127.0.0.1/a.bin", "127.0.0.1:443"],
    // An IPv6 address, in brackets as --allow-net takes it.
    [`http://[::1]:${port}/a.bin`, `[::1]:${port}`],
  ];
  for (const [url, host] of cases) {
    const cwd = await Deno.makeTempDir();
    const result = await runBulkget(
      ["get", `${server.url}/files/1k/first.bin`, url, "-o", "out"].concat(
        ["--report", "report.json", "--log", "run.log"],
      ),
      { cwd, permissions: narrow(`--allow-net=127.0.0.1:${port}`) },
    );
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr.trim(),
      `bulkget get: missing permission: run again with --allow-net=${host}`,
    );
    assert.equal(result.stdout, "");
    for (const made of ["out", "report.json", "run.log"]) {
      assert.ok(!exists(`${cwd}/${made}`), `${url}: ${made} was made`);
    }
  }
  assert.equal(server.stats().requests, 0);
});

Deno.test("get: --allow-net granted as a host without port, or as an IPv6 address, is not refused", async () => {
  await using server = await startServer({ alt: false });
  await using server6 = await startServer({ alt: false, hostname: "::1" });
  const port6 = new URL(server6.url).port;
  const cwd = await Deno.makeTempDir();
  const port = new URL(server.url).port;
  const result = await runBulkget(
    ["get", `http://localhost:${port}/files/1k/a.bin`, "-o", "out"].concat(
      `http://[::1]:${port6}/files/2k/b.bin`,
    ),
    { cwd, permissions: narrow(`--allow-net=localhost,[::1]:${port6}`) },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(Deno.statSync(`${cwd}/out/a.bin`).size, 1024);
  assert.equal(Deno.statSync(`${cwd}/out/b.bin`).size, 2048);
});

Deno.test("get: a list line whose host is not granted stops the run at that line, as a bad line does; the report is whole", async () => {
  await using server = await startServer({ alt: false });
  const port = new URL(server.url).port;
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${cwd}/list.txt`,
    `${server.url}/files/1k/a.bin\nhttp://localhost:${port}/files/1k/b.bin\n` +
      `${server.url}/files/1k/c.bin\n`,
  );
  const result = await runBulkget(
    ["get", "-i", "list.txt", "-o", "out", "-m", "1", "--report", "r.json"],
    { cwd, permissions: narrow(`--allow-net=127.0.0.1:${port}`) },
  );
  assert.equal(result.code, 2, result.stderr);
  const line =
    `list.txt:2: missing permission: run again with --allow-net=localhost:${port}`;
  assert.equal(result.stderr.trim().split("\n").at(-1), `bulkget get: ${line}`);
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`));
  assert.equal(report.error, line);
  assert.deepEqual(
    report.items.map((i: { dest: string; status: string }) => [
      i.dest,
      i.status,
    ]),
    [["a.bin", "ok"]],
  );
  assert.ok(!exists(`${cwd}/out/c.bin`));
  assert.equal(server.stats().requests, 1);
});

Deno.test("get: a redirect to a host not granted ends the run with one line naming it, exit 2, and a whole report", async () => {
  await using server = await startServer();
  const port = new URL(server.url).port;
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(
    ["get", `${server.url}/redirect/cross/files/1k/a.bin`, "-o", "out"].concat(
      ["--report", "r.json"],
    ),
    { cwd, permissions: narrow(`--allow-net=127.0.0.1:${port}`) },
  );
  assert.equal(result.code, 2, result.stderr);
  const alt = new URL(server.altUrl).host;
  const line = `missing permission: run again with --allow-net=${alt}`;
  assert.equal(result.stderr.trim().split("\n").at(-1), `bulkget get: ${line}`);
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`));
  assert.equal(report.error, line);
  assert.equal(report.totals.ok, 0);
  assert.ok(!exists(`${cwd}/out/a.bin`));
});

Deno.test({
  name:
    "get on a terminal, a list whose first line's host --allow-net does not grant: that one line and exit 2, no bar drawn before it, never Deno's prompt",
  ignore: !(await hasScript()),
  async fn() {
    await using server = await startServer({ alt: false });
    const port = new URL(server.url).port;
    const cwd = await Deno.makeTempDir();
    // Twenty lines: the bar would know its total (0/20) before the first
    // line is read.
    await Deno.writeTextFile(
      `${cwd}/list.txt`,
      Array.from(
        { length: 20 },
        (_, i) => `http://localhost:${port}/files/1k/f${i}.bin\n`,
      ).join(""),
    );
    const bulkget = `'${Deno.execPath()}' run --quiet --allow-read ` +
      `--allow-write --allow-net=127.0.0.1:${port} '${MAIN}' get`;
    // Deno waits at its prompt for an answer (it drops what was typed
    // before): the bound ends such a run.
    const { text } = await underTerminal(
      `${bulkget} -i list.txt -o out; echo EXIT=$?`,
      cwd,
    );
    assert.ok(!/requests net access/i.test(text), text);
    // Nothing is drawn before the line: no bar, no erased line.
    assert.ok(
      !/%\||\/20/.test(text) && !text.includes("\x1b[K"),
      JSON.stringify(text),
    );
    assert.match(
      text,
      new RegExp(
        `bulkget get: list\\.txt:1: missing permission: run again with --allow-net=localhost:${port}\\r?\\nEXIT=2`,
      ),
    );
    assert.equal(server.stats().requests, 0);
  },
});

Deno.test({
  name:
    "get on a terminal, a list whose first line is not a URL: that one line and exit 2, no bar drawn before it",
  ignore: !(await hasScript()),
  async fn() {
    await using server = await startServer({ alt: false });
    const cwd = await Deno.makeTempDir();
    await Deno.writeTextFile(
      `${cwd}/list.txt`,
      "htp://x/a.bin\n" +
        Array.from({ length: 19 }, (_, i) => `${server.url}/files/1k/f${i}\n`)
          .join(""),
    );
    const { text } = await underTerminal(
      `'${Deno.execPath()}' run --quiet -A '${MAIN}' get -i list.txt -o out; echo EXIT=$?`,
      cwd,
    );
    assert.ok(
      !/%\||\/20/.test(text) && !text.includes("\x1b[K"),
      JSON.stringify(text),
    );
    assert.match(
      text,
      /^bulkget get: list\.txt:1: not an http\(s\) URL: "htp:\/\/x\/a\.bin"\r?\nEXIT=2/m,
    );
    assert.equal(server.stats().requests, 0);
  },
});
