// `bulkget get` against a scripted raw-socket server that misbehaves on
// purpose: wrong ranges, late and smuggled bytes, framing bombs, codings,
// trickles and stalls, secrets in URLs. Every case runs with the own HTTP
// client and with --use-fetch, and ends with the exact bytes under the final
// name, or a clear failure and no final file.
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { listDir, runBulkget } from "./_helpers.ts";
import {
  type Answer,
  resettingServer,
  scriptedServer,
  TLS_DIR,
} from "./_scripted_server.ts";
import type { Report } from "../lib/report/json_report.ts";
import { formatBytes } from "../lib/outputs/format.ts";

const CLIENTS: [string, string[]][] = [["own client", []], [
  "--use-fetch",
  ["--use-fetch"],
]];

/** A file of `size` bytes, its content fixed by `seed`. */
function pattern(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

function concat(...parts: (string | Uint8Array)[]): Uint8Array {
  const encoded = parts.map((p) =>
    typeof p === "string" ? new TextEncoder().encode(p) : p
  );
  const all = new Uint8Array(encoded.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of encoded) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

function response200(body: Uint8Array, etag = '"v1"', extra = ""): Uint8Array {
  return concat(
    `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\netag: ${etag}\r\naccept-ranges: bytes\r\n${extra}\r\n`,
    body,
  );
}

async function report(cwd: string): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(`${cwd}/r.json`));
}

/** `bulkget get FLAGS -o out ARGS` in `cwd`. */
function getInto(cwd: string, flags: string[], args: string[]) {
  return runBulkget(["get", ...flags, "-o", "out", ...args], { cwd });
}

function sameAs(path: string, expected: Uint8Array): boolean {
  const got = Deno.readFileSync(path);
  return got.length === expected.length &&
    got.every((byte, i) => byte === expected[i]);
}

/** The first byte a request's `Range: bytes=N-` asks for. */
function rangeStart(request: string): number {
  const match = /range: bytes=(\d+)-/i.exec(request);
  assert.ok(match, `no Range in ${request}`);
  return Number(match[1]);
}

const T = 3_145_805;
const CUT = 1 << 20;
const V1 = pattern(T, 1);
const V2 = pattern(T, 2);

/** What a hostile 206 sends when asked for `bytes=from-`. */
const HOSTILE_206: [string, (cut: number) => Uint8Array][] = [
  ["Content-Range that ends early", (from) =>
    concat(
      `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${
        from + 99
      }/${T}\r\ncontent-length: 100\r\netag: "v1"\r\n\r\n`,
      V1.subarray(from, from + 100),
    )],
  ["Content-Range that starts at another byte", (from) =>
    concat(
      `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from - 100}-${
        T - 1
      }/${T}\r\ncontent-length: ${T - from + 100}\r\netag: "v1"\r\n\r\n`,
      V1.subarray(from - 100),
    )],
  ["chunked body shorter than its range", (from) =>
    concat(
      `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${
        T - 1
      }/${T}\r\ntransfer-encoding: chunked\r\netag: "v1"\r\n\r\n64\r\n`,
      V1.subarray(from, from + 100),
      "\r\n0\r\n\r\n",
    )],
  ["Content-Length longer than the range", (from) =>
    concat(
      `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${
        T - 1
      }/${T}\r\ncontent-length: ${T - from + 100}\r\netag: "v1"\r\n\r\n`,
      V1.subarray(from),
      pattern(100, 9),
    )],
  ['ETag "v2" although If-Range said "v1"', (from) =>
    concat(
      `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${
        T - 1
      }/${T}\r\ncontent-length: ${T - from}\r\netag: "v2"\r\n\r\n`,
      V2.subarray(from),
    )],
  ["a complete length other than the one recorded", (from) =>
    concat(
      `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${
        T + 4999
      }/${T + 5000}\r\ncontent-length: ${
        T + 5000 - from
      }\r\netag: "v1"\r\n\r\n`,
      pattern(T + 5000 - from, 3),
    )],
];

