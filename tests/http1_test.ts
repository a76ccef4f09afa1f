// bulkget's own HTTP/1.1 client against a scripted TCP server on loopback:
// each test decides the exact bytes of every answer.
import assert from "node:assert/strict";
import { Http1Client, HttpProtocolError } from "../lib/engine/http1.ts";
import { directBody, type HttpResponse } from "../lib/engine/http_response.ts";
import { download } from "../lib/engine/download.ts";
import type { HeaderPairs } from "../lib/core/headers.ts";
import { flagFile, listDir, runBulkget } from "./_helpers.ts";
import { scriptedServer, TLS_DIR, tlsFile } from "./_scripted_server.ts";

const text = new TextEncoder();

const ok = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${
    text.encode(body).length
  }\r\n${extra}\r\n${body}`;

/** The client's answer. */
async function get(
  client: Http1Client,
  url: string,
  headers: HeaderPairs,
  signal?: AbortSignal,
): Promise<HttpResponse> {
  return await client.get(new URL(url), headers, signal);
}

async function bodyText(response: HttpResponse): Promise<string> {
  return new TextDecoder().decode(await response.arrayBuffer());
}

Deno.test("http1: keeps one connection alive across sequential requests and sends the request it was given", async () => {
  await using server = scriptedServer((n) => ok(`body ${n}`));
  const client = new Http1Client();
  try {
    for (let i = 0; i < 5; i++) {
      const response = await get(
        client,
        `${server.url}/dir/file ${i}.txt?x=1&y=é`,
        [["x-token", "abc"]],
      );
      assert.equal(response.status, 200);
      assert.equal(response.statusText, "OK");
      assert.equal(response.headers.get("Content-Length"), String(6));
      // A small body is held whole: as a stream or at once, the same bytes.
      const text = i % 2 === 0
        ? await new Response(response.body).text()
        : await bodyText(response);
      assert.equal(text, `body ${i}`);
    }
    assert.equal(server.connections, 1);
    const [line, ...headers] = server.requests[0].split("\r\n");
    assert.equal(line, "GET /dir/file%200.txt?x=1&y=%C3%A9 HTTP/1.1");
    assert.ok(headers.includes(`host: ${new URL(server.url).host}`));
    assert.ok(headers.includes("x-token: abc"));
    assert.ok(headers.includes("accept: */*"));
  } finally {
    client.close();
  }
});

Deno.test("http1: small bodies held at once are each their own bytes; arrayBuffer() is a buffer of exactly the body, safe to transfer", async () => {
  await using server = scriptedServer((n) => ok(`body number ${n}`));
  const client = new Http1Client();
  try {
    const responses = [];
    for (let i = 0; i < 4; i++) {
      responses.push(await get(client, `${server.url}/f${i}`, []));
    }
    const buffers = await Promise.all(responses.map((r) => r.arrayBuffer()));
    for (const [i, buffer] of buffers.entries()) {
      assert.equal(buffer.byteLength, `body number ${i}`.length);
    }
    // Transferring one body's buffer leaves the others' bytes as they came.
    structuredClone(buffers[1], { transfer: [buffers[1]] });
    assert.equal(buffers[1].byteLength, 0);
    for (const i of [0, 2, 3]) {
      assert.equal(new TextDecoder().decode(buffers[i]), `body number ${i}`);
    }
  } finally {
    client.close();
  }
});

Deno.test("http1: heads long and short on one kept-alive connection each go out whole", async () => {
  await using server = scriptedServer((n) => ok(`body ${n}`));
  const client = new Http1Client();
  try {
    // Longer than the buffer a connection encodes heads into, then short,
    // then longer still: each request carries its own value, whole.
    const values = ["x".repeat(3000), "short", "y".repeat(9000), "é"];
    // A head cut short would leave the server waiting: the signal ends that.
    const signal = AbortSignal.timeout(20_000);
    for (const value of values) {
      const response = await get(
        client,
        `${server.url}/a`,
        [["x-v", value]],
        signal,
      );
      await response.arrayBuffer();
    }
    assert.equal(server.requests.length, values.length);
    values.slice(0, 3).forEach((value, i) => {
      assert.ok(
        server.requests[i].includes(`x-v: ${value}\r\n`),
        `request ${i}`,
      );
      // The head's last line (the server keeps the head without its empty line).
      assert.ok(
        server.requests[i].endsWith("\r\nuser-agent: bulkget"),
        `request ${i} whole`,
      );
    });
    assert.ok(server.requests[3].includes("x-v: \uFFFD\r\n"));
  } finally {
    client.close();
  }
});

Deno.test("http1: a header value beyond ASCII goes out one byte per character (Latin-1), as fetch sends it", async () => {
  await using server = scriptedServer((n) => ok(`body ${n}`));
  const client = new Http1Client();
  try {
    for (const value of ["café", "plain"]) {
      const response = await get(client, `${server.url}/a`, [[
        "x-name",
        value,
      ]]);
      await response.arrayBuffer();
    }
    // The server reads the head as UTF-8: one byte 0xE9 is not UTF-8 (it
    // reads as U+FFFD); "é" as UTF-8 would be two bytes that read as "é".
    assert.ok(server.requests[0].includes("x-name: caf\uFFFD\r\n"));
    assert.ok(server.requests[1].includes("x-name: plain\r\n"));
  } finally {
    client.close();
  }
});

Deno.test("http1: decodes chunked bodies (extensions, trailers) and reuses the connection after", async () => {
  const chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" +
    "5;name=x\r\nhello\r\n1\r\n \r\n0b\r\nworld, long\r\n0\r\nx-trailer: 1\r\n\r\n";
  await using server = scriptedServer((n) => n === 0 ? chunked : ok("next"));
  const client = new Http1Client({ smallBodyLimit: 0 });
  try {
    const first = await get(client, `${server.url}/c`, []);
    assert.equal(await bodyText(first), "hello world, long");
    const second = await get(client, `${server.url}/d`, []);
    assert.equal(await bodyText(second), "next");
    assert.equal(server.connections, 1);
  } finally {
    client.close();
  }
});

Deno.test("http1: chunked beside a Content-Length is refused (ambiguous framing), and the connection not reused", async () => {
  await using server = scriptedServer((n) =>
    n === 0
      ? "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
      : ok("fresh")
  );
  const client = new Http1Client();
  try {
    await assert.rejects(
      get(client, `${server.url}/a`, []),
      /Content-Length beside Transfer-Encoding/,
    );
    assert.equal(
      await bodyText(await get(client, `${server.url}/b`, [])),
      "fresh",
    );
    assert.equal(server.connections, 2);
  } finally {
    client.close();
  }
});

Deno.test("http1: a body without length runs to the connection's end, and that connection is not reused", async () => {
  await using server = scriptedServer((n) =>
    n === 0
      ? { send: "HTTP/1.1 200 OK\r\n\r\nuntil the end", close: true }
      : ok("fresh")
  );
  const client = new Http1Client();
  try {
    const first = await get(client, `${server.url}/a`, []);
    assert.equal(await bodyText(first), "until the end");
    const second = await get(client, `${server.url}/b`, []);
    assert.equal(await bodyText(second), "fresh");
    assert.equal(server.connections, 2);
  } finally {
    client.close();
  }
});

Deno.test("http1: Connection: close and HTTP/1.0 answers are not reused", async () => {
  await using server = scriptedServer((n) =>
    n === 0
      ? ok("one", "connection: close\r\n")
      : n === 1
      ? "HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\ntwo"
      : ok("three")
  );
  const client = new Http1Client();
  try {
    for (const expected of ["one", "two", "three"]) {
      const response = await get(
        client,
        `${server.url}/${expected}`,
        [],
      );
      assert.equal(await bodyText(response), expected);
    }
    assert.equal(server.connections, 3);
  } finally {
    client.close();
  }
});

for (const tls of [false, true]) {
  Deno.test(
    `http1: a kept-alive connection the server closed while idle is replaced without an error${
      tls ? " (TLS)" : ""
    }`,
    async () => {
      // The server answers one request per connection, then closes it without saying so.
      await using server = scriptedServer((n) => ({
        send: ok(`r${n}`),
        close: true,
      }), { tls });
      const client = new Http1Client({ caCerts: [tlsFile("ca.pem")] });
      try {
        const first = await get(client, `${server.url}/1`, []);
        assert.equal(await bodyText(first), "r0");
        await new Promise((resolve) => setTimeout(resolve, 50)); // let the close arrive
        const second = await get(client, `${server.url}/2`, []);
        assert.equal(await bodyText(second), "r1");
        assert.equal(server.connections, 2);
        assert.equal(
          server.requests.length,
          2,
          "the request was sent once on the new connection",
        );
      } finally {
        client.close();
      }
    },
  );
}

Deno.test("http1: skips 1xx heads; 204 and 304 have no body and keep the connection", async () => {
  await using server = scriptedServer((n) =>
    [
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n" +
      ok("final"),
      "HTTP/1.1 204 No Content\r\n\r\n",
      'HTTP/1.1 304 Not Modified\r\netag: "v1"\r\n\r\n',
      ok("after"),
    ][n]
  );
  const client = new Http1Client();
  try {
    const final = await get(client, `${server.url}/a`, []);
    assert.equal(final.status, 200);
    assert.equal(await bodyText(final), "final");
    const empty = await get(client, `${server.url}/b`, []);
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
    const same = await get(client, `${server.url}/c`, []);
    assert.equal(same.status, 304);
    assert.equal(same.headers.get("etag"), '"v1"');
    const after = await get(client, `${server.url}/d`, []);
    assert.equal(await bodyText(after), "after");
    assert.equal(server.connections, 1);
  } finally {
    client.close();
  }
});

Deno.test("http1: a body cut short fails after delivering what came, small or streamed", async () => {
  const cut = {
    send: "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n1234",
    close: true,
  };
  await using server = scriptedServer(() => cut);
  for (const smallBodyLimit of [1 << 20, 0]) {
    const client = new Http1Client({ smallBodyLimit });
    try {
      const response = await get(client, `${server.url}/cut`, []);
      const reader = response.body!.getReader();
      const first = await reader.read();
      assert.equal(new TextDecoder().decode(first.value), "1234");
      await assert.rejects(
        reader.read(),
        /connection closed before message completed/,
      );
    } finally {
      client.close();
    }
  }
});

Deno.test("http1: malformed answers are errors, never guesses", async () => {
  const answers = [
    "HTTP/2 200 OK\r\n\r\n",
    "HTTP/1.1 200 OK\r\ncontent-length: 5, 6\r\n\r\nhello",
    "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
    "HTTP/1.1 200 OK\r\n folded: header\r\n\r\n",
    `HTTP/1.1 200 OK\r\nx-big: ${"a".repeat(70_000)}\r\n\r\n`,
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
  ];
  await using server = scriptedServer((n) => ({
    send: answers[n],
    close: true,
  }));
  const client = new Http1Client();
  try {
    for (let i = 0; i < answers.length - 1; i++) {
      await assert.rejects(
        get(client, `${server.url}/${i}`, []),
        HttpProtocolError,
        `answer ${i}`,
      );
    }
    const chunked = await get(client, `${server.url}/chunked`, []);
    await assert.rejects(chunked.arrayBuffer(), /malformed chunk size/);
  } finally {
    client.close();
  }
});

Deno.test("http1: an abort stops a stalled body at once with the signal's reason", async () => {
  await using server = scriptedServer(() => ({
    send: "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc",
    stall: true,
  }));
  const client = new Http1Client({ smallBodyLimit: 0 });
  try {
    const controller = new AbortController();
    const response = await get(
      client,
      `${server.url}/stall`,
      [],
      controller.signal,
    );
    const reading = response.arrayBuffer();
    setTimeout(() => controller.abort(new Error("deadline")), 50);
    await assert.rejects(reading, /deadline/);
    const waiting = new AbortController();
    const head = get(
      client,
      `${server.url}/stall2`,
      [],
      waiting.signal,
    );
    waiting.abort(new Error("gave up"));
    await assert.rejects(head, /gave up/);
  } finally {
    client.close();
  }
});

Deno.test("http1: bytes after a response mean the connection is not reused", async () => {
  await using server = scriptedServer((n) =>
    n === 0 ? ok("one") + "garbage" : ok("two")
  );
  const client = new Http1Client();
  try {
    assert.equal(
      await bodyText(
        await get(client, `${server.url}/1`, []),
      ),
      "one",
    );
    assert.equal(
      await bodyText(
        await get(client, `${server.url}/2`, []),
      ),
      "two",
    );
    assert.equal(server.connections, 2);
  } finally {
    client.close();
  }
});

Deno.test("http1: a refused connection is an error naming it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing answers on this port now
  const client = new Http1Client();
  try {
    for (const host of ["localhost", "127.0.0.1"]) {
      await assert.rejects(
        client.get(new URL(`http://${host}:${port}/x`), []),
        Deno.errors.ConnectionRefused,
      );
    }
  } finally {
    client.close();
  }
});

