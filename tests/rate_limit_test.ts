/**
 * `--limit-rate` / `--max-download-limit`: the rate measured over a 5 s
 * download (bytes ÷ elapsed time, both taken here) is within 10 % of the
 * limit, for both clients and both body paths, and memory stays flat while
 * the reads are paced (the server's sends wait in TCP, not in bulkget).
 *
 * The bound is a ratio of the limit, never a time: at most 1.1 × (being
 * over the limit is a bug), at least 0.5 × (pacing can only be late, and a
 * starved machine is late; the limiter lets an overslept reader catch up by
 * up to 100 ms). On an idle machine the runs measure 0.995 to 0.999 ×.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { download, type DownloadOptions } from "../lib/engine/download.ts";
import {
  pace,
  type RateLimit,
  rateLimit,
  readSizeFor,
} from "../lib/engine/rate_limit.ts";
import type { Job } from "../lib/core/job.ts";
import { HAS_PROC, peakRssOfBulkget, runBulkget } from "./_helpers.ts";

const MiB = 1 << 20;

const tmpfs = (() => {
  try {
    return Deno.statSync("/dev/shm").isDirectory ? "/dev/shm" : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * Runs the jobs, sampling RSS every 100 ms; returns bytes, seconds and RSS
 * growth after the first second (printed only: the test process holds the
 * server and, under `--parallel`, other tests; the memory test below runs
 * bulkget in a child).
 */
async function measure(jobs: Job[], options: DownloadOptions) {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir({ dir: tmpfs });
  const samples: number[] = [];
  const began = performance.now();
  const timer = setInterval(() => {
    samples.push(Deno.memoryUsage().rss);
  }, 100);
  let bytes = 0;
  try {
    for await (
      const outcome of download(
        jobs.map((job) => ({ ...job, url: server.url + job.url })),
        { outDir: dir, digest: false, ...options },
      )
    ) {
      assert.equal(outcome.status, "ok", outcome.reason);
      bytes += outcome.bytes;
    }
  } finally {
    clearInterval(timer);
    await Deno.remove(dir, { recursive: true });
  }
  const seconds = (performance.now() - began) / 1000;
  const settled = samples[10] ?? samples.at(-1)!; // after 1 s: Worker started
  const growth = Math.max(...samples.slice(10)) - settled;
  return { bytes, seconds, growthMiB: growth / MiB };
}

function checkRate(
  label: string,
  got: { bytes: number; seconds: number; growthMiB: number },
  limit: number,
) {
  const ratio = got.bytes / got.seconds / limit;
  console.log(
    `${label}: ${got.bytes} bytes in ${got.seconds.toFixed(2)} s = ${
      ratio.toFixed(3)
    } × the limit; RSS grew ${
      got.growthMiB.toFixed(1)
    } MiB after the first second`,
  );
  // Over the limit is a bug: at most 10 % (the 100 ms burst is 2 % of 5 s).
  assert.ok(ratio < 1.1, `rate ${ratio.toFixed(3)} × the limit`);
  // Under it is what a starved machine does (0.637 × was seen with the
  // suite beside four other busy processes on 2 cores), so the bound below
  // only catches a pacer that waits twice too long; an idle machine
  // measures 0.995 to 0.999, and the bench measures the rate itself.
  assert.ok(ratio > 0.5, `rate ${ratio.toFixed(3)} × the limit`);
}

for (const ownHttp of [true, false]) {
  const client = ownHttp ? "own client (direct copy)" : "fetch (paced reads)";
  Deno.test(`--limit-rate: a 5 s download runs at the limit, ${client}`, async () => {
    // Low enough that pacing, not the CPU, sets the pace on a loaded machine.
    const limit = 2 * MiB;
    const got = await measure(
      [{ url: "/files/10m/big", dest: "big" }],
      { ownHttp, limitRate: limit },
    );
    assert.equal(got.bytes, 10 * MiB);
    checkRate(`run limit, ${client}`, got, limit);
  });

  Deno.test(`--max-download-limit: each download at its own limit, ${client}`, async () => {
    const limit = 1 * MiB;
    const got = await measure(
      [
        { url: "/files/5m/a", dest: "a" },
        { url: "/files/5m/b", dest: "b" },
      ],
      { ownHttp, limitRatePerDownload: limit },
    );
    // Two at once, each at the limit: twice the limit together.
    checkRate(`per-download limit ×2, ${client}`, got, 2 * limit);
  });

  Deno.test(`--limit-rate: small bodies (read whole) share the run's limit, ${client}`, async () => {
    const limit = 512 << 10;
    const jobs = Array.from(
      { length: 160 },
      (_, i) => ({ url: `/files/16k/s${i}`, dest: `s${i}` }),
    );
    const got = await measure(jobs, {
      ownHttp,
      limitRate: limit,
      concurrency: 4,
    });
    assert.equal(got.bytes, 160 * 16384);
    checkRate(`small bodies, ${client}`, got, limit);
  });
}

