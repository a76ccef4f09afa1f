/**
 * Memory stays flat whatever the length of the input: the peak RSS of a
 * 100,000-line run, relative to a 1,000-line run. A ratio with a generous
 * bound, never an absolute figure (the machines are shared and noisy).
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { HAS_PROC, peakRssOfBulkget } from "./_helpers.ts";

const hasShm = (() => {
  try {
    return Deno.statSync("/dev/shm").isDirectory;
  } catch {
    return false;
  }
})();

/** Runs `get -i LIST` in a child and samples its peak RSS (VmHWM) until it exits. */
async function peakRss(
  list: string,
  outDir: string,
  extra: string[] = [],
): Promise<{ kib: number; code: number; stdout: string }> {
  // Bounded: at most 10 minutes of 100 ms samples.
  return await peakRssOfBulkget(
    ["get", "-i", list, "-o", outDir, "-m", "100", "-q", ...extra],
    { everyMs: 100, maxSamples: 6_000 },
  );
}

Deno.test({
  name:
    "a 100,000-line list runs in about the memory of a 1,000-line one, with --report too",
  ignore: !HAS_PROC,
  async fn() {
    await using server = await startServer({ alt: false });
    // tmpfs when there is one: this test is about memory, not about how fast
    // ext4 creates 100,000 files.
    const dir = await Deno.makeTempDir({
      dir: hasShm ? "/dev/shm" : undefined,
    });
    const write = (n: number) => {
      const path = `${dir}/list-${n}.txt`;
      const lines = Array.from(
        { length: n },
        (_, i) => `${server.url}/files/16/f${i}`,
      );
      Deno.writeTextFileSync(path, lines.join("\n") + "\n");
      return path;
    };
    const small = await peakRss(write(1_000), `${dir}/small`);
    const largeList = write(100_000);
    const large = await peakRss(largeList, `${dir}/large`);
    // The JSON report is streamed to disk: it must not grow with the jobs.
    const reported = await peakRss(largeList, `${dir}/reported`, [
      "--report",
      `${dir}/r.json`,
    ]);
    assert.equal(small.code, 0);
    assert.equal(large.code, 0);
    assert.equal(reported.code, 0);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.equal(report.items.length, 100_000);
    assert.match(large.stdout, /^bulkget: 100000 downloaded;/m);
    const ratio = large.kib / small.kib;
    const reportedRatio = reported.kib / small.kib;
    console.log(
      `peak RSS: 1,000 lines ${small.kib} KiB, 100,000 lines ${large.kib} KiB, ratio ${
        ratio.toFixed(2)
      }; with --report ${reported.kib} KiB, ratio ${reportedRatio.toFixed(2)}`,
    );
    assert.ok(small.kib > 0 && large.kib > 0, "RSS was sampled");
    // 100 × the input; a per-job leak of even 1 KiB would add ~100 MiB.
    assert.ok(
      ratio < 3,
      `peak RSS grew ${ratio.toFixed(2)} × for 100 × the lines`,
    );
    assert.ok(
      reportedRatio < 3,
      `peak RSS with --report grew ${
        reportedRatio.toFixed(2)
      } × for 100 × the lines`,
    );
    await Deno.remove(dir, { recursive: true });
  },
});
