/**
 * A scripted HTTP server for tests: a TCP (or TLS) listener on loopback that
 * answers request n (0-based, over all connections) with exactly the bytes
 * the test chooses, when it chooses: late, repeated, trickled, stalled.
 *
 * @module
 */

const text = new TextEncoder();

import { sleep } from "../lib/core/sleep.ts";

function bytesOf(send: string | Uint8Array): Uint8Array {
  if (send instanceof Uint8Array) return send;
  // Latin-1, one byte per character, so tests can send any byte.
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(send)
    ? text.encode(send)
    : Uint8Array.from(send, (c) => c.charCodeAt(0));
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
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
    /** Never answer anything more on this connection. */
    stall?: boolean;
    /** Wait this long before sending. */
    delayMs?: number;
    /** Bytes sent this long after the answer, before the next request is read (late, repeated or unsolicited bytes). */
    later?: { ms: number; send: string | Uint8Array };
    /** Send the answer `bytes` at a time, `everyMs` apart, after its first `after` bytes at once. */
    trickle?: { bytes: number; everyMs: number; after?: number };
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
  const open = new Set<Deno.Conn>();
  const port = (listener.addr as Deno.NetAddr).port;
  const server: ScriptedServer = {
    url: options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    connections: 0,
    requests: [],
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
      await accepting;
    },
  };
  const serve = async (conn: Deno.Conn) => {
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
        // A trickle sends its first `after` bytes (e.g. the head) at once.
        const first = script.trickle?.after ?? 0;
        if (first > 0) await writeAll(conn, bytes.subarray(0, first));
        const piece = script.trickle?.bytes ?? bytes.length;
        for (let at = first; at < bytes.length; at += piece) {
          if (at > first && script.trickle) await sleep(script.trickle.everyMs);
          await writeAll(conn, bytes.subarray(at, at + piece));
        }
        if (script.later) {
          await sleep(script.later.ms);
          await writeAll(conn, bytesOf(script.later.send));
        }
        if (script.stall) await new Promise(() => {}); // never answers more
        if (script.close) return;
      }
    } catch {
      // the client went away
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch { /* closed already */ }
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        server.connections++;
        serve(conn);
      }
    } catch { /* listener closed */ }
  })();
  return server;
}
