/**
 * Seeded answers of a hostile HTTP/1.1 server, for the property test
 * (`hostile_property_test.ts`): for each request, the bytes a server sends
 * (an honest answer, or one with a hostile head, framing or tail), cut into
 * pieces at awkward places, with what a reader keeping RFC 9112 to the letter
 * takes from them, so the test knows which file contents an OK may leave.
 *
 * The rules the generator keeps, so that an OK with other bytes is always
 * the client's fault: every well-framed answer that claims some bytes of the
 * file carries exactly those bytes; an answer cut by its connection carries
 * the right bytes up to the cut (a cut is the network's doing, not a lie);
 * only an answer that contradicts itself (its framing, its length, its range
 * or its validator) carries other bytes.
 *
 * @module
 */

import type { Answer } from "./_scripted_server.ts";

/** A seeded source of choices (mulberry32: small, fast, good enough for tests). */
export interface Rng {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  /** One of `items`. */
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

/**
 * A seeded {@linkcode Rng}.
 *
 * @param seeds Numbers that together name the stream.
 */
export function seeded(...seeds: number[]): Rng {
  let state = 0x9e3779b9;
  for (const seed of seeds) state = Math.imul(state ^ seed, 0x85ebca6b) >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) =>
    lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)],
    chance: (p) => next() < p,
  };
}

/** `n` bytes drawn from `rng`. */
export function randomBytes(rng: Rng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.int(0, 255));
}

/** How the jobs of a run are fetched. */
export type Mode = "whole" | "resume" | "split";

/** What the test knows of one job's answers. */
export interface JobRecord {
  file: ServedFile;
  /** Contents an OK may leave: the file, or a 200's shorter declared body. */
  acceptable: Uint8Array[];
  /** What each answer was, in order. */
  answers: string[];
  /** Whether every answer was honest. */
  honest: boolean;
}

/**
 * The files of a run: sizes fit the mode (a resume needs a streamed body, a
 * split two ranges: `splitSizes`, from the least to the most bytes).
 */
export function filesOf(
  seed: number,
  mode: Mode,
  jobs: number,
  splitSizes: [number, number] = [200, 3000],
): ServedFile[] {
  return Array.from({ length: jobs }, (_, j) => {
    const rng = seeded(seed, j, 0);
    const size = mode === "whole"
      ? rng.pick([
        0,
        1,
        rng.int(2, 40),
        rng.int(40, 3000),
        rng.int(16_000, 70_000),
      ])
      : mode === "split"
      ? rng.int(...splitSizes)
      : rng.int(200, 3000);
    return { bytes: randomBytes(rng, size), etag: `"s${seed}-${j}"` };
  });
}

/**
 * The answer to request `head` (for `/fJ…`, job J) in a hostile run of
 * `mode`, recorded in `records`; `asks` counts the requests for each
 * job and range, so a seed sends the same answers whatever their order.
 */
export function hostileAnswer(
  seed: number,
  mode: Mode,
  records: JobRecord[],
  asks: Map<string, number>,
  head: string,
): Extract<Answer, { send: unknown }> {
  const j = Number(/^GET \/f(\d+)/.exec(head)![1]);
  const record = records[j];
  const asked = askedBy(head, record.file.bytes.length);
  const key = `${j} ${asked.ranged} ${asked.from} ${asked.end}`;
  const k = asks.get(key) ?? 0;
  asks.set(key, k + 1);
  const rng = seeded(seed, j, asked.ranged ? 1 : 0, asked.from, asked.end, k);
  let sent: Sent;
  if (mode !== "whole" && !asked.ranged && k === 0) {
    // The first answer starts a .part (cut: a resume follows) or a split.
    const total = record.file.bytes.length;
    sent = mode === "resume"
      ? {
        name: "cut after some bytes",
        send: cutAfter(record.file, rng.int(20, total - 1)),
        close: true,
        honest: true,
      }
      : {
        name: "honest",
        send: honestAnswer(record.file, asked),
        whole: record.file.bytes,
        honest: true,
      };
  } else {
    sent = answerFor(rng, record.file, asked, 0.3);
  }
  record.answers.push(
    `${
      asked.ranged ? `${asked.from}-${asked.end - 1}` : "whole"
    }: ${sent.name}`,
  );
  if (sent.whole) record.acceptable.push(sent.whole);
  if (!sent.honest) record.honest = false;
  const { send, cuts, close, stall, later } = sent;
  return { send, cuts, close, stall, later };
}

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** An answer's bytes being built, with the offsets worth cutting it at. */
export class Wire {
  #parts: Uint8Array[] = [];
  #length = 0;
  /** Offsets inside lines, between CR and LF, at the edges of parts. */
  readonly marks: number[] = [];

