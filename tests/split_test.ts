/**
 * `get --split N`: a large file whose server takes ranges is fetched as N
 * ranges over N connections into one `.part`, byte for byte, with either
 * client and under narrow permissions; a failed range is retried from where
 * it stopped; a server without ranges, one that answers a range with the
 * whole file, and one that sends other bytes than asked get one connection;
 * an interrupted run's ranges are continued by the next run, unless the
 * file changed on the server (then it starts over, never stitched).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startServer } from "../lib/server/server.ts";
import { generatedBody, versionedName } from "../lib/server/files.ts";
import {
  bulkgetCommand,
  listDir,
  peakRssOfBulkget,
  runBulkget,
  type RunOptions,
} from "./_helpers.ts";
import { resettingServer, scriptedServer } from "./_scripted_server.ts";

const MiB = 1 << 20;

/** Asserts a file holds `expected` (a short message: a diff of megabytes would take minutes). */
function assertFileBytes(path: string, expected: Uint8Array): void {
  const actual = Deno.readFileSync(path);
  const first = actual.findIndex((byte, i) => byte !== expected[i]);
  assert.ok(
    actual.length === expected.length && first === -1,
    `${path}: ${actual.length} bytes, expected ${expected.length}; first difference at ${first}`,
  );
}
const CLIENTS = [[], ["--use-fetch"]];

/** `bulkget get URL -o OUT --split N --min-split-size 1M EXTRA…`. */
function getSplit(
  connections: number,
  url: string,
  out: string,
  extra: readonly string[] = [],
  options: RunOptions = {},
) {
  return runBulkget([
    "get",
    url,
    "-o",
    out,
    "--split",
    String(connections),
    "--min-split-size",
    "1M",
    ...extra,
  ], options);
}

/** The ranges asked for in `requests` (`[start, end)`), in order. */
function rangesAsked(requests: { headers: Record<string, string> }[]) {
  return requests.flatMap(({ headers }) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(headers.range ?? "");
    return m ? [[Number(m[1]), Number(m[2]) + 1]] : [];
  });
}

for (const [connections, client] of [[4, 0], [8, 0], [4, 1], [8, 1]] as const) {
  const flags = CLIENTS[client];
  Deno.test(
    `get --split ${connections}${
      flags.length ? " --use-fetch" : ""
    }: ${connections} ranges over ${connections} connections, the file byte for byte, under narrow permissions`,
    async () => {
      await using server = await startServer({ alt: false });
      const dir = await Deno.makeTempDir();
      const size = 8 * MiB + 12345;
      const result = await getSplit(
        connections,
        `${server.url}/files/${size}/big.bin`,
        "out",
        flags,
        {
          cwd: dir,
          permissions: [
            `--allow-net=127.0.0.1:${server.port}`,
            `--allow-read=${dir}/out`,
            `--allow-write=${dir}/out`,
          ],
        },
      );
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.deepEqual(listDir(`${dir}/out`), ["big.bin"]);
      assertFileBytes(`${dir}/out/big.bin`, generatedBody("big.bin", size));
      const stats = server.stats();
      assert.deepEqual(stats.byStatus, { 200: 1, 206: connections - 1 });
      // The first answer carries the first range; the others were asked for.
      const asked = rangesAsked(stats.recent).sort((a, b) => a[0] - b[0]);
      assert.equal(asked.length, connections - 1);
      assert.equal(asked[asked.length - 1][1], size);
      for (let i = 1; i < asked.length; i++) {
        assert.equal(asked[i][0], asked[i - 1][1], "the ranges are contiguous");
      }
      assert.ok(
        stats.recent.every((r) => !r.headers.range || r.headers["if-range"]),
      );
      assert.match(result.stdout + result.stderr, /8\.0 MiB received/);
      await Deno.remove(dir, { recursive: true });
    },
  );
}

