// The own client's parser over byte fixtures: one line per case, the bytes a
// server sends and what the parser must make of them. Each case runs with
// the bytes arriving whole and one byte at a time (every split point).
import assert from "node:assert/strict";
import { escapeControls } from "../core/printable.ts";
import { MAX_INTERIM_RESPONSES } from "./http1_parser.ts";
import { parseResponse } from "./http1_reader.ts";
import { HttpProtocolError } from "../core/errors.ts";

/** What a fixture must parse to. */
type Expected =
  | {
    status: number;
    body: string;
    rest?: number;
    keepAlive?: boolean;
    framing?: string;
  }
  | { error: RegExp };

const CL = (n: number | string) => `content-length: ${n}\r\n`;
const TE = (v: string) => `transfer-encoding: ${v}\r\n`;
const OK = "HTTP/1.1 200 OK\r\n";
const CLOSED = /connection closed before message completed/;

const FIXTURES: [string, string, Expected][] = [
  // Content-Length
  ["length", `${OK}${CL(5)}\r\nhello`, { status: 200, body: "hello" }],
  ["length 0", `${OK}${CL(0)}\r\n`, { status: 200, body: "" }],
  ["list of equal lengths", `${OK}${CL("5, 5")}\r\nhello`, {
    status: 200,
    body: "hello",
  }],
  ["repeated equal fields", `${OK}${CL(5)}${CL(5)}\r\nhello`, {
    status: 200,
    body: "hello",
  }],
  ["list of different lengths", `${OK}${CL("5, 6")}\r\nhello`, {
    error: /invalid Content-Length/,
  }],
  ["repeated different fields", `${OK}${CL(5)}${CL(6)}\r\nhello`, {
    error: /invalid Content-Length/,
  }],
  ["negative length", `${OK}${CL(-1)}\r\n`, {
    error: /invalid Content-Length/,
  }],
  ["signed length", `${OK}${CL("+5")}\r\nhello`, {
    error: /invalid Content-Length/,
  }],
  ["non-numeric length", `${OK}${CL("5a")}\r\nhello`, {
    error: /invalid Content-Length/,
  }],
  ["hex length", `${OK}${CL("0x5")}\r\nhello`, {
    error: /invalid Content-Length/,
  }],
  ["empty length", `${OK}content-length:\r\n\r\n`, {
    error: /invalid Content-Length/,
  }],
  ["huge length", `${OK}${CL("99999999999999999")}\r\n`, {
    error: /invalid Content-Length|too large/,
  }],
  ["length over 2^53", `${OK}${CL("9007199254740993")}\r\n`, {
    error: /too large/,
  }],
  ["body shorter than length", `${OK}${CL(10)}\r\nhello`, { error: CLOSED }],
  ["bytes after the body", `${OK}${CL(5)}\r\nhelloHTTP/1.1 200 OK\r\n\r\n`, {
    status: 200,
    body: "hello",
    rest: 19,
  }],
  // chunked
  ["chunked", `${OK}${TE("chunked")}\r\n5\r\nhello\r\n0\r\n\r\n`, {
    status: 200,
    body: "hello",
    framing: "chunked",
  }],
  [
    "chunked, coding in capitals",
    `${OK}${TE("Chunked")}\r\n2\r\nhi\r\n0\r\n\r\n`,
    {
      status: 200,
      body: "hi",
    },
  ],
  [
    "chunk extensions and trailers",
    `${OK}${
      TE("chunked")
    }\r\n5;name=value;x\r\nhello\r\n3 ; q="a"\r\nabc\r\n0;end\r\nx-trailer: 1\r\n\r\n`,
    { status: 200, body: "helloabc" },
  ],
  [
    "upper-case hex and leading zeros",
    `${OK}${TE("chunked")}\r\n00000000000000A\r\n0123456789\r\n0\r\n\r\n`,
    {
      status: 200,
      body: "0123456789",
    },
  ],
  ["bad hex", `${OK}${TE("chunked")}\r\nzz\r\nhello\r\n0\r\n\r\n`, {
    error: /malformed chunk size/,
  }],
  ["negative chunk size", `${OK}${TE("chunked")}\r\n-5\r\nhello\r\n0\r\n\r\n`, {
    error: /malformed chunk size/,
  }],
  ["empty chunk size", `${OK}${TE("chunked")}\r\n\r\nhello\r\n0\r\n\r\n`, {
    error: /malformed chunk size/,
  }],
  [
    "overflowing chunk size",
    `${OK}${TE("chunked")}\r\n10000000000000\r\nx\r\n`,
    {
      error: /malformed chunk size/,
    },
  ],
  [
    "chunk size with a NUL",
    `${OK}${TE("chunked")}\r\n5;\0\r\nhello\r\n0\r\n\r\n`,
    {
      error: /malformed chunk size/,
    },
  ],
  [
    "chunk longer than its size",
    `${OK}${TE("chunked")}\r\n3\r\nhello\r\n0\r\n\r\n`,
    {
      error: /chunk data longer than its size/,
    },
  ],
  ["chunked cut mid-chunk", `${OK}${TE("chunked")}\r\n10\r\nhello`, {
    error: CLOSED,
  }],
  [
    "chunked without its last chunk",
    `${OK}${TE("chunked")}\r\n5\r\nhello\r\n`,
    {
      error: CLOSED,
    },
  ],
  ["chunked without the end of trailers", `${OK}${TE("chunked")}\r\n0\r\n`, {
    error: CLOSED,
  }],
  // A chunked body's lines end in CRLF only (RFC 9112 §7.1): with a bare LF
  // allowed, a chunk one byte longer than its data passes, its CR as data.
  ["chunked with LF-only lines", `${OK}${TE("chunked")}\r\n5\nhello\n0\n\n`, {
    error: /bare LF in a chunked body/,
  }],
  [
    "chunk one byte longer than its data (its CR taken as data)",
    `${OK}${TE("chunked")}\r\n5\r\nabcd\r\n0\r\n\r\n`,
    { error: /bare LF in a chunked body/ },
  ],
  [
    "bare LF after a chunk size",
    `${OK}${TE("chunked")}\r\n4\nabcd\r\n0\r\n\r\n`,
    {
      error: /bare LF in a chunked body/,
    },
  ],
  ["bare LF in the trailers", `${OK}${TE("chunked")}\r\n0\r\nx-t: 1\n\r\n`, {
    error: /bare LF in a chunked body/,
  }],
  ["bare LF ending the trailers", `${OK}${TE("chunked")}\r\n0\r\n\n`, {
    error: /bare LF in a chunked body/,
  }],
  // Transfer-Encoding beside Content-Length, and codings not decoded
  [
    "chunked beside a length",
    `${OK}${CL(3)}${TE("chunked")}\r\n5\r\nhello\r\n0\r\n\r\n`,
    {
      error: /Content-Length beside Transfer-Encoding/,
    },
  ],
  [
    "identity beside a length",
    `${OK}${CL(10)}${TE("identity")}\r\n${"x".repeat(40)}`,
    {
      error: /Content-Length beside Transfer-Encoding/,
    },
  ],
  ["gzip, chunked", `${OK}${TE("gzip, chunked")}\r\n5\r\nhello\r\n0\r\n\r\n`, {
    error: /unsupported Transfer-Encoding "gzip, chunked"/,
  }],
  ["identity", `${OK}${TE("identity")}\r\nhello`, {
    error: /unsupported Transfer-Encoding/,
  }],
  ["chunked twice", `${OK}${TE("chunked, chunked")}\r\n0\r\n\r\n`, {
    error: /unsupported Transfer-Encoding/,
  }],
  [
    "chunked in two fields",
    `${OK}${TE("chunked")}${TE("chunked")}\r\n0\r\n\r\n`,
    {
      error: /unsupported Transfer-Encoding/,
    },
  ],
  // status lines
  ["no length: to the end", `${OK}\r\nall of it`, {
    status: 200,
    body: "all of it",
    framing: "close",
  }],
  ["status 000 then 200", `HTTP/1.1 000 Zero\r\n\r\n${OK}${CL(2)}\r\nhi`, {
    error: /malformed status line/,
  }],
  ["status 099 then 200", `HTTP/1.1 099 Early\r\n\r\n${OK}${CL(2)}\r\nhi`, {
    error: /malformed status line/,
  }],
  ["status 600", `HTTP/1.1 600 Beyond\r\n${CL(0)}\r\n`, {
    error: /malformed status line/,
  }],
  ["two-digit status", `HTTP/1.1 20 OK\r\n${CL(0)}\r\n`, {
    error: /malformed status line/,
  }],
  ["status without reason or space", `HTTP/1.1 200\r\n${CL(2)}\r\nhi`, {
    status: 200,
    body: "hi",
  }],
  ["ESC in the reason", `HTTP/1.1 503 \x1b[31mred\r\n${CL(0)}\r\n`, {
    error: /malformed status line "HTTP\/1.1 503 \\x1b\[31mred"/,
  }],
  ["HTTP/2 status line", `HTTP/2 200 OK\r\n\r\n`, {
    error: /malformed status line/,
  }],
  ["HTTP/0.9 answer (a bare body)", "GIF89a just bytes", {
    error: /closed the connection in the middle of the response head/,
  }],
  [
    "HTTP/0.9 answer with blank lines",
    "<html>\r\n\r\n</html>",
    { error: /malformed status line/ },
  ],
  ["HTTP/1.0 with a length", `HTTP/1.0 200 OK\r\n${CL(2)}\r\nhi`, {
    status: 200,
    body: "hi",
    keepAlive: false,
  }],
  ["HTTP/1.0 to the end", `HTTP/1.0 200 OK\r\n\r\nhi there`, {
    status: 200,
    body: "hi there",
    keepAlive: false,
  }],
  ["Connection: close", `${OK}connection: close\r\n${CL(2)}\r\nhi`, {
    status: 200,
    body: "hi",
    keepAlive: false,
  }],
  // interim responses
  ["100 then 200", `HTTP/1.1 100 Continue\r\n\r\n${OK}${CL(2)}\r\nhi`, {
    status: 200,
    body: "hi",
  }],
  [
    "103 with headers then 200",
    `HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n${OK}${CL(2)}\r\nhi`,
    { status: 200, body: "hi" },
  ],
  [
    "1xx flood",
    `${"HTTP/1.1 100 Continue\r\n\r\n".repeat(MAX_INTERIM_RESPONSES + 1)}${OK}${
      CL(2)
    }\r\nhi`,
    { error: /interim/ },
  ],
  [
    "101 Switching Protocols",
    `HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n`,
    {
      error: /101/,
    },
  ],
  // no-body statuses
  ["204 with a body", `HTTP/1.1 204 No Content\r\n\r\nsmuggled`, {
    status: 204,
    body: "",
    rest: 8,
  }],
  [
    "304 with a length and a body",
    `HTTP/1.1 304 Not Modified\r\n${CL(5)}\r\nhello`,
    {
      status: 304,
      body: "",
      rest: 5,
    },
  ],
  // header lines
  ["LF-only head", `HTTP/1.1 200 OK\n${CL(2).replace("\r", "")}\nhi`, {
    status: 200,
    body: "hi",
  }],
  ["obs-fold", `${OK}x-a: one\r\n two\r\n${CL(0)}\r\n`, {
    error: /obsolete line folding/,
  }],
  ["NUL in a value", `${OK}x-a: a\0b\r\n${CL(0)}\r\n`, {
    error: /malformed header line "x-a: a\\x00b"/,
  }],
  ["bare CR in a value", `${OK}x-a: a\rb\r\n${CL(0)}\r\n`, {
    error: /malformed header line/,
  }],
  ["ESC in a value", `${OK}x-a: \x1b]0;title\x07\r\n${CL(0)}\r\n`, {
    error: /malformed header line "x-a: \\x1b\]0;title\\x07"/,
  }],
  ["space before the colon", `${OK}content-length : 2\r\n\r\nhi`, {
    error: /malformed header line/,
  }],
  ["no colon", `${OK}just words\r\n${CL(0)}\r\n`, {
    error: /malformed header line/,
  }],
  ["empty name", `${OK}: value\r\n${CL(0)}\r\n`, {
    error: /malformed header line/,
  }],
  ["over-long head", `${OK}x-big: ${"a".repeat(70_000)}\r\n\r\n`, {
    error: /response head larger than 65536 bytes/,
  }],
  [
    "many small headers within the limit",
    `${OK}${"x-a: b\r\n".repeat(2000)}${CL(0)}\r\n`,
    {
      status: 200,
      body: "",
    },
  ],
  ["head never ends", `${OK}${CL(0)}`, {
    error: /closed the connection in the middle of the response head/,
  }],
  ["no answer at all", "", {
    error: /closed the connection without answering/,
  }],
];