  /** Appends protocol text (one byte per char). */
  text(text: string): this {
    const at = this.#length;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === "\n" || text[i - 1] === "\n") this.marks.push(at + i);
    }
    this.marks.push(at, at + 1, at + (text.length >> 1));
    return this.#add(latin1(text));
  }

  /** Appends body bytes. */
  data(bytes: Uint8Array): this {
    this.marks.push(this.#length, this.#length + (bytes.length >> 1));
    return this.#add(bytes);
  }

  /** The bytes so far. */
  bytes(): Uint8Array {
    const all = new Uint8Array(this.#length);
    let at = 0;
    for (const part of this.#parts) {
      all.set(part, at);
      at += part.length;
    }
    return all;
  }

  get length(): number {
    return this.#length;
  }

  #add(bytes: Uint8Array): this {
    this.#parts.push(bytes);
    this.#length += bytes.length;
    return this;
  }
}

/** What a request asked for, read from its head. */
export interface Asked {
  /** The first byte asked for (0 without `Range`). */
  from: number;
  /** One past the last byte asked for (the file's end without `Range` or an end). */
  end: number;
  /** Whether a `Range` header was sent. */
  ranged: boolean;
  /** The `If-Range` validator sent, if any. */
  ifRange?: string;
}

/**
 * What request `head` asks of a file of `total` bytes.
 *
 * @param head The request head.
 * @param total The file's size.
 */
export function askedBy(head: string, total: number): Asked {
  const range = /^range: bytes=(\d+)-(\d*)$/im.exec(head);
  const ifRange = /^if-range: (.*)$/im.exec(head)?.[1]?.trim();
  if (!range) return { from: 0, end: total, ranged: false, ifRange };
  const from = Number(range[1]);
  const end = range[2] === "" ? total : Math.min(total, Number(range[2]) + 1);
  return { from, end, ranged: true, ifRange };
}

/** One file as the server holds it. */
export interface ServedFile {
  /** Its bytes. */
  bytes: Uint8Array;
  /** Its strong validator. */
  etag: string;
}

/** An answer to send, and what a strict reader takes from it. */
export interface Sent {
  /** What was chosen, for a failure's message. */
  name: string;
  /** The bytes. */
  send: Uint8Array;
  /** Offsets to cut the bytes at (each piece its own write). */
  cuts?: number[];
  /** Close the connection after sending. */
  close?: boolean;
  /** Send nothing more on this connection. */
  stall?: boolean;
  /** Bytes sent unasked a few milliseconds after the answer. */
  later?: { ms: number; send: Uint8Array };
  /**
   * The body a strict reader takes from this answer when it is a complete,
   * well-framed 200: a content an OK may leave under the final name.
   */
  whole?: Uint8Array;
  /** Whether the whole answer is as an honest server sends it. */
  honest: boolean;
  /**
   * Where bytes after the answer begin that must come with its last byte,
   * never cut from it: a response sent unasked after the next request has
   * gone out is that request's answer to any HTTP/1.1 client.
   */
  tail?: number;
}

