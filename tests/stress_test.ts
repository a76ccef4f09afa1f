/**
 * Every fault at once, on small and large bodies over kept-alive connections:
 * each file ends byte-identical or the run says it failed, and the server
 * sees exactly the attempts the outcomes count (no hidden resends).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startServer } from "../lib/server/server.ts";
import { parseFaults } from "../lib/server/fault_spec.ts";
import { generatedBody } from "../lib/server/files.ts";
import { download } from "../lib/engine/download.ts";
import type { Job } from "../lib/core/job.ts";
import { listDir } from "./_helpers.ts";

const SIZES = [1000, 4096, 70_000, 1_500_000];

Deno.test("stress: 300 files under 503, reset, truncate, corrupt, stall and delay all end intact", async () => {
  const faults = parseFaults([
    "503=0.1",
    "reset=0.08",
    "truncate=0.08",
    "corrupt=0.05",
    "stall=0.02:2s:after=1000",
    "delay=0.2:30ms",
  ]);
  await using server = await startServer({ faults, seed: 7, alt: false });
  const expected = new Map<string, Uint8Array>();
  const jobs: Job[] = [];
  for (let i = 0; i < 300; i++) {
    const size = i % 10 === 0 ? SIZES[3] : SIZES[i % 3];
    const dest = `f${i}.bin`;
    const body = generatedBody(dest, size);
    expected.set(dest, body);
    jobs.push({
      url: `${server.url}/files/${size}/${dest}`,
      dest,
      // Only a checksum catches a flipped byte of the right length.
      sha256: createHash("sha256").update(body).digest("hex"),
    });
  }
  const dir = await Deno.makeTempDir({ prefix: "bulkget-stress-" });
  try {
    const outcomes = await Array.fromAsync(download(jobs, {
      outDir: dir,
      concurrency: 50,
      retries: 10,
      backoff: { minTimeout: 1, maxTimeout: 20 },
      deadlines: { idleMs: 500 },
    }));
    const failed = outcomes.filter((o) => o.status !== "ok");
    assert.deepEqual(failed.map((o) => `${o.job.dest}: ${o.reason}`), []);
    for (const [dest, body] of expected) {
      assert.deepEqual(Deno.readFileSync(`${dir}/${dest}`), body, dest);
    }
    assert.equal(listDir(dir).length, expected.size);
    const attempts = outcomes.reduce((n, o) => n + o.attempts, 0);
    const stats = server.stats();
    assert.equal(stats.requests, attempts, "one request per attempt");
    for (const kind of ["503", "reset", "truncate", "corrupt", "stall"]) {
      assert.ok((stats.faults[kind] ?? 0) > 0, `${kind} was injected`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
