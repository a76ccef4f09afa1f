/**
 * The engine's front door: jobs in, outcomes out, as they complete.
 *
 * Starts the writer Worker, runs {@linkcode fetchOne} over the jobs in a
 * {@linkcode pool} (global and per-host limits), and closes the Worker when
 * the jobs are done, the consumer stops early, or the signal aborts.
 *
 * @module
 */

import type { Job, Outcome } from "../core/job.ts";
import {
  fetchOne,
  type FetchOneOptions,
  type FetchPolicy,
} from "./fetch_one.ts";
import { pool, type PoolOptions } from "./pool.ts";
import { describeNetworkError } from "./classify.ts";
import { AttemptError, ERROR_CODES } from "../core/errors.ts";
import {
  type Durability,
  isMissingOrEmpty,
  openWriter,
  type Writer,
} from "../writer/client.ts";
import { probeAhead } from "./probe_ahead.ts";
import { Http1Client, proxyInEnvironment } from "./http1.ts";
import { rateLimit, wholeBodyLimit } from "./rate_limit.ts";
import { noProxyMatcher, proxyOption, type ProxyRoute } from "./proxy.ts";

/** Options for {@linkcode download}. */
export interface DownloadOptions extends FetchPolicy {
  /** Directory every job's `dest` is relative to. @default "." */
  outDir?: string;
  /** Most downloads in progress at once. @default 16 */
  concurrency?: number;
  /** Most downloads in progress at once from one host (`host:port`). @default Infinity */
  perHost?: number;
  /** Bytes queued for the writer before downloads wait for it. @default 4194304 (4 MiB) */
  maxInFlightBytes?: number;
  /**
   * Called in the job's pool slot before its download, e.g. to name the file
   * after a lookup. A throw ends the job: an `AttemptError` with verdict
   * `not_found` as "not found", anything else as "error".
   * @default undefined
   */
  prepare?: (job: Job, signal?: AbortSignal) => Promise<Job>;
  /**
   * Send requests with bulkget's own HTTP/1.1 client (about three times
   * less CPU per request than `fetch`; HTTP/1.1 only, also over TLS). Off
   * when `client` is given or a proxy variable (`HTTP_PROXY`, `HTTPS_PROXY`,
   * `ALL_PROXY`, lower case too) is set and readable: `fetch` honours them.
   * @default true
   */
  ownHttp?: boolean;
  /**
   * Extra CA certificates (PEM) trusted for `https:`, beside what Deno
   * trusts (its root store, `--cert`, `DENO_CERT`), by either client.
   * @default undefined
   */
  caCerts?: string[];
  /**
   * Most bytes per second for the whole run, all downloads together
   * (`--limit-rate`); `limitRatePerDownload` caps each one on its own.
   * @default undefined (no limit)
   */
  limitRate?: number;
  /**
   * An HTTP proxy URL for every request (`--proxy`; user-info is its Basic
   * authorization), sent with `fetch`; hosts that `noProxy` lists go
   * direct. @default undefined (the environment's proxy variables, if readable)
   */
  proxyUrl?: string;
  /** Hosts that go around `proxyUrl` (`NO_PROXY` syntax; see `proxy.ts`). @default "" */
  noProxy?: string;
  /**
   * What an OK guarantees after a crash or power cut: `"full"` flushes each
   * file and its directory entry before reporting it, `"none"` flushes
   * nothing (see `WriterOptions.durability`).
   * @default "full"
   */
  durability?: Durability;
}

/** Default global concurrency. */
export const DEFAULT_CONCURRENCY = 16;

/**
 * Downloads every job and yields each outcome as soon as it is known.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { download } from "./download.ts";
 * import { startServer } from "../server/server.ts";
 * await using server = await startServer({ alt: false });
 * const outDir = await Deno.makeTempDir();
 * const jobs = [{ url: `${server.url}/flags/br/br.gif`, dest: "br.gif" }];
 * for await (const outcome of download(jobs, { outDir })) {
 *   assert.equal(outcome.status, "ok");
 *   assert.equal(Deno.statSync(`${outDir}/br.gif`).size, outcome.bytes);
 * }
 * await Deno.remove(outDir, { recursive: true });
 * ```
 *
 * @param jobs The jobs, taken lazily.
 * @param options Limits, policy, events and cancellation.
 * @returns The outcomes, in completion order.
 */