/** The honest answer's status and fields, before its framing. */
interface Head {
  status: string;
  fields: string[];
  /** The bytes this answer claims to carry. */
  right: Uint8Array;
  /** Bytes of the same length that are not those. */
  wrong: Uint8Array;
  /** Whether a complete, well-framed answer of this head is a whole 200 (or a 204). */
  whole: boolean;
  /** A status that never has a body (204, 304): what the framing sends is junk after the answer. */
  noBody?: boolean;
}

/** A head that may lie, with its name and whether it is honest. */
type HeadChoice = { name: string; head: Head; honest: boolean };

/** Other bytes of the same length as `bytes` (never equal where not empty). */
function other(bytes: Uint8Array): Uint8Array {
  return bytes.map((b, i) => (b + 1 + (i % 7)) & 0xff);
}

/** The honest head for `asked` of `file`. */
function honestHead(file: ServedFile, asked: Asked): Head {
  const total = file.bytes.length;
  const common = [`etag: ${file.etag}`, "accept-ranges: bytes"];
  if (asked.ranged && asked.ifRange === file.etag && asked.from < total) {
    const right = file.bytes.subarray(asked.from, asked.end);
    return {
      status: "206 Partial Content",
      fields: [
        `content-range: bytes ${asked.from}-${asked.end - 1}/${total}`,
        ...common,
      ],
      right,
      wrong: other(right),
      whole: false,
    };
  }
  return {
    status: "200 OK",
    fields: common,
    right: file.bytes,
    wrong: other(file.bytes),
    whole: true,
  };
}

/**
 * The head of the answer to `asked`: honest, or one that lies about its
 * range, version or status (those carry other bytes, but for a range
 * shifted elsewhere, which carries the bytes of where it says).
 */
function chooseHead(rng: Rng, file: ServedFile, asked: Asked): HeadChoice {
  const honest = honestHead(file, asked);
  if (rng.chance(0.5)) {
    return { name: "honest head", head: honest, honest: true };
  }
  const total = file.bytes.length;
  const lie = (name: string, status: string, fields: string[]): HeadChoice => ({
    name,
    head: { ...honest, status, fields, right: honest.wrong, whole: false },
    honest: false,
  });
  const common = [`etag: ${file.etag}`, "accept-ranges: bytes"];
  const { from, end } = asked;
  const choices: (() => HeadChoice)[] = [
    () => lie("206 without Content-Range", "206 Partial Content", common),
    () =>
      lie("206 with Content-Range */T", "206 Partial Content", [
        `content-range: bytes */${total}`,
        ...common,
      ]),
    () =>
      lie("206 with another complete length", "206 Partial Content", [
        `content-range: bytes ${from}-${end - 1}/${total + 7}`,
        ...common,
      ]),
    () =>
      lie("206 with two ranges in Content-Range", "206 Partial Content", [
        `content-range: bytes ${from}-${end - 1}/${total}, bytes 0-0/${total}`,
        ...common,
      ]),
    () =>
      lie("206 of another version (If-Range ignored)", "206 Partial Content", [
        `content-range: bytes ${from}-${end - 1}/${total}`,
        `etag: "other"`,
        "accept-ranges: bytes",
      ]),
    () =>
      lie("206 without ETag", "206 Partial Content", [
        `content-range: bytes ${from}-${end - 1}/${total}`,
        "accept-ranges: bytes",
      ]),
    () => {
      // Where it says, with the bytes of where it says: not what was asked.
      const shift = rng.pick([-2, -1, 1, 2]);
      const a = Math.max(0, from + shift);
      const b = Math.min(total, Math.max(a + 1, end + shift));
      const right = file.bytes.subarray(a, b);
      return {
        name: `206 for bytes ${a}-${b - 1} instead of ${from}-${end - 1}`,
        head: {
          status: "206 Partial Content",
          fields: [`content-range: bytes ${a}-${b - 1}/${total}`, ...common],
          right,
          wrong: other(right),
          whole: false,
        },
        honest: false,
      };
    },
    () => ({
      name: "200 with the whole file",
      head: {
        status: "200 OK",
        fields: common,
        right: file.bytes,
        wrong: other(file.bytes),
        whole: true,
      },
      honest: !asked.ranged,
    }),
    () =>
      lie("416", "416 Range Not Satisfiable", [
        `content-range: bytes */${total}`,
      ]),
    () => ({
      name: "204 with a body",
      head: {
        ...honest,
        status: "204 No Content",
        fields: common,
        right: honest.wrong,
        whole: true,
        noBody: true,
      },
      honest: false,
    }),
    () => lie("304 with a body", "304 Not Modified", common),
    () =>
      lie("a redirect with a body", "302 Found", [
        `location: ?r=${rng.int(1, 9)}`,
      ]),
    () => lie("status 2000", "2000 OK", common),
    () => lie("header with a NUL", "200 OK", ["x-a: b\0c", ...common]),
    () => lie("obsolete line folding", "200 OK", ["x-a: b", " c", ...common]),
  ];
  return rng.pick(choices)();
}

