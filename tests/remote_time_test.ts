/**
 * Remote time: files get the server's Last-Modified as their mtime (small
 * bodies written whole and streamed ones, both clients); --no-remote-time
 * keeps the download's time.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { LAST_MODIFIED } from "../lib/server/files.ts";
import { runBulkget } from "./_helpers.ts";

for (const extra of [[], ["--use-fetch"]]) {
  Deno.test(
    `get: files carry the server's Last-Modified as mtime${
      extra.length ? " (--use-fetch)" : ""
    }`,
    async () => {
      await using server = await startServer({ alt: false });
      const dir = await Deno.makeTempDir();
      const result = await runBulkget([
        "get",
        `${server.url}/files/1k/small.bin`,
        `${server.url}/files/3m/large.bin`,
        "-o",
        dir,
        ...extra,
      ]);
      assert.equal(result.code, 0, result.stderr);
      const expected = new Date(LAST_MODIFIED).getTime();
      for (const name of ["small.bin", "large.bin"]) {
        const mtime = (await Deno.stat(`${dir}/${name}`)).mtime!.getTime();
        assert.equal(mtime, expected, name);
      }
      await Deno.remove(dir, { recursive: true });
    },
  );
}

Deno.test("get --no-remote-time: files keep the time of the download", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const before = Date.now() - 2000; // file systems round times
  const result = await runBulkget([
    "get",
    `${server.url}/files/1k/small.bin`,
    `${server.url}/files/3m/large.bin`,
    "-o",
    dir,
    "--no-remote-time",
  ]);
  assert.equal(result.code, 0, result.stderr);
  for (const name of ["small.bin", "large.bin"]) {
    const mtime = (await Deno.stat(`${dir}/${name}`)).mtime!.getTime();
    assert.ok(mtime >= before, `${name}: ${new Date(mtime).toISOString()}`);
  }
  await Deno.remove(dir, { recursive: true });
});
