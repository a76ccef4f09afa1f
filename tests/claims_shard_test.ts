/**
 * README claims of "Sharding" that no other test covered: N's upper bound,
 * a bad line stopping every worker alike, two lines writing one file landing
 * on one worker, and `report merge -q` and `--keep-paths`. The checklist is
 * `tests/CLAIMS.md`.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { runBulkget } from "./_helpers.ts";

Deno.test("README sharding: N is at most 1,000,000", async () => {
  const url = "http://127.0.0.1:9/a.bin"; // never asked: a dry run
  const most = await runBulkget([
    "get",
    url,
    "--shard",
    "1000000/1000000",
    "--dry-run",
  ]);
  assert.equal(most.code, 0, most.stderr);
  const over = await runBulkget([
    "get",
    url,
    "--shard",
    "1/1000001",
    "--dry-run",
  ]);
  assert.equal(over.code, 2);
  assert.match(over.stderr, /^bulkget get: .*1000000/);
  assert.match(over.stderr, /\nusage: bulkget get/);
});

Deno.test("README sharding: a bad line stops every worker with the same error, not just the one that owns it", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const lines = Array.from(
    { length: 20 },
    (_, i) => `${server.url}/files/10/f${i}.bin`,
  );
  lines.splice(10, 0, "ftp://example.com/x");
  await Deno.writeTextFile(`${cwd}/list.txt`, lines.join("\n") + "\n");
  const errors: string[] = [];
  for (const k of [1, 2, 3]) {
    const result = await runBulkget(
      ["get", "-i", "list.txt", "--shard", `${k}/3`, "-o", `out${k}`],
      { cwd },
    );
    assert.equal(result.code, 2, result.stderr);
    errors.push(
      result.stderr.split("\n").find((l) => l.includes("list.txt:11"))!,
    );
  }
  assert.match(errors[0], /list\.txt:11: .*ftp:\/\/example\.com\/x/);
  assert.deepEqual(errors, [errors[0], errors[0], errors[0]]);
});

Deno.test("README sharding: two lines that write the same file land on the same worker, which reports the second", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const lines = [
    ...Array.from({ length: 10 }, (_, i) => ({
      url: `${server.url}/files/10/f${i}.bin`,
    })),
    { url: `${server.url}/files/20/other.bin`, dest: "f3.bin" },
  ].map((l) => JSON.stringify(l)).join("\n") + "\n";
  await Deno.writeTextFile(`${cwd}/m.jsonl`, lines);
  const reports = [];
  for (const k of [1, 2, 3]) {
    const result = await runBulkget([
      "get",
      "--manifest",
      "m.jsonl",
      "--shard",
      `${k}/3`,
      "-o",
      "out",
      "--report",
      `r${k}.json`,
    ], { cwd });
    reports.push({
      code: result.code,
      report: JSON.parse(await Deno.readTextFile(`${cwd}/r${k}.json`)),
    });
  }
  const holders = reports.filter(({ report }) =>
    report.items.some((i: { dest: string }) => i.dest === "f3.bin")
  );
  assert.equal(holders.length, 1, "one worker holds both lines");
  const items = holders[0].report.items.filter((i: { dest: string }) =>
    i.dest === "f3.bin"
  );
  assert.deepEqual(items.map((i: { status: string }) => i.status).sort(), [
    "error",
    "ok",
  ]);
  assert.match(
    items.find((i: { status: string }) => i.status === "error").reason,
    /destination "f3\.bin" is already used by m\.jsonl:4/,
  );
  assert.equal(holders[0].code, 1);
});

Deno.test("README merging: -q prints only the problems; --keep-paths matches workers that kept paths", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const lines = Array.from(
    { length: 12 },
    (_, i) => `${server.url}/files/10/d${i % 3}/f${i}.bin`,
  );
  await Deno.writeTextFile(`${cwd}/list.txt`, lines.join("\n") + "\n");
  await Deno.mkdir(`${cwd}/reports`);
  for (const k of [1, 2]) {
    const result = await runBulkget([
      "get",
      "-i",
      "list.txt",
      "--keep-paths",
      "--shard",
      `${k}/2`,
      "-o",
      "out",
      "--report",
      `reports/r${k}.json`,
    ], { cwd });
    assert.equal(result.code, 0, result.stderr);
  }
  const merge = (...extra: string[]) =>
    runBulkget(["report", "merge", "reports", "-i", "list.txt", ...extra], {
      cwd,
    });
  const kept = await merge("--keep-paths");
  assert.equal(kept.code, 0, kept.stdout + kept.stderr);
  assert.match(kept.stdout, /every job of the list succeeded once/);
  const quiet = await merge("--keep-paths", "-q");
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stdout + quiet.stderr, "");
  // Without --keep-paths the list names other files: every job is missing.
  const flat = await merge("-q");
  assert.equal(flat.code, 1);
  assert.equal(flat.stdout, "", "-q: no counts, no notes");
  assert.match(flat.stderr, /missing: f0\.bin/);
});
