import assert from "node:assert/strict";
import {
  generatedBody,
  generatedChunk,
  LAST_MODIFIED,
} from "../lib/server/files.ts";
import { PRESETS } from "../lib/server/presets.ts";
import { startServer } from "../lib/server/server.ts";

const DATA = new URL("../data/", import.meta.url);

/** Fetches and reads the whole body. */
async function get(url: string, init?: RequestInit) {
  const response = await fetch(url, { redirect: "manual", ...init });
  const body = new Uint8Array(await response.arrayBuffer());
  return { response, body, text: new TextDecoder().decode(body) };
}

/** Runs `fn` over `items`, `limit` at a time. */
async function pooled<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** Polls `check` every 10 ms, at most `tries` times. */
async function eventually(check: () => boolean, tries = 200) {
  for (let i = 0; i < tries && !check(); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(check(), "condition not reached in time");
}

const codes = (await Deno.readTextFile(new URL("country_codes.txt", DATA)))
  .split(/\s+/).filter(Boolean).map((cc) => cc.toLowerCase());

Deno.test("serves every flag byte for byte, with its metadata", async () => {
  await using server = await startServer();
  assert.equal(codes.length, 194);
  await pooled(codes, 20, async (cc) => {
    const gif = await get(`${server.url}/flags/${cc}/${cc}.gif`);
    assert.equal(gif.response.status, 200);
    assert.equal(gif.response.headers.get("content-type"), "image/gif");
    const expected = await Deno.readFile(
      new URL(`flags/${cc}/${cc}.gif`, DATA),
    );
    assert.deepEqual(gif.body, expected);
    const meta = await get(`${server.url}/flags/${cc}/metadata.json`);
    assert.equal(meta.response.headers.get("content-type"), "application/json");
    assert.equal(JSON.parse(meta.text).iso_cc, cc.toUpperCase());
  });
  assert.equal(server.stats().requests, 388);
});

Deno.test("unknown paths are 404 and other methods 405", async () => {
  await using server = await startServer();
  for (const path of ["/flags/zz/zz.gif", "/flags/BR/BR.gif", "/nope", "/"]) {
    assert.equal((await get(server.url + path)).response.status, 404, path);
  }
  const post = await get(`${server.url}/flags/br/br.gif`, { method: "POST" });
  assert.equal(post.response.status, 405);
  assert.equal(post.response.headers.get("allow"), "GET, HEAD");
});

Deno.test("HEAD gives the headers of GET and no body", async () => {
  await using server = await startServer();
  const url = `${server.url}/flags/br/br.gif`;
  const head = await get(url, { method: "HEAD" });
  const full = await get(url);
  assert.equal(head.response.status, 200);
  assert.equal(head.body.length, 0);
  for (
    const name of ["content-length", "etag", "last-modified", "accept-ranges"]
  ) {
    assert.equal(
      head.response.headers.get(name),
      full.response.headers.get(name),
    );
  }
  assert.equal(
    full.response.headers.get("content-length"),
    String(full.body.length),
  );
  assert.equal(full.response.headers.get("last-modified"), LAST_MODIFIED);
  assert.match(full.response.headers.get("etag")!, /^"[^"]+"$/);
});

Deno.test("Range: one range gives 206, past the end 416, the rest 200", async () => {
  await using server = await startServer();
  const url = `${server.url}/flags/br/br.gif`;
  const whole = await Deno.readFile(new URL("flags/br/br.gif", DATA));
  const size = whole.length;
  const cases: [string, number, number][] = [
    ["bytes=0-9", 0, 10],
    ["bytes=10-", 10, size],
    ["bytes=-5", size - 5, size],
    [`bytes=-${size * 2}`, 0, size],
    ["bytes=5-1000000", 5, size],
    [`bytes=${size - 1}-${size - 1}`, size - 1, size],
  ];
  for (const [range, start, end] of cases) {
    const { response, body } = await get(url, { headers: { range } });
    assert.equal(response.status, 206, range);
    assert.equal(
      response.headers.get("content-range"),
      `bytes ${start}-${end - 1}/${size}`,
    );
    assert.equal(response.headers.get("content-length"), String(end - start));
    assert.deepEqual(body, whole.subarray(start, end), range);
  }
  for (
    const range of [
      `bytes=${size}-`,
      `bytes=${size + 10}-${size + 20}`,
      "bytes=-0",
    ]
  ) {
    const { response, body } = await get(url, { headers: { range } });
    assert.equal(response.status, 416, range);
    assert.equal(response.headers.get("content-range"), `bytes */${size}`);
    assert.equal(body.length, 0);
  }
  for (const range of ["bytes=0-1,3-4", "items=0-1", "bytes=9-2", "bytes=x-"]) {
    const { response, body } = await get(url, { headers: { range } });
    assert.equal(response.status, 200, range);
    assert.equal(body.length, size);
  }
  const head = await get(url, {
    method: "HEAD",
    headers: { range: "bytes=0-9" },
  });
  assert.equal(head.response.status, 206);
  assert.equal(head.response.headers.get("content-length"), "10");
});

Deno.test("If-Range: honoured only when the tag or date matches", async () => {
  await using server = await startServer();
  const url = `${server.url}/flags/fr/fr.gif`;
  const etag = (await get(url, { method: "HEAD" })).response.headers.get(
    "etag",
  )!;
  const cases: [string, number][] = [
    [etag, 206],
    ['"other"', 200],
    [`W/${etag}`, 200],
    [LAST_MODIFIED, 206],
    ["Tue, 02 Jan 2024 00:00:00 GMT", 200],
    ["not a date", 200],
  ];
  for (const [ifRange, status] of cases) {
    const { response } = await get(url, {
      headers: { range: "bytes=0-99", "if-range": ifRange },
    });
    assert.equal(response.status, status, ifRange);
  }
});

Deno.test("ETag and Last-Modified: 304 when not modified", async () => {
  await using server = await startServer();
  const url = `${server.url}/flags/de/de.gif`;
  const first = await get(url);
  const etag = first.response.headers.get("etag")!;
  const again = await get(url);
  assert.equal(again.response.headers.get("etag"), etag, "stable");
  const cases: [Record<string, string>, number][] = [
    [{ "if-none-match": etag }, 304],
    [{ "if-none-match": `"a", ${etag}` }, 304],
    [{ "if-none-match": `W/${etag}` }, 304],
    [{ "if-none-match": "*" }, 304],
    [{ "if-none-match": '"other"' }, 200],
    [{ "if-modified-since": LAST_MODIFIED }, 304],
    [{ "if-modified-since": "Wed, 01 Jan 2025 00:00:00 GMT" }, 304],
    [{ "if-modified-since": "Sun, 31 Dec 2023 00:00:00 GMT" }, 200],
    [{ "if-none-match": '"other"', "if-modified-since": LAST_MODIFIED }, 200],
  ];
  for (const [headers, status] of cases) {
    const { response, body } = await get(url, { headers });
    assert.equal(response.status, status, JSON.stringify(headers));
    if (status === 304) {
      assert.equal(body.length, 0);
      assert.equal(response.headers.get("etag"), etag);
    }
  }
});

Deno.test("generated files: deterministic bytes, ranges, offsets mixed in", async () => {
  await using server = await startServer();
  await using other = await startServer();
  const small = await get(`${server.url}/files/1000/some/name.bin`);
  assert.equal(small.response.status, 200);
  assert.equal(
    small.response.headers.get("content-type"),
    "application/octet-stream",
  );
  assert.deepEqual(small.body, generatedBody("some/name.bin", 1000));
  assert.deepEqual(
    (await get(`${other.url}/files/1000/some/name.bin`)).body,
    small.body,
  );
  assert.notDeepEqual(generatedBody("other.bin", 1000), small.body);
  assert.notDeepEqual(
    generatedBody("some/name.bin", 1001).subarray(0, 1000),
    small.body,
  );

  // Streamed (over 1 MiB), with a suffix in the size.
  const big = await get(`${server.url}/files/3m/big.bin`);
  assert.equal(big.body.length, 3 * 1024 * 1024);
  assert.deepEqual(big.body, generatedBody("big.bin", 3 * 1024 * 1024));
  // Each 64 KiB block differs from the others.
  assert.notDeepEqual(
    big.body.subarray(0, 65536),
    big.body.subarray(65536, 131072),
  );
  // A range across a block boundary.
  const range = await get(`${server.url}/files/3m/big.bin`, {
    headers: { range: "bytes=65530-65545" },
  });
  assert.equal(range.response.status, 206);
  assert.deepEqual(range.body, big.body.subarray(65530, 65546));

  // The largest file: HEAD and a range near its end, never allocated whole.
  const max = 64 * 1024 ** 3;
  const head = await get(`${server.url}/files/64g/max.bin`, { method: "HEAD" });
  assert.equal(head.response.headers.get("content-length"), String(max));
  const tail = await get(`${server.url}/files/64g/max.bin`, {
    headers: { range: "bytes=-100" },
  });
  assert.deepEqual(tail.body, generatedChunk("max.bin", max, max - 100, max));
  assert.equal((await get(`${server.url}/files/65g/x`)).response.status, 404);
  assert.equal((await get(`${server.url}/files/abc/x`)).response.status, 404);
  assert.equal((await get(`${server.url}/files/10/`)).response.status, 404);
  const empty = await get(`${server.url}/files/0/empty`);
  assert.equal(empty.response.status, 200);
  assert.equal(empty.body.length, 0);
});

Deno.test("/stats counts requests, paths, statuses and recent headers", async () => {
  await using server = await startServer({ recentLimit: 3 });
  await get(`${server.url}/flags/br/br.gif`, { headers: { "x-test": "one" } });
  await get(`${server.url}/flags/zz/zz.gif?q=1`);
  await get(`${server.altUrl}/flags/br/br.gif`, {
    headers: { authorization: "Bearer t" },
  });
  const stats = JSON.parse((await get(`${server.url}/stats`)).text);
  assert.equal(stats.requests, 3, "/stats itself is not counted");
  assert.equal(stats.inFlight, 0);
  assert.deepEqual(stats.byPath, {
    "/flags/br/br.gif": 2,
    "/flags/zz/zz.gif": 1,
  });
  assert.deepEqual(stats.byStatus, { 200: 2, 404: 1 });
  assert.equal(stats.recent.length, 3);
  assert.equal(stats.recent[0].headers["x-test"], "one");
  assert.equal(stats.recent[0].listener, "main");
  assert.equal(stats.recent[1].path, "/flags/zz/zz.gif?q=1");
  assert.equal(stats.recent[1].status, 404);
  assert.equal(stats.recent[2].listener, "alt");
  assert.equal(stats.recent[2].headers.authorization, "Bearer t");
  assert.deepEqual(server.stats(), stats);

  for (let i = 0; i < 5; i++) await get(`${server.url}/flags/fr/fr.gif`);
  assert.equal(server.stats().recent.length, 3, "recentLimit");
  assert.equal(
    (await get(`${server.url}/stats/reset`, { method: "POST" })).response
      .status,
    204,
  );
  assert.equal(server.stats().requests, 0);
  await get(`${server.url}/flags/fr/fr.gif`);
  await get(`${server.url}/stats/reset`);
  assert.deepEqual(server.stats().byPath, {});
  await get(`${server.url}/flags/fr/fr.gif`);
  server.resetStats();
  assert.equal(server.stats().requests, 0);
  assert.deepEqual(server.stats().recent, []);
});

Deno.test("maxInFlight: 10 concurrent requests to DELAY are 10 in flight", async () => {
  await using server = await startServer({ preset: "DELAY" });
  const results = await Promise.all(
    Array.from(
      { length: 10 },
      () => get(`${server.url}/flags/br/metadata.json`),
    ),
  );
  assert.ok(results.every((r) => r.response.status === 200));
  const stats = server.stats();
  assert.equal(stats.maxInFlight, 10);
  assert.equal(stats.faults.delay, 10);
  await eventually(() => server.stats().inFlight === 0);
});

Deno.test("a request is in flight until its body is sent", async () => {
  await using server = await startServer({ faults: { stall: { ms: 300 } } });
  const response = await fetch(`${server.url}/flags/br/br.gif`);
  assert.equal(server.stats().inFlight, 1, "headers received, body stalled");
  await response.arrayBuffer();
  await eventually(() => server.stats().inFlight === 0);
  assert.equal(server.stats().maxInFlight, 1);
});

Deno.test("redirects: same origin, cross origin, loop, chain", async () => {
  await using server = await startServer();
  // n same-origin hops, then the path.
  let url = `${server.url}/redirect/same/3/flags/br/metadata.json`;
  const hops: string[] = [];
  for (let i = 0; i < 10; i++) {
    const { response } = await get(url);
    if (response.status !== 302) break;
    url = new URL(response.headers.get("location")!, url).href;
    hops.push(url);
  }
  assert.deepEqual(hops, [
    `${server.url}/redirect/same/2/flags/br/metadata.json`,
    `${server.url}/redirect/same/1/flags/br/metadata.json`,
    `${server.url}/flags/br/metadata.json`,
  ]);
  const followed = await get(
    `${server.url}/redirect/same/2/flags/br/metadata.json`,
    {
      redirect: "follow",
    },
  );
  assert.equal(JSON.parse(followed.text).iso_cc, "BR");

  // Cross origin: to the alt listener, which serves the same content.
  const cross = await get(`${server.url}/redirect/cross/flags/br/br.gif`);
  assert.equal(cross.response.status, 302);
  assert.equal(
    cross.response.headers.get("location"),
    `${server.altUrl}/flags/br/br.gif`,
  );
  assert.notEqual(new URL(server.altUrl).port, String(server.port));
  const there = await get(`${server.url}/redirect/cross/flags/br/br.gif`, {
    redirect: "follow",
    headers: { "x-mark": "m" },
  });
  assert.deepEqual(
    there.body,
    await Deno.readFile(new URL("flags/br/br.gif", DATA)),
  );
  const last = server.stats().recent.at(-1)!;
  assert.equal(last.listener, "alt");
  assert.equal(last.path, "/flags/br/br.gif");
  const back = await get(`${server.altUrl}/redirect/cross/x`);
  assert.equal(back.response.headers.get("location"), `${server.url}/x`);

  // A loop.
  const a = await get(`${server.url}/redirect/loop`);
  assert.equal(a.response.headers.get("location"), "/redirect/loop/b");
  const b = await get(`${server.url}/redirect/loop/b`);
  assert.equal(b.response.headers.get("location"), "/redirect/loop");
  await assert.rejects(fetch(`${server.url}/redirect/loop`), TypeError);

  // A chain, with another status.
  const chain = await get(`${server.url}/redirect/chain/2?status=307`);
  assert.equal(chain.response.status, 307);
  assert.equal(
    chain.response.headers.get("location"),
    "/redirect/chain/1?status=307",
  );
  const end = await get(`${server.url}/redirect/chain/2`, {
    redirect: "follow",
  });
  assert.equal(end.text, "end of chain\n");
  assert.equal(
    (await get(`${server.url}/redirect/same/0/x`)).response.status,
    404,
  );
});

Deno.test("no alternate listener with alt: false", async () => {
  await using server = await startServer({ alt: false });
  assert.equal(server.altUrl, "");
  assert.equal(
    (await get(`${server.url}/redirect/cross/x`)).response.status,
    404,
  );
});

Deno.test("presets: the book's ports and faults", () => {
  assert.equal(PRESETS.LOCAL.port, 8001);
  assert.equal(PRESETS.DELAY.port, 8002);
  assert.equal(PRESETS.ERROR.port, 8003);
  assert.deepEqual(PRESETS.LOCAL.faults, {});
  assert.deepEqual(PRESETS.DELAY.faults.latency, { rate: 1, ms: 500 });
  assert.deepEqual(PRESETS.ERROR.faults.statuses, [{
    status: 503,
    rate: 0.25,
  }]);
  assert.deepEqual(PRESETS.ERROR.faults.latency, { rate: 0.5, ms: 500 });
});

Deno.test("ERROR preset: about 25 % 503 and 50 % delayed, the same for the same seed", async () => {
  const run = async () => {
    await using server = await startServer({ preset: "ERROR", seed: 7 });
    const paths = [...codes, ...codes, ...codes].slice(0, 400);
    const statuses = await pooled(
      paths,
      100,
      async (cc) =>
        (await get(`${server.url}/flags/${cc}/metadata.json`)).response.status,
    );
    const stats = server.stats();
    assert.equal(statuses.filter((s) => s === 503).length, stats.faults["503"]);
    assert.equal(
      statuses.filter((s) => s === 200).length,
      400 - stats.faults["503"],
    );
    return stats.faults;
  };
  const [a, b] = await Promise.all([run(), run()]);
  assert.deepEqual(a, b);
  assert.ok(a["503"] > 60 && a["503"] < 140, `503: ${a["503"]}`);
  assert.ok(a.delay > 140 && a.delay < 260, `delay: ${a.delay}`);
});

Deno.test("startServer rejects bad options and honours its signal", async () => {
  await assert.rejects(startServer({ port: 70000 }), RangeError);
  await assert.rejects(startServer({ seed: NaN }), RangeError);
  // @ts-expect-error: not a preset
  await assert.rejects(startServer({ preset: "NOPE" }), RangeError);
  await assert.rejects(startServer({ recentLimit: -1 }), RangeError);
  await assert.rejects(
    startServer({
      faults: {
        statuses: [{ status: 503, rate: 0.7 }, { status: 500, rate: 0.7 }],
      },
    }),
    RangeError,
  );
  await assert.rejects(
    startServer({ faults: { reset: { rate: 2 } } }),
    RangeError,
  );
  const controller = new AbortController();
  const server = await startServer({ signal: controller.signal });
  await (await fetch(`${server.url}/flags/br/br.gif`)).body?.cancel();
  controller.abort();
  await server.close();
  await assert.rejects(fetch(`${server.url}/flags/br/br.gif`), TypeError);
});

Deno.test("a taken port throws AddrInUse", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await assert.rejects(
    startServer({ port: (listener.addr as Deno.NetAddr).port }),
    Deno.errors.AddrInUse,
  );
});
