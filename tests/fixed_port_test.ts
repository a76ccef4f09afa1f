/**
 * Tests that need the book's fixed port 8001 (the auto-started LOCAL server),
 * kept in one file so they never run at the same time; and the compiled
 * binary, which is skipped (reported as ignored) without `DENORT_BIN`.
 */
import assert from "node:assert/strict";
import { flagFile, listDir, ROOT, runBulkget, sameBytes } from "./_helpers.ts";

const denort = Deno.env.get("DENORT_BIN");

function portIsFree(port: number): boolean {
  try {
    const listener = Deno.listen({ hostname: "127.0.0.1", port });
    listener.close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("flags -s LOCAL starts the built-in server when nothing answers on :8001", async () => {
  assert.ok(portIsFree(8001), "port 8001 must be free for this test");
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(["flags", "-s", "LOCAL", "-l", "5"], { cwd });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /nothing answered on localhost:8001; started the built-in LOCAL server/,
  );
  const lines = result.stdout.split("\n");
  assert.deepEqual(lines.slice(0, 3), [
    "LOCAL site: http://localhost:8001/flags",
    "Searching for 5 flags: BD, BR, CD, CN, DE",
    "5 concurrent connections will be used.",
  ]);
  assert.deepEqual(listDir(`${cwd}/downloads`), [
    "bd.gif",
    "br.gif",
    "cd.gif",
    "cn.gif",
    "de.gif",
  ]);
  assert.ok(portIsFree(8001), "the server it started is closed again");
});

Deno.test("compile without a denort stops with one clear line", async () => {
  const emptyCache = await Deno.makeTempDir();
  const env = { ...Deno.env.toObject(), DENO_DIR: emptyCache };
  delete (env as Record<string, string>).DENORT_BIN;
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}scripts/compile.ts`],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr).trim();
  assert.equal(result.code, 1);
  assert.equal(stderr.split("\n").length, 1, stderr);
  assert.match(stderr, /no denort base binary: set DENORT_BIN/);
});

Deno.test({
  name: "the compiled binary runs flags -s LOCAL",
  ignore: !denort,
  async fn() {
    const built = await new Deno.Command(Deno.execPath(), {
      args: ["task", "compile"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
    const cwd = await Deno.makeTempDir();
    const result = await runBulkget(
      ["flags", "-s", "LOCAL", "-a", "-m", "20"],
      { cwd, binary: `${ROOT}dist/bulkget` },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\n194 flags downloaded\.\n/);
    for (const f of listDir(`${cwd}/downloads`)) {
      assert.ok(sameBytes(`${cwd}/downloads/${f}`, flagFile(f.slice(0, 2))));
    }
  },
});

Deno.test("README quick start: the demo task prints the README's lines (port 8003, its flags and permissions)", async () => {
  assert.ok(portIsFree(8003), "port 8003 must be free for this test");
  const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const [deno, run, ...args] = (denoJson.tasks.demo as string).split(" ");
  assert.deepEqual([deno, run], ["deno", "run"]);
  // The task's own command line, its relative paths made absolute so that
  // it runs in a fresh directory (./downloads stays relative).
  const absolute = args.map((arg) =>
    arg === "main.ts" ? `${ROOT}main.ts` : arg.replace("./data", `${ROOT}data`)
  );
  const cwd = await Deno.makeTempDir();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...absolute],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 1, stderr); // 21 errors
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const block = /What `task demo` prints[\s\S]*?```\n([\s\S]*?)```/.exec(
    readme,
  );
  assert.ok(block, "the README shows the demo's output");
  const elapsed = (text: string) => text.replace(/Elapsed time: .*/, "");
  assert.equal(
    elapsed(stderr + stdout),
    elapsed(block[1]),
  );
  assert.ok(portIsFree(8003), "the server it started is closed again");
});

Deno.test("README serve: with no options it serves LOCAL, DELAY and ERROR on 8001-8003 at once", async () => {
  for (const port of [8001, 8002, 8003]) {
    assert.ok(portIsFree(port), `port ${port} must be free for this test`);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-all", `${ROOT}main.ts`, "serve"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while ((out.match(/http:\/\/127\.0\.0\.1:800[123]/g) ?? []).length < 3) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  try {
    const stats: Record<number, { faults: Record<string, number> }> = {};
    for (const port of [8001, 8002, 8003]) {
      for (let i = 0; i < 8; i++) {
        const response = await fetch(
          `http://127.0.0.1:${port}/flags/br/br.gif`,
        );
        await response.body?.cancel();
      }
      stats[port] = await (await fetch(`http://127.0.0.1:${port}/stats`))
        .json();
    }
    assert.deepEqual(stats[8001].faults, {}, "LOCAL is plain");
    assert.deepEqual(stats[8002].faults, { delay: 8 }, "DELAY delays all");
    const error = stats[8003].faults;
    assert.ok((error["503"] ?? 0) > 0 && (error.delay ?? 0) > 0, out);
  } finally {
    child.kill("SIGINT");
    await reader.cancel();
    await child.stderr.cancel();
    assert.equal((await child.status).code, 0);
  }
  for (const port of [8001, 8002, 8003]) assert.ok(portIsFree(port));
});