/** Chunk extensions and trailers an honest chunked body may carry. */
const EXTENSIONS = ["", "", ";a=b", ';name="q;uo\\"ted"', " ;x", ";a=1;b"];

/** `body` as chunks of random sizes (honest, with extensions and trailers). */
function chunked(rng: Rng, wire: Wire, body: Uint8Array): void {
  for (let at = 0; at < body.length;) {
    const n = Math.min(body.length - at, rng.int(1, Math.max(1, body.length)));
    const size = n.toString(16);
    wire.text(
      `${"0".repeat(rng.int(0, 2))}${
        rng.chance(0.5) ? size : size.toUpperCase()
      }${rng.pick(EXTENSIONS)}\r\n`,
    );
    wire.data(body.subarray(at, at + n)).text("\r\n");
    at += n;
  }
  wire.text(`0${rng.pick(EXTENSIONS)}\r\n`);
  if (rng.chance(0.3)) wire.text("x-trailer: 1\r\nx-sum: abc\r\n");
  wire.text("\r\n");
}

/** Writes a head: status line and fields, then the empty line. */
function writeHead(
  wire: Wire,
  status: string,
  fields: string[],
  eol = "\r\n",
  version = "1.1",
): Wire {
  return wire.text(
    `HTTP/${version} ${status}${eol}${
      fields.map((f) => f + eol).join("")
    }${eol}`,
  );
}

/** How an answer's body is framed, honest or not; returns what is sent. */
type Framing = (
  rng: Rng,
  wire: Wire,
  head: Head,
) => Omit<Sent, "name" | "send">;

/** Framings an honest server uses. */
const HONEST_FRAMINGS: [string, Framing][] = [
  ["Content-Length", (_rng, wire, head) => {
    writeHead(wire, head.status, [
      ...head.fields,
      `content-length: ${head.right.length}`,
    ]).data(head.right);
    return { whole: head.right, honest: true };
  }],
  ["chunked", (rng, wire, head) => {
    writeHead(wire, head.status, [
      ...head.fields,
      "transfer-encoding: chunked",
    ]);
    chunked(rng, wire, head.right);
    return { whole: head.right, honest: true };
  }],
  ["ended by the connection", (_rng, wire, head) => {
    writeHead(wire, head.status, [...head.fields, "connection: close"])
      .data(head.right);
    return { whole: head.right, close: true, honest: true };
  }],
];