const bytesOf = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

for (const [name, sent, expected] of FIXTURES) {
  Deno.test(`http1 parser: ${name}`, async () => {
    for (const piece of [Infinity, 1]) {
      const parsing = parseResponse(bytesOf(sent), piece);
      if ("error" in expected) {
        await assert.rejects(parsing, expected.error, `${name}, ${piece}`);
        continue;
      }
      const parsed = await parsing;
      assert.equal(parsed.head.status, expected.status, name);
      assert.equal(new TextDecoder().decode(parsed.body), expected.body, name);
      assert.equal(parsed.rest, expected.rest ?? 0, `${name}: rest`);
      if (expected.keepAlive !== undefined) {
        assert.equal(parsed.head.keepAlive, expected.keepAlive, name);
      }
      if (expected.framing !== undefined) {
        assert.equal(parsed.framing.kind, expected.framing, name);
      }
    }
  });
}

Deno.test("http1 parser: ambiguous framing and unsupported codings are not worth a retry; a broken head is", async () => {
  const verdict = async (text: string) => {
    try {
      await parseResponse(bytesOf(text));
    } catch (error) {
      assert.ok(error instanceof HttpProtocolError);
      return error.retryable;
    }
    assert.fail("parsed");
  };
  assert.equal(await verdict(`${OK}${CL(1)}${TE("chunked")}\r\n`), false);
  assert.equal(await verdict(`${OK}${TE("gzip")}\r\n`), false);
  assert.equal(await verdict(`HTTP/1.1 000 X\r\n\r\n`), true);
});

Deno.test("escapeControls shows control characters and keeps the rest", () => {
  assert.equal(
    escapeControls("a\x1b[2Jb\r\n\tc\x7f\x9b"),
    "a\\x1b[2Jb\\x0d\\x0a\tc\\x7f\\x9b",
  );
  assert.equal(escapeControls("plain ü"), "plain ü");
});
