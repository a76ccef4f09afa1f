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
