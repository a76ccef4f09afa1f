/**
 * Reading HTTP/1.1 responses from any byte source: a read buffer, the final
 * head after interim ones, and bodies in their framing. The client
 * (`http1.ts`) reads from a connection; the tests from byte fixtures, in
 * pieces as small as one byte, through the same code.
 *
 * @module
 */

import { connectionClosedEarly } from "./http_response.ts";
import {
  bodyFraming,
  findHeadEnd,
  type Framing,
  MAX_HEAD_BYTES,
  MAX_INTERIM_RESPONSES,
  parseChunkSize,
  parseHead,
  type ResponseHead,
} from "./http1_parser.ts";
import { HttpProtocolError } from "../core/errors.ts";

const latin1 = new TextDecoder("latin1");
/** Longest line accepted in a chunked body (size line, trailer). */
const MAX_LINE_BYTES = 8 * 1024;

/**
 * Where a {@linkcode ReadBuffer} gets its bytes: a socket, or a fixture. It
 * fails by rejecting, never by throwing.
 */
export type ByteSource = (target: Uint8Array) => Promise<number | null>;

/**
 * A read buffer over a {@linkcode ByteSource}, with the reads a response
 * needs: a head, lines, counted bytes. At most one read of the source is in
 * flight; one started while the connection idled (to notice bytes the
 * server sends unasked) is joined by the next read rather than doubled.
 */
export class ReadBuffer {
  #source: ByteSource;
  #buffer = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  #pending?: Promise<boolean>;
  #ended = false;

  /** @param source Where the bytes come from. */
  constructor(source: ByteSource) {
    this.#source = source;
  }

  /** Bytes read from the source but not yet taken. */
  buffered(): number {
    return this.#end - this.#start;
  }

