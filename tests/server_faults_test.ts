import assert from "node:assert/strict";
import { drawFaults, DRAWS_PER_REQUEST } from "../lib/server/faults.ts";
import {
  describeFaults,
  parseFault,
  parseFaults,
} from "../lib/server/fault_spec.ts";
import { parseDuration, parseSize } from "../lib/core/units.ts";
import { generatedBody } from "../lib/server/files.ts";
import { createRandom } from "../lib/server/random.ts";
import { type ServerOptions, startServer } from "../lib/server/server.ts";

const GIF = await Deno.readFile(
  new URL("../data/flags/br/br.gif", import.meta.url),
);
const BR = "/flags/br/br.gif";

/** Reads a body chunk by chunk; returns the bytes and the error, if any. */
async function readAll(response: Response) {
  const chunks: Uint8Array[] = [];
  let received = 0;
  let error: unknown;
  try {
    for await (const chunk of response.body!) {
      chunks.push(chunk);
      received += chunk.length;
    }
  } catch (e) {
    error = e;
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return { bytes, error };
}

async function withServer(
  options: ServerOptions,
  fn: (
    url: string,
    server: Awaited<ReturnType<typeof startServer>>,
  ) => Promise<void>,
) {
  await using server = await startServer(options);
  await fn(server.url, server);
}

Deno.test("parseFault reads every kind", () => {
  assert.deepEqual(parseFault("503=0.25"), {
    statuses: [{ status: 503, rate: 0.25 }],
  });
  assert.deepEqual(parseFault("429=0.1:retry-after=2"), {
    statuses: [{
      status: 429,
      rate: 0.1,
      retryAfter: 2,
      retryAfterDate: false,
    }],
  });
  assert.deepEqual(parseFault("429:retry-after-date=3"), {
    statuses: [{ status: 429, rate: 1, retryAfter: 3, retryAfterDate: true }],
  });
  assert.deepEqual(parseFault("delay=0.5:500ms:jitter=0.2s"), {
    latency: { rate: 0.5, ms: 500, jitter: 200 },
  });
  assert.deepEqual(parseFault("reset=0.1:2k"), {
    reset: { rate: 0.1, after: 2048 },
  });
  assert.deepEqual(parseFault("reset=0.1"), { reset: { rate: 0.1 } });
  assert.deepEqual(parseFault("truncate=1:10"), {
    truncate: { rate: 1, missing: 10 },
  });
  assert.deepEqual(parseFault("stall=0.05:10s:after=1k"), {
    stall: { rate: 0.05, ms: 10_000, after: 1024 },
  });
  assert.deepEqual(parseFault("slow=1:64k"), {
    slow: { rate: 1, bytesPerSecond: 65536 },
  });
  assert.deepEqual(parseFault("CORRUPT=0.5"), { corrupt: { rate: 0.5 } });
  for (
    const bad of [
      "",
      "nope=1",
      "503=2",
      "503=x",
      "503=-0.1",
      "503=",
      "399=0.1",
      "600=0.1",
      "429=0.1:when=2",
      "429=0.1:retry-after=x",
      "reset=0.1:lots",
      "truncate=1:0",
      "stall=1:forever",
      "slow=1:0",
      "corrupt=1:2",
    ]
  ) {
    assert.throws(() => parseFault(bad), RangeError, bad);
  }
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("250"), 250);
  assert.equal(parseDuration("1m"), 60_000);
  assert.equal(parseSize("1g"), 1024 ** 3);
});

Deno.test("parseFaults combines specs and checks the status rates", () => {
  const config = parseFaults([
    "503=0.25",
    "500=0.25",
    "503=0.5",
    "delay=1:100",
    "reset=0.1",
  ]);
  assert.deepEqual(config.statuses, [
    { status: 503, rate: 0.5 },
    { status: 500, rate: 0.25 },
  ]);
  assert.deepEqual(config.latency, { rate: 1, ms: 100 });
  assert.throws(() => parseFaults(["503=0.6", "500=0.6"]), RangeError);
  assert.equal(describeFaults({}), "plain");
  assert.match(
    describeFaults(config),
    /503 on 50 %, 500 on 25 %, delay 100 ms/,
  );
});

