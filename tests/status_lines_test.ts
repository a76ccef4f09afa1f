/**
 * The status lines of a CI log (stderr not a terminal) say what the bar
 * says: files done of the total (`+` while a pipe is open), the share, the
 * bytes and their rate, and the remaining time.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { shardOf } from "../lib/source/shard.ts";
import { runBulkget } from "./_helpers.ts";

/** Runs `get -i list.txt` over `count` slow files with a status line every 0.1 s. */
async function statusLinesOf(count: number, extraArgs: string[] = []) {
  await using server = await startServer({
    faults: { latency: { rate: 1, ms: 300 } },
    alt: false,
  });
  const cwd = await Deno.makeTempDir();
  const dests = Array.from({ length: count }, (_, i) => `f${i}.bin`);
  await Deno.writeTextFile(
    `${cwd}/list.txt`,
    dests.map((dest) => `${server.url}/files/2000/${dest}`).join("\n") + "\n",
  );
  const result = await runBulkget([
    "get",
    "-i",
    "list.txt",
    "-o",
    "out",
    "-m",
    "1",
    "--status-interval",
    "0.1",
    ...extraArgs,
  ], { cwd });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stderr.split("\n").filter((l) =>
    l.startsWith("[bulkget]")
  );
  return { lines, dests };
}

/**
 * Every line that shows a total shows `total`, and so does the last one (a
 * first line may come before the up-front count is done).
 */
function assertTotal(lines: string[], total: number): void {
  assert.ok(lines.length > 0, "status lines were printed");
  for (const line of lines) {
    const shown = line.match(/^\[bulkget\] \d+\/(\d+)\+? done/)?.[1];
    if (shown !== undefined) assert.equal(Number(shown), total, line);
  }
  assert.match(
    lines.at(-1)!,
    new RegExp(`^\\[bulkget\\] \\d+/${total} done, `),
  );
}

Deno.test("status lines show the list's total, the share, bytes with their rate and the remaining time", async () => {
  const { lines } = await statusLinesOf(5);
  assertTotal(lines, 5);
  assert.ok(
    lines.some((line) =>
      /^\[bulkget\] [1-4]\/5 done, \d+%, [\d.]+ KiB at [\d.]+ [KMG]?i?B\/s, [\d.]+ s, ETA \d\d:\d\d$/
        .test(line)
    ),
    lines.join("\n"),
  );
});

Deno.test("status lines of a --shard run show the total of the jobs the shard keeps", async () => {
  const { lines, dests } = await statusLinesOf(8, ["--shard", "2/2"]);
  const kept = dests.filter((dest) => shardOf(dest, 2) === 2).length;
  assertTotal(lines, kept);
});