export async function* download(
  jobs: AsyncIterable<Job> | Iterable<Job>,
  options: DownloadOptions = {},
): AsyncGenerator<Outcome> {
  const writer: Writer = openWriter({
    outDir: options.outDir ?? ".",
    maxInFlightBytes: options.maxInFlightBytes,
    durability: options.durability,
  });
  const runLimit = options.rateLimit ??
    (options.limitRate ? rateLimit(options.limitRate) : undefined);
  const smallBodyLimit = wholeBodyLimit(options.smallBodyLimit ?? 1 << 20, [
    ...(runLimit ? [runLimit] : []),
    ...(options.limitRatePerDownload
      ? [{ bytesPerSecond: options.limitRatePerDownload }]
      : []),
  ]);
  const { http1, client, proxy, close } = openClients({
    ...options,
    smallBodyLimit,
  });
  // Only server-chosen names can collide: sources give distinct names.
  const claims = options.nameFromResponse
    ? new Map<string, string>()
    : undefined;
  // One options object for every job of the run (the pool hands each call
  // the run's own signal): spreading them per job cost an object of some
  // thirty fields per file.
  const fetchOptions: FetchOneOptions = {
    ...options,
    smallBodyLimit,
    rateLimit: runLimit,
    proxy,
    writer,
    http1,
    client,
    claims,
  };
  const prepare = options.prepare;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  // The download slots, whatever each item carries beside its job.
  const slots = <T>(jobOf: (item: T) => Job): PoolOptions<T> => ({
    poolLimit: concurrency,
    perKeyLimit: options.perHost,
    keyOf: options.perHost === undefined
      ? undefined
      : (item) => new URL(jobOf(item).url).host,
    signal: options.signal,
  });
  try {
    if (probesAhead(options)) {
      // A rerun: the existing files are looked at before each job's turn.
      yield* pool(
        probeAhead(jobs, writer, concurrency, options.signal),
        ({ job, probe }) => fetchOne(job, fetchOptions, probe),
        slots(({ job }) => job),
      );
      return;
    }
    yield* pool(
      jobs,
      prepare === undefined
        ? (job) => fetchOne(job, fetchOptions)
        : async (job, signal) => {
          const began = performance.now();
          try {
            job = await prepare(job, signal);
          } catch (error) {
            return prepareFailed(job, error, signal, began, options);
          }
          return fetchOne(job, fetchOptions);
        },
      slots((job) => job),
    );
  } finally {
    close();
    await writer.close();
  }
}

/**
 * Whether the jobs' first probes run ahead of their downloads
 * (`probe_ahead.ts`): only when the output directory holds something (on
 * an empty one the writer answers a probe without the Worker), each job
 * is probed under its own name (no `prepare`, no server-chosen names), and
 * the policy probes at all.
 */
function probesAhead(options: DownloadOptions): boolean {
  const probes = (options.existing ?? "skip") !== "overwrite" ||
    (options.resume ?? true);
  if (!probes || options.prepare !== undefined || options.nameFromResponse) {
    return false;
  }
  try {
    return !isMissingOrEmpty(options.outDir ?? ".");
  } catch {
    return false; // unreadable: each job's own probe says why
  }
}

/** The clients a run sends through, and how to close what it opened. */
interface RunClients {
  /** The own HTTP/1.1 client, unless `fetch` is the one. */
  http1?: Http1Client;
  /** `fetch`'s client, when it needs one (extra CAs, or the caller's). */
  client?: Deno.HttpClient;
  /** The proxy route (`proxyUrl`). */
  proxy?: ProxyRoute;
  /** Closes what was opened here (not the caller's client). */
  close(): void;
}

/** Opens the clients of a run (see {@linkcode DownloadOptions.ownHttp}). */
function openClients(options: DownloadOptions): RunClients {
  // With --proxy the environment's proxies do not apply: hosts that go
  // direct may use the own client.
  const http1 = options.ownHttp !== false && !options.client &&
      (options.proxyUrl !== undefined || !proxyInEnvironment())
    ? new Http1Client({
      smallBodyLimit: options.smallBodyLimit,
      caCerts: options.caCerts,
      maxIdle: Math.max(256, options.concurrency ?? DEFAULT_CONCURRENCY),
    })
    : undefined;
  // fetch takes extra CAs through a client of its own.
  const client = options.client ??
    (options.caCerts?.length && !http1
      ? Deno.createHttpClient({ caCerts: options.caCerts })
      : undefined);
  const proxy: ProxyRoute | undefined = options.proxyUrl
    ? {
      client: Deno.createHttpClient({
        proxy: proxyOption(options.proxyUrl),
        caCerts: options.caCerts,
      }),
      bypass: noProxyMatcher(options.noProxy ?? ""),
    }
    : undefined;
  return {
    http1,
    client,
    proxy,
    close() {
      http1?.close();
      proxy?.client.close();
      if (client !== options.client) client?.close();
    },
  };
}

/** The outcome of a job whose `prepare` threw (see {@linkcode DownloadOptions.prepare}). */
function prepareFailed(
  job: Job,
  error: unknown,
  signal: AbortSignal | undefined,
  began: number,
  options: DownloadOptions,
): Outcome {
  const notFound = error instanceof AttemptError &&
    error.verdict === "not_found";
  const outcome: Outcome = {
    job,
    status: signal?.aborted ? "cancelled" : notFound ? "not_found" : "error",
    bytes: 0,
    attempts: 1,
    httpStatus: error instanceof AttemptError ? error.status : undefined,
    reason: describeNetworkError(error),
    code: notFound ? ERROR_CODES.notFound : ERROR_CODES.lookup,
    elapsedMs: performance.now() - began,
  };
  options.onEvent?.({ type: "done", outcome });
  return outcome;
}
