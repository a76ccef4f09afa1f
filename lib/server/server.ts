/**
 * `startServer`: the fault-injecting HTTP test server behind `bulkget serve`.
 *
 * ## Routes (GET and HEAD; other methods get 405)
 *
 * | route | answer |
 * |---|---|
 * | `/flags/{cc}/{cc}.gif`, `/flags/{cc}/metadata.json` | the book's flag files (see `files.ts`); unknown codes 404 |
 * | `/files/{size}/{name}` | a generated file of `size` bytes (`k`/`m`/`g` suffixes, at most 64 GiB), streamed (see `files.ts`); `?filename=NAME` adds a `Content-Disposition` |
 * | `/redirect/same/{n}/{path}`, `/redirect/cross/{path}`, `/redirect/loop`, `/redirect/chain/{n}` | redirects (see `redirects.ts`) |
 * | `/auth/basic/{user}/{password}/{path}`, `/auth/cookie/{name}/{value}/{path}` | `{path}`, only with Basic authorization / the cookie (401 / 403 without; see `guards.ts`) |
 * | `GET /stats` | the statistics as JSON (see `stats.ts`); not counted, never faulted |
 * | `POST /stats/reset` (or `GET`) | zeroes the statistics; 204 |
 *
 * Files have a strong `ETag`, a fixed `Last-Modified`, `Accept-Ranges:
 * bytes`, and support one `Range` (206, or 416 with `Content-Range: bytes
 * *\/size`), `If-Range`, `If-None-Match` and `If-Modified-Since` (304); see
 * `ranges.ts`.
 *
 * Each server has two listeners on the same host, sharing the handler, the
 * faults, the random source and the statistics: the main one (`url`) and an
 * alternate one on another free port (`altUrl`), the "other origin" of
 * cross-origin redirects.
 *
 * Faults (see `faults.ts`) apply to every route but `/stats`, drawn from a
 * seeded source in arrival order: the latency first, then a status fault
 * (which replaces the answer), then the body faults.
 *
 * @module
 */

import { corruptBody, faultyBody } from "./body.ts";
import { sleepUnlessAborted } from "../core/sleep.ts";
import {
  addFaults,
  drawFaults,
  type FaultConfig,
  type FaultPlan,
  validateFaults,
} from "./faults.ts";
import {
  BLOCK_SIZE,
  generatedChunk,
  generatedChunks,
  LAST_MODIFIED,
  loadFlags,
  parseGeneratedPath,
  type StaticFile,
} from "./files.ts";
import { type PresetName, PRESETS } from "./presets.ts";
import { createRandom } from "./random.ts";
import { ifRangeMatches, isNotModified, parseRange } from "./ranges.ts";
import { redirectFor } from "./redirects.ts";
import { checkGuards } from "./guards.ts";
import {
  createStats,
  type Listener,
  type RecentRequest,
  type ServerStats,
  type StatsRecorder,
} from "./stats.ts";

export type { FaultConfig } from "./faults.ts";
export type { PresetName } from "./presets.ts";
export type { RecentRequest, ServerStats } from "./stats.ts";

/** Options of {@linkcode startServer}. */
export interface ServerOptions {
  /** The address to listen on (loopback). @default "127.0.0.1" */
  hostname?: string;
  /** The main listener's port; 0 picks a free one. @default 0 */
  port?: number;
  /** A built-in server whose faults to inject (its port is not used). @default none (plain) */
  preset?: PresetName;
  /**
   * Faults combined with the preset's: for each kind these win, but a delay
   * adds to the preset's (see `addFaults`). @default {}
   */
  faults?: FaultConfig;
  /** Seed of the random source every fault draw comes from. @default 1 */
  seed?: number;
  /** The directory holding `country_codes.txt` and `flags/`. @default new URL("../../data/", import.meta.url) */
  dataDir?: string | URL;
  /** How many recent requests `/stats` keeps. @default 100 */
  recentLimit?: number;
  /** Whether to open the alternate listener (`altUrl`); without it `altUrl` is `""` and `/redirect/cross/` answers 404. @default true */
  alt?: boolean;
  /** Closes the server when aborted. @default none */
  signal?: AbortSignal;
}

