/**
 * bulkget's own HTTP/1.1 client for `http:` and `https:` URLs, over
 * `Deno.connect` and `Deno.connectTls`.
 *
 * Deno's `fetch` costs about 0.1 ms of CPU per request in JavaScript and
 * glue (headers, request and response objects, streams) before a byte is
 * written; on many small files that, not the network, is the limit. This
 * client does only what a GET of a file needs: one request line and the
 * caller's headers out; status, headers and a body framed by
 * `Content-Length`, `chunked` or the connection's end back (RFC 9112). It
 * keeps connections alive per origin and answers with an `Http1Response`
 * (`http_response.ts`), which the engine reads through the same narrow
 * interface as `fetch`'s `Response`. For `https:` it offers only HTTP/1.1
 * (ALPN) and trusts what `fetch` trusts (Deno's root store, `--cert`,
 * `DENO_CERT`).
 *
 * A reused connection that the server closed while idle fails before any
 * byte of the answer arrives; such a request is sent again once on a new
 * connection (a GET is safe to repeat). Anything else that breaks the
 * framing closes the connection and fails the request, so a response is
 * never read from a connection in an unknown state.
 *
 * @module
 */

import { HEADER_NAME, type HeaderPairs, isHeaderValue } from "./headers.ts";
import {
  connectionClosedEarly,
  Http1Response,
  type ResponseHead,
  ResponseHeaders,
  type StreamedBody,
} from "./http_response.ts";

/** Options for {@linkcode Http1Client}. */
export interface Http1Options {
  /**
   * Bodies of at most this many bytes (by `Content-Length`) are read whole
   * before the response is returned, freeing the connection at once.
   * @default 1048576
   */
  smallBodyLimit?: number;
  /**
   * Idle connections kept, over all origins; beyond it the one idle longest
   * is closed, so a list spread over thousands of hosts does not hold a
   * socket open for each. Keep it at least the concurrency.
   * @default 256
   */
  maxIdle?: number;
  /**
   * Extra CA certificates (PEM) trusted for `https:`, beside the ones Deno
   * trusts (its root store, `--cert`, `DENO_CERT`).
   * @default undefined
   */
  caCerts?: string[];
}

/** Largest response head accepted. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Statuses whose response never has a body. */
const NO_BODY_STATUSES = new Set([204, 304]);

/** A response that breaks HTTP/1.1's rules. */
export class HttpProtocolError extends Error {
  /** @param message What was wrong. */
  constructor(message: string) {
    super(message);
    this.name = "HttpProtocolError";
  }
}

/** The server closed a kept-alive connection before answering: send again. */
class StaleConnection extends Error {}

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Proxy variables `fetch` honours. */
const PROXY_VARIABLES = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "ALL_PROXY",
  "all_proxy",
];

/**
 * Whether a proxy is configured in a variable this process may read. Deno's
 * `fetch` honours these; this client does not, so it steps aside for them.
 *
 * @returns True when `HTTP_PROXY`, `HTTPS_PROXY` or `ALL_PROXY` (or its lower-case form) is set.
 */
export function proxyInEnvironment(): boolean {
  return PROXY_VARIABLES.some(
    (variable) =>
      Deno.permissions.querySync({ name: "env", variable }).state ===
        "granted" && Boolean(Deno.env.get(variable)),
  );
}

/**
 * Keep-alive HTTP/1.1 GETs for `http:` and `https:` URLs.
 *
 * @example
 * ```ts ignore
 * import { Http1Client } from "./http1.ts";
 * const client = new Http1Client();
 * const response = await client.get(new URL("http://127.0.0.1:8001/flags/br/br.gif"), []);
 * console.log(response.status, (await response.arrayBuffer()).byteLength);
 * client.close();
 * ```
 */
export class Http1Client {
  #idle = new Map<string, Wire[]>();
  /** Every idle connection with its origin, the longest idle first. */
  #idleOrder = new Map<Wire, string>();
  #smallBodyLimit: number;
  #maxIdle: number;
  #caCerts?: string[];
  #closed = false;

