/**
 * What a resumed file tells the progress bar: only the bytes that cross the
 * network count as received, and what remains is the file's length less
 * what is on disk (the `.part`) and what arrived, so the bar and the
 * remaining time do not count the `.part` as still to come.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import { download } from "../lib/engine/download.ts";
import type { EngineEvent } from "../lib/core/events.ts";
import { startProgressBar } from "../lib/outputs/progress.ts";

const SIZE = 200_000;
const ON_DISK = 120_000;

Deno.test("a resumed file's bytes move the bar from what is on disk, not from zero", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const url = `${server.url}/files/${SIZE}/r.bin`;
  const etag = (await fetch(url, { method: "HEAD" })).headers.get("etag")!;
  server.resetStats();
  Deno.writeFileSync(
    `${dir}/r.bin.part`,
    generatedBody("r.bin", SIZE).slice(0, ON_DISK),
  );
  Deno.writeTextFileSync(
    `${dir}/r.bin.part.json`,
    JSON.stringify({ url, etag, total: SIZE }),
  );
  const frames: string[] = [];
  const decoder = new TextDecoder();
  let now = 0;
  const bar = startProgressBar({
    total: 1,
    columns: 120,
    intervalMs: 60_000,
    now: () => now,
    output: {
      writeSync(data: Uint8Array) {
        frames.push(decoder.decode(data));
        return data.length;
      },
    },
  });
  const events: EngineEvent[] = [];
  const outcomes = await Array.fromAsync(
    download([{ url, dest: "r.bin" }], {
      outDir: dir,
      // Everything but the end: the bar as it stands once the last byte came.
      onEvent: (event) => {
        events.push(event);
        if (event.type !== "done") bar.update(event);
      },
    }),
  );
  assert.equal(outcomes[0].status, "ok", outcomes[0].reason);
  assert.deepEqual(
    Deno.readFileSync(`${dir}/r.bin`),
    generatedBody("r.bin", SIZE),
  );
  assert.equal(server.stats().recent[0].status, 206);
  let received = 0;
  for (const event of events) {
    if (event.type === "bytes") received += event.bytes;
  }
  assert.equal(
    received,
    SIZE - ON_DISK,
    "only the missing bytes count as received",
  );
  now = 1000;
  bar.stop();
  const line = frames.at(-2)!;
  // Every byte of the file is there: nothing remains, whatever came when.
  assert.ok(line.startsWith("\r\u001b[K100%|"), JSON.stringify(line));
  assert.match(line, / 0\/1 \[00:01<00:00, /);
});