Deno.test("get --split: a file under twice --min-split-size is fetched with one request", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const result = await getSplit(
    8,
    `${server.url}/files/${2 * MiB - 1}/small.bin`,
    dir,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(server.stats().byStatus, { 200: 1 });
  assertFileBytes(`${dir}/small.bin`, generatedBody("small.bin", 2 * MiB - 1));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --split: every answer cut mid-body, each range is retried from where it stopped and the file is right", async () => {
  // Every response closes its connection after 600 KiB of body.
  await using server = await startServer({
    alt: false,
    faults: { reset: { rate: 1, after: 600 << 10 } },
  });
  const dir = await Deno.makeTempDir();
  const size = 4 * MiB;
  const result = await getSplit(4, `${server.url}/files/${size}/cut.bin`, dir, [
    "--retries",
    "4",
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assertFileBytes(`${dir}/cut.bin`, generatedBody("cut.bin", size));
  const stats = server.stats();
  assert.ok((stats.faults.reset ?? 0) >= 4, JSON.stringify(stats.faults));
  // A retried range asks only for what it lacks: never from its start again.
  const asked = rangesAsked(stats.recent);
  const starts = asked.map(([start]) => start);
  assert.equal(
    new Set(starts).size,
    starts.length,
    "no range asked twice from the same byte",
  );
  assert.ok(
    asked.reduce((sum, [start, end]) => sum + end - start, 0) < 2 * size,
    "the retries did not fetch whole ranges again",
  );
  assert.match(result.stdout + result.stderr, /4\.0 MiB received/);
  await Deno.remove(dir, { recursive: true });
});

/** A raw HTTP answer with `headers` and `body`. */
function answer(
  status: string,
  headers: Record<string, string>,
  body: Uint8Array,
) {
  const head = `HTTP/1.1 ${status}\r\n${
    Object.entries({ ...headers, "content-length": String(body.length) })
      .map(([k, v]) => `${k}: ${v}\r\n`).join("")
  }\r\n`;
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(new TextEncoder().encode(head));
  bytes.set(body, head.length);
  return bytes;
}

const RANGED = { "accept-ranges": "bytes", etag: '"v1"' };

for (const flags of CLIENTS) {
  const label = flags.length ? " (--use-fetch)" : "";
  Deno.test(`get --split${label}: a server that answers a range with the whole file (200) gets one connection; the file is right`, async () => {
    const body = generatedBody("whole.bin", 3 * MiB);
    await using server = scriptedServer(() => ({
      send: answer("200 OK", RANGED, body),
      close: true,
    }));
    const dir = await Deno.makeTempDir();
    const result = await getSplit(3, `${server.url}/whole.bin`, dir, [
      ...flags,
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assertFileBytes(`${dir}/whole.bin`, body);
    // After the refusal, one request without a range did it.
    const last = server.requests[server.requests.length - 1];
    assert.doesNotMatch(last, /\r\nrange:/i);
    assert.deepEqual(listDir(dir), ["whole.bin"]);
    await Deno.remove(dir, { recursive: true });
  });

  Deno.test(`get --split${label}: a 206 with other bytes than asked (a lying Content-Range) is refused, never written; one connection then`, async () => {
    const size = 3 * MiB;
    const body = generatedBody("lie.bin", size);
    const wrong = generatedBody("other.bin", size);
    await using server = scriptedServer((n) => {
      const range = /\r\nrange: bytes=(\d+)-(\d+)/i.exec(server.requests[n]);
      if (!range) return { send: answer("200 OK", RANGED, body), close: true };
      const length = Number(range[2]) - Number(range[1]) + 1;
      // Claims the first bytes, whatever was asked; sends other bytes.
      return {
        send: answer("206 Partial Content", {
          ...RANGED,
          "content-range": `bytes 0-${length - 1}/${size}`,
        }, wrong.subarray(0, length)),
        close: true,
      };
    });
    const dir = await Deno.makeTempDir();
    const result = await getSplit(3, `${server.url}/lie.bin`, dir, [
      "-v",
      ...flags,
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assertFileBytes(`${dir}/lie.bin`, body);
    assert.match(
      result.stdout + result.stderr,
      /asked for bytes \d+-\d+, got Content-Range "bytes 0-\d+\/\d+"; restarting with one connection/,
    );
    await Deno.remove(dir, { recursive: true });
  });

  Deno.test(`get --split${label}: a server without Accept-Ranges gets one request`, async () => {
    const body = generatedBody("plain.bin", 3 * MiB);
    await using server = scriptedServer(() => ({
      send: answer("200 OK", { etag: '"v1"' }, body),
      close: true,
    }));
    const dir = await Deno.makeTempDir();
    const result = await getSplit(3, `${server.url}/plain.bin`, dir, [
      ...flags,
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assertFileBytes(`${dir}/plain.bin`, body);
    assert.equal(server.requests.length, 1);
    await Deno.remove(dir, { recursive: true });
  });
}

/** The ranges' progress a `.part.json` sidecar records. */
function sidecarDone(path: string): { ranges: number[][]; done: number[] } {
  return JSON.parse(Deno.readTextFileSync(path)).split;
}

/**
 * Starts `get --split 4` of a slow 8 MiB file, waits (bounded: 30 s) until
 * its sidecar records at least 1 MiB, and stops it with `signal`; returns the
 * recorded progress.
 */
async function interruptedSplit(
  dir: string,
  port: number,
  name: string,
  signal: "SIGINT" | "SIGKILL" = "SIGINT",
) {
  await using server = await startServer({
    port,
    alt: false,
    faults: { slow: { bytesPerSecond: 256 << 10 } },
  });
  const child = bulkgetCommand([
    "get",
    `${server.url}/files/8m/${name}`,
    "-o",
    dir,
    "--split",
    "4",
    "--min-split-size",
    "1M",
  ]).spawn();
  const sidecar = `${dir}/${name}.part.json`;
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      const { done } = sidecarDone(sidecar);
      if (done.reduce((a, b) => a + b, 0) >= MiB) break;
    } catch {
      // not written yet
    }
  }
  child.kill(signal);
  const { code } = await child.output();
  assert.equal(code, signal === "SIGINT" ? 130 : 137);
  assert.deepEqual(listDir(dir), [`${name}.part`, `${name}.part.json`]);
  return sidecarDone(sidecar);
}

Deno.test("get --split: an interrupted run's ranges are continued by the next run, which asks (and counts) only what is missing", async () => {
  const dir = await Deno.makeTempDir();
  const probe = await startServer({ alt: false });
  const port = probe.port;
  await probe.close();
  const { ranges, done } = await interruptedSplit(dir, port, "r.bin");
  const recorded = done.reduce((a, b) => a + b, 0);
  assert.ok(recorded >= MiB && recorded < 8 * MiB, `recorded ${recorded}`);

  await using server = await startServer({ port, alt: false });
  const report = `${dir}.report.json`;
  const result = await getSplit(4, `${server.url}/files/8m/r.bin`, dir, [
    "--report",
    report,
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.deepEqual(listDir(dir), ["r.bin"]);
  // The report counts the bytes of this run: only what was missing.
  const { totals } = JSON.parse(Deno.readTextFileSync(report));
  assert.equal(totals.bytes, 8 * MiB);
  assert.equal(totals.transferred, 8 * MiB - recorded);
  await Deno.remove(report);
  assertFileBytes(`${dir}/r.bin`, generatedBody("r.bin", 8 * MiB));
  const stats = server.stats();
  assert.equal(stats.byStatus[200], undefined, "no request for the whole file");
  const asked = rangesAsked(stats.recent);
  assert.deepEqual(
    asked.sort((a, b) => a[0] - b[0]),
    ranges.flatMap(([start, end], i) =>
      start + done[i] < end ? [[start + done[i], end]] : []
    ),
    "each range asked from where it stopped",
  );
  assert.equal(
    asked.reduce((sum, [start, end]) => sum + end - start, 0),
    8 * MiB - recorded,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --split: a file that changed on the server between runs is fetched again whole, never stitched", async () => {
  const dir = await Deno.makeTempDir();
  const probe = await startServer({ alt: false });
  const port = probe.port;
  await probe.close();
  await interruptedSplit(dir, port, "c.bin");

  await using server = await startServer({
    port,
    alt: false,
    contentVersion: 1,
  });
  const result = await getSplit(4, `${server.url}/files/8m/c.bin`, dir, ["-v"]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.match(result.stdout + result.stderr, /the file changed on the server/);
  assert.deepEqual(listDir(dir), ["c.bin"]);
  assertFileBytes(
    `${dir}/c.bin`,
    generatedBody(versionedName("c.bin", 1), 8 * MiB),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --split / --min-split-size: a bad value is one clear line, exit 2, and no request", async () => {
  await using server = await startServer({ alt: false });
  for (
    const [args, message] of [
      [
        ["--split", "0"],
        /^bulkget get: --split must be a whole number from 1 to 16, got "0"$/,
      ],
      [
        ["--split", "17"],
        /--split must be a whole number from 1 to 16, got "17"/,
      ],
      [["--split", "x"], /--split must be a whole number from 1 to 16/],
      [
        ["--split", "4", "--min-split-size", "512K"],
        /--min-split-size must be at least 1M, got "512K"/,
      ],
      [
        ["--split", "4", "--min-split-size", "lots"],
        /--min-split-size must be a size such as/,
      ],
    ] as const
  ) {
    const result = await runBulkget([
      "get",
      `${server.url}/files/1m/x`,
      ...args,
    ]);
    assert.equal(result.code, 2, result.stderr);
    // The error's line, then the usage line every usage error ends with.
    assert.match(result.stderr.split("\n")[0], message);
  }
  assert.equal(server.stats().requests, 0);
});

Deno.test("get --split: the whole file is verified before its rename (a wrong checksum: no final file, no .part)", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const size = 4 * MiB;
  const sha256 = createHash("sha256").update(generatedBody("v.bin", size))
    .digest("hex");
  await Deno.writeTextFile(
    `${dir}/in.txt`,
    [
      `${server.url}/files/${size}/v.bin`,
      `  checksum=sha-256=${sha256}`,
      `${server.url}/files/${size}/v.bin`,
      "  out=bad.bin",
      `  checksum=md5=${"0".repeat(32)}`,
    ].join("\n") + "\n",
  );
  const result = await runBulkget([
    "get",
    "-i",
    "in.txt",
    "-o",
    "out",
    "--split",
    "4",
    "--min-split-size",
    "1M",
    "--retries",
    "0",
  ], { cwd: dir });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stdout,
    /bad\.bin.*checksum mismatch: expected md5 0{32}/,
  );
  assert.deepEqual(listDir(`${dir}/out`), ["v.bin"]);
  assert.equal(server.stats().byStatus[206], 6, "both were split");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --split: a 206 that gives another complete length drops the .part and starts over; nothing is left when it keeps doing so", async () => {
  const size = 3 * MiB;
  const body = generatedBody("len.bin", size);
  await using server = scriptedServer((n) => {
    const range = /\r\nrange: bytes=(\d+)-(\d+)/i.exec(server.requests[n]);
    if (!range) return { send: answer("200 OK", RANGED, body), close: true };
    const [from, last] = [Number(range[1]), Number(range[2])];
    return {
      send: answer("206 Partial Content", {
        ...RANGED,
        "content-range": `bytes ${from}-${last}/${size + MiB}`,
      }, body.subarray(from, last + 1)),
      close: true,
    };
  });
  const dir = await Deno.makeTempDir();
  const result = await getSplit(3, `${server.url}/len.bin`, dir, [
    "--retries",
    "1",
  ]);
  assert.equal(result.code, 1, result.stderr + result.stdout);
  assert.match(
    result.stdout,
    /the file is now 4194304 bytes, the download began with 3145728; restarting/,
  );
  // Started over once (a second request without a range), then gave up.
  assert.equal(
    server.requests.filter((head) => !/\r\nrange:/i.test(head)).length,
    2,
  );
  assert.deepEqual(listDir(dir), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --split: after SIGKILL the rerun continues from what the sidecar recorded, and the file is right", async () => {
  const dir = await Deno.makeTempDir();
  const probe = await startServer({ alt: false });
  const port = probe.port;
  await probe.close();
  const { done } = await interruptedSplit(dir, port, "k.bin", "SIGKILL");
  const recorded = done.reduce((a, b) => a + b, 0);
  await using server = await startServer({ port, alt: false });
  const result = await getSplit(4, `${server.url}/files/8m/k.bin`, dir);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assertFileBytes(`${dir}/k.bin`, generatedBody("k.bin", 8 * MiB));
  const asked = rangesAsked(server.stats().recent);
  assert.equal(
    asked.reduce((sum, [start, end]) => sum + end - start, 0),
    8 * MiB - recorded,
    "only what the sidecar did not record was asked for",
  );
  await Deno.remove(dir, { recursive: true });
});

/** Peak RSS (VmHWM, KiB) of `get --split 8` of one file, sampled until it exits. */
async function splitPeakRss(
  url: string,
  dir: string,
  extra: string[],
): Promise<number> {
  const { kib, code } = await peakRssOfBulkget([
    "get",
    url,
    "-o",
    dir,
    "-q",
    "--split",
    "8",
    "--min-split-size",
    "1M",
    ...extra,
  ], {
    everyMs: 50,
    maxSamples: 3_000, // bounded: 5 minutes
  });
  assert.equal(code, 0);
  return kib;
}

for (const flags of CLIENTS) {
  Deno.test({
    name: `get --split 8${
      flags.length ? " --use-fetch" : ""
    }: a 12 × larger file runs in about the same memory (the pieces handed to the writer are bounded and reused)`,
    ignore: (() => {
      try {
        return !Deno.statSync("/proc/self/status").isFile;
      } catch {
        return true;
      }
    })(),
    async fn() {
      await using server = await startServer({ alt: false });
      const dir = await Deno.makeTempDir({
        dir: (() => {
          try {
            return Deno.statSync("/dev/shm").isDirectory
              ? "/dev/shm"
              : undefined;
          } catch {
            return undefined;
          }
        })(),
      });
      const small = await splitPeakRss(
        `${server.url}/files/64m/s.bin`,
        dir,
        flags,
      );
      const large = await splitPeakRss(
        `${server.url}/files/768m/l.bin`,
        dir,
        flags,
      );
      const ratio = large / small;
      console.log(
        `--split 8 ${
          flags.join(" ")
        } peak RSS: 64 MiB file ${small} KiB, 768 MiB file ${large} KiB, ratio ${
          ratio.toFixed(2)
        }`,
      );
      assert.ok(small > 0 && large > 0, "RSS was sampled");
      assert.equal(Deno.statSync(`${dir}/l.bin`).size, 768 * MiB);
      assert.ok(
        ratio < 1.3,
        `peak RSS grew ${ratio.toFixed(2)} × for 12 × the file`,
      );
      await Deno.remove(dir, { recursive: true });
    },
  });
}

Deno.test("get: a .part left by --split is continued by its ranges on a rerun without --split", async () => {
  const dir = await Deno.makeTempDir();
  const probe = await startServer({ alt: false });
  const port = probe.port;
  await probe.close();
  const { done } = await interruptedSplit(dir, port, "n.bin");
  const recorded = done.reduce((a, b) => a + b, 0);
  await using server = await startServer({ port, alt: false });
  const result = await runBulkget([
    "get",
    `${server.url}/files/8m/n.bin`,
    "-o",
    dir,
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assertFileBytes(`${dir}/n.bin`, generatedBody("n.bin", 8 * MiB));
  const stats = server.stats();
  assert.equal(stats.byStatus[200], undefined, "no request for the whole file");
  assert.equal(
    rangesAsked(stats.recent).reduce(
      (sum, [start, end]) => sum + end - start,
      0,
    ),
    8 * MiB - recorded,
  );
  await Deno.remove(dir, { recursive: true });
});

for (
  const [what, reply, reason] of [
    [
      "a 206 with another ETag",
      "etag",
      /the file changed on the server \(ETag differs\); restarting$/m,
    ],
    ["a 416", "416", /416 to a range: the file changed; restarting$/m],
    [
      "a 416 without Content-Range",
      "416 bare",
      /416 to a range: the file changed; restarting$/m,
    ],
  ] as const
) {
  Deno.test(`get --split: ${what} to a range drops the .part and starts over (never stitched)`, async () => {
    const size = 3 * MiB;
    const body = generatedBody("v.bin", size);
    await using server = scriptedServer((n) => {
      const range = /\r\nrange: bytes=(\d+)-(\d+)/i.exec(server.requests[n]);
      if (!range) return { send: answer("200 OK", RANGED, body), close: true };
      const [from, last] = [Number(range[1]), Number(range[2])];
      return {
        send: reply.startsWith("416")
          ? answer(
            "416 Range Not Satisfiable",
            reply === "416" ? { "content-range": `bytes */${size}` } : {},
            new Uint8Array(0),
          )
          : answer("206 Partial Content", {
            ...RANGED,
            etag: '"v2"',
            "content-range": `bytes ${from}-${last}/${size}`,
          }, body.subarray(from, last + 1)),
        close: true,
      };
    });
    const dir = await Deno.makeTempDir();
    const result = await getSplit(3, `${server.url}/v.bin`, dir, [
      "--retries",
      "1",
      "-v",
    ]);
    assert.equal(result.code, 1, result.stderr + result.stdout);
    assert.match(result.stdout + result.stderr, reason);
    // Started over once with ranges again, then gave up: nothing is left.
    assert.equal(
      server.requests.filter((head) => !/\r\nrange:/i.test(head)).length,
      2,
    );
    assert.deepEqual(listDir(dir), []);
    await Deno.remove(dir, { recursive: true });
  });
}

for (const flags of CLIENTS) {
  Deno.test(
    `get --split${
      flags.length ? " (--use-fetch)" : ""
    }: one range reset (TCP RST) and one stalled are each continued from where they stopped; the file is right and every byte counted`,
    async () => {
      const size = 3 * MiB;
      const body = generatedBody("rst.bin", size);
      const sent: number[] = [];
      await using server = await resettingServer((n) => {
        const range = /\r\nrange: bytes=(\d+)-(\d+)/i.exec(server.requests[n]);
        const [from, last] = range
          ? [Number(range[1]), Number(range[2])]
          : [0, size - 1];
        const whole = range
          ? answer("206 Partial Content", {
            ...RANGED,
            "content-range": `bytes ${from}-${last}/${size}`,
          }, body.subarray(from, last + 1))
          : answer("200 OK", RANGED, body);
        const head = whole.length - (last + 1 - from);
        // The 2nd and 3rd answers give half their body, then reset / stall.
        const cut = n === 1 || n === 2
          ? (last + 1 - from) >> 1
          : last + 1 - from;
        sent.push(cut);
        return {
          send: whole.subarray(0, head + cut),
          reset: n === 1,
          stall: n === 2,
          close: true,
        };
      });
      const dir = await Deno.makeTempDir();
      const result = await getSplit(3, `${server.url}/rst.bin`, "out", [
        ...flags,
        "--retries",
        "3",
        "--idle-timeout",
        "1",
        "--report",
        "r.json",
      ], { cwd: dir });
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assertFileBytes(`${dir}/out/rst.bin`, body);
      assert.deepEqual(listDir(`${dir}/out`), ["rst.bin"]);
      const report = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
      // What was received is at least the file, and at most what was sent
      // (a reset loses what was in flight; fetch may read bytes that a
      // failed range never wrote, and asks for them again).
      const received = report.totals.transferred;
      const sentBytes = sent.reduce((a, b) => a + b, 0);
      assert.ok(
        received >= size && received <= sentBytes,
        `${received} received, ${size} in the file, ${sentBytes} sent`,
      );
      assert.equal(report.totals.ok, 1);
      assert.ok(sent.length >= 5, "both cut ranges were asked again");
      // Each range asked again is a retry, in the report and the summary as
      // in the progress; the own client sends no request of its own accord.
      assert.ok(report.totals.retries >= 2, JSON.stringify(report.totals));
      if (!flags.length) {
        assert.equal(report.totals.retries, server.requests.length - 3);
      }
      assert.match(
        result.stdout,
        new RegExp(`; ${report.totals.retries} retries$`, "m"),
      );
      await Deno.remove(dir, { recursive: true });
    },
  );
}

Deno.test("get --split: a range whose every byte came before its connection failed is complete: it is not asked again (never with a Range that ends before it starts)", async () => {
  // Range 2 comes whole in one chunk, then the connection closes before
  // the last chunk: all its bytes are at their places.
  const size = 3 * MiB;
  const body = generatedBody("c.bin", size);
  const head = (fields: string) =>
    new TextEncoder().encode(`HTTP/1.1 ${fields}etag: "c"\r\n\r\n`);
  const join = (...parts: Uint8Array[]) => {
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
    return all;
  };
  const text = (s: string) => new TextEncoder().encode(s);
  await using server = scriptedServer((n) => {
    const range = /range: bytes=(\d+)-(\d+)/i.exec(server.requests[n]);
    if (!range) {
      return {
        send: join(
          head(`200 OK\r\naccept-ranges: bytes\r\ncontent-length: ${size}\r\n`),
          body,
        ),
        close: true,
      };
    }
    const [from, last] = [Number(range[1]), Number(range[2])];
    const bytes = body.subarray(from, last + 1);
    return {
      send: join(
        head(
          `206 Partial Content\r\ncontent-range: bytes ${from}-${last}/${size}\r\ntransfer-encoding: chunked\r\n`,
        ),
        text(`${bytes.length.toString(16)}\r\n`),
        bytes,
        text("\r\n"),
      ),
      close: true,
    };
  });
  const dir = await Deno.makeTempDir();
  const report = `${await Deno.makeTempDir()}/report.json`;
  const result = await getSplit(2, `${server.url}/c.bin`, dir, [
    "--retries",
    "2",
    "--report",
    report,
    "-v",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assertFileBytes(`${dir}/c.bin`, body);
  assert.deepEqual(
    server.requests.map((r) => /range: (.*)/i.exec(r)?.[1] ?? "whole"),
    ["whole", `bytes=${size >> 1}-${size - 1}`],
  );
  // Nothing was asked again: no retry in the report, the summary or -v.
  const totals = JSON.parse(await Deno.readTextFile(report)).totals;
  assert.equal(totals.retries, 0, JSON.stringify(totals));
  assert.doesNotMatch(result.stdout + result.stderr, /retr/i);
});

for (const flags of CLIENTS) {
  const label = flags.length ? " (--use-fetch)" : "";
  Deno.test(`get --split${label}: a range cut mid-body is asked again from the byte where it stopped, not from its start nor the whole file`, async () => {
    const size = 3 * MiB;
    const body = generatedBody("cut.bin", size);
    const sent = 400_000; // less than one piece handed to the Worker
    let cut = false;
    await using server = scriptedServer((n) => {
      const range = /\r\nrange: bytes=(\d+)-(\d+)/i.exec(server.requests[n]);
      if (!range) return { send: answer("200 OK", RANGED, body), close: true };
      const [from, last] = [Number(range[1]), Number(range[2])];
      const whole = answer("206 Partial Content", {
        ...RANGED,
        "content-range": `bytes ${from}-${last}/${size}`,
      }, body.subarray(from, last + 1));
      if (cut) return { send: whole, close: true };
      cut = true; // the first range asked for stops after `sent` bytes
      return {
        send: whole.subarray(0, whole.length - (last + 1 - from) + sent),
        close: true,
      };
    });
    const dir = await Deno.makeTempDir();
    const result = await getSplit(2, `${server.url}/cut.bin`, dir, [
      "-v",
      ...flags,
    ]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assertFileBytes(`${dir}/cut.bin`, body);
    const half = size >> 1;
    assert.deepEqual(
      server.requests.map((r) => /\r\nrange: (.*)/i.exec(r)?.[1] ?? "whole"),
      [
        "whole",
        `bytes=${half}-${size - 1}`,
        `bytes=${half + sent}-${size - 1}`,
      ],
    );
    assert.match(
      result.stdout,
      /^bulkget: 1 downloaded; 3\.0 MiB received in .*; 1 retry$/m,
    );
    await Deno.remove(dir, { recursive: true });
  });
}