/** Framings of a hostile or odd server (a cut, a lie, a tail after the body). */
const HOSTILE_FRAMINGS: [string, Framing][] = [
  ["Content-Length longer than the body, then a close", (rng, wire, head) => {
    const n = head.right.length;
    writeHead(wire, head.status, [
      ...head.fields,
      `content-length: ${n + rng.int(1, 50)}`,
    ]).data(head.right);
    return { close: true, honest: false };
  }],
  ["a close mid-body", (rng, wire, head) => {
    const n = head.right.length;
    writeHead(wire, head.status, [...head.fields, `content-length: ${n}`])
      .data(head.right.subarray(0, rng.int(0, Math.max(0, n - 1))));
    return { close: true, honest: false };
  }],
  ["a stall mid-body", (rng, wire, head) => {
    const n = head.right.length;
    writeHead(wire, head.status, [...head.fields, `content-length: ${n}`])
      .data(head.right.subarray(0, rng.int(0, Math.max(0, n - 1))));
    return { stall: true, honest: false };
  }],
  ["Content-Length shorter than the bytes sent", (rng, wire, head) => {
    const n = head.right.length;
    const said = rng.int(0, Math.max(0, n - 1));
    writeHead(wire, head.status, [...head.fields, `content-length: ${said}`])
      .data(head.right);
    return { whole: head.right.subarray(0, said), honest: false };
  }],
  ["two different Content-Lengths", (rng, wire, head) => {
    const n = head.right.length;
    const fields = rng.chance(0.5)
      ? [`content-length: ${n}`, `content-length: ${n + 1}`]
      : [`content-length: ${n + 1}, ${n}`];
    writeHead(wire, head.status, [...head.fields, ...fields]).data(head.wrong);
    return { honest: false };
  }],
  ["the same Content-Length twice", (rng, wire, head) => {
    const n = head.right.length;
    const fields = rng.chance(0.5)
      ? [`content-length: ${n}`, `content-length: ${n}`]
      : [`content-length: ${n}, ${n}`];
    writeHead(wire, head.status, [...head.fields, ...fields]).data(head.right);
    return { whole: head.right, honest: false };
  }],
  ["a Content-Length that is not a number", (rng, wire, head) => {
    const n = head.right.length;
    const said = rng.pick([
      `+${n}`,
      `${n}.0`,
      `0x${n.toString(16)}`,
      `-${n}`,
      `${n} ${n}`,
      "",
    ]);
    writeHead(wire, head.status, [...head.fields, `content-length: ${said}`])
      .data(head.wrong);
    return { close: rng.chance(0.5), honest: false };
  }],
  ["chunked beside a Content-Length", (rng, wire, head) => {
    const n = head.right.length;
    writeHead(wire, head.status, [
      ...head.fields,
      `content-length: ${rng.pick([n, n + 3, Math.max(0, n - 3)])}`,
      "transfer-encoding: chunked",
    ]);
    chunked(rng, wire, head.right);
    return { whole: head.right, honest: false };
  }],
  ["a transfer coding other than chunked", (rng, wire, head) => {
    writeHead(wire, head.status, [
      ...head.fields,
      `transfer-encoding: ${
        rng.pick([
          "gzip, chunked",
          "chunked, chunked",
          "identity",
          "x-rot13, chunked",
        ])
      }`,
    ]);
    chunked(rng, wire, head.wrong);
    return { close: true, honest: false };
  }],
  ["a chunk size that is not hex", (rng, wire, head) => {
    writeHead(wire, head.status, [
      ...head.fields,
      "transfer-encoding: chunked",
    ]);
    const n = head.wrong.length;
    wire.text(
      `${
        rng.pick([
          "zz",
          "-1",
          "1 2",
          `0x${n.toString(16)}`,
          "",
          "ffffffffffffffffff",
        ])
      }\r\n`,
    )
      .data(head.wrong).text("\r\n0\r\n\r\n");
    return { close: true, honest: false };
  }],
  ["a chunk longer than its size", (rng, wire, head) => {
    writeHead(wire, head.status, [
      ...head.fields,
      "transfer-encoding: chunked",
    ]);
    const n = head.wrong.length;
    const said = rng.int(0, Math.max(0, n - 1));
    wire.text(`${said.toString(16)}\r\n`).data(head.wrong).text(
      "\r\n0\r\n\r\n",
    );
    // A size of 0 is the last chunk: an empty body, and junk after it.
    return {
      close: true,
      whole: said === 0 ? new Uint8Array(0) : undefined,
      honest: false,
    };
  }],
  ["a chunk shorter than its size", (rng, wire, head) => {
    writeHead(wire, head.status, [
      ...head.fields,
      "transfer-encoding: chunked",
    ]);
    // The right bytes: 5 more said reads as a whole chunk ending in
    // "\r\n0\r\n", then a cut, which no reader can tell from an honest one.
    const n = head.right.length;
    wire.text(`${(n + rng.int(1, 6)).toString(16)}\r\n`).data(head.right)
      .text("\r\n0\r\n\r\n");
    return { close: true, honest: false };
  }],
  ["chunk data without its CRLF", (_rng, wire, head) => {
    writeHead(wire, head.status, [
      ...head.fields,
      "transfer-encoding: chunked",
    ]);
    const n = head.wrong.length;
    wire.text(`${n.toString(16)}\r\n`).data(head.wrong).text("0\r\n\r\n");
    return { close: true, honest: false };
  }],
  ["chunked without its last chunk, then a close", (rng, wire, head) => {
    writeHead(wire, head.status, [
      ...head.fields,
      "transfer-encoding: chunked",
    ]);
    const body = head.right.subarray(0, rng.int(0, head.right.length));
    if (body.length > 0) {
      wire.text(`${body.length.toString(16)}\r\n`).data(body).text("\r\n");
    }
    return { close: true, honest: false };
  }],
  ["interim 1xx answers first", (rng, wire, head) => {
    for (let i = rng.int(1, 3); i > 0; i--) {
      wire.text(
        rng.pick([
          "HTTP/1.1 100 Continue\r\n\r\n",
          "HTTP/1.1 102 Processing\r\n\r\n",
          "HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n",
        ]),
      );
    }
    writeHead(wire, head.status, [
      ...head.fields,
      `content-length: ${head.right.length}`,
    ])
      .data(head.right);
    return { whole: head.right, honest: false };
  }],
  ["a 101 first", (_rng, wire, head) => {
    wire.text("HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n");
    writeHead(wire, head.status, [
      ...head.fields,
      `content-length: ${head.wrong.length}`,
    ])
      .data(head.wrong);
    return { close: true, honest: false };
  }],
  ["bare LF line ends", (_rng, wire, head) => {
    writeHead(wire, head.status, [
      ...head.fields,
      `content-length: ${head.right.length}`,
    ], "\n")
      .data(head.right);
    return { whole: head.right, honest: false };
  }],
  ["HTTP/1.0", (_rng, wire, head) => {
    writeHead(
      wire,
      head.status,
      [...head.fields, `content-length: ${head.right.length}`],
      "\r\n",
      "1.0",
    )
      .data(head.right);
    return { whole: head.right, close: true, honest: false };
  }],
  ["junk after the body", (rng, wire, head) => {
    writeHead(wire, head.status, [
      ...head.fields,
      `content-length: ${head.right.length}`,
    ])
      .data(head.right).text(rng.pick(["\r\n", "xyz", "\0\0\0", "0\r\n\r\n"]));
    return { whole: head.right, honest: false };
  }],
  ["a second answer nobody asked for", (rng, wire, head) => {
    const unasked = other(head.right).subarray(0, rng.int(1, 40));
    writeHead(wire, head.status, [
      ...head.fields,
      `content-length: ${head.right.length}`,
    ])
      .data(head.right);
    const tail = wire.length;
    writeHead(wire, "200 OK", [`content-length: ${unasked.length}`]).data(
      unasked,
    );
    return { whole: head.right, tail, honest: false };
  }],
  ["junk a few milliseconds after the answer", (rng, wire, head) => {
    writeHead(wire, head.status, [
      ...head.fields,
      `content-length: ${head.right.length}`,
    ])
      .data(head.right);
    return {
      whole: head.right,
      later: {
        ms: rng.int(1, 15),
        send: latin1(rng.pick(["xyz\r\n\r\n", "\r\n", "garbage"])),
      },
      honest: false,
    };
  }],
  ["a close inside the head", (rng, wire, head) => {
    const full = writeHead(new Wire(), head.status, head.fields).bytes();
    wire.data(full.subarray(0, rng.int(0, full.length - 1)));
    return { close: true, honest: false };
  }],
  ["a stall inside the head", (rng, wire, head) => {
    const full = writeHead(new Wire(), head.status, head.fields).bytes();
    wire.data(full.subarray(0, rng.int(0, full.length - 1)));
    return { stall: true, honest: false };
  }],
];

