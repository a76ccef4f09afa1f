/**
 * `get --dry-run`: the plan (download, resume, skip, check, fail) after
 * sharding, dedupe and skip checks; no request, no write, under read-only
 * permissions.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startServer } from "../lib/server/server.ts";
import { listDir, runBulkget } from "./_helpers.ts";

Deno.test("get --dry-run: download, resume, skip and a duplicate, with no request and nothing written", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  // done.bin written by an earlier run (so the state file vouches for it).
  const earlier = await runBulkget(
    ["get", `${server.url}/files/10/done.bin`, "-o", "out"],
    { cwd: dir },
  );
  assert.equal(earlier.code, 0, earlier.stderr);
  server.resetStats();
  await Deno.writeTextFile(`${dir}/out/half.bin.part`, "y".repeat(5));
  await Deno.writeTextFile(
    `${dir}/list.txt`,
    [
      `${server.url}/files/10/done.bin`,
      `${server.url}/files/20/half.bin`,
      `${server.url}/files/30/new.bin`,
      `${server.url}/other/new.bin`,
    ].join("\n") + "\n",
  );
  const before = listDir(`${dir}/out`);
  const result = await runBulkget(
    ["get", "-i", "list.txt", "-o", "out", "--dry-run"],
    { cwd: dir, permissions: [`--allow-read=${dir}`] }, // no net, no write
  );
  assert.equal(result.code, 1, result.stderr); // the duplicate would fail
  const lines = result.stdout.trim().split("\n");
  assert.deepEqual(lines.slice(0, 4), [
    "skip done.bin (complete, 10 B)",
    `resume ${server.url}/files/20/half.bin -> half.bin (a .part of 5 B, if the server agrees)`,
    `download ${server.url}/files/30/new.bin -> new.bin`,
    'fail new.bin: list.txt:4: destination "new.bin" is already used by list.txt:3',
  ]);
  assert.match(
    lines[4],
    /^bulkget: dry run: 2 to download, 1 already complete, 1 would fail; nothing was fetched or written$/,
  );
  assert.equal(server.stats().requests, 0);
  assert.deepEqual(listDir(`${dir}/out`), before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --dry-run: --shard keeps its share, --force downloads what exists, --update checks it", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const urls = Array.from(
    { length: 20 },
    (_, i) => `${server.url}/files/1/f${i}`,
  );
  // f0 written by an earlier --update run: its validators are recorded.
  const earlier = await runBulkget(["get", urls[0], "-o", "out", "--update"], {
    cwd: dir,
  });
  assert.equal(earlier.code, 0, earlier.stderr);
  server.resetStats();
  const all = await runBulkget([
    "get",
    ...urls,
    "-o",
    "out",
    "--dry-run",
    "--force",
  ], { cwd: dir });
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /dry run: 20 to download, 0 already complete/);
  const update = await runBulkget([
    "get",
    urls[0],
    "-o",
    "out",
    "--dry-run",
    "--update",
  ], { cwd: dir });
  assert.match(
    update.stdout,
    /^check .* -> f0 \(exists; a conditional GET\)$/m,
  );
  const one = await runBulkget([
    "get",
    ...urls,
    "-o",
    "out",
    "--dry-run",
    "--shard",
    "1/2",
  ], { cwd: dir });
  const two = await runBulkget([
    "get",
    ...urls,
    "-o",
    "out",
    "--dry-run",
    "--shard",
    "2/2",
  ], { cwd: dir });
  const planned = (text: string) =>
    text.split("\n").filter((l) => /^(download|skip) /.test(l)).length;
  assert.equal(planned(one.stdout) + planned(two.stdout), 20);
  assert.ok(planned(one.stdout) < 20 && planned(two.stdout) < 20);
  assert.equal(server.stats().requests, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --dry-run with checksums: a file whose digest matches is skipped, one whose digest differs (same size) would be downloaded", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/out`);
  const right = new TextEncoder().encode("right bytes\n");
  const wrong = new TextEncoder().encode("wrong bytes\n"); // same size
  const hex = (algorithm: string) =>
    createHash(algorithm).update(right).digest("hex");
  for (const name of ["sha256-ok", "md5-ok", "sha512-ok"]) {
    await Deno.writeFile(`${dir}/out/${name}`, right);
  }
  for (const name of ["sha256-bad", "sha1-bad"]) {
    await Deno.writeFile(`${dir}/out/${name}`, wrong);
  }
  const url = "http://127.0.0.1:9/f"; // never asked: no --allow-net below
  await Deno.writeTextFile(
    `${dir}/in.txt`,
    [
      [`${url}1`, "  out=sha256-ok", `  checksum=sha-256=${hex("sha256")}`],
      [`${url}2`, "  out=md5-ok", `  checksum=md5=${hex("md5")}`],
      [`${url}3`, "  out=sha512-ok", `  checksum=sha-512=${hex("sha512")}`],
      [`${url}4`, "  out=sha256-bad", `  checksum=sha-256=${hex("sha256")}`],
      [`${url}5`, "  out=sha1-bad", `  checksum=sha-1=${hex("sha1")}`],
    ].flat().join("\n") + "\n",
  );
  const before = listDir(`${dir}/out`);
  const result = await runBulkget(
    ["get", "-i", "in.txt", "-o", "out", "--dry-run"],
    { cwd: dir, permissions: [`--allow-read=${dir}`] },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split("\n").slice(0, 5), [
    "skip sha256-ok (complete, 12 B)",
    "skip md5-ok (complete, 12 B)",
    "skip sha512-ok (complete, 12 B)",
    `download ${url}4 -> sha256-bad`,
    `download ${url}5 -> sha1-bad`,
  ]);
  assert.match(result.stdout, /dry run: 2 to download, 3 already complete/);
  assert.deepEqual(listDir(`${dir}/out`), before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --dry-run: a --split .part is said with the bytes its ranges hold, not its full-size length", async () => {
  const dir = await Deno.makeTempDir();
  const url = "http://127.0.0.1:9/files/2m/s.bin"; // never asked
  // As an interrupted --split run leaves it: made at the file's size, two
  // ranges filled in part.
  const part = await Deno.open(`${dir}/s.bin.part`, {
    write: true,
    create: true,
  });
  await part.truncate(2_000_000);
  part.close();
  await Deno.writeTextFile(
    `${dir}/s.bin.part.json`,
    JSON.stringify({
      url,
      etag: '"e1"',
      total: 2_000_000,
      split: {
        ranges: [[0, 1_000_000], [1_000_000, 2_000_000]],
        done: [300_000, 100_000],
      },
    }),
  );
  const result = await runBulkget(
    ["get", url, "-o", dir, "--dry-run"],
    { permissions: [`--allow-read=${dir}`] },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout.split("\n")[0],
    `resume ${url} -> s.bin (a split .part with 390.6 KiB of 1.9 MiB written, if the server agrees)`,
  );
  await Deno.remove(dir, { recursive: true });
});