  /** @param options Body and pool limits, extra CAs. */
  constructor(options: Http1Options = {}) {
    this.#smallBodyLimit = options.smallBodyLimit ?? 1 << 20;
    this.#maxIdle = options.maxIdle ?? 256;
    this.#caCerts = options.caCerts;
  }

  /**
   * Sends `GET url` with `headers` (plus `Host`) and returns the response
   * once its head has arrived, or its whole body when that is small.
   *
   * @param url An `http:` or `https:` URL.
   * @param headers Request headers.
   * @param signal Aborts the request and its body; the promise or the body
   *   then rejects with the signal's reason.
   * @returns The response; a large body streams from the connection.
   */
  async get(
    url: URL,
    headers: HeaderPairs,
    signal?: AbortSignal,
  ): Promise<Http1Response> {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(
        `Http1Client speaks http: and https:, not ${url.protocol}`,
      );
    }
    signal?.throwIfAborted();
    const origin = `${url.protocol}//${url.hostname}:${portOf(url)}`;
    const request = headBytes(requestHead(url, headers));
    for (;;) {
      const reused = this.#take(origin);
      let wire: Wire;
      try {
        wire = reused ?? await Wire.connect(url, signal, this.#caCerts);
      } catch (error) {
        throw signal?.aborted ? signal.reason : error;
      }
      const stopWatching = wire.closeOnAbort(signal);
      try {
        return await this.#exchange(
          wire,
          origin,
          request,
          reused !== undefined,
          signal,
          stopWatching,
        );
      } catch (error) {
        stopWatching();
        wire.close();
        if (signal?.aborted) throw signal.reason;
        if (error instanceof StaleConnection) continue; // once per idle connection
        throw error;
      }
    }
  }

  /** Closes the idle connections; later requests open new ones. */
  close(): void {
    this.#closed = true;
    for (const wire of this.#idleOrder.keys()) wire.close();
    this.#idle.clear();
    this.#idleOrder.clear();
  }

  /** Idle connections held now (for tests and diagnostics). */
  get idleCount(): number {
    return this.#idleOrder.size;
  }

  #take(origin: string): Wire | undefined {
    const wires = this.#idle.get(origin);
    const wire = wires?.pop();
    if (wires?.length === 0) this.#idle.delete(origin);
    if (wire) this.#idleOrder.delete(wire);
    return wire;
  }

  #release(origin: string, wire: Wire, reusable: boolean): void {
    if (!reusable || this.#closed || wire.buffered() > 0) {
      wire.close(); // extra bytes after a response: the framing cannot be trusted
      return;
    }
    let wires = this.#idle.get(origin);
    if (!wires) this.#idle.set(origin, wires = []);
    wires.push(wire);
    this.#idleOrder.set(wire, origin);
    if (this.#idleOrder.size > this.#maxIdle) {
      const [oldest, itsOrigin] = this.#idleOrder.entries().next().value!;
      this.#idleOrder.delete(oldest);
      const stack = this.#idle.get(itsOrigin)!;
      stack.splice(stack.indexOf(oldest), 1);
      if (stack.length === 0) this.#idle.delete(itsOrigin);
      oldest.close();
    }
  }

  async #exchange(
    wire: Wire,
    origin: string,
    request: Uint8Array,
    reused: boolean,
    signal: AbortSignal | undefined,
    stopWatching: () => void,
  ): Promise<Http1Response> {
    try {
      await wire.writeAll(request);
    } catch (error) {
      if (reused) throw new StaleConnection("write failed", { cause: error });
      throw error;
    }
    let head: ResponseHead;
    for (;;) {
      const bytes = await wire.readHead(reused);
      head = parseHead(bytes);
      if (head.status >= 200) break;
      if (head.status === 101) {
        throw new HttpProtocolError("unexpected 101 Switching Protocols");
      }
      reused = false; // 1xx: an answer has begun, the final head follows
    }
    const framing = bodyFraming(head);
    // A length beside a transfer coding is how requests get smuggled: use
    // the coding for this body, and this connection for nothing else.
    const keepAlive = head.keepAlive && framing.kind !== "close" &&
      !(framing.kind === "chunked" && head.headers.get("content-length"));
    const done = (reusable: boolean) => {
      stopWatching();
      this.#release(origin, wire, reusable && keepAlive);
    };
    if (framing.kind === "none") {
      done(true);
      return new Http1Response(head, { kind: "none" });
    }
    if (framing.kind === "length" && framing.length <= this.#smallBodyLimit) {
      const body = new Uint8Array(framing.length);
      const got = await wire.readFull(body);
      done(got === body.length);
      return got === body.length
        ? new Http1Response(head, { kind: "whole", bytes: body })
        : new Http1Response(head, {
          kind: "cut",
          bytes: body.subarray(0, got),
        });
    }
    return new Http1Response(head, {
      kind: "streamed",
      reader: new BodyReader(wire, framing, done),
      signal,
    });
  }
}