Deno.test("drawFaults takes the same number of draws whatever the config", () => {
  for (const config of [{}, parseFaults(["503=0.3", "reset=1", "slow=1:1k"])]) {
    let calls = 0;
    const random = createRandom(3);
    drawFaults(config, () => (calls++, random()));
    assert.equal(calls, DRAWS_PER_REQUEST);
  }
  const a = createRandom(42), b = createRandom(42), c = createRandom(43);
  const xs = Array.from({ length: 5 }, a);
  assert.deepEqual(xs, Array.from({ length: 5 }, b));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, c));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

Deno.test("status faults: 500, 502, 503, 504, 408 as seen by fetch", async () => {
  for (const status of [500, 502, 503, 504, 408]) {
    await withServer(
      { faults: { statuses: [{ status }] } },
      async (url, server) => {
        const response = await fetch(url + BR);
        assert.equal(response.status, status);
        assert.match(await response.text(), new RegExp(`^${status} `));
        assert.equal(server.stats().faults[status], 1);
        assert.equal(server.stats().recent[0].status, status);
        assert.deepEqual(server.stats().recent[0].faults, [String(status)]);
      },
    );
  }
});

Deno.test("429 carries Retry-After in seconds or as an HTTP-date", async () => {
  await withServer(
    { faults: { statuses: [{ status: 429, retryAfter: 2 }] } },
    async (url) => {
      const response = await fetch(url + BR);
      await response.body?.cancel();
      assert.equal(response.status, 429);
      assert.equal(response.headers.get("retry-after"), "2");
    },
  );
  await withServer({ faults: { statuses: [{ status: 429 }] } }, async (url) => {
    const response = await fetch(url + BR, { method: "HEAD" });
    assert.equal(response.headers.get("retry-after"), "1", "default");
  });
  await withServer(
    {
      faults: {
        statuses: [{ status: 429, retryAfter: 3, retryAfterDate: true }],
      },
    },
    async (url) => {
      const before = Date.now();
      const response = await fetch(url + BR);
      await response.body?.cancel();
      const value = response.headers.get("retry-after")!;
      assert.match(value, /GMT$/);
      const when = Date.parse(value);
      assert.ok(when >= Math.floor(before / 1000) * 1000 + 3000, value);
    },
  );
});

Deno.test("latency and jitter delay the response headers", async () => {
  await withServer(
    { faults: { latency: { ms: 200 } } },
    async (url, server) => {
      const start = performance.now();
      await (await fetch(url + BR)).body?.cancel();
      assert.ok(performance.now() - start >= 190);
      assert.equal(server.stats().faults.delay, 1);
    },
  );
  await withServer(
    { faults: { latency: { ms: 200, jitter: 100 } } },
    async (url) => {
      const start = performance.now();
      await (await fetch(url + BR)).body?.cancel();
      assert.ok(performance.now() - start >= 95);
    },
  );
});

Deno.test("reset: the body read rejects after N bytes", async () => {
  await withServer(
    { faults: { reset: { after: 2048 } } },
    async (url, server) => {
      const response = await fetch(url + BR);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-length"), String(GIF.length));
      const { bytes, error } = await readAll(response);
      assert.ok(error instanceof TypeError, String(error));
      assert.equal(bytes.length, 2048);
      assert.deepEqual(bytes, GIF.subarray(0, 2048));
      assert.equal(server.stats().faults.reset, 1);
    },
  );
  // Default: half the body; a streamed generated file too.
  await withServer({ faults: { reset: {} } }, async (url) => {
    const { bytes, error } = await readAll(await fetch(url + BR));
    assert.ok(error instanceof TypeError);
    assert.equal(bytes.length, Math.floor(GIF.length / 2));
    const big = await readAll(await fetch(`${url}/files/2m/big.bin`));
    assert.ok(big.error instanceof TypeError);
    assert.equal(big.bytes.length, 1024 * 1024);
  });
});

Deno.test("truncate: Content-Length promises more than is sent", async () => {
  await withServer(
    { faults: { truncate: { missing: 100 } } },
    async (url, server) => {
      const response = await fetch(url + BR);
      assert.equal(response.headers.get("content-length"), String(GIF.length));
      const { bytes, error } = await readAll(response);
      assert.ok(error instanceof TypeError, "read rejects");
      assert.equal(bytes.length, GIF.length - 100);
      assert.deepEqual(bytes, GIF.subarray(0, GIF.length - 100));
      assert.equal(server.stats().faults.truncate, 1);
      // arrayBuffer() rejects as well.
      await assert.rejects((await fetch(url + BR)).arrayBuffer(), TypeError);
    },
  );
});

