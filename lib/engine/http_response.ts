/**
 * Responses of bulkget's own HTTP/1.1 client ({@linkcode Http1Response}),
 * and the narrow view of a response the engine reads, which `fetch`'s
 * `Response` fits too ({@linkcode HttpResponse}).
 *
 * @module
 */

import type { ResponseHead } from "./http1_parser.ts";

/** Largest piece the `body` stream of a streamed response is read in. */
const STREAM_CHUNK_BYTES = 256 * 1024;

/** A streamed body read into the caller's buffers (see {@linkcode directBody}). */
export interface DirectBody {
  /**
   * Reads the next bytes of the body into `target`.
   *
   * @param target Where the bytes go (any length above 0).
   * @returns How many were placed, or null at the end of the body.
   */
  readInto(target: Uint8Array): Promise<number | null>;
  /** Gives up the body: its connection is closed, never reused. */
  cancel(): void;
}

/** A streamed body, with whether anything has read from it yet. */
export interface StreamedBody extends DirectBody {
  /** Whether anything has read from the body yet. */
  readonly started: boolean;
}

/** A header lookup: what the engine asks of a response's headers. */
export interface HeaderLookup {
  /** The value of header `name` (any case), or null. */
  get(name: string): string | null;
}

/**
 * What the engine reads of a response: `fetch`'s `Response` and
 * {@linkcode Http1Response} both are one.
 */
export interface HttpResponse {
  /** The status code. */
  readonly status: number;
  /** The reason phrase. */
  readonly statusText: string;
  /** The response headers. */
  readonly headers: HeaderLookup;
  /** The body as a stream, or null when there is none. Read it once. */
  readonly body: ReadableStream<Uint8Array> | null;
  /** The whole body. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Response headers, names in lower case; a `Headers` is built only on request. */
export class ResponseHeaders implements HeaderLookup {
  #map = new Map<string, string>();

  /**
   * Adds a header (a repeated name's values are joined with ", ").
   *
   * @param name Its name.
   * @param value Its value.
   */
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const had = this.#map.get(key);
    this.#map.set(key, had === undefined ? value : `${had}, ${value}`);
  }

  /**
   * @param name A header name, in any case.
   * @returns Its value, or null.
   */
  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null;
  }

  /** @returns The headers as a standard `Headers`. */
  toHeaders(): Headers {
    return new Headers([...this.#map]);
  }
}

/** How an {@linkcode Http1Response} holds its body. */
export type Held =
  | { kind: "none" }
  | { kind: "whole"; bytes: Uint8Array }
  | { kind: "cut"; bytes: Uint8Array }
  | { kind: "streamed"; reader: StreamedBody; signal?: AbortSignal };

/**
 * A response of the own HTTP client (`http1.ts`). Lighter than a `Response`
 * (which cost about 16 µs per file in headers and body set-up): a small body
 * is held whole, a large one is read from the connection on demand, through
 * {@linkcode directBody} or the `body` stream.
 */
export class Http1Response implements HttpResponse {
  /** The status code. */
  readonly status: number;
  /** The reason phrase. */
  readonly statusText: string;
  /** The response headers. */
  readonly headers: ResponseHeaders;
  /** The body's length as its framing gives it (`Content-Length`), or undefined (chunked, to the end). */
  readonly bodyLength: number | undefined;
  #held: Held;
  #body?: ReadableStream<Uint8Array> | null;
  #used = false;

  /**
   * @param head The parsed head.
   * @param held The body.
   * @param bodyLength The body's length by its framing, when known.
   */
  constructor(head: ResponseHead, held: Held, bodyLength: number | undefined) {
    this.bodyLength = bodyLength;
    this.status = head.status;
    this.statusText = head.reason;
    this.headers = head.headers;
    this.#held = held;
  }

  /** The body as a stream (made on first use), or null when there is none. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#body === undefined) {
      const held = this.#held;
      this.#body = held.kind === "none"
        ? null
        : held.kind === "whole"
        ? wholeBody(held.bytes)
        : held.kind === "cut"
        ? truncatedBody(held.bytes)
        : bodyStream(held.reader, held.signal);
    }
    return this.#body;
  }

  /** The whole body; rejects as a cut connection does when it came short. */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    const buffer = bytes.buffer as ArrayBuffer;
    // A small body is a view of a shared slab (`body_slab.ts`): its own copy.
    return bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength
      ? buffer
      : bytes.slice().buffer as ArrayBuffer;
  }

  /**
   * The whole body as bytes; rejects as a cut connection does when it came
   * short. A small body read with its head is returned as it is held: a
   * view that may share its buffer with other bodies (see `body_slab.ts`),
   * so never transfer its buffer.
   */
  bytes(): Promise<Uint8Array> {
    const held = this.#held;
    if (this.#body === undefined && !this.#used) {
      this.#used = true;
      if (held.kind === "none") return Promise.resolve(new Uint8Array(0));
      if (held.kind === "whole") return Promise.resolve(held.bytes);
      if (held.kind === "cut") {
        return Promise.reject(connectionClosedEarly());
      }
    }
    return new Response(this.body).bytes();
  }

  /** The reader behind a streamed body, while nothing has read from it (the `body` stream may exist). */
  directReader(): DirectBody | undefined {
    return this.#held.kind === "streamed" && !this.#held.reader.started
      ? this.#held.reader
      : undefined;
  }
}