for (const ownHttp of [true, false]) {
  for (const concurrency of [1, 3]) {
    Deno.test(
      `--limit-rate: every body, also one of up to 1 MiB, is paced as it arrives, each download at most one read ahead of its booking, never after it arrived whole (${
        ownHttp ? "own client" : "fetch"
      }, -m ${concurrency})`,
      async () => {
        await using server = await startServer({ alt: false });
        const dir = await Deno.makeTempDir();
        // A limit that books every read and never waits (no timing here):
        // at each booking, the bytes received beyond those already booked
        // are at most one read's worth per download in progress (at 2 MiB/s
        // 100 KiB, more than a piece of fetch's body, whose size fetch
        // chooses).
        let received = 0;
        let booked = 0;
        const unbooked: number[] = [];
        const limit: RateLimit = {
          bytesPerSecond: 2 * MiB,
          reserve(bytes) {
            unbooked.push(received - booked);
            booked += bytes;
            return 0;
          },
        };
        const sizes = [1 << 20, 300_000, 60_000, 900_000, 500_000, 200_000];
        for await (
          const outcome of download(
            sizes.map((size, i) => ({
              url: `${server.url}/files/${size}/f${i}`,
              dest: `f${i}`,
            })),
            {
              outDir: dir,
              ownHttp,
              rateLimit: limit,
              concurrency,
              onEvent: (event) => {
                if (event.type === "bytes") received += event.bytes;
              },
            },
          )
        ) assert.equal(outcome.status, "ok", outcome.reason);
        const total = sizes.reduce((a, b) => a + b);
        assert.equal(booked, total);
        assert.equal(received, total);
        const ahead = concurrency * readSizeFor([limit]);
        assert.ok(
          unbooked.every((bytes) => bytes <= ahead),
          `read ahead of the limit: ${Math.max(...unbooked)} > ${ahead} bytes`,
        );
        await Deno.remove(dir, { recursive: true });
      },
    );
  }
}

Deno.test("rate limit: a reservation past the budget waits its share, a pause saves up 100 ms at most", () => {
  let now = 0;
  const limit = rateLimit(1000, { now: () => now });
  assert.equal(limit.reserve(500), 500);
  now = 10_000; // idle a long time
  assert.equal(limit.reserve(100), 0); // 100 ms of saved budget
  assert.equal(limit.reserve(100), 100);
  assert.throws(() => rateLimit(0), RangeError);
});

Deno.test("rate limit: pace ends with the signal's reason", async () => {
  const limit = rateLimit(1);
  const stop = new AbortController();
  const waiting = pace([limit], 10, { signal: stop.signal });
  stop.abort(new Error("deadline"));
  await assert.rejects(waiting, /deadline/);
});

Deno.test("get --limit-rate / --max-download-limit: sizes, and 0 is a usage error", async () => {
  await using server = await startServer({ alt: false });
  const ok = await runBulkget([
    "get",
    `${server.url}/files/64k/x`,
    "--limit-rate",
    "1M",
    "--max-download-limit",
    "512K",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await runBulkget(["get", `${server.url}/x`, "--limit-rate", "0"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--limit-rate must be above 0/);
});

Deno.test("--limit-rate with --max-download-limit: the stricter one wins", async () => {
  const limit = 1 * MiB;
  const got = await measure(
    [{ url: "/files/5m/one", dest: "one" }],
    { limitRate: 8 * MiB, limitRatePerDownload: limit },
  );
  checkRate("run 8 MiB/s, download 1 MiB/s", got, limit);
});

/** Runs `get URL --limit-rate RATE` in a child; its peak RSS (VmHWM) in KiB. */
async function peakRssOfLimitedGet(url: string, rate: string, extra: string[]) {
  const dir = await Deno.makeTempDir({ dir: tmpfs });
  // Bounded: at most 60 s of 50 ms samples.
  const { kib, code } = await peakRssOfBulkget(
    ["get", url, "-o", dir, "-q", "--limit-rate", rate, ...extra],
    { everyMs: 50, maxSamples: 1_200 },
  );
  await Deno.remove(dir, { recursive: true });
  assert.equal(code, 0);
  return kib;
}

for (const extra of [[], ["--use-fetch"]]) {
  Deno.test({
    name:
      `--limit-rate: 10 × the bytes at the same rate, about the same peak memory${
        extra.length ? " (--use-fetch)" : ""
      }`,
    ignore: !HAS_PROC,
    async fn() {
      await using server = await startServer({ alt: false });
      const small = await peakRssOfLimitedGet(
        `${server.url}/files/16m/s.bin`,
        "32M",
        extra,
      );
      const large = await peakRssOfLimitedGet(
        `${server.url}/files/160m/l.bin`,
        "32M",
        extra,
      );
      const ratio = large / small;
      console.log(
        `peak RSS at 32 MiB/s: 16 MiB file ${small} KiB, 160 MiB file ${large} KiB, ratio ${
          ratio.toFixed(2)
        }`,
      );
      assert.ok(small > 0 && large > 0, "RSS was sampled");
      // A body held in memory would add 144 MiB (a ratio over 2).
      assert.ok(ratio < 1.5, `peak RSS grew ${ratio.toFixed(2)} ×`);
    },
  });
}