  /** Whether the source has ended (a read returned null). */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Starts a read into the buffer if none is in flight, and says when it
   * ends: with true when bytes came, false at the end of the source.
   *
   * @returns Whether bytes came.
   */
  fill(): Promise<boolean> {
    // `#read` clears `#pending` itself when its read ends (no `finally`
    // promise per read); it is not called once the source has ended.
    if (this.#pending !== undefined) return this.#pending;
    if (this.#ended) return Promise.resolve(false);
    return this.#pending = this.#read();
  }

  /** Whether a read of the source is in flight. */
  get reading(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * Reads up to and including the empty line that ends a response head.
   *
   * @returns The head's bytes (without the empty line).
   * @throws {HttpProtocolError} When the head is over {@linkcode MAX_HEAD_BYTES}.
   */
  async readHead(): Promise<Uint8Array> {
    let searchFrom = this.#start;
    for (;;) {
      const end = findHeadEnd(this.#buffer, searchFrom, this.#end);
      if (end >= 0) {
        const head = this.#buffer.subarray(this.#start, end);
        this.#start = end;
        return trimHeadEnd(head);
      }
      searchFrom = Math.max(this.#start, this.#end - 2);
      if (this.buffered() >= MAX_HEAD_BYTES) {
        throw new HttpProtocolError(
          `response head larger than ${MAX_HEAD_BYTES} bytes`,
        );
      }
      const before = this.#start;
      if (!await this.fill()) {
        throw new Error(
          this.buffered() === 0
            ? "the server closed the connection without answering"
            : "the server closed the connection in the middle of the response head",
        );
      }
      searchFrom -= before - this.#start; // fill may have moved the bytes
    }
  }

  /**
   * Fills `target` from the buffer and the source.
   *
   * @param target Where the bytes go.
   * @param onRead Hears of every read that brought bytes (deadlines).
   * @returns The bytes placed; fewer only at the end of the source.
   */
  async readFull(
    target: Uint8Array,
    onRead?: () => void,
  ): Promise<number> {
    let placed = this.takeInto(target);
    while (placed < target.length) {
      const n = await this.readInto(target.subarray(placed));
      if (n === null) break;
      onRead?.();
      placed += n;
    }
    return placed;
  }

  /**
   * Fills `target` from the buffer if it holds anything, else with one read.
   *
   * @param target Where the bytes go (length above 0).
   * @returns The bytes placed, or null at the end of the source.
   */
  async readInto(target: Uint8Array): Promise<number | null> {
    if (this.buffered() === 0 && this.#pending) await this.#pending;
    if (this.buffered() > 0) return this.takeInto(target);
    if (this.#ended) return null;
    const n = await this.#source(target);
    if (n === null) this.#ended = true;
    return n;
  }

  /**
   * Reads one line of a chunked body, which ends in CRLF (RFC 9112 §7.1
   * allows no bare LF there: a chunk whose last data byte is a CR would
   * then pass for one a byte longer), and returns it without its end.
   *
   * @returns The line.
   * @throws {HttpProtocolError} When it is longer than 8 KiB or ends in a bare LF.
   */
  async readLine(): Promise<string> {
    let searchFrom = this.#start;
    for (;;) {
      const lf = this.#buffer.subarray(0, this.#end).indexOf(10, searchFrom);
      if (lf >= 0) {
        if (lf === this.#start || this.#buffer[lf - 1] !== 13) {
          throw new HttpProtocolError("bare LF in a chunked body (not CRLF)");
        }
        const stop = lf - 1;
        const line = latin1.decode(this.#buffer.subarray(this.#start, stop));
        this.#start = lf + 1;
        return line;
      }
      if (this.buffered() >= MAX_LINE_BYTES) {
        throw new HttpProtocolError("line too long in chunked body");
      }
      const before = this.#start;
      searchFrom = this.#end;
      if (!await this.fill()) throw connectionClosedEarly();
      searchFrom -= before - this.#start;
    }
  }

  /**
   * Fills `target` from what is buffered, without reading.
   *
   * @param target Where the bytes go.
   * @returns The bytes placed.
   */
  takeInto(target: Uint8Array): number {
    const n = Math.min(target.length, this.buffered());
    target.set(this.#buffer.subarray(this.#start, this.#start + n));
    this.#start += n;
    return n;
  }

  /**
   * Reads more into the buffer (compacting or growing it); `fill` holds its
   * promise as `#pending` until the read ends.
   */
  async #read(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buffer.length) {
      if (this.#start > 0) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(this.#buffer.length * 2);
        grown.set(this.#buffer);
        this.#buffer = grown;
      }
      this.#end -= this.#start;
      this.#start = 0;
    }
    let n: number | null;
    try {
      n = await this.#source(this.#buffer.subarray(this.#end));
    } finally {
      // After the await: `fill` has stored this read's promise by now.
      this.#pending = undefined;
    }
    if (n === null) {
      this.#ended = true;
      return false;
    }
    this.#end += n;
    return true;
  }
}

/** A head without the line ends after its last line. */
function trimHeadEnd(head: Uint8Array): Uint8Array {
  let end = head.length;
  while (end > 0 && (head[end - 1] === 10 || head[end - 1] === 13)) end--;
  return head.subarray(0, end);
}

/**
 * Reads one body in its framing from a {@linkcode ReadBuffer} into the
 * caller's buffers.
 */
export class BodyDecoder {
  #buffer: ReadBuffer;
  #framing: Framing;
  #remaining: number;
  #ended = false;

  /**
   * @param buffer Positioned at the body.
   * @param framing How the body ends.
   */
  constructor(buffer: ReadBuffer, framing: Framing) {
    this.#buffer = buffer;
    this.#framing = framing;
    this.#remaining = framing.kind === "length" ? framing.length : 0;
  }

  /**
   * Reads the next bytes of the body into `target`.
   *
   * @param target Where the bytes go (length above 0).
   * @returns How many were placed, or null at the end of the body.
   * @throws {HttpProtocolError} On a malformed chunk.
   * @throws {Error} When the source ends before the body does.
   */
  async readInto(target: Uint8Array): Promise<number | null> {
    if (this.#ended) return null;
    const n = await this.#next(target);
    if (n === null) this.#ended = true;
    return n;
  }

  async #next(target: Uint8Array): Promise<number | null> {
    const buffer = this.#buffer;
    switch (this.#framing.kind) {
      case "length":
        return this.#remaining === 0 ? null : await this.#readCounted(target);
      case "close":
        return await buffer.readInto(target);
      case "chunked": {
        if (this.#remaining === 0) {
          const size = parseChunkSize(await buffer.readLine());
          if (size === 0) {
            await this.#skipTrailers();
            return null;
          }
          this.#remaining = size;
        }
        const n = await this.#readCounted(target);
        if (this.#remaining === 0 && (await buffer.readLine()) !== "") {
          throw new HttpProtocolError("chunk data longer than its size");
        }
        return n;
      }
      default:
        return null;
    }
  }

  /** Reads at most what is left of the body's length or of the current chunk. */
  async #readCounted(target: Uint8Array): Promise<number> {
    const n = await this.#buffer.readInto(
      target.subarray(0, Math.min(this.#remaining, target.length)),
    );
    if (n === null) throw connectionClosedEarly();
    this.#remaining -= n;
    return n;
  }

  async #skipTrailers(): Promise<void> {
    let bytes = 0;
    for (;;) {
      const line = await this.#buffer.readLine();
      if (line === "") return;
      bytes += line.length;
      if (bytes > MAX_HEAD_BYTES) {
        throw new HttpProtocolError("trailers too large");
      }
    }
  }
}

/**
 * Reads response heads until the final one, skipping interim (1xx) ones.
 *
 * @param buffer Positioned at a response.
 * @returns The final head and its framing.
 * @throws {HttpProtocolError} On a malformed head, a 101, or over
 *   {@linkcode MAX_INTERIM_RESPONSES} interim responses.
 */
export async function readFinalHead(
  buffer: ReadBuffer,
): Promise<{ head: ResponseHead; framing: Framing }> {
  for (let interim = 0;; interim++) {
    const head = parseHead(await buffer.readHead());
    if (head.status >= 200) return { head, framing: bodyFraming(head) };
    if (head.status === 101) {
      throw new HttpProtocolError("unexpected 101 Switching Protocols");
    }
    if (interim >= MAX_INTERIM_RESPONSES) {
      throw new HttpProtocolError(
        `more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses`,
      );
    }
  }
}

/** A whole response parsed from bytes (see {@linkcode parseResponse}). */
export interface ParsedResponse {
  /** The final head. */
  head: ResponseHead;
  /** Its framing. */
  framing: Framing;
  /** The body, decoded from its framing. */
  body: Uint8Array;
  /** Bytes after the body: a connection holding any is never reused. */
  rest: number;
}

/**
 * Parses one whole response from `bytes`, read in pieces of `pieceSize`
 * bytes (1 exercises every split): the same code the client runs on a
 * socket, over a fixture.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResponse } from "./http1_reader.ts";
 * const bytes = new TextEncoder().encode("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
 * const parsed = await parseResponse(bytes, 1);
 * assert.equal(new TextDecoder().decode(parsed.body), "abc");
 * ```
 *
 * @param bytes Everything the server sent.
 * @param pieceSize Bytes per read of the source. @default Infinity
 * @returns The response.
 * @throws {HttpProtocolError} On any breach of the rules.
 */
export async function parseResponse(
  bytes: Uint8Array,
  pieceSize = Infinity,
): Promise<ParsedResponse> {
  let offset = 0;
  const buffer = new ReadBuffer((target) => {
    if (offset >= bytes.length) return Promise.resolve(null);
    const n = Math.min(target.length, pieceSize, bytes.length - offset);
    target.set(bytes.subarray(offset, offset + n));
    offset += n;
    return Promise.resolve(n);
  });
  const { head, framing } = await readFinalHead(buffer);
  const decoder = new BodyDecoder(buffer, framing);
  const pieces: Uint8Array[] = [];
  const piece = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await decoder.readInto(piece);
    if (n === null) break;
    pieces.push(piece.slice(0, n));
  }
  const body = new Uint8Array(pieces.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    body.set(p, at);
    at += p.length;
  }
  return {
    head,
    framing,
    body,
    rest: buffer.buffered() + (bytes.length - offset),
  };
}