for (const [client, flags] of CLIENTS) {
  for (const [name, hostile] of HOSTILE_206) {
    Deno.test(`hostile server (${client}): a resume answered with ${name} restarts the file, never stitches it`, async () => {
      // Run 1 gets the first MiB of v1 and a closed connection (kept as a
      // resumable .part); run 2's resume gets the hostile 206, then, asked
      // again from byte 0, the whole of v2.
      await using server = scriptedServer((n) =>
        n === 0
          ? { send: response200(V1).subarray(0, 120 + CUT), close: true }
          : n === 1
          ? { send: hostile(rangeStart(server.requests[1])), close: true }
          : response200(V2, '"v2"')
      );
      const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
      const url = `${server.url}/big.bin`;
      const first = await getInto(cwd, flags, ["-q", "--retries", "0", url]);
      assert.equal(first.code, 1, first.stderr);
      assert.deepEqual(
        listDir(`${cwd}/out`).filter((f) => f === "big.bin"),
        [],
      );
      assert.ok(
        Deno.statSync(`${cwd}/out/big.bin.part`).size > 0,
        "a resumable .part was kept",
      );
      const second = await getInto(cwd, flags, ["-q", "--retries", "2", url]);
      assert.match(server.requests[1], /range: bytes=\d+-/i);
      assert.equal(second.code, 0, second.stderr + second.stdout);
      assert.ok(sameAs(`${cwd}/out/big.bin`, V2), "the file is v2, whole");
      assert.doesNotMatch(server.requests[2], /range:/i, "restarted from 0");
    });
  }

  Deno.test(`hostile server (${client}): a 206 to a request without Range is refused, and the whole file fetched again`, async () => {
    const body = pattern(10, 5);
    await using server = scriptedServer((n) =>
      n === 0
        ? concat(
          "HTTP/1.1 206 Partial Content\r\ncontent-range: bytes 0-4/10\r\ncontent-length: 5\r\n\r\n",
          body.subarray(0, 5),
        )
        : response200(body)
    );
    const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
    const run = await getInto(cwd, flags, ["-q", `${server.url}/small.bin`]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(sameAs(`${cwd}/out/small.bin`, body));
    assert.equal(server.requests.length, 2);
  });

  Deno.test(`hostile server (${client}): late smuggled bytes on a kept-alive connection never reach the next file`, async () => {
    // Job a's answer is followed, 100 ms later, by a whole second response;
    // job b (another origin of the same server) takes 400 ms, so job c
    // finds a's connection idle with the smuggled bytes on it.
    await using server = scriptedServer((n) =>
      n === 0
        ? {
          send: response200(new TextEncoder().encode("a-body")),
          later: {
            ms: 100,
            send: response200(new TextEncoder().encode("EVIL!!")),
          },
        }
        : n === 1
        ? {
          send: response200(new TextEncoder().encode("b-body")),
          delayMs: 400,
        }
        : response200(new TextEncoder().encode(`c-body`))
    );
    const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
    const other = server.url.replace("127.0.0.1", "localhost");
    const run = await getInto(cwd, flags, [
      "-q",
      "-m",
      "1",
      `${server.url}/a`,
      `${other}/b`,
      `${server.url}/c`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(Deno.readTextFileSync(`${cwd}/out/c`), "c-body");
  });

  const refusals: [string, string | Uint8Array, RegExp][] = [
    [
      "a status of 000 before a 200",
      "HTTP/1.1 000 Zero\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi",
      /000|malformed|invalid|status/i,
    ],
    [
      "a status of 099 before a 200",
      "HTTP/1.1 099 Early\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi",
      /099|malformed|invalid|status/i,
    ],
    [
      "Transfer-Encoding: gzip, chunked",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
      /Transfer-Encoding/,
    ],
    [
      "Content-Length: 10 beside chunked, then 64 MiB",
      concat(
        "HTTP/1.1 200 OK\r\ncontent-length: 10\r\ntransfer-encoding: chunked\r\n\r\n4000000\r\n",
        new Uint8Array(64 << 20),
        "\r\n0\r\n\r\n",
      ),
      /Content-Length beside Transfer-Encoding/,
    ],
    [
      "Content-Length: 10 beside identity, then 64 MiB",
      concat(
        "HTTP/1.1 200 OK\r\ncontent-length: 10\r\ntransfer-encoding: identity\r\n\r\n",
        new Uint8Array(64 << 20),
      ),
      /Content-Length beside Transfer-Encoding|Transfer-Encoding/,
    ],
  ];
  for (const [name, answer, reason] of refusals) {
    Deno.test(`hostile server (${client}): ${name} is a clear failure and no file`, async () => {
      await using server = scriptedServer(() => ({
        send: answer,
        close: true,
      }));
      const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
      const run = await getInto(cwd, flags, [
        "-q",
        "--retries",
        "1",
        "--report",
        "r.json",
        `${server.url}/f`,
      ]);
      assert.equal(run.code, 1, run.stderr);
      assert.deepEqual(listDir(`${cwd}/out`), []);
      const [item] = (await report(cwd)).items;
      assert.equal(item.status, "error");
      assert.match(item.reason ?? "", reason);
      assert.match(item.code ?? "", /^(PROTOCOL|FRAMING_REFUSED)$/);
    });
  }

  Deno.test(`hostile server (${client}): Content-Encoding sent although identity was asked: the bytes are saved as sent`, async () => {
    const { gzipSync } = await import("node:zlib");
    const gzipped = new Uint8Array(gzipSync(new Uint8Array(100_000)));
    await using server = scriptedServer(() =>
      concat(
        `HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: ${gzipped.length}\r\n\r\n`,
        gzipped,
      )
    );
    const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
    const run = await getInto(cwd, flags, ["-q", `${server.url}/data.gz`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(server.requests[0], /accept-encoding: identity/i);
    assert.ok(sameAs(`${cwd}/out/data.gz`, gzipped), "saved as sent");
  });

  Deno.test(`hostile server (${client}): a small body that trickles finishes; the idle deadline restarts on every byte`, async () => {
    // 100 bytes, 10 every 300 ms: 3 s in all, over both deadlines of 1 s.
    const body = pattern(100, 7);
    await using server = scriptedServer(() => ({
      send: concat("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n", body),
      // The head at once, then the body 10 bytes at a time.
      trickle: { bytes: 10, everyMs: 300, after: 40 },
    }));
    const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
    const run = await getInto(cwd, flags, [
      "-q",
      "--retries",
      "0",
      "--idle-timeout",
      "1",
      "--connect-timeout",
      "1",
      `${server.url}/slow.bin`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(sameAs(`${cwd}/out/slow.bin`, body));
  });

  Deno.test(`hostile server (${client}): a small body that stalls fails on the idle deadline, named so`, async () => {
    await using server = scriptedServer(() => ({
      send: "HTTP/1.1 200 OK\r\ncontent-length: 200\r\n\r\n0123456789",
      stall: true,
    }));
    const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
    const run = await getInto(cwd, flags, [
      "-q",
      "--retries",
      "0",
      "--idle-timeout",
      "1",
      "--connect-timeout",
      "20",
      "--report",
      "r.json",
      `${server.url}/stall.bin`,
    ]);
    assert.equal(run.code, 1);
    assert.deepEqual(
      listDir(`${cwd}/out`).filter((f) => f === "stall.bin"),
      [],
    );
    assert.match((await report(cwd)).items[0].reason ?? "", /idle timeout/);
  });

  Deno.test(`hostile server (${client}): a token in the URL or a redirect's signature never appears in any output`, async () => {
    await using server = scriptedServer((n) =>
      n % 2 === 0
        ? `HTTP/1.1 302 Found\r\nlocation: /blob?sig=SIGSECRET99&x=1\r\ncontent-length: 0\r\n\r\n`
        : { send: "", close: true }
    );
    await using closing = scriptedServer(() => ({ send: "", close: true }));
    // A port nothing listens on, and a server that never answers.
    const refusedUrl = (() => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      listener.close();
      return `http://127.0.0.1:${port}`;
    })();
    await using stalled = scriptedServer(() => ({ send: "", stall: true }));
    const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
    const run = await getInto(cwd, flags, [
      "-v",
      "--retries",
      "1",
      "--report",
      "r.json",
      `${closing.url}/f?token=TOKSECRET42`,
      `${server.url}/r`,
      `${refusedUrl}/g?key=KEYSECRET77`,
      `${stalled.url}/h?auth=AUTHSECRET55`,
      "--connect-timeout",
      "1",
    ]);
    assert.equal(run.code, 1);
    const everything = run.stdout + run.stderr +
      await Deno.readTextFile(`${cwd}/r.json`);
    assert.doesNotMatch(
      everything,
      /TOKSECRET42|SIGSECRET99|KEYSECRET77|AUTHSECRET55/,
    );
    const reasons = (await report(cwd)).items.map((i) => i.reason ?? "");
    assert.equal(reasons.length, 4);
    assert.ok(
      reasons.some((r) => /connect timeout/.test(r)),
      reasons.join("\n"),
    );
  });

  Deno.test(`hostile server (${client}): an invalid redirect Location and an ESC in a reason are reported as what they are, escaped`, async () => {
    await using server = scriptedServer((n) =>
      n === 0
        ? "HTTP/1.1 302 Found\r\nlocation: http://[::1\r\ncontent-length: 0\r\n\r\n"
        : "HTTP/1.1 403 \x1b[2J\x1b[31mGone\r\ncontent-length: 0\r\n\r\n"
    );
    const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
    const run = await getInto(cwd, flags, [
      "-m",
      "1",
      "--report",
      "r.json",
      `${server.url}/moved`,
      `${server.url}/esc`,
    ]);
    assert.equal(run.code, 1);
    assert.ok(!(run.stdout + run.stderr).includes("\x1b"), "no ESC printed");
    const items = (await report(cwd)).items;
    const moved = items.find((i) => i.dest === "moved")!;
    assert.match(moved.reason ?? "", /invalid Location/);
    assert.doesNotMatch(moved.reason ?? "", /write failed/);
    const esc = items.find((i) => i.dest === "esc")!;
    assert.ok(!(esc.reason ?? "").includes("\x1b"), "no ESC in the report");
  });

  Deno.test(`hostile server (${client}): URL user-info is sent as Basic to its origin only, never after a cross-origin redirect`, async () => {
    // The redirect goes to another origin (localhost) of the same server.
    let other = "";
    await using server = scriptedServer((n) =>
      n === 0
        ? `HTTP/1.1 302 Found\r\nlocation: ${other}/g\r\ncontent-length: 0\r\n\r\n`
        : response200(new TextEncoder().encode("file"))
    );
    other = server.url.replace("127.0.0.1", "localhost");
    const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
    const start = new URL(`${server.url}/f`);
    start.username = "user";
    start.password = "p@ss";
    const run = await getInto(cwd, flags, [
      "-H",
      "PRIVATE-TOKEN: glpat-SECRET1",
      "-H",
      "X-API-Key: key-SECRET2",
      start.href,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stdout + run.stderr, /p@ss|p%40ss|dXNlcjpwQHNz/);
    assert.match(server.requests[0], /authorization: Basic dXNlcjpwQHNz/i);
    assert.match(server.requests[0], /private-token: glpat-SECRET1/i);
    assert.match(server.requests[1], /^GET \/g /);
    assert.doesNotMatch(
      server.requests[1],
      /authorization|private-token|x-api-key|SECRET/i,
    );
    assert.equal(Deno.readTextFileSync(`${cwd}/out/f`), "file");
  });
}

for (const [client, flags] of CLIENTS) {
  for (const concurrency of ["1", "2"]) {
    Deno.test(`hostile server (${client}): a Content-Disposition name equal to another job's (-m ${concurrency}) is refused; both jobs accounted, no file mixed`, async () => {
      const first = pattern(300_000, 11);
      const second = pattern(1_600_000, 12);
      await using server = scriptedServer((n) =>
        server.requests[n].startsWith("GET /first ")
          ? response200(
            first,
            '"f"',
            'content-disposition: attachment; filename="second"\r\n',
          )
          : response200(second, '"s"')
      );
      const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
      const run = await getInto(cwd, flags, [
        "-q",
        "-m",
        concurrency,
        "--content-disposition",
        "--report",
        "r.json",
        `${server.url}/first`,
        `${server.url}/second`,
      ]);
      assert.equal(run.code, 1, run.stderr);
      const items = (await report(cwd)).items;
      assert.equal(items.length, 2);
      assert.equal(items.filter((i) => i.status === "ok").length, 1);
      const failed = items.find((i) => i.status !== "ok")!;
      assert.match(failed.reason ?? "", /second/);
      assert.deepEqual(listDir(`${cwd}/out`), ["second"]);
      const onDisk = Deno.readFileSync(`${cwd}/out/second`);
      assert.ok(
        sameAs(
          `${cwd}/out/second`,
          onDisk.length === first.length ? first : second,
        ),
        "one body, whole",
      );
    });
  }

  Deno.test(`hostile server (${client}): a Content-Disposition name of an existing file is not overwritten without --force`, async () => {
    await using server = scriptedServer(() =>
      response200(
        new TextEncoder().encode("from the server"),
        '"x"',
        'content-disposition: attachment; filename="notes.txt"\r\n',
      )
    );
    const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
    await Deno.mkdir(`${cwd}/out`);
    await Deno.writeTextFile(`${cwd}/out/notes.txt`, "mine");
    const args = [
      "get",
      ...flags,
      "-q",
      "--content-disposition",
      "-o",
      "out",
      "--report",
      "r.json",
      `${server.url}/dl`,
    ];
    const run = await runBulkget(args, { cwd });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(Deno.readTextFileSync(`${cwd}/out/notes.txt`), "mine");
    assert.match(
      (await report(cwd)).items[0].reason ?? "",
      /exists; not overwritten without --force/,
    );
    const forced = await runBulkget([...args, "--force"], { cwd });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(
      Deno.readTextFileSync(`${cwd}/out/notes.txt`),
      "from the server",
    );
  });
}

for (const [client, flags] of CLIENTS) {
  Deno.test(`https (${client}): a certificate that does not verify is not retried and says how to trust a CA; --ca-cert trusts it`, async () => {
    await using server = scriptedServer(
      () => response200(new TextEncoder().encode("over tls")),
      { tls: true },
    );
    const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
    const url = `${server.url}/t.txt`;
    const refused = await getInto(cwd, flags, [
      "-q",
      "--report",
      "r.json",
      url,
    ]);
    assert.equal(refused.code, 1, refused.stderr);
    const [item] = (await report(cwd)).items;
    assert.equal(item.attempts, 1, "not retried");
    assert.equal(item.code, "TLS_CERTIFICATE");
    assert.match(
      item.reason ?? "",
      /certificate is not trusted: it is signed by an unknown issuer/,
    );
    assert.match(refused.stdout + refused.stderr, /--ca-cert FILE/);
    assert.doesNotMatch(
      refused.stdout + refused.stderr + (item.reason ?? ""),
      /UnknownIssuer/,
    );
    const trusted = await getInto(cwd, flags, [
      "-q",
      "--ca-cert",
      new URL("ca.pem", TLS_DIR).pathname,
      url,
    ]);
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.equal(Deno.readTextFileSync(`${cwd}/out/t.txt`), "over tls");
  });
}

Deno.test("get --ca-cert: a missing file or one without a certificate is a usage error before any request", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
  await Deno.writeTextFile(`${cwd}/not.pem`, "hello");
  for (const file of ["missing.pem", "not.pem"]) {
    const run = await runBulkget([
      "get",
      "--ca-cert",
      file,
      "https://127.0.0.1:9/x",
    ], { cwd });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, new RegExp(file.replace(".", "\\.")));
  }
});

for (const [client, flags] of CLIENTS) {
  Deno.test(`hostile server (${client}): a smuggled response behind Content-Length + chunked never becomes the next file`, async () => {
    // The chunked body ends early; what follows it is a whole response
    // meant to be read as the answer to the next request.
    const smuggling =
      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
      "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nEVIL";
    await using server = scriptedServer((n) =>
      n === 0 ? smuggling : response200(new TextEncoder().encode("the real b"))
    );
    const cwd = await Deno.makeTempDir({ prefix: "bulkget-hostile-" });
    const run = await getInto(cwd, flags, [
      "-q",
      "-m",
      "1",
      "--retries",
      "0",
      `${server.url}/a`,
      `${server.url}/b`,
    ]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(listDir(`${cwd}/out`), ["b"]);
    assert.equal(Deno.readTextFileSync(`${cwd}/out/b`), "the real b");
  });
}

Deno.test("download(): every failure carries a stable code beside its reason", async () => {
  const { download } = await import("../lib/engine/download.ts");
  const answers: Record<string, string | { send: string; stall: true }> = {
    "/status": "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n",
    "/gone": "HTTP/1.1 410 Gone\r\ncontent-length: 0\r\n\r\n",
    "/framing":
      "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
    "/grammar": "HTTP/1.1 000 X\r\n\r\n",
    "/loop":
      "HTTP/1.1 302 Found\r\nlocation: /loop\r\ncontent-length: 0\r\n\r\n",
    "/stall": {
      send: "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nab",
      stall: true,
    },
    "/big": "HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n",
  };
  await using server = scriptedServer((n) => {
    const path = server.requests[n].split(" ")[1];
    const answer = answers[path];
    return typeof answer === "string" ? { send: answer, close: true } : answer;
  });
  const outDir = await Deno.makeTempDir({ prefix: "bulkget-codes-" });
  const jobs = Object.keys(answers).map((path) => ({
    url: `${server.url}${path}`,
    dest: path.slice(1),
  }));
  const codes: Record<string, string | undefined> = {};
  for await (
    const outcome of download(jobs, {
      outDir,
      retries: 0,
      maxSize: 1000,
      deadlines: { idleMs: 300 },
    })
  ) codes[outcome.job.dest] = outcome.code;
  assert.deepEqual(codes, {
    status: "HTTP_STATUS",
    gone: "NOT_FOUND",
    framing: "FRAMING_REFUSED",
    grammar: "PROTOCOL",
    loop: "REDIRECT",
    stall: "TIMEOUT",
    big: "TOO_BIG",
  });
});

/** A 206 with `body` from byte `from` to its end. */
function response206(body: Uint8Array, from: number): Uint8Array {
  return concat(
    `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${
      body.length - 1
    }/${body.length}\r\ncontent-length: ${
      body.length - from
    }\r\netag: "v1"\r\n\r\n`,
    body.subarray(from),
  );
}

/** `get -m 1 --retries R --report r.json -o out URLs…`: the run, its report, and the files under their final names. */
async function runMatrix(
  flags: string[],
  urls: string[],
  retries = 1,
) {
  const cwd = await Deno.makeTempDir({ prefix: "bulkget-matrix-" });
  const run = await getInto(cwd, [
    ...flags,
    "-m",
    "1",
    "--retries",
    String(retries),
    "--report",
    "r.json",
  ], urls);
  return { run, report: await report(cwd), out: `${cwd}/out` };
}

/** The summary line says what the report says: the counts, the bytes received, the retries. */
function assertSummaryAgrees(stdout: string, { totals }: Report): void {
  const line = stdout.split("\n").find((l) => l.startsWith("bulkget: "));
  assert.ok(line, `no summary in ${stdout}`);
  const counts = [`${totals.ok} downloaded`];
  if (totals.error) counts.push(`${totals.error} failed`);
  assert.ok(
    line.startsWith(`bulkget: ${counts.join(", ")}; `),
    `${line} vs ${JSON.stringify(totals)}`,
  );
  assert.ok(
    line.includes(`; ${formatBytes(totals.transferred)} received in `),
    `${line} vs ${totals.transferred} B`,
  );
  const retries = /; (\d+) retr(y|ies)$/.exec(line);
  assert.equal(Number(retries?.[1] ?? 0), totals.retries, line);
}

const ok200 = (body: string) =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;

/** Run 1 keeps the first MiB of V1 as a .part; the resume (run 2) gets `answer(n)` from request 1 on. */
async function resumed(
  flags: string[],
  answer: (n: number, requests: string[]) => Answer,
  retries = 1,
) {
  await using server = scriptedServer((n) =>
    n === 0
      ? { send: response200(V1).subarray(0, 120 + CUT), close: true }
      : answer(n, server.requests)
  );
  const cwd = await Deno.makeTempDir({ prefix: "bulkget-matrix-" });
  const url = `${server.url}/big.bin`;
  await getInto(cwd, [...flags, "-q", "--retries", "0"], [url]);
  const run = await getInto(cwd, [
    ...flags,
    "--retries",
    String(retries),
    "--idle-timeout",
    "1",
    "--report",
    "r.json",
  ], [url]);
  return {
    run,
    report: await report(cwd),
    out: `${cwd}/out`,
    requests: server.requests,
    partSize: () => Deno.statSync(`${cwd}/out/big.bin.part`).size,
  };
}

for (const [client, flags] of CLIENTS) {
  Deno.test(`hostile matrix (${client}): bytes right after a body, and a second response never asked for, never become the next file`, async () => {
    await using server = scriptedServer((n) =>
      n === 0 ? ok200("hello") + ok200("EVIL") + "garbage" : ok200("b-body")
    );
    const { run, report, out } = await runMatrix(flags, [
      `${server.url}/a`,
      `${server.url}/b`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(Deno.readTextFileSync(`${out}/a`), "hello");
    assert.equal(Deno.readTextFileSync(`${out}/b`), "b-body");
    assert.equal(server.connections, 2, "the dirty connection was not reused");
    assert.equal(report.totals.transferred, 11);
    assertSummaryAgrees(run.stdout, report);
  });

  Deno.test(`hostile matrix (${client}): a keep-alive connection the server closed between requests costs no retry`, async () => {
    await using server = scriptedServer((n) => ({
      send: ok200(`body-${n}`),
      close: true,
    }));
    const { run, report, out } = await runMatrix(flags, [
      `${server.url}/a`,
      `${server.url}/b`,
      `${server.url}/c`,
    ], 0);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      ["a", "b", "c"].map((f) => Deno.readTextFileSync(`${out}/${f}`)).sort(),
      ["body-0", "body-1", "body-2"],
    );
    assert.equal(report.totals.retries, 0);
    assertSummaryAgrees(run.stdout, report);
  });

  Deno.test(`hostile matrix (${client}): a kept-alive connection the server closes while it idles is not reused; the next file costs no retry`, async () => {
    // a's connection is closed 100 ms after its answer; b (another origin)
    // takes 400 ms, so c finds a's connection closed while idle.
    await using server = scriptedServer((n) =>
      n === 0
        ? { send: ok200("a-body"), later: { ms: 100, send: "" }, close: true }
        : n === 1
        ? { send: ok200("b-body"), delayMs: 400 }
        : ok200("c-body")
    );
    const other = server.url.replace("127.0.0.1", "localhost");
    const { run, report, out } = await runMatrix(flags, [
      `${server.url}/a`,
      `${other}/b`,
      `${server.url}/c`,
    ], 0);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(Deno.readTextFileSync(`${out}/c`), "c-body");
    assert.equal(report.totals.retries, 0);
    assert.equal(server.requests.length, 3, "one request a file");
    assertSummaryAgrees(run.stdout, report);
  });

  Deno.test(`hostile matrix (${client}): a Content-Length longer than the body, then a close, is a NETWORK failure and no file`, async () => {
    for (const size of [5, 3 << 20]) { // read whole, and streamed
      const body = pattern(size, 4);
      await using server = scriptedServer(() => ({
        send: concat(
          `HTTP/1.1 200 OK\r\ncontent-length: ${size + 10}\r\n\r\n`,
          body,
        ),
        close: true,
      }));
      const { run, report, out } = await runMatrix(
        flags,
        [`${server.url}/short`],
        0,
      );
      assert.equal(run.code, 1, run.stderr);
      assert.ok(!listDir(out).includes("short"), "no final name");
      const [item] = report.items;
      assert.equal(item.status, "error");
      assert.equal(item.code, "NETWORK", item.reason ?? "");
      assert.match(item.reason ?? "", /body|closed/);
      // What came counts, except of a body read whole (up to 1 MiB).
      assert.equal(item.transferred, size > CUT ? size : 0);
      assertSummaryAgrees(run.stdout, report);
      assert.match(run.stdout, /^ {2}short <- .*: /m);
    }
  });

  Deno.test(`hostile matrix (${client}): two Content-Length headers that differ are refused; two equal ones are one`, async () => {
    await using server = scriptedServer((n) => ({
      send: n === 0
        ? "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!"
        : "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5\r\n\r\nhello",
      close: true,
    }));
    const { run, report, out } = await runMatrix(flags, [
      `${server.url}/two`,
      `${server.url}/same`,
    ], 0);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(listDir(out), ["same"]);
    assert.equal(Deno.readTextFileSync(`${out}/same`), "hello");
    const two = report.items.find((i) => i.dest === "two")!;
    assert.equal(two.code, "PROTOCOL");
    assert.match(two.reason ?? "", /content-length/i);
    assertSummaryAgrees(run.stdout, report);
  });

  const badChunks: [string, string][] = [
    ["a chunk size that is not hex", "zz\r\nhello\r\n0\r\n\r\n"],
    ["a negative chunk size", "-5\r\nhello\r\n0\r\n\r\n"],
    ["a chunk size over 2^53", "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n"],
    ["chunk data longer than its size", "5\r\nhelloXX0\r\n\r\n"],
    ["a body that ends inside a chunk", "a\r\nhello"],
  ];
  for (const [name, chunks] of badChunks) {
    Deno.test(`hostile matrix (${client}): ${name} is a failure and no file`, async () => {
      await using server = scriptedServer(() => ({
        send: `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunks}`,
        close: true,
      }));
      const { run, report, out } = await runMatrix(flags, [
        `${server.url}/c`,
      ], 0);
      assert.equal(run.code, 1, run.stderr);
      assert.deepEqual(listDir(out), []);
      const [item] = report.items;
      assert.equal(item.status, "error");
      // fetch says only "error reading a body from connection" whatever broke.
      // A cut body is the connection's failure; a malformed one the
      // grammar's, but fetch says only "error reading a body from
      // connection" whatever broke.
      const cut = name.includes("ends inside");
      assert.equal(item.code, cut || flags.length ? "NETWORK" : "PROTOCOL");
      assertSummaryAgrees(run.stdout, report);
    });
  }

  Deno.test(`hostile matrix (${client}): chunk extensions, trailers, and 100 / 103 heads before the answer`, async () => {
    await using server = scriptedServer((n) =>
      n === 0
        ? 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;name="v;x"\r\nhello\r\n1 ; e=1\r\n!\r\n0\r\nx-sum: 1\r\nx-more: 2\r\n\r\n'
        : "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>; rel=preload\r\n\r\n" +
          ok200("early")
    );
    const { run, report, out } = await runMatrix(flags, [
      `${server.url}/chunked`,
      `${server.url}/early`,
    ], 0);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(Deno.readTextFileSync(`${out}/chunked`), "hello!");
    assert.equal(Deno.readTextFileSync(`${out}/early`), "early");
    if (!flags.length) {
      assert.equal(server.connections, 1, "both ended cleanly: one connection");
    }
    assert.equal(report.totals.transferred, 11);
    assertSummaryAgrees(run.stdout, report);
  });

  for (const status of ["204 No Content", "304 Not Modified"]) {
    Deno.test(`hostile matrix (${client}): a ${status} with a body: that body is none, and never answers the next request`, async () => {
      // A 204 is a success with no content (an empty file); a 304 not asked
      // for (no validator was sent) is a failure.
      await using server = scriptedServer((n) =>
        n === 0
          ? `HTTP/1.1 ${status}\r\ncontent-length: 18\r\n\r\n` + ok200("EVIL")
          : ok200("b-body")
      );
      const { run, report, out } = await runMatrix(flags, [
        `${server.url}/a`,
        `${server.url}/b`,
      ], 0);
      const a = report.items.find((i) => i.dest === "a")!;
      if (status.startsWith("204")) {
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual([a.status, a.bytes, a.transferred], ["ok", 0, 0]);
        assert.equal(Deno.readTextFileSync(`${out}/a`), "");
      } else {
        assert.equal(run.code, 1, run.stderr);
        assert.deepEqual([a.status, a.code], ["error", "HTTP_STATUS"]);
        assert.match(a.reason ?? "", /304/);
        assert.ok(!listDir(out).includes("a"));
      }
      assert.equal(Deno.readTextFileSync(`${out}/b`), "b-body");
      assert.equal(report.totals.retries, 0);
      assertSummaryAgrees(run.stdout, report);
    });
  }

  Deno.test(`hostile matrix (${client}): Content-Encoding: gzip over bytes that are not gzip: saved as sent`, async () => {
    await using server = scriptedServer(() =>
      "HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 9\r\n\r\nnot gzip!"
    );
    const { run, report, out } = await runMatrix(flags, [`${server.url}/z`]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(Deno.readTextFileSync(`${out}/z`), "not gzip!");
    assert.equal(report.items[0].bytes, 9);
    assertSummaryAgrees(run.stdout, report);
  });

  Deno.test(`hostile matrix (${client}): a resume answered 200 (the whole file) is written from byte 0, counted once`, async () => {
    const { run, report, out, requests } = await resumed(
      flags,
      () => response200(V1),
    );
    assert.match(requests[1], /range: bytes=\d+-/i);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(sameAs(`${out}/big.bin`, V1));
    assert.deepEqual(listDir(out), ["big.bin"]);
    assert.equal(report.totals.transferred, T);
    assert.equal(report.items[0].sha256?.length, 64);
    assertSummaryAgrees(run.stdout, report);
  });

  Deno.test(`hostile matrix (${client}): a resume answered 416 without Content-Range starts the file over`, async () => {
    const { run, report, out, requests } = await resumed(
      flags,
      (n) =>
        n === 1
          ? {
            send:
              "HTTP/1.1 416 Range Not Satisfiable\r\ncontent-length: 0\r\n\r\n",
            close: true,
          }
          : response200(V1),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(requests[2], /range:/i);
    assert.ok(sameAs(`${out}/big.bin`, V1));
    assert.equal(report.totals.transferred, T);
    assertSummaryAgrees(run.stdout, report);
  });

  Deno.test(`hostile matrix (${client}): a body that stalls mid-way is continued from what came, and every byte is counted`, async () => {
    const stallAt = 2 * CUT;
    const { run, report, out, requests } = await resumed(flags, (n, asked) => {
      const rest = response206(V1, rangeStart(asked[n]));
      // The first resume stalls at byte stallAt of the file.
      return n === 1
        ? { send: rest.subarray(0, rest.length - (T - stallAt)), stall: true }
        : rest;
    });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(sameAs(`${out}/big.bin`, V1));
    assert.equal(
      rangeStart(requests[2]),
      stallAt,
      "continued where it stalled",
    );
    assert.equal(report.totals.transferred, T - rangeStart(requests[1]));
    assert.equal(report.totals.retries, 1);
    assertSummaryAgrees(run.stdout, report);
  });

  Deno.test(`hostile matrix (${client}): a connection reset (TCP RST) mid-body is retried from what came; the file is exact, every byte counted`, async () => {
    for (const size of [5000, T]) {
      const body = pattern(size, 6);
      const whole = response200(body);
      await using server = await resettingServer((n) =>
        n === 0
          ? { send: whole.subarray(0, whole.length - (size >> 1)), reset: true }
          : /range: bytes=(\d+)-/i.test(server.requests[n])
          ? response206(body, rangeStart(server.requests[n]))
          : whole
      );
      const { run, report, out } = await runMatrix(flags, [
        `${server.url}/r.bin`,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(sameAs(`${out}/r.bin`, body), `size ${size}`);
      assert.deepEqual(listDir(out), ["r.bin"]);
      const resumedAt = /range: bytes=(\d+)-/i.exec(server.requests[1]);
      if (size === T) {
        // What reached the .part before the reset counts, and is not asked again.
        assert.ok(resumedAt, "a streamed body is resumed");
        assert.equal(report.totals.transferred, size, `size ${size}`);
      }
      assert.equal(report.totals.retries, 1);
      assertSummaryAgrees(run.stdout, report);
    }
  });
}

for (const [client, flags] of CLIENTS) {
  Deno.test(`hostile matrix (${client}): a body cut by its connection is NETWORK and its .part kept; one its framing ends short is LENGTH_MISMATCH and its .part dropped`, async () => {
    // Both answer the resume with a 206 for the rest of the file, and send
    // half of it: one then closes, the other ends its chunked body.
    for (const framing of ["close", "chunked"]) {
      const { run, report, out, partSize, requests } = await resumed(
        flags,
        (n, asked) => {
          const from = rangeStart(asked[n]);
          const half = V1.subarray(from, from + ((T - from) >> 1));
          const head =
            `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${
              T - 1
            }/${T}\r\netag: "v1"\r\n`;
          return {
            send: framing === "close"
              ? concat(head, `content-length: ${T - from}\r\n\r\n`, half)
              : concat(
                head,
                `transfer-encoding: chunked\r\n\r\n${
                  half.length.toString(16)
                }\r\n`,
                half,
                "\r\n0\r\n\r\n",
              ),
            close: true,
          };
        },
        0,
      );
      assert.equal(run.code, 1, run.stderr);
      const [item] = report.items;
      assert.ok(!listDir(out).includes("big.bin"), "no final name");
      const from = rangeStart(requests[1]);
      if (framing === "close") {
        assert.equal(item.code, "NETWORK", item.reason ?? "");
        assert.equal(partSize(), from + ((T - from) >> 1), "kept, grown");
      } else {
        assert.equal(item.code, "LENGTH_MISMATCH", item.reason ?? "");
        assert.match(item.reason ?? "", /truncated body/);
        assert.deepEqual(listDir(out), [], "the .part is dropped");
      }
      assertSummaryAgrees(run.stdout, report);
    }
  });
}

/** `body` as a chunked body, in chunks of uneven sizes (1 byte to ~300 KB). */
function chunkedBody(body: Uint8Array): Uint8Array {
  const parts: (string | Uint8Array)[] = [];
  for (let at = 0, k = 1; at < body.length; k++) {
    const n = Math.min(body.length - at, (k * 7919) % 300_000 + 1);
    parts.push(n.toString(16) + "\r\n", body.subarray(at, at + n), "\r\n");
    at += n;
  }
  return concat(...parts, "0\r\n\r\n");
}

for (const [client, flags] of CLIENTS) {
  const big = pattern(9 * (1 << 20) + 12_345, 5);
  const framings: [string, Answer][] = [
    ["Content-Length, trickled in uneven pieces", {
      send: concat(
        `HTTP/1.1 200 OK\r\ncontent-length: ${big.length}\r\n\r\n`,
        big,
      ),
      close: true,
      trickle: { bytes: 150_001, everyMs: 15, after: 777 },
    }],
    ["chunked in uneven chunks, trickled", {
      send: concat(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        chunkedBody(big),
      ),
      close: true,
      trickle: { bytes: 200_003, everyMs: 15 },
    }],
  ];
  for (const [name, answer] of framings) {
    Deno.test(`hostile matrix (${client}): a large body (${name}) is recorded with the CRC-32 of its bytes, so a touched file is kept on a rerun`, async () => {
      await using server = scriptedServer(() => answer);
      const cwd = await Deno.makeTempDir({ prefix: "bulkget-matrix-" });
      const url = `${server.url}/big.bin`;
      const first = await getInto(cwd, [...flags, "--retries", "0"], [url]);
      assert.equal(first.code, 0, first.stderr);
      assert.ok(sameAs(`${cwd}/out/big.bin`, big));
      const [record] = Deno.readTextFileSync(`${cwd}/out/.bulkget-state.jsonl`)
        .trim().split("\n").map((line) => JSON.parse(line));
      assert.equal(
        record.crc32,
        (crc32(big) >>> 0).toString(16).padStart(8, "0"),
      );
      // A new mtime makes the rerun read the file back and compare it with
      // the record: a wrong CRC-32 would fetch it again.
      const later = new Date(Date.now() + 5000);
      Deno.utimeSync(`${cwd}/out/big.bin`, later, later);
      const rerun = await getInto(cwd, flags, [url]);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.match(
        rerun.stdout,
        /^bulkget: 0 downloaded, 1 already complete;/m,
      );
      assert.equal(server.requests.length, 1);
    });
  }
}

for (const [client, flags] of CLIENTS) {
  Deno.test(`hostile matrix (${client}): a chunk longer than its size, after bytes were written, drops the .part: the file is fetched again whole, never stitched`, async () => {
    // 1.5 MB in a good chunk, then a chunk said to be 1 MiB that holds 10
    // bytes more (here, at its start): where its bytes belong is unknown.
    const good = 1_500_000;
    const said = 1 << 20;
    const broken = concat(
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\netag: "v1"\r\naccept-ranges: bytes\r\n\r\n',
      `${good.toString(16)}\r\n`,
      V1.subarray(0, good),
      `\r\n${said.toString(16)}\r\n`,
      "0123456789",
      V1.subarray(good, good + said),
      "\r\n0\r\n\r\n",
    );
    await using server = scriptedServer((n) => {
      if (n === 0) return { send: broken, close: true };
      const range = /range: bytes=(\d+)-/i.exec(server.requests[n]);
      return {
        send: range ? response206(V1, Number(range[1])) : response200(V1),
        close: true,
      };
    });
    const { run, report, out } = await runMatrix(flags, [
      `${server.url}/big.bin`,
    ], 2);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(sameAs(`${out}/big.bin`, V1), "the exact bytes, not stitched");
    assert.equal(server.requests.length, 2);
    assert.doesNotMatch(server.requests[1], /range:/i);
    assertSummaryAgrees(run.stdout, report);
  });
}

for (const [client, flags] of CLIENTS) {
  Deno.test(`hostile matrix (${client}): --split: a range answered in chunks, one longer than its size, is not continued: the file is fetched again over one connection, never stitched`, async () => {
    let broken = false;
    await using server = scriptedServer((n) => {
      const asked = /range: bytes=(\d+)-(\d+)?/i.exec(server.requests[n]);
      if (n === 0 || !asked) return { send: response200(V1), close: true };
      const from = Number(asked[1]);
      const end = asked[2] === undefined ? T : Number(asked[2]) + 1;
      if (!broken) {
        broken = true;
        // 200,000 bytes in a good chunk, then one said to be 600,000 that
        // holds 10 bytes more (at its start).
        const said = 600_000;
        return {
          send: concat(
            `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${
              end - 1
            }/${T}\r\ntransfer-encoding: chunked\r\netag: "v1"\r\n\r\n`,
            `${(200_000).toString(16)}\r\n`,
            V1.subarray(from, from + 200_000),
            `\r\n${said.toString(16)}\r\n`,
            "0123456789",
            V1.subarray(from + 200_000, from + 200_000 + said),
            "\r\n0\r\n\r\n",
          ),
          close: true,
        };
      }
      return {
        send: concat(
          `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${
            end - 1
          }/${T}\r\ncontent-length: ${end - from}\r\netag: "v1"\r\n\r\n`,
          V1.subarray(from, end),
        ),
        close: true,
      };
    });
    const { run, out } = await runMatrix(
      [...flags, "--split", "2", "--min-split-size", "1M"],
      [`${server.url}/big.bin`],
      3,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.ok(broken, "a range was asked for");
    assert.ok(sameAs(`${out}/big.bin`, V1), "the exact bytes, not stitched");
  });
}

for (const [client, flags] of CLIENTS) {
  // The first answer to a range is a 206 with the right Content-Range whose
  // own framing (chunked, or the connection's end) ends at another length
  // than that range, with other bytes than the file's: nothing says where
  // they belong, so none of them may stay in the file.
  const framings: [string, (bytes: Uint8Array) => Uint8Array][] = [
    ["chunked", (bytes) =>
      concat(
        "transfer-encoding: chunked\r\n\r\n",
        `${bytes.length.toString(16)}\r\n`,
        bytes,
        "\r\n0\r\n\r\n",
      )],
    ["ended by its connection", (bytes) => concat("\r\n", bytes)],
  ];
  for (const [framing, body] of framings) {
    for (
      const [how, extra] of [["shorter", -1000], ["longer", 1000]] as const
    ) {
      Deno.test(`hostile matrix (${client}): --split: a range whose ${framing} body is ${how} than its range (LENGTH_MISMATCH) is not continued from where it stopped: the file is exact`, async () => {
        let hostile = 0;
        await using server = scriptedServer((n) => {
          const asked = /range: bytes=(\d+)-(\d+)?/i.exec(server.requests[n]);
          if (n === 0 || !asked) return { send: response200(V1), close: true };
          const from = Number(asked[1]);
          const end = asked[2] === undefined ? T : Number(asked[2]) + 1;
          const head =
            `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${
              end - 1
            }/${T}\r\netag: "v1"\r\n`;
          if (hostile++ === 0) {
            return {
              send: concat(head, body(pattern(end - from + extra, 7))),
              close: true,
            };
          }
          return {
            send: concat(
              head,
              `content-length: ${end - from}\r\n\r\n`,
              V1.subarray(from, end),
            ),
            close: true,
          };
        });
        const { run, out } = await runMatrix(
          [...flags, "-v", "--split", "2", "--min-split-size", "1M"],
          [`${server.url}/big.bin`],
          3,
        );
        assert.ok(hostile > 0, "a range was asked for");
        assert.equal(run.code, 0, run.stderr);
        assert.ok(
          sameAs(`${out}/big.bin`, V1),
          "the exact bytes, not stitched",
        );
        assert.match(
          run.stderr,
          /range 2: (truncated range|body longer than its range).*; its bytes cannot be placed; restarting with one connection/,
        );
      });
    }
  }
}

for (const [client, flags] of CLIENTS) {
  Deno.test(`hostile matrix (${client}): a chunk one byte longer than its data, its CR taken for data and a bare LF for the CRLF, is refused: never saved as the body`, async () => {
    // "5" then "abcd\r\n": read as 5 bytes "abcd\r" and a bare LF, the body
    // would be "abcd\r"; RFC 9112 allows no bare LF in a chunked body.
    await using server = scriptedServer(() => ({
      send:
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nabcd\r\n0\r\n\r\n",
      close: true,
    }));
    const { run, report, out } = await runMatrix(flags, [
      `${server.url}/lf.txt`,
    ], 0);
    assert.equal(run.code, 1, run.stdout);
    assert.deepEqual(listDir(out), [], "no file, no .part");
    // fetch's one error for a broken body cannot say more than NETWORK.
    assert.equal(
      report.items[0].code,
      flags.length ? "NETWORK" : "PROTOCOL",
      report.items[0].reason ?? "",
    );
  });
}

for (const [client, flags] of CLIENTS) {
  Deno.test(`hostile matrix (${client}): a resumed chunked body that runs past its range and is then cut keeps no .part (LENGTH_MISMATCH): its bytes past the file are no place to resume from`, async () => {
    const { run, report, out } = await resumed(flags, (n, asked) => {
      const from = rangeStart(asked[n]);
      const rest = concat(V1.subarray(from), "12345");
      return {
        send: concat(
          `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${from}-${
            T - 1
          }/${T}\r\ntransfer-encoding: chunked\r\netag: "v1"\r\n\r\n${
            rest.length.toString(16)
          }\r\n`,
          rest,
          "\r\n",
        ),
        close: true,
      };
    }, 0);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(listDir(out), [], "no file, no .part");
    assert.equal(report.items[0].code, "LENGTH_MISMATCH");
  });
}

Deno.test("download(): over TLS, a body that runs to the connection's end is complete only after close_notify: a bare TCP close may be a cut (RFC 9112 §9.8), never an OK, with either client", async () => {
  const { download } = await import("../lib/engine/download.ts");
  const tls = await import("node:tls");
  const body = "hello, this may be only the start";
  for (
    const [close, complete] of [["destroy", false], ["end", true]] as const
  ) {
    // end() sends close_notify; destroy() closes the TCP connection without it.
    const server = tls.createServer({
      cert: Deno.readTextFileSync(new URL("cert.pem", TLS_DIR)),
      key: Deno.readTextFileSync(new URL("key.pem", TLS_DIR)),
    }, (socket) => {
      socket.once("data", () => {
        socket.write(`HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n${body}`);
        setTimeout(() => socket[close](), 50);
      });
    });
    await new Promise<void>((up) => server.listen(0, "127.0.0.1", up));
    const { port } = server.address() as { port: number };
    try {
      for (const ownHttp of [true, false]) {
        const outDir = await Deno.makeTempDir({ prefix: "bulkget-tls-" });
        const [outcome] = await Array.fromAsync(download([{
          url: `https://localhost:${port}/x.txt`,
          dest: "x.txt",
        }], {
          outDir,
          ownHttp,
          retries: 0,
          caCerts: [Deno.readTextFileSync(new URL("ca.pem", TLS_DIR))],
        }));
        const what = `${close}, ${ownHttp ? "own client" : "fetch"}`;
        if (complete) {
          assert.equal(outcome.status, "ok", what);
          assert.equal(Deno.readTextFileSync(`${outDir}/x.txt`), body, what);
        } else {
          assert.equal(outcome.code, "NETWORK", `${what}: ${outcome.reason}`);
          assert.deepEqual(listDir(outDir), [], what);
        }
      }
    } finally {
      await new Promise((down) => server.close(down));
    }
  }
});