/** A chunked answer carrying `body` in pieces of `piece` bytes. */
function chunkedAnswer(body: Uint8Array, piece: number): Uint8Array {
  const parts: Uint8Array[] = [
    text.encode("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"),
  ];
  for (let at = 0; at < body.length; at += piece) {
    const part = body.subarray(at, at + piece);
    parts.push(text.encode(`${part.length.toString(16)}\r\n`), part);
    parts.push(text.encode("\r\n"));
  }
  parts.push(text.encode("0\r\n\r\n"));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

Deno.test("download() writes a large chunked body read straight off the connection, and refuses one over maxSize", async () => {
  const body = new Uint8Array(3_000_000).map((_, i) => (i * 31) % 251);
  await using server = scriptedServer(() => chunkedAnswer(body, 70_000));
  const dir = await Deno.makeTempDir();
  try {
    const [ok] = await Array.fromAsync(
      download([{ url: `${server.url}/big.bin`, dest: "big.bin" }], {
        outDir: dir,
        retries: 0,
      }),
    );
    assert.equal(ok.status, "ok", ok.reason);
    assert.deepEqual(await Deno.readFile(`${dir}/big.bin`), body);
    const [big] = await Array.fromAsync(
      download([{ url: `${server.url}/big2.bin`, dest: "big2.bin" }], {
        outDir: dir,
        retries: 0,
        maxSize: 1_000_000,
      }),
    );
    assert.equal(big.status, "error");
    assert.match(big.reason!, /too big/);
    assert.deepEqual(listDir(dir), [
      "big.bin",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("download(): a job's headers override the policy's whatever their case; a bad header fails the job", async () => {
  await using server = scriptedServer(() => ok("x"));
  const dir = await Deno.makeTempDir();
  try {
    const outcomes = await Array.fromAsync(
      download([
        { url: `${server.url}/a`, dest: "a", headers: { "x-a": "job" } },
        { url: `${server.url}/b`, dest: "b", headers: { "X-B": "a\nb" } },
      ], {
        outDir: dir,
        retries: 0,
        concurrency: 1,
        headers: { "X-A": "policy", "User-Agent": "mine/1" },
      }),
    );
    const byDest = Object.fromEntries(outcomes.map((o) => [o.job.dest, o]));
    assert.equal(byDest.a.status, "ok");
    assert.equal(byDest.b.status, "error");
    assert.match(byDest.b.reason!, /invalid request header "X-B"/);
    assert.equal(server.requests.length, 1, "the bad request was never sent");
    const lines = server.requests[0].split("\r\n");
    assert.deepEqual(lines.filter((l) => l.startsWith("x-a:")), ["x-a: job"]);
    assert.ok(lines.includes("user-agent: mine/1"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http1: a streamed body can be read directly until something reads its stream", async () => {
  await using server = scriptedServer(() => ok("0123456789"));
  const client = new Http1Client({ smallBodyLimit: 0 });
  try {
    const touched = await get(client, `${server.url}/a`, []);
    assert.notEqual(touched.body, null); // made, not read
    const direct = directBody(touched);
    assert.ok(direct, "touching .body does not give up the direct path");
    const buffer = new Uint8Array(4);
    const pieces: string[] = [];
    for (let n; (n = await direct.readInto(buffer)) !== null;) {
      pieces.push(new TextDecoder().decode(buffer.subarray(0, n)));
    }
    assert.equal(pieces.join(""), "0123456789");

    const read = await get(client, `${server.url}/b`, []);
    await read.body!.getReader().read();
    assert.equal(directBody(read), undefined);
    assert.equal(server.connections, 1);
  } finally {
    client.close();
  }
});

Deno.test("http1: idle connections are capped over all origins, the longest idle closed first", async () => {
  await using a = scriptedServer(() => ok("a"));
  await using b = scriptedServer(() => ok("b"));
  await using c = scriptedServer(() => ok("c"));
  const client = new Http1Client({ maxIdle: 2 });
  try {
    for (const server of [a, b, c]) {
      await bodyText(await get(client, `${server.url}/x`, []));
    }
    assert.equal(client.idleCount, 2);
    await bodyText(await get(client, `${a.url}/y`, [])); // a's was closed
    await bodyText(await get(client, `${c.url}/y`, [])); // c's is kept
    assert.deepEqual([a.connections, b.connections, c.connections], [2, 1, 1]);
  } finally {
    client.close();
  }
  assert.equal(client.idleCount, 0);
});

const hasIpv6Loopback = (() => {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "http1: an IPv6 literal URL connects to the address without brackets",
  ignore: !hasIpv6Loopback, // reported as ignored, never as passed
  fn: async () => {
    using listener = Deno.listen({ hostname: "::1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const serving = (async () => {
      const conn = await listener.accept();
      await conn.read(new Uint8Array(4096));
      await conn.write(text.encode(ok("v6")));
      conn.close();
    })();
    const client = new Http1Client();
    try {
      const response = await get(client, `http://[::1]:${port}/x`, []);
      assert.equal(await bodyText(response), "v6");
    } finally {
      client.close();
      await serving;
    }
  },
});

Deno.test("http1 over TLS: kept alive, chunked and streamed bodies; an unknown CA is refused", async () => {
  const big = new Uint8Array(2_000_000).map((_, i) => (i * 7) % 253);
  await using server = scriptedServer(
    (n) =>
      n === 0 ? ok("small") : n === 1 ? chunkedAnswer(big, 100_000) : ok("end"),
    { tls: true },
  );
  const client = new Http1Client({
    caCerts: [tlsFile("ca.pem")],
    smallBodyLimit: 1000,
  });
  try {
    assert.equal(
      await bodyText(await get(client, `${server.url}/a`, [])),
      "small",
    );
    const streamed = await get(client, `${server.url}/b`, []);
    assert.deepEqual(new Uint8Array(await streamed.arrayBuffer()), big);
    assert.equal(
      await bodyText(await get(client, `${server.url}/c`, [])),
      "end",
    );
    assert.equal(server.connections, 1);
  } finally {
    client.close();
  }
  const stranger = new Http1Client();
  try {
    await assert.rejects(
      stranger.get(new URL(`${server.url}/d`), []),
      /certificate|UnknownIssuer/i,
    );
  } finally {
    stranger.close();
  }
});

Deno.test("get over https:// trusts what Deno trusts (--cert), with its own client or with --use-fetch", async () => {
  const flag = Deno.readFileSync(flagFile("br"));
  await using server = scriptedServer(() => {
    const head = `HTTP/1.1 200 OK\r\ncontent-length: ${flag.length}\r\n\r\n`;
    const all = new Uint8Array(head.length + flag.length);
    all.set(text.encode(head));
    all.set(flag, head.length);
    return all;
  }, { tls: true });
  const cwd = await Deno.makeTempDir();
  const permissions = [
    "--allow-all",
    `--cert=${new URL("ca.pem", TLS_DIR).pathname}`,
  ];
  for (const [dir, extra] of [["own", []], ["fetch", ["--use-fetch"]]]) {
    const result = await runBulkget(
      ["get", `${server.url}/br.gif`, "-o", dir as string, ...extra],
      { cwd, permissions },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(Deno.readFileSync(`${cwd}/${dir}/br.gif`), flag);
  }
  const agents = server.requests.map((head) =>
    /\r\nuser-agent: ([^\r]*)/i.exec(head)?.[1]
  );
  assert.equal(agents[0], "bulkget");
  assert.match(agents[1] ?? "", /^Deno\//);
});

Deno.test("http1: bytes that arrive while a connection idles (late, repeated or unsolicited) close it; the next request gets its own answer", async () => {
  const big = "B".repeat(2 << 20);
  const late = [
    // extra bytes after a complete body: a whole second response, 100 ms late
    { send: ok("one"), later: { ms: 100, send: ok("EVIL") } },
    // the same response repeated 50 ms later
    { send: ok("two"), later: { ms: 50, send: ok("two") } },
    // a 204 followed by a body
    {
      send: "HTTP/1.1 204 No Content\r\n\r\n",
      later: { ms: 50, send: "smuggled" },
    },
    // a large (streamed) body, then a smuggled response
    { send: ok(big), later: { ms: 100, send: ok("EVIL") } },
  ];
  for (const [i, first] of late.entries()) {
    await using server = scriptedServer((n) => n === 0 ? first : ok("fresh"));
    const client = new Http1Client();
    try {
      const response = await get(client, `${server.url}/first`, []);
      await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(client.idleCount, 0, `case ${i}: dropped from the pool`);
      assert.equal(
        await bodyText(await get(client, `${server.url}/second`, [])),
        "fresh",
        `case ${i}`,
      );
      assert.equal(server.connections, 2, `case ${i}`);
    } finally {
      client.close();
    }
  }
});

Deno.test("http1: an unsolicited response on an idle connection is never read as the next answer", async () => {
  // The server answers, then speaks again on its own after 100 ms.
  await using server = scriptedServer((n) =>
    n === 0
      ? { send: ok("asked"), later: { ms: 100, send: ok("unasked") } }
      : ok(`answer ${n}`)
  );
  const client = new Http1Client();
  try {
    assert.equal(
      await bodyText(await get(client, `${server.url}/a`, [])),
      "asked",
    );
    assert.equal(client.idleCount, 1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(
      await bodyText(await get(client, `${server.url}/b`, [])),
      "answer 1",
    );
  } finally {
    client.close();
  }
});
