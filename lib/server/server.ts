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

import { sleepUnlessAborted } from "../core/sleep.ts";
import {
  addFaults,
  drawFaults,
  type FaultConfig,
  type FaultPlan,
  validateFaults,
} from "./faults.ts";
import { loadFlags } from "./files.ts";
import { type PresetName, PRESETS } from "./presets.ts";
import { createRandom } from "./random.ts";
import { route, type RouteContext } from "./routes.ts";
import {
  createStats,
  type Listener,
  type ServerStats,
  type StatsRecorder,
  statsResponse,
} from "./stats.ts";
import { statusResponse } from "./status_response.ts";

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
  /**
   * Which version of the generated files (`/files/…`) is served: another
   * version has other bytes and another `ETag` at the same URL, as a file
   * changed on a real server (see `versionedName`). @default 0
   */
  contentVersion?: number;
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
 * import assert from "node:assert/strict";
 * import { startServer } from "./server.ts";
 * await using server = await startServer({ faults: { statuses: [{ status: 503, rate: 1 }] } });
 * const response = await fetch(`${server.url}/flags/br/metadata.json`);
 * await response.body?.cancel();
 * assert.equal(response.status, 503); // every response, at rate 1
 * assert.equal(server.stats().requests, 1);
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
  checkOptions(hostname, port, seed, preset);
  const faults = validateFaults(
    addFaults(preset ? PRESETS[preset].faults : {}, options.faults),
  );
  const stats = createStats(recentLimit);
  signal?.throwIfAborted();
  const closing = new AbortController();
  const context: Context = {
    faults,
    hasFaults: Object.keys(faults).length > 0,
    random: createRandom(seed),
    stats,
    flags: await loadFlags(dataDir),
    closing: closing.signal,
    origins: { main: "", alt: "" },
    contentVersion: options.contentVersion ?? 0,
  };
  const { main, second } = await listen(context, hostname, port, alt, closing);
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

function checkOptions(
  hostname: unknown,
  port: number,
  seed: number,
  preset: string | undefined,
): void {
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
}

/** Opens the main listener and, with `alt`, the alternate one. */
async function listen(
  context: Context,
  hostname: string,
  port: number,
  alt: boolean,
  closing: AbortController,
) {
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
  return { main, second };
}

/** What every request's handler shares: one per server, both listeners. */
interface Context extends RouteContext {
  faults: FaultConfig;
  hasFaults: boolean;
  random: () => number;
  stats: StatsRecorder;
  closing: AbortSignal;
}

const NO_FAULTS: FaultPlan = { delayMs: 0, corrupt: false };

/**
 * Handles one request: counts it, draws its faults, waits out the latency,
 * then answers with the status fault, a 405, or the route's answer.
 */
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
    return statsResponse(context.stats, request.method, pathname);
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
    const search = q < 0 ? "" : path.slice(q);
    response = route(context, listener, request, pathname, search, {
      ...context,
      plan,
      entry,
    });
  }
  stats.answer(entry, response.status);
  return response;
}
