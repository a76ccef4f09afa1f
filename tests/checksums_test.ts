/**
 * md5, sha-1 and sha-512 beside SHA-256: checked before the rename on both
 * body paths (a mismatch leaves no file under the final name), from aria2
 * `checksum=` and manifest `"checksum"`; ignored aria2 options warn.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import { listDir, runBulkget } from "./_helpers.ts";

const digest = (algorithm: string, bytes: Uint8Array) =>
  createHash(algorithm).update(bytes).digest("hex");

Deno.test("aria2 checksum=md5/sha-1/sha-512: right ones pass, a wrong one fails with no final file (small and streamed bodies)", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const small = generatedBody("s.bin", 1024);
  const large = generatedBody("l.bin", 3 << 20);
  await Deno.writeTextFile(
    `${dir}/in.txt`,
    [
      `${server.url}/files/1k/s.bin`,
      `  checksum=md5=${digest("md5", small)}`,
      "  split=4",
      `${server.url}/files/3m/l.bin`,
      `  checksum=sha-512=${digest("sha512", large)}`,
      "  max-connection-per-server=8",
      `${server.url}/files/1k/s.bin`,
      "  out=bad-small.bin",
      `  checksum=sha-1=${"0".repeat(40)}`,
      `${server.url}/files/3m/l.bin`,
      "  out=bad-large.bin",
      `  checksum=md5=${"0".repeat(32)}`,
    ].join("\n") + "\n",
  );
  const result = await runBulkget(
    ["get", "-i", "in.txt", "-o", "out", "--retries", "0"],
    { cwd: dir },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /warning: in\.txt:3: aria2 option "split" ignored/,
  );
  assert.match(
    result.stderr,
    /aria2 option "max-connection-per-server" ignored/,
  );
  assert.match(result.stdout, /checksum mismatch: expected sha-1 0{40}/);
  assert.match(result.stdout, /checksum mismatch: expected md5 0{32}/);
  assert.deepEqual(listDir(`${dir}/out`), ["l.bin", "s.bin"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test('manifest "checksum": sha-1 checked; a complete file with the right digest is skipped on a rerun', async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const body = generatedBody("m.bin", 2048);
  await Deno.writeTextFile(
    `${dir}/m.jsonl`,
    JSON.stringify({
      url: `${server.url}/files/2k/m.bin`,
      checksum: `sha-1=${digest("sha1", body)}`,
    }) + "\n",
  );
  const first = await runBulkget(
    ["get", "--manifest", "m.jsonl", "-o", "out"],
    {
      cwd: dir,
    },
  );
  assert.equal(first.code, 0, first.stderr);
  const second = await runBulkget(
    ["get", "--manifest", "m.jsonl", "-o", "out"],
    {
      cwd: dir,
    },
  );
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /1 already complete/);
  assert.equal(server.stats().byPath["/files/2k/m.bin"], 1);
  await Deno.remove(dir, { recursive: true });
});