/** How the body ends. */
type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

function requestHead(url: URL, headers: HeaderPairs): string {
  let head =
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  let accept = false;
  let agent = false;
  for (const [name, value] of headers) {
    if (name === "host" || name === "connection") continue;
    if (name === "accept") accept = true;
    if (name === "user-agent") agent = true;
    head += `${name}: ${value}\r\n`;
  }
  if (!accept) head += "accept: */*\r\n";
  if (!agent) head += "user-agent: bulkget\r\n";
  return head + "\r\n";
}

/** The head's bytes: header values are byte strings (one byte per char), as `fetch` sends them. */
function headBytes(head: string): Uint8Array {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(head)) return encoder.encode(head);
  return Uint8Array.from(head, (char) => char.charCodeAt(0));
}

function parseHead(bytes: Uint8Array): ResponseHead {
  const lines = latin1.decode(bytes).split("\r\n");
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!statusLine) {
    throw new HttpProtocolError(
      `malformed status line "${lines[0].slice(0, 80)}"`,
    );
  }
  const headers = new ResponseHeaders();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    const value = line.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name) || !isHeaderValue(value)) {
      throw new HttpProtocolError(
        `malformed header line "${line.slice(0, 80)}"`,
      );
    }
    headers.append(name, value);
  }
  const connection = (headers.get("connection") ?? "").toLowerCase();
  return {
    status: Number(statusLine[2]),
    reason: statusLine[3] ?? "",
    headers,
    keepAlive: statusLine[1] === "1" && !/\bclose\b/.test(connection),
  };
}

function bodyFraming(head: ResponseHead): Framing {
  if (NO_BODY_STATUSES.has(head.status)) return { kind: "none" };
  const transferEncoding = head.headers.get("transfer-encoding");
  if (transferEncoding !== null) {
    const codings = transferEncoding.toLowerCase().split(",").map((c) =>
      c.trim()
    );
    // Only a final "chunked" frames the body; otherwise it runs to the end.
    return codings.at(-1) === "chunked" ? { kind: "chunked" } : {
      kind: "close",
    };
  }
  const contentLength = head.headers.get("content-length");
  if (contentLength === null) return { kind: "close" };
  const values = new Set(contentLength.split(",").map((v) => v.trim()));
  const [value] = values;
  if (values.size !== 1 || !/^\d{1,15}$/.test(value)) {
    throw new HttpProtocolError(`invalid Content-Length "${contentLength}"`);
  }
  return { kind: "length", length: Number(value) };
}

/**
 * Reads one body off its connection in its framing, into the caller's
 * buffers. `done` learns whether the connection may be reused.
 */
class BodyReader implements StreamedBody {
  #wire: Wire;
  #framing: Framing;
  #done: (reusable: boolean) => void;
  #remaining: number;
  #finished = false;
  /** Whether anything has read from the body yet. */
  started = false;

  /**
   * @param wire The connection, positioned at the body.
   * @param framing How the body ends.
   * @param done Called once, when the body ended or failed.
   */
  constructor(
    wire: Wire,
    framing: Framing,
    done: (reusable: boolean) => void,
  ) {
    this.#wire = wire;
    this.#framing = framing;
    this.#done = done;
    this.#remaining = framing.kind === "length" ? framing.length : 0;
  }