/** A server started by {@linkcode startServer}. */
export interface RunningServer {
  /** The main listener, e.g. `"http://127.0.0.1:8001"` (no trailing slash). */
  url: string;
  /** The address listened on. */
  hostname: string;
  /** The main listener's port. */
  port: number;
  /** The alternate listener (another port, same handler and statistics), or `""`. */
  altUrl: string;
  /** The faults in effect (preset and `faults` combined). */
  faults: FaultConfig;
  /** A snapshot of the statistics. */
  stats(): ServerStats;
  /** Zeroes the statistics. */
  resetStats(): void;
  /** Stops listening, ends pending pauses, and waits for the listeners to close. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  410: "Gone",
  416: "Range Not Satisfiable",
  425: "Too Early",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Bodies up to this size are built in memory; larger ones are streamed. */
const IN_MEMORY_LIMIT = 1024 * 1024;

/**
 * Starts the test server: the main listener and (by default) the alternate
 * one, with the flag files loaded.
 *
 * @param options See {@linkcode ServerOptions}.
 * @returns The running server.
 * @throws {RangeError} For a bad port, seed, preset, limit or fault.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 * @throws {Deno.errors.NotCapable} When `--allow-net` or `--allow-read` is missing.
 *
 * @example
 * ```ts
 * import { startServer } from "./server.ts";
 * await using server = await startServer({ preset: "ERROR", seed: 7 });
 * const response = await fetch(`${server.url}/flags/br/metadata.json`);
 * await response.body?.cancel();
 * ```
 */
export async function startServer(
  options: ServerOptions = {},
): Promise<RunningServer> {
  const {
    hostname = "127.0.0.1",
    port = 0,
    preset,
    seed = 1,
    dataDir = new URL("../../data/", import.meta.url),
    recentLimit = 100,
    alt = true,
    signal,
  } = options;
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError(`Cannot use hostname: expected a non-empty string`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot use port: expected an integer from 0 to 65535, got ${port}`,
    );
  }
  if (!Number.isFinite(seed)) {
    throw new RangeError(
      `Cannot use seed: expected a finite number, got ${seed}`,
    );
  }
  if (preset !== undefined && !Object.hasOwn(PRESETS, preset)) {
    throw new RangeError(
      `Cannot use preset "${preset}": expected one of ${
        Object.keys(PRESETS).join(", ")
      }`,
    );
  }
  const faults = validateFaults(
    addFaults(preset ? PRESETS[preset].faults : {}, options.faults),
  );
  const stats = createStats(recentLimit);
  signal?.throwIfAborted();
  const flags = await loadFlags(dataDir);

  const closing = new AbortController();
  const context: Context = {
    faults,
    hasFaults: Object.keys(faults).length > 0,
    random: createRandom(seed),
    stats,
    flags,
    closing: closing.signal,
    origins: { main: "", alt: "" },
  };
  const serve = (listener: Listener, p: number) =>
    Deno.serve(
      { hostname, port: p, signal: closing.signal, onListen() {} },
      (request, info) => handle(context, listener, request, info),
    );
  const main = serve("main", port);
  let second: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    if (alt) second = serve("alt", 0);
  } catch (error) {
    closing.abort();
    await main.finished;
    throw error;
  }
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `http://${host}:${main.addr.port}`;
  const altUrl = second ? `http://${host}:${second.addr.port}` : "";
  context.origins = { main: url, alt: altUrl };

  let closed: Promise<void> | undefined;
  const onAbort = () => void close();
  function close(): Promise<void> {
    closed ??= (async () => {
      signal?.removeEventListener("abort", onAbort);
      closing.abort();
      await Promise.all([main.finished, second?.finished]);
    })();
    return closed;
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) await close();

  return {
    url,
    hostname,
    port: main.addr.port,
    altUrl,
    faults,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface Context {
  faults: FaultConfig;
  hasFaults: boolean;
  random: () => number;
  stats: StatsRecorder;
  flags: Map<string, StaticFile>;
  closing: AbortSignal;
  origins: Record<Listener, string>;
}

const NO_FAULTS: FaultPlan = { delayMs: 0, corrupt: false };

async function handle(
  context: Context,
  listener: Listener,
  request: Request,
  info: Deno.ServeHandlerInfo,
): Promise<Response> {
  const url = request.url;
  const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  const q = path.indexOf("?");
  const pathname = q < 0 ? path : path.slice(0, q);
  if (pathname === "/stats" || pathname.startsWith("/stats/")) {
    return statsRoute(context.stats, request.method, pathname);
  }
  const { stats } = context;
  const entry = stats.begin(request.method, path, request.headers, listener);
  const end = () => stats.end();
  info.completed.then(end, end);
  const plan = context.hasFaults
    ? drawFaults(context.faults, context.random)
    : NO_FAULTS;
  if (plan.delayMs > 0) {
    stats.fault(entry, "delay");
    // Not request.signal: reading it makes Deno warn about its legacy abort.
    await sleepUnlessAborted(plan.delayMs, context.closing);
  }
  const head = request.method === "HEAD";
  let response: Response;
  if (plan.status) {
    stats.fault(entry, String(plan.status.status));
    response = statusResponse(plan.status.status, head, plan.status);
  } else if (!head && request.method !== "GET") {
    response = statusResponse(405, false);
    response.headers.set("allow", "GET, HEAD");
  } else {
    response = route(
      context,
      listener,
      request,
      entry,
      plan,
      pathname,
      q < 0 ? "" : path.slice(q),
    );
  }
  stats.answer(entry, response.status);
  return response;
}

function route(
  context: Context,
  listener: Listener,
  request: Request,
  entry: RecentRequest,
  plan: FaultPlan,
  pathname: string,
  search: string,
): Response {
  const head = request.method === "HEAD";
  const guarded = checkGuards(pathname, request.headers);
  if ("status" in guarded) {
    return new Response(null, {
      status: guarded.status,
      headers: { ...guarded.headers, "content-length": "0" },
    });
  }
  pathname = guarded.pathname;
  const flag = context.flags.get(pathname);
  if (flag) {
    return content(context, request, entry, plan, {
      size: flag.body.length,
      etag: flag.etag,
      contentType: flag.contentType,
      slice: (start, end) => flag.body.subarray(start, end),
      pieces: function* (start, end) {
        for (let at = start; at < end; at += BLOCK_SIZE) {
          yield flag.body.subarray(at, Math.min(end, at + BLOCK_SIZE));
        }
      },
    });
  }
  if (pathname.startsWith("/files/")) {
    const file = parseGeneratedPath(pathname);
    if (file) {
      return content(context, request, entry, plan, {
        size: file.size,
        etag: file.etag,
        contentType: "application/octet-stream",
        disposition: dispositionFrom(search),
        slice: (start, end) => generatedChunk(file.name, file.size, start, end),
        pieces: (start, end) =>
          generatedChunks(file.name, file.size, start, end),
      });
    }
  } else if (pathname.startsWith("/redirect/")) {
    const other = context.origins[listener === "main" ? "alt" : "main"];
    const answer = redirectFor(pathname, search, other);
    if (answer && "location" in answer) {
      return new Response(null, {
        status: answer.status,
        headers: { location: answer.location, "content-length": "0" },
      });
    }
    if (answer) {
      return new Response(head ? null : answer.text, {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
  }
  return statusResponse(404, head);
}

interface Content {
  size: number;
  etag: string;
  contentType: string;
  /** A `Content-Disposition` to send, if the query asked for one. */
  disposition?: string;
  /** Bytes [start, end) in memory (at most 1 MiB asked). */
  slice(start: number, end: number): Uint8Array<ArrayBuffer>;
  /** Bytes [start, end) in pieces. */
  pieces(start: number, end: number): Iterator<Uint8Array>;
}

/**
 * `?filename=NAME` on a generated file asks for `Content-Disposition:
 * attachment; filename="NAME"` (and `filename*=UTF-8''…` for non-ASCII), to
 * test clients that name files after it.
 */
function dispositionFrom(search: string): string | undefined {
  const name = new URLSearchParams(search).get("filename");
  if (name === null) return undefined;
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${
    encodeURIComponent(name)
  }`;
}

function content(
  context: Context,
  request: Request,
  entry: RecentRequest,
  plan: FaultPlan,
  file: Content,
): Response {
  const headers: Record<string, string> = {
    "content-type": file.contentType,
    etag: file.etag,
    "last-modified": LAST_MODIFIED,
    "accept-ranges": "bytes",
  };
  if (file.disposition) headers["content-disposition"] = file.disposition;
  const req = request.headers;
  if (isNotModified(req, file.etag, LAST_MODIFIED)) {
    return new Response(null, {
      status: 304,
      headers: { etag: file.etag, "last-modified": LAST_MODIFIED },
    });
  }
  let range = parseRange(req.get("range"), file.size);
  const ifRange = req.get("if-range");
  if (
    range && ifRange !== null &&
    !ifRangeMatches(ifRange, file.etag, LAST_MODIFIED)
  ) {
    range = undefined;
  }
  if (range === "unsatisfiable") {
    headers["content-range"] = `bytes */${file.size}`;
    headers["content-length"] = "0";
    delete headers["content-type"];
    return new Response(null, { status: 416, headers });
  }
  const start = range ? range.start : 0;
  const end = range ? range.end : file.size;
  const length = end - start;
  if (range) {
    headers["content-range"] = `bytes ${start}-${end - 1}/${file.size}`;
  }
  headers["content-length"] = String(length);
  const status = range ? 206 : 200;
  if (request.method === "HEAD") {
    return new Response(null, { status, headers });
  }
  if (length > 0 && context.hasFaults) {
    const faulty = bodyFaults(context.stats, entry, plan, length);
    if (faulty) {
      if (
        faulty.send === length && !faulty.stall && faulty.slow === undefined &&
        length <= IN_MEMORY_LIMIT
      ) {
        const body = corruptBody(file.slice(start, end), faulty.corruptAt!);
        return new Response(body, { status, headers });
      }
      const body = faultyBody(file.pieces(start, end), faulty, context.closing);
      return new Response(body, { status, headers });
    }
  }
  if (length <= IN_MEMORY_LIMIT) {
    return new Response(file.slice(start, end), { status, headers });
  }
  const pieces = file.pieces(start, end);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (context.closing.aborted) return controller.close();
      const next = pieces.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status, headers });
}

function bodyFaults(
  stats: StatsRecorder,
  entry: RecentRequest,
  plan: FaultPlan,
  length: number,
) {
  let send = length;
  let any = false;
  if (plan.reset !== undefined) {
    const after = plan.reset < 0 ? Math.floor(length / 2) : plan.reset;
    if (after < length) {
      send = after;
      stats.fault(entry, "reset");
      any = true;
    }
  } else if (plan.truncate !== undefined) {
    send = Math.max(0, length - plan.truncate);
    stats.fault(entry, "truncate");
    any = true;
  }
  let stall: { ms: number; after: number } | undefined;
  if (plan.stall) {
    stall = { ms: plan.stall.ms, after: Math.min(plan.stall.after, send) };
    stats.fault(entry, "stall");
    any = true;
  }
  if (plan.slow !== undefined) {
    stats.fault(entry, "slow");
    any = true;
  }
  let corruptAt: number | undefined;
  if (plan.corrupt) {
    corruptAt = Math.floor(length / 2);
    if (corruptAt < send) {
      stats.fault(entry, "corrupt");
      any = true;
    } else corruptAt = undefined;
  }
  return any ? { send, stall, slow: plan.slow, corruptAt } : undefined;
}

function statusResponse(
  status: number,
  head: boolean,
  fault?: { retryAfter?: number; retryAfterDate?: boolean },
): Response {
  const text = `${status} ${STATUS_TEXT[status] ?? "Error"}\n`;
  const headers: Record<string, string> = {
    "content-type": "text/plain; charset=utf-8",
  };
  const retryAfter = fault?.retryAfter ?? (status === 429 ? 1 : undefined);
  if (retryAfter !== undefined) {
    headers["retry-after"] = fault?.retryAfterDate
      ? new Date(Math.ceil(Date.now() / 1000 + retryAfter) * 1000).toUTCString()
      : String(retryAfter);
  }
  if (head) headers["content-length"] = String(text.length);
  return new Response(head ? null : text, { status, headers });
}

function statsRoute(
  stats: StatsRecorder,
  method: string,
  pathname: string,
): Response {
  if (pathname === "/stats" && (method === "GET" || method === "HEAD")) {
    return Response.json(stats.snapshot(), {
      headers: { "cache-control": "no-store" },
    });
  }
  if (pathname === "/stats/reset" && (method === "POST" || method === "GET")) {
    stats.reset();
    return new Response(null, { status: 204 });
  }
  return new Response("404 Not Found\n", { status: 404 });
}
