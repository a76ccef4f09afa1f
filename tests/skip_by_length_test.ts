/**
 * A file under its final name that the state file does not know, for a job
 * with no size or checksum: kept when the server says it has that length
 * (a `Range: bytes=SIZE-` answered 416 `bytes *\/SIZE`, no body sent), else
 * fetched again whole, never stitched.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import { listDir, runBulkget } from "./_helpers.ts";

Deno.test("a file of the server's length with no record is skipped, and no body is sent", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/o`);
  const body = generatedBody("same.bin", 3000);
  Deno.writeFileSync(`${cwd}/o/same.bin`, body);
  const result = await runBulkget(
    [
      "get",
      `${server.url}/files/3000/same.bin`,
      "-o",
      "o",
      "--report",
      "r.json",
    ],
    { cwd },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^bulkget: 0 downloaded, 1 already complete;/m);
  const stats = server.stats();
  assert.deepEqual(stats.byStatus, { "416": 1 }, "one range probe, no body");
  assert.equal(stats.recent[0].headers.range, "bytes=3000-");
  assert.deepEqual(Deno.readFileSync(`${cwd}/o/same.bin`), body);
  assert.deepEqual(listDir(`${cwd}/o`), ["same.bin"]);
  const report = JSON.parse(Deno.readTextFileSync(`${cwd}/r.json`));
  assert.equal(report.items[0].status, "skipped");
  assert.equal(report.items[0].bytes, 3000);
  assert.equal(report.items[0].transferred, 0);
});

Deno.test("a shorter file with no record is fetched again whole (not appended to), with no retry", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/o`);
  // Another version's first bytes: appending the rest would stitch two.
  Deno.writeFileSync(`${cwd}/o/short.bin`, new Uint8Array(1000).fill(7));
  const result = await runBulkget(
    ["get", `${server.url}/files/3000/short.bin`, "-o", "o", "--retries", "0"],
    { cwd },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^bulkget: 1 downloaded;/m);
  assert.doesNotMatch(result.stdout, /retr/);
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/o/short.bin`),
    generatedBody("short.bin", 3000),
  );
  const statuses = server.stats().recent.map((r) => r.status);
  assert.deepEqual(statuses, [206, 200]);
  assert.deepEqual(listDir(`${cwd}/o`), ["short.bin"]);
});

Deno.test("a longer file with no record is fetched again whole", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/o`);
  Deno.writeFileSync(`${cwd}/o/long.bin`, new Uint8Array(5000).fill(7));
  const result = await runBulkget(
    ["get", `${server.url}/files/3000/long.bin`, "-o", "o", "--retries", "0"],
    { cwd },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^bulkget: 1 downloaded;/m);
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/o/long.bin`),
    generatedBody("long.bin", 3000),
  );
  const statuses = server.stats().recent.map((r) => r.status);
  assert.deepEqual(statuses, [416, 200]);
});

Deno.test("--force fetches a file of the server's length again, without asking for its length", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/o`);
  Deno.writeFileSync(`${cwd}/o/f.bin`, new Uint8Array(3000).fill(7));
  const result = await runBulkget(
    ["get", `${server.url}/files/3000/f.bin`, "-o", "o", "--force"],
    { cwd },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^bulkget: 1 downloaded;/m);
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/o/f.bin`),
    generatedBody("f.bin", 3000),
  );
  const requests = server.stats().recent;
  assert.deepEqual(requests.map((r) => r.status), [200]);
  assert.equal(requests[0].headers.range, undefined);
});

Deno.test("a file with no record and a given checksum is judged by the checksum alone, with no request when it matches", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/o`);
  const body = generatedBody("c.bin", 2048);
  const sha1 = createHash("sha1").update(body).digest("hex");
  const url = `${server.url}/files/2048/c.bin`;
  await Deno.writeTextFile(
    `${cwd}/m.jsonl`,
    JSON.stringify({ url, checksum: `sha-1=${sha1}` }) + "\n",
  );
  const args = ["get", "--manifest", "m.jsonl", "-o", "o"];
  Deno.writeFileSync(`${cwd}/o/c.bin`, body);
  const kept = await runBulkget(args, { cwd });
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stdout, /^bulkget: 0 downloaded, 1 already complete;/m);
  assert.equal(server.stats().requests, 0);
  // Same length, other bytes: the server's length is no excuse here.
  Deno.writeFileSync(`${cwd}/o/c.bin`, new Uint8Array(2048).fill(7));
  const fetched = await runBulkget(args, { cwd });
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.match(fetched.stdout, /^bulkget: 1 downloaded;/m);
  assert.deepEqual(Deno.readFileSync(`${cwd}/o/c.bin`), body);
  assert.deepEqual(server.stats().recent.map((r) => r.status), [200]);
});
