/**
 * A scripted HTTP server for tests: a TCP (or TLS) listener on loopback that
 * answers request n (0-based, over all connections) with exactly the bytes
 * the test chooses, when it chooses: late, repeated, trickled, stalled, or
 * cut by a TCP reset.
 *
 * @module
 */

const text = new TextEncoder();

import net from "node:net";
import { sleep } from "../lib/core/sleep.ts";

function bytesOf(send: string | Uint8Array): Uint8Array {
  if (send instanceof Uint8Array) return send;
  // Latin-1, one byte per character, so tests can send any byte.
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(send)
    ? text.encode(send)
    : Uint8Array.from(send, (c) => c.charCodeAt(0));
}

/** The part of a connection the script uses: Deno's, or a node socket's. */
interface RawConn {
  read(into: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
  /** Ends the connection with a TCP RST (node sockets only: Deno has no SO_LINGER). */
  reset?(): void;
}

async function writeAll(conn: RawConn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}

/** What the scripted server does with one request. */
export type Answer =
  | string
  | Uint8Array
  | {
    /** The bytes to send. */
    send: string | Uint8Array;
    /** Close the connection after sending. */
    close?: boolean;
    /** Reset the connection (TCP RST) after sending; only a {@linkcode resettingServer} can. */
    reset?: boolean;
    /** Never answer anything more on this connection. */
    stall?: boolean;
    /** Wait this long before sending. */
    delayMs?: number;
    /** Bytes sent this long after the answer, before the next request is read (late, repeated or unsolicited bytes). */
    later?: { ms: number; send: string | Uint8Array };
    /** Send the answer `bytes` at a time, `everyMs` apart, after its first `after` bytes at once. */
    trickle?: { bytes: number; everyMs: number; after?: number };
    /** Send the answer in pieces cut at these offsets (ascending), a millisecond apart, so each arrives in a read of its own. */
    cuts?: number[];
  };

export interface ScriptedServer extends AsyncDisposable {
  url: string;
  /** Connections accepted so far. */
  connections: number;
  /** Request heads received, in order. */
  requests: string[];
}

/** Test-only TLS material (see tests/fixtures/tls/README.md). */
export const TLS_DIR = new URL("./fixtures/tls/", import.meta.url);
export const tlsFile = (name: string) =>
  Deno.readTextFileSync(new URL(name, TLS_DIR));

/**
 * A TCP server that answers request n (0-based, over all connections) with
 * `answer(n)`; over TLS as `https://localhost:PORT` when `tls` is set.
 */
export function scriptedServer(
  answer: (n: number) => Answer,
  options: { tls?: boolean } = {},
): ScriptedServer {
  const listener = options.tls
    ? Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: tlsFile("cert.pem"),
      key: tlsFile("key.pem"),
    })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<RawConn>();
  const port = (listener.addr as Deno.NetAddr).port;
  const server: ScriptedServer = {
    url: options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    connections: 0,
    requests: [],
    async [Symbol.asyncDispose]() {
      listener.close();
      closeAll(open);
      await accepting;
    },
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        server.connections++;
        serveScript(conn, server, answer, open);
      }
    } catch { /* listener closed */ }
  })();
  return server;
}

/**
 * {@linkcode scriptedServer} over node sockets, which can end a connection
 * with a TCP RST (`reset: true` in an answer), as a crashed or firewalled
 * server does; plain TCP only.
 */
export async function resettingServer(
  answer: (n: number) => Answer,
): Promise<ScriptedServer> {
  const open = new Set<RawConn>();
  const listener = net.createServer((socket) => {
    server.connections++;
    serveScript(nodeConn(socket), server, answer, open);
  });
  await new Promise<void>((listening) =>
    listener.listen(0, "127.0.0.1", listening)
  );
  const { port } = listener.address() as net.AddressInfo;
  const server: ScriptedServer = {
    url: `http://127.0.0.1:${port}`,
    connections: 0,
    requests: [],
    async [Symbol.asyncDispose]() {
      const closed = new Promise((done) => listener.close(done));
      closeAll(open);
      await closed;
    },
  };
  return server;
}