/**
 * The answer to a request for `file`: an honest one with probability
 * `honesty` (in a random honest framing), else one with a lying head, a
 * hostile framing, or both; cut at awkward places now and then.
 *
 * @param rng The request's choices.
 * @param file The file.
 * @param asked What the request asked.
 * @param honesty The chance of an honest answer.
 */
export function answerFor(
  rng: Rng,
  file: ServedFile,
  asked: Asked,
  honesty: number,
): Sent {
  const honestly = rng.chance(honesty);
  const choice: HeadChoice = honestly
    ? { name: "honest head", head: honestHead(file, asked), honest: true }
    : chooseHead(rng, file, asked);
  const framings = honestly || rng.chance(0.4)
    ? HONEST_FRAMINGS
    : HOSTILE_FRAMINGS;
  const [framingName, frame] = rng.pick(framings);
  const wire = new Wire();
  const framed = frame(rng, wire, choice.head);
  const send = wire.bytes();
  const cuts = rng.chance(0.5)
    ? cutsOf(rng, wire).filter((cut) => cut < (framed.tail ?? Infinity))
    : undefined;
  return {
    ...framed,
    name: `${choice.name}, ${framingName}${cuts ? `, cut at ${cuts}` : ""}`,
    send,
    cuts,
    // A 204 is an empty file whatever follows its head.
    whole: choice.head.noBody && choice.head.whole
      ? new Uint8Array(0)
      : choice.head.whole
      ? framed.whole
      : undefined,
    honest: choice.honest && framed.honest,
  };
}