/** A body already read whole, as a stream. */
function wholeBody(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** A body that delivers the bytes that came, then fails as a cut connection does. */
function truncatedBody(got: Uint8Array): ReadableStream<Uint8Array> {
  let delivered = got.length === 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (delivered) controller.error(connectionClosedEarly());
      else controller.enqueue(got);
      delivered = true;
    },
  }, { highWaterMark: 0 });
}

/** The error of a body whose connection closed before all of it came (worded as `fetch` words it). */
export function connectionClosedEarly(): Error {
  return new Error(
    "error reading a body from connection: connection closed before message completed",
  );
}

/**
 * The reader behind a streamed body of the own HTTP client's, so a
 * caller can read it into its own buffer (e.g. straight into a file)
 * without a stream and a new buffer per piece: about twice as fast on large
 * files. Use it or `response.body`, not both.
 *
 * @param response A response.
 * @returns Its reader, or undefined when it did not come from this client,
 *   its body was read whole, or something has read from it already.
 */
export function directBody(response: HttpResponse): DirectBody | undefined {
  return response instanceof Http1Response
    ? response.directReader()
    : undefined;
}

/** A body as a stream of pieces read from `reader`. */
function bodyStream(
  reader: DirectBody,
  signal: AbortSignal | undefined,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const piece = new Uint8Array(STREAM_CHUNK_BYTES);
      try {
        const n = await reader.readInto(piece);
        if (n === null) controller.close();
        else controller.enqueue(n === piece.length ? piece : piece.slice(0, n));
      } catch (error) {
        controller.error(signal?.aborted ? signal.reason : error);
      }
    },
    cancel() {
      reader.cancel();
    },
  }, { highWaterMark: 0 }); // read only when asked: an error then discards no bytes already read
}

/**
 * The length a response's body will have, from its framing: none for a 204
 * or 304 whatever its `Content-Length` says (they have no body), the own
 * client's framed length, or `fetch`'s `Content-Length` when no
 * `Transfer-Encoding` overrides it (a length beside a coding is not the
 * body's, and trusting it is how a small-body buffer swallows 512 MiB).
 *
 * @param response A response.
 * @returns The length, or undefined when the body runs until its framing ends.
 */
export function framedLength(response: HttpResponse): number | undefined {
  if (response.status === 204 || response.status === 304) return 0;
  if (response instanceof Http1Response) return response.bodyLength;
  if (response.headers.get("transfer-encoding") !== null) return undefined;
  const value = response.headers.get("content-length");
  if (value === null || !/^\d{1,16}$/.test(value.trim())) return undefined;
  return Number(value);
}

/**
 * Whether the bytes a body hands over before it fails are surely the file's
 * bytes at their places, whatever the failure: true for the own client
 * (a broken chunk is a `PROTOCOL` failure, told apart from a cut) and for
 * `fetch`'s bodies framed by their length; false for `fetch`'s chunked (or
 * otherwise transfer-coded) ones, which may hand over the data of a chunk
 * longer than its size before failing with the same error as a cut.
 *
 * @param response A response.
 * @returns True when a failed body's bytes may be kept for a resume.
 */
export function placedUntilFailure(response: HttpResponse): boolean {
  return response instanceof Http1Response ||
    response.headers.get("transfer-encoding") === null;
}

/**
 * A standard `Headers` for callers that want one (e.g. `nameFromResponse`).
 *
 * @param headers A response's headers.
 * @returns Them as `Headers`.
 */
export function asHeaders(headers: HeaderLookup): Headers {
  return headers instanceof ResponseHeaders
    ? headers.toHeaders()
    : headers as Headers;
}