  /**
   * Reads the next bytes of the body into `target`.
   *
   * @param target Where the bytes go (any length above 0).
   * @returns How many were placed, or null at the end of the body.
   */
  async readInto(target: Uint8Array): Promise<number | null> {
    this.started = true;
    if (this.#finished) return null;
    try {
      const n = await this.#next(target);
      if (n === null) this.#finish(true);
      return n;
    } catch (error) {
      this.cancel();
      throw error;
    }
  }

  /** Gives up the body: its connection is closed, never reused. */
  cancel(): void {
    if (this.#finished) return;
    this.#finish(false);
    this.#wire.close();
  }

  #finish(reusable: boolean): void {
    this.#finished = true;
    this.#done(reusable);
  }

  async #next(target: Uint8Array): Promise<number | null> {
    const wire = this.#wire;
    switch (this.#framing.kind) {
      case "length":
        return this.#remaining === 0 ? null : await this.#readCounted(target);
      case "close":
        return await wire.readInto(target);
      case "chunked": {
        if (this.#remaining === 0) {
          const size = await wire.readChunkSize();
          if (size === 0) {
            await wire.skipTrailers();
            return null;
          }
          this.#remaining = size;
        }
        const n = await this.#readCounted(target);
        if (this.#remaining === 0) await wire.expectLineEnd();
        return n;
      }
      default:
        return null;
    }
  }

  /** Reads at most what is left of the body's length or of the current chunk. */
  async #readCounted(target: Uint8Array): Promise<number> {
    const n = await this.#wire.readInto(
      target.subarray(0, Math.min(this.#remaining, target.length)),
    );
    if (n === null) throw connectionClosedEarly();
    this.#remaining -= n;
    return n;
  }
}

/** The port of an `http:` or `https:` URL, its scheme's when none is given. */
function portOf(url: URL): number {
  return Number(url.port || (url.protocol === "https:" ? "443" : "80"));
}

/**
 * Reads from a connection; a TLS peer that closes without `close_notify`
 * (common, and harmless where the framing says where the body ends) is the
 * end of the stream, not an error.
 */
async function readConn(
  conn: Deno.Conn,
  target: Uint8Array,
): Promise<number | null> {
  try {
    return await conn.read(target);
  } catch (error) {
    if (error instanceof Deno.errors.UnexpectedEof) return null;
    throw error;
  }
}

/** A TCP or TLS connection with a read buffer. */
class Wire {
  #conn: Deno.Conn;
  #buffer = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  #closed = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /**
   * Opens a connection to `url`'s host and port: TLS for `https:` (HTTP/1.1
   * by ALPN, trusting what Deno trusts plus `caCerts`).
   */
  static async connect(
    url: URL,
    signal?: AbortSignal,
    caCerts?: string[],
  ): Promise<Wire> {
    const hostname = url.hostname.startsWith("[")
      ? url.hostname.slice(1, -1)
      : url.hostname;
    const port = portOf(url);
    if (url.protocol === "http:") {
      return new Wire(await Deno.connect({ hostname, port, signal }));
    }
    // Deno.connectTls takes no signal: an abort rejects at once, and a
    // connection that arrives after it is closed.
    const connecting = Deno.connectTls({
      hostname,
      port,
      caCerts,
      alpnProtocols: ["http/1.1"],
    });
    if (!signal) return new Wire(await connecting);
    signal.throwIfAborted();
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return new Wire(await Promise.race([connecting, aborted]));
    } catch (error) {
      connecting.then((conn) => conn.close(), () => {});
      throw error;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Closes the connection when `signal` aborts; returns a function that stops watching. */
  closeOnAbort(signal: AbortSignal | undefined): () => void {
    if (!signal) return () => {};
    const onAbort = () => this.close();
    signal.addEventListener("abort", onAbort, { once: true });
    return () => signal.removeEventListener("abort", onAbort);
  }

  /** Bytes read from the socket but not yet taken. */
  buffered(): number {
    return this.#end - this.#start;
  }

  async writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      written += await this.#conn.write(bytes.subarray(written));
    }
  }

  /**
   * Reads up to and including the blank line that ends a response head.
   * On a reused connection, an end or reset before any byte is a
   * {@linkcode StaleConnection}.
   */
  async readHead(reused: boolean): Promise<Uint8Array> {
    let searchFrom = this.#start;
    for (;;) {
      const end = findHeadEnd(this.#buffer, searchFrom, this.#end);
      if (end >= 0) {
        const head = this.#buffer.subarray(this.#start, end - 2);
        this.#start = end;
        return head;
      }
      searchFrom = Math.max(this.#start, this.#end - 3);
      if (this.buffered() >= MAX_HEAD_BYTES) {
        throw new HttpProtocolError(
          `response head larger than ${MAX_HEAD_BYTES} bytes`,
        );
      }
      const before = this.#start;
      let more: boolean;
      try {
        more = await this.#fill();
      } catch (error) {
        if (reused && this.buffered() === 0 && isReset(error)) {
          throw new StaleConnection("reset", { cause: error });
        }
        throw error;
      }
      searchFrom -= before - this.#start; // #fill may have moved the bytes
      if (!more) {
        if (reused && this.buffered() === 0) {
          throw new StaleConnection("closed while idle");
        }
        throw connectionClosedEarly();
      }
    }
  }

  /** Fills `target` from the buffer and the socket; returns the bytes placed (fewer at the end of the stream). */
  async readFull(target: Uint8Array): Promise<number> {
    let placed = this.#takeInto(target);
    while (placed < target.length) {
      const n = await readConn(this.#conn, target.subarray(placed));
      if (n === null) break;
      placed += n;
    }
    return placed;
  }

  /** Fills `target` from the buffer if it holds anything, else with one read; null at the end of the stream. */
  async readInto(target: Uint8Array): Promise<number | null> {
    if (this.buffered() > 0) return this.#takeInto(target);
    return await readConn(this.#conn, target);
  }

  /** Reads a chunk-size line (`1a;ext=1`) and returns the size. */
  async readChunkSize(): Promise<number> {
    const line = await this.#readLine();
    const match = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
    if (!match) {
      throw new HttpProtocolError(
        `malformed chunk size "${line.slice(0, 40)}"`,
      );
    }
    return parseInt(match[1], 16);
  }

  /** Reads the CRLF after a chunk's data. */
  async expectLineEnd(): Promise<void> {
    if ((await this.#readLine()) !== "") {
      throw new HttpProtocolError("chunk data longer than its size");
    }
  }

  /** Reads trailer lines up to the blank line that ends a chunked body. */
  async skipTrailers(): Promise<void> {
    while ((await this.#readLine()) !== "");
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed by the runtime
    }
  }

  async #readLine(): Promise<string> {
    for (;;) {
      for (let i = this.#start; i + 1 < this.#end; i++) {
        if (this.#buffer[i] === 13 && this.#buffer[i + 1] === 10) {
          const line = latin1.decode(this.#buffer.subarray(this.#start, i));
          this.#start = i + 2;
          return line;
        }
      }
      if (this.buffered() >= MAX_HEAD_BYTES) {
        throw new HttpProtocolError("line too long in chunked body");
      }
      if (!await this.#fill()) throw connectionClosedEarly();
    }
  }

  #takeInto(target: Uint8Array): number {
    const n = Math.min(target.length, this.buffered());
    target.set(this.#buffer.subarray(this.#start, this.#start + n));
    this.#start += n;
    return n;
  }

  /** Reads more into the buffer (compacting or growing it); false at the end of the stream. */
  async #fill(): Promise<boolean> {
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
    const n = await readConn(this.#conn, this.#buffer.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }
}

/** Index just past the `\r\n\r\n` in `buffer[from, to)`, or -1. */
function findHeadEnd(buffer: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (
      buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 &&
      buffer[i + 3] === 10
    ) return i + 4;
  }
  return -1;
}

function isReset(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted;
}