/** A node socket as a {@linkcode RawConn}: reads queue until asked for. */
function nodeConn(socket: net.Socket): RawConn {
  const queue: Uint8Array[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => wake?.();
  socket.on("data", (piece) => {
    queue.push(new Uint8Array(piece));
    notify();
  });
  socket.on("end", () => (ended = true, notify()));
  socket.on("close", () => (ended = true, notify()));
  socket.on("error", (error) => (failure = error, notify()));
  return {
    async read(into) {
      while (queue.length === 0) {
        if (failure) throw failure;
        if (ended) return null;
        await new Promise<void>((woken) => wake = woken);
      }
      const piece = queue[0];
      const n = Math.min(into.length, piece.length);
      into.set(piece.subarray(0, n));
      if (n === piece.length) queue.shift();
      else queue[0] = piece.subarray(n);
      return n;
    },
    write: (bytes) =>
      new Promise((written, failed) =>
        socket.write(
          bytes,
          (error) => error ? failed(error) : written(bytes.length),
        )
      ),
    close: () => socket.destroy(),
    reset: () => socket.resetAndDestroy(),
  };
}

function closeAll(open: Set<RawConn>): void {
  for (const conn of open) {
    try {
      conn.close();
    } catch { /* closed already */ }
  }
}

/** Writes `bytes` at once, or as a trickle that sends its first `after` bytes (e.g. the head) at once. */
async function writeTrickled(
  conn: RawConn,
  bytes: Uint8Array,
  trickle?: { bytes: number; everyMs: number; after?: number },
): Promise<void> {
  const first = trickle?.after ?? 0;
  if (first > 0) await writeAll(conn, bytes.subarray(0, first));
  const piece = trickle?.bytes ?? bytes.length;
  for (let at = first; at < bytes.length; at += piece) {
    if (at > first && trickle) await sleep(trickle.everyMs);
    await writeAll(conn, bytes.subarray(at, at + piece));
  }
}

/** Writes `bytes` in pieces cut at `cuts`, a millisecond apart. */
async function writeCut(
  conn: RawConn,
  bytes: Uint8Array,
  cuts: number[],
): Promise<void> {
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= from || cut > bytes.length) continue;
    if (from > 0) await sleep(1);
    await writeAll(conn, bytes.subarray(from, cut));
    from = cut;
  }
}

/** Reads request heads off `conn` and plays `answer(n)` for each. */
async function serveScript(
  conn: RawConn,
  server: ScriptedServer,
  answer: (n: number) => Answer,
  open: Set<RawConn>,
): Promise<void> {
  open.add(conn);
  const buffer = new Uint8Array(64 * 1024);
  let have = 0;
  try {
    for (;;) {
      let end = -1;
      while (end < 0) {
        end = new TextDecoder().decode(buffer.subarray(0, have)).indexOf(
          "\r\n\r\n",
        );
        if (end >= 0) break;
        const n = await conn.read(buffer.subarray(have));
        if (n === null) return;
        have += n;
      }
      const head = new TextDecoder().decode(buffer.subarray(0, end));
      buffer.copyWithin(0, end + 4, have);
      have -= end + 4;
      const n = server.requests.push(head) - 1;
      const reply = answer(n);
      const script = typeof reply === "string" || reply instanceof Uint8Array
        ? { send: reply }
        : reply;
      if (script.delayMs) await sleep(script.delayMs);
      const bytes = bytesOf(script.send);
      if (script.cuts) await writeCut(conn, bytes, script.cuts);
      else await writeTrickled(conn, bytes, script.trickle);
      if (script.later) {
        await sleep(script.later.ms);
        await writeAll(conn, bytesOf(script.later.send));
      }
      if (script.reset) {
        if (!conn.reset) { // fails the test, not swallowed by the catch below
          void Promise.reject(new Error("reset needs a resettingServer"));
        }
        open.delete(conn);
        return conn.reset?.();
      }
      if (script.stall) await new Promise(() => {}); // never answers more
      if (script.close) return;
    }
  } catch {
    // the client went away
  } finally {
    if (open.delete(conn)) {
      try {
        conn.close();
      } catch { /* closed already */ }
    }
  }
}