Deno.test("stall: headers first, then the body pauses", async () => {
  await withServer(
    { faults: { stall: { ms: 300, after: 1000 } } },
    async (url, server) => {
      const start = performance.now();
      const response = await fetch(url + BR);
      const reader = response.body!.getReader();
      let received = 0;
      while (received < 1000) {
        const { value } = await reader.read();
        received += value!.length;
      }
      assert.equal(received, 1000, "bytes before the pause");
      const { value } = await reader.read();
      assert.ok(performance.now() - start >= 290, "paused");
      received += value!.length;
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        received += r.value.length;
      }
      assert.equal(received, GIF.length);
      assert.equal(server.stats().faults.stall, 1);
    },
  );
  // Closing the server ends a stall at once (no timer left behind).
  const server = await startServer({ faults: { stall: { ms: 60_000 } } });
  const response = await fetch(server.url + BR);
  const reading = readAll(response);
  await server.close();
  const { bytes } = await reading;
  assert.ok(bytes.length < GIF.length);
});

Deno.test("slow: the body is capped in bytes per second", async () => {
  await withServer(
    { faults: { slow: { bytesPerSecond: 16384 } } },
    async (url, server) => {
      const start = performance.now();
      const response = await fetch(`${url}/files/8k/slow.bin`);
      const { bytes, error } = await readAll(response);
      assert.equal(error, undefined);
      assert.deepEqual(bytes, generatedBody("slow.bin", 8192));
      assert.ok(performance.now() - start >= 450, "8 KiB at 16 KiB/s");
      assert.equal(server.stats().faults.slow, 1);
    },
  );
});

Deno.test("corrupt: right length, one wrong byte", async () => {
  await withServer({ faults: { corrupt: {} } }, async (url, server) => {
    const response = await fetch(url + BR);
    const { bytes, error } = await readAll(response);
    assert.equal(error, undefined);
    assert.equal(bytes.length, GIF.length);
    const diffs = [...bytes.keys()].filter((i) => bytes[i] !== GIF[i]);
    assert.deepEqual(diffs, [Math.floor(GIF.length / 2)]);
    assert.equal(
      response.headers.get("etag"),
      (await fetch(url + BR, { method: "HEAD" })).headers.get("etag"),
    );
    // Streamed too.
    const big = await readAll(await fetch(`${url}/files/2m/c.bin`));
    const want = generatedBody("c.bin", 2 * 1024 * 1024);
    assert.equal(big.bytes.length, want.length);
    assert.notDeepEqual(big.bytes, want);
    assert.equal(server.stats().faults.corrupt, 2);
  });
});

Deno.test("faults combine; HEAD gets no body faults; /stats gets none", async () => {
  await withServer(
    {
      faults: {
        latency: { ms: 50 },
        truncate: { missing: 10 },
        corrupt: {},
        statuses: [{ status: 503, rate: 0 }],
      },
    },
    async (url, server) => {
      const { bytes, error } = await readAll(await fetch(url + BR));
      assert.ok(error instanceof TypeError);
      assert.equal(bytes.length, GIF.length - 10);
      assert.notDeepEqual(bytes, GIF.subarray(0, GIF.length - 10));
      const head = await fetch(url + BR, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.deepEqual(server.stats().faults, {
        delay: 2,
        truncate: 1,
        corrupt: 1,
      });
    },
  );
  await withServer({
    faults: { statuses: [{ status: 500 }], reset: { after: 0 } },
  }, async (url) => {
    const stats = await fetch(`${url}/stats`);
    assert.equal(stats.status, 200);
    assert.equal((await stats.json()).requests, 0);
  });
});

Deno.test("the same seed gives the same faults, another seed others", async () => {
  const run = async (seed: number) => {
    await using server = await startServer({
      seed,
      faults: {
        statuses: [{ status: 500, rate: 0.2 }, { status: 503, rate: 0.2 }, {
          status: 429,
          rate: 0.1,
        }],
        corrupt: { rate: 0.3 },
      },
    });
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) {
      const response = await fetch(`${server.url}/flags/fr/metadata.json`);
      const body = new Uint8Array(await response.arrayBuffer());
      seen.push(`${response.status}:${body[Math.floor(body.length / 2)]}`);
    }
    return { seen, faults: server.stats().faults };
  };
  const a = await run(7), b = await run(7), c = await run(8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.seen, c.seen);
  assert.ok(a.seen.some((s) => s.startsWith("200")));
  assert.ok(a.seen.some((s) => s.startsWith("500")));
});
