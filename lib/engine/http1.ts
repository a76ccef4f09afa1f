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

import type { HeaderPairs } from "../core/headers.ts";
import { Http1Response, type StreamedBody } from "./http_response.ts";
import type { Framing } from "./http1_parser.ts";
import { BodyDecoder, readFinalHead } from "./http1_reader.ts";
import { Connection, isReset, portOf } from "./http1_connection.ts";
import { bodyMemory } from "./body_slab.ts";
import { HttpProtocolError } from "../core/errors.ts";

export { HttpProtocolError };

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

/** Hooks a caller gives {@linkcode Http1Client.get} to follow an answer's arrival (deadlines). */
export interface ArrivalHooks {
  /** The final response head has arrived. */
  onHead?(): void;
  /** Bytes of a body read before the response is returned have arrived. */
  onBytes?(): void;
}

/**
 * Keep-alive HTTP/1.1 GETs for `http:` and `https:` URLs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http1Client } from "./http1.ts";
 * import { startServer } from "../server/server.ts";
 * await using server = await startServer({ alt: false });
 * const client = new Http1Client();
 * const response = await client.get(new URL(`${server.url}/files/1000/a.bin`), []);
 * assert.equal(response.status, 200);
 * assert.equal((await response.arrayBuffer()).byteLength, 1000);
 * client.close();
 * ```
 */
export class Http1Client {
  #idle = new Map<string, Connection[]>();
  /** Every idle connection with its origin, the longest idle first. */
  #idleOrder = new Map<Connection, string>();
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
   * @param hooks Hear of the head and of small-body bytes as they arrive.
   * @returns The response; a large body streams from the connection.
   */
  async get(
    url: URL,
    headers: HeaderPairs,
    signal?: AbortSignal,
    hooks?: ArrivalHooks,
  ): Promise<Http1Response> {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(
        `Http1Client speaks http: and https:, not ${url.protocol}`,
      );
    }
    signal?.throwIfAborted();
    const origin = `${url.protocol}//${url.hostname}:${portOf(url)}`;
    const request = requestHead(url, headers);
    for (;;) {
      const reused = this.#take(origin);
      let connection: Connection;
      try {
        connection = reused ??
          await Connection.open(url, signal, this.#caCerts);
      } catch (error) {
        throw signal?.aborted ? signal.reason : error;
      }
      const stopWatching = connection.closeOnAbort(signal);
      const receivedBefore = connection.received + connection.buffer.buffered();
      try {
        return await this.#exchange(connection, origin, request, {
          signal,
          hooks,
          stopWatching,
        });
      } catch (error) {
        stopWatching();
        connection.close();
        if (signal?.aborted) throw signal.reason;
        // A kept-alive connection the server closed while idle answers
        // nothing at all: send once more on a new one (a GET is safe to repeat).
        if (
          reused && connection.received === receivedBefore &&
          (isReset(error) || connection.buffer.ended)
        ) continue;
        throw error;
      }
    }
  }

  /** Closes the idle connections; later requests open new ones. */
  close(): void {
    this.#closed = true;
    for (const connection of this.#idleOrder.keys()) connection.close();
    this.#idle.clear();
    this.#idleOrder.clear();
  }

  /** Idle connections held now (for tests and diagnostics). */
  get idleCount(): number {
    return this.#idleOrder.size;
  }

  /** An idle connection to `origin` on which nothing arrived unasked, or undefined. */
  #take(origin: string): Connection | undefined {
    const connections = this.#idle.get(origin);
    for (;;) {
      const connection = connections?.pop();
      if (!connection) break;
      this.#idleOrder.delete(connection);
      if (connection.take()) {
        if (connections!.length === 0) this.#idle.delete(origin);
        return connection;
      }
      connection.close();
    }
    this.#idle.delete(origin);
    return undefined;
  }

  #drop(origin: string, connection: Connection): void {
    if (!this.#idleOrder.delete(connection)) return;
    const stack = this.#idle.get(origin)!;
    stack.splice(stack.indexOf(connection), 1);
    if (stack.length === 0) this.#idle.delete(origin);
    connection.close();
  }

  #release(origin: string, connection: Connection, reusable: boolean): void {
    if (
      !reusable || this.#closed || connection.buffer.buffered() > 0 ||
      connection.buffer.ended
    ) {
      connection.close(); // bytes after a response: the framing cannot be trusted
      return;
    }
    let connections = this.#idle.get(origin);
    if (!connections) this.#idle.set(origin, connections = []);
    connections.push(connection);
    this.#idleOrder.set(connection, origin);
    connection.idle(() => this.#drop(origin, connection));
    if (this.#idleOrder.size > this.#maxIdle) {
      const [oldest, itsOrigin] = this.#idleOrder.entries().next().value!;
      this.#drop(itsOrigin, oldest);
    }
  }

  async #exchange(
    connection: Connection,
    origin: string,
    request: string,
    context: {
      signal: AbortSignal | undefined;
      hooks: ArrivalHooks | undefined;
      stopWatching: () => void;
    },
  ): Promise<Http1Response> {
    await connection.writeHead(request);
    const { head, framing } = await readFinalHead(connection.buffer);
    context.hooks?.onHead?.();
    const done = (reusable: boolean) => {
      context.stopWatching();
      this.#release(origin, connection, reusable && head.keepAlive);
    };
    if (framing.kind === "none") {
      done(true);
      return new Http1Response(head, { kind: "none" }, undefined);
    }
    if (framing.kind === "length" && framing.length <= this.#smallBodyLimit) {
      const body = bodyMemory(framing.length);
      const { buffer } = connection;
      // Most small bodies came with their head: taken without an await.
      const got = buffer.buffered() >= body.length
        ? buffer.takeInto(body)
        : await buffer.readFull(body, context.hooks?.onBytes);
      done(got === body.length);
      return got === body.length
        ? new Http1Response(head, { kind: "whole", bytes: body }, body.length)
        : new Http1Response(head, {
          kind: "cut",
          bytes: body.subarray(0, got),
        }, framing.length);
    }
    return new Http1Response(head, {
      kind: "streamed",
      reader: new BodyReader(connection, framing, done),
      signal: context.signal,
    }, framing.kind === "length" ? framing.length : undefined);
  }
}

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

/**
 * A streamed body read off its connection in its framing, into the caller's
 * buffers. `done` learns whether the connection may be reused.
 */
class BodyReader implements StreamedBody {
  #connection: Connection;
  #decoder: BodyDecoder;
  /** The body runs to the connection's end (no length, not chunked). */
  #toTheEnd: boolean;
  #done: (reusable: boolean) => void;
  #finished = false;
  /** Whether anything has read from the body yet. */
  started = false;

  /**
   * @param connection The connection, positioned at the body.
   * @param framing How the body ends.
   * @param done Called once, when the body ended or failed.
   */
  constructor(
    connection: Connection,
    framing: Framing,
    done: (reusable: boolean) => void,
  ) {
    this.#connection = connection;
    this.#decoder = new BodyDecoder(connection.buffer, framing);
    this.#toTheEnd = framing.kind === "close";
    this.#done = done;
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
      const n = await this.#decoder.readInto(target);
      if (n === null) {
        // Over TLS such a body is whole only after close_notify: without
        // it, its end may be a cut (RFC 9112 §9.8).
        if (this.#toTheEnd && this.#connection.closedWithoutNotify) {
          throw new Error(
            "the TLS connection closed without close_notify, so a body that runs to the connection's end may be cut",
          );
        }
        this.#finish(true);
      }
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
    this.#connection.close();
  }

  #finish(reusable: boolean): void {
    this.#finished = true;
    this.#done(reusable);
  }
}