/** Offsets to cut `wire` at: up to eight of its marks (give or take a byte) or anywhere, and now and then a trickle. */
function cutsOf(rng: Rng, wire: Wire): number[] {
  const cuts = new Set<number>();
  if (rng.chance(0.2)) {
    // A trickle: the first hundred bytes one to three at a time.
    for (
      let at = rng.int(1, 3);
      at < Math.min(100, wire.length);
      at += rng.int(1, 3)
    ) {
      cuts.add(at);
    }
  }
  for (let i = rng.int(1, 8); i > 0; i--) {
    cuts.add(
      rng.chance(0.8)
        ? rng.pick(wire.marks) + rng.int(-1, 1)
        : rng.int(1, Math.max(1, wire.length - 1)),
    );
  }
  return [...cuts].filter((c) => c > 0 && c < wire.length).sort((a, b) =>
    a - b
  );
}

/** The answer of an honest server that takes ranges (for the run after). */
export function honestAnswer(file: ServedFile, asked: Asked): Uint8Array {
  const head = honestHead(file, asked);
  const wire = writeHead(new Wire(), head.status, [
    ...head.fields,
    `content-length: ${head.right.length}`,
  ]);
  return wire.data(head.right).bytes();
}

/** The first answer of a resumable file, cut by its connection after `keep` bytes of its body. */
export function cutAfter(file: ServedFile, keep: number): Uint8Array {
  const all = honestAnswer(file, {
    from: 0,
    end: file.bytes.length,
    ranged: false,
  });
  return all.subarray(0, all.length - file.bytes.length + keep);
}
