/**
 * One TCP or TLS connection of bulkget's own HTTP/1.1 client, with its read
 * buffer and the watch it keeps while idle in the pool.
 *
 * A kept-alive connection may be reused only when nothing is waiting on it:
 * the previous response was read to its exact end, and no byte arrives
 * while it idles. So an idle connection always has a read in flight; if
 * bytes (a repeated or unsolicited response, a body longer than its length)
 * or the end of the stream come while nobody asked, the connection is
 * closed and leaves the pool. When it is taken for a request, that read
 * becomes the first read of the answer, so the watch costs no extra call.
 *
 * @module
 */

import { ReadBuffer } from "./http1_reader.ts";

const encoder = new TextEncoder();
/** Bytes of the buffer a connection encodes its request heads into. */
const HEAD_BUFFER_BYTES = 2048;

/** The port of an `http:` or `https:` URL, its scheme's when none is given. */
export function portOf(url: URL): number {
  return Number(url.port || (url.protocol === "https:" ? "443" : "80"));
}

/** A TCP or TLS connection with a read buffer. */
export class Connection {
  #conn: Deno.Conn;
  /** The connection's read buffer: heads, lines and bodies are read from it. */
  readonly buffer: ReadBuffer;
  #closed = false;
  /** Set while the connection idles in the pool: called when it must leave it. */
  #onIdleActivity?: () => void;
  /** Bytes read from the socket so far (a stale connection sent none since it was taken). */
  #received = 0;
  /** Where request heads are encoded, made at the first (one request at a time). */
  #headBuffer?: Uint8Array;
  /** The TLS peer closed without `close_notify`. */
  #closedWithoutNotify = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    // One async step per socket read (it runs once or twice per file).
    this.buffer = new ReadBuffer(async (target) => {
      let n: number | null;
      try {
        n = await conn.read(target);
      } catch (error) {
        // A TLS peer that closes without `close_notify` (common, and
        // harmless where the framing says where the body ends) is the end
        // of the stream, not an error; a body that runs to the end of the
        // stream is then not known to be whole (see `closedWithoutNotify`).
        if (error instanceof Deno.errors.UnexpectedEof) {
          this.#closedWithoutNotify = true;
          return null;
        }
        throw error;
      }
      if (n !== null) this.#received += n;
      return n;
    });
  }

  /**
   * Opens a connection to `url`'s host and port: TLS for `https:` (HTTP/1.1
   * by ALPN, trusting what Deno trusts plus `caCerts`).
   *
   * @param url An `http:` or `https:` URL.
   * @param signal Aborts the connect.
   * @param caCerts Extra CA certificates (PEM) for TLS.
   * @returns The connection.
   */
  static async open(
    url: URL,
    signal?: AbortSignal,
    caCerts?: string[],
  ): Promise<Connection> {
    const hostname = url.hostname.startsWith("[")
      ? url.hostname.slice(1, -1)
      : url.hostname;
    const port = portOf(url);
    if (url.protocol === "http:") {
      return new Connection(await Deno.connect({ hostname, port, signal }));
    }
    // Deno.connectTls takes no signal: an abort rejects at once, and a
    // connection that arrives after it is closed.
    const connecting = Deno.connectTls({
      hostname,
      port,
      caCerts,
      alpnProtocols: ["http/1.1"],
    });
    if (!signal) return new Connection(await connecting);
    signal.throwIfAborted();
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return new Connection(await Promise.race([connecting, aborted]));
    } catch (error) {
      connecting.then((conn) => conn.close(), () => {});
      throw error;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Bytes read from the socket so far. */
  get received(): number {
    return this.#received;
  }

  /**
   * Whether the TLS peer ended the stream without `close_notify`: the end of
   * a body framed by the connection's end may then be a cut (RFC 9112 §9.8).
   */
  get closedWithoutNotify(): boolean {
    return this.#closedWithoutNotify;
  }

  /** Whether the connection was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Starts the idle watch: any byte or end of stream from now on, while
   * nobody has taken the connection, calls `onActivity` (which should
   * close it and drop it from the pool).
   *
   * @param onActivity Called once, when something arrived unasked.
   */
  idle(onActivity: () => void): void {
    this.#onIdleActivity = onActivity;
    const wake = () => {
      if (this.#onIdleActivity !== onActivity) return; // taken meanwhile
      this.#onIdleActivity = undefined;
      onActivity();
    };
    this.buffer.fill().then(wake, wake);
  }

  /**
   * Takes the connection from the pool for a request.
   *
   * @returns False when something arrived while it idled: close it, do not use it.
   */
  take(): boolean {
    this.#onIdleActivity = undefined;
    return !this.#closed && this.buffer.buffered() === 0 &&
      !this.buffer.ended;
  }

  /**
   * Closes the connection when `signal` aborts.
   *
   * @param signal The request's signal.
   * @returns A function that stops watching.
   */
  closeOnAbort(signal: AbortSignal | undefined): () => void {
    if (!signal) return () => {};
    const onAbort = () => this.close();
    signal.addEventListener("abort", onAbort, { once: true });
    return () => signal.removeEventListener("abort", onAbort);
  }

  /**
   * Writes a request head. Header values are byte strings (one byte per
   * char), as `fetch` sends them. An ASCII head that fits is encoded into
   * the connection's own buffer: a new buffer per request cost about a
   * microsecond, and the connection carries one request at a time (the
   * next is written only after this one's answer).
   *
   * @param head The head, its empty line included.
   */
  async writeHead(head: string): Promise<void> {
    const buffer = this.#headBuffer ??= new Uint8Array(HEAD_BUFFER_BYTES);
    // Read whole into one byte per char: every char was ASCII (any other
    // takes two or more), with no scan of the head first.
    const { read, written } = encoder.encodeInto(head, buffer);
    await this.writeAll(
      read === head.length && written === head.length
        ? buffer.subarray(0, written)
        : latin1Bytes(head),
    );
  }

  /**
   * Writes all of `bytes`.
   *
   * @param bytes The request.
   */
  async writeAll(bytes: Uint8Array): Promise<void> {
    let written = await this.#conn.write(bytes);
    while (written < bytes.length) {
      written += await this.#conn.write(bytes.subarray(written));
    }
  }

  /** Closes the socket (a read in flight then fails, and is ignored). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed by the runtime
    }
  }
}

/** A head's bytes, one per char (a Latin-1 header value, or a long head). */
function latin1Bytes(head: string): Uint8Array {
  const utf8 = encoder.encode(head);
  if (utf8.length === head.length) return utf8;
  return Uint8Array.from(head, (char) => char.charCodeAt(0));
}

/**
 * Whether an error is the peer resetting or closing the connection.
 *
 * @param error What a read or write threw.
 * @returns True for a reset, a broken pipe or an aborted connection.
 */
export function isReset(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted;
}
