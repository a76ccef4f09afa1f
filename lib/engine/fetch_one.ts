/**
 * One job, several attempts: request, follow redirects, judge the response,
 * stream the body to the writer, and retry what is worth retrying.
 *
 * Never throws: every failure becomes an {@linkcode Outcome}, like the
 * book's `Result(status, cc)`.
 *
 * @module
 */

import type { Job, Outcome, OutcomeStatus } from "./job.ts";
import type { EventListener } from "./events.ts";
import {
  AttemptError,
  classifyStatus,
  describeNetworkError,
} from "./classify.ts";
import {
  type BackoffOptions,
  parseRetryAfter,
  retry,
  RetryError,
} from "./retry.ts";
import {
  DEADLINE_DEFAULTS,
  type Deadlines,
  startDeadline,
} from "./deadline.ts";
import {
  DEFAULT_MAX_REDIRECTS,
  headersForHop,
  redirectTarget,
} from "./redirect.ts";
import { HEADER_NAME, type HeaderPairs, isHeaderValue } from "./headers.ts";
import type { Writer } from "../writer/client.ts";
import type { Http1Client } from "./http1.ts";
import {
  type DirectBody,
  directBody,
  type HeaderLookup,
  type HttpResponse,
  ResponseHeaders,
} from "./http_response.ts";
import type { ValidatorStore } from "../writer/validators.ts";
import type {
  Expectation,
  PartMeta,
  ProbeResult,
  Validators,
  WrittenFile,
} from "../writer/protocol.ts";

/** How a job is fetched: retries, deadlines, headers, limits, events. */
export interface FetchPolicy {
  /** Attempts after the first, for retryable failures. @default 5 */
  retries?: number;
  /** Backoff between attempts. @default BACKOFF_DEFAULTS */
  backoff?: BackoffOptions;
  /** Connect, idle and total deadlines per attempt. @default DEADLINE_DEFAULTS */
  deadlines?: Partial<Deadlines>;
  /** Headers sent with every request (a job's own headers win). */
  headers?: Record<string, string>;
  /** Most redirect hops per request. @default 10 */
  maxRedirects?: number;
  /** Largest body accepted, in bytes; larger is a fatal error. @default Infinity */
  maxSize?: number;
  /**
   * What to do when the final file already exists: `"skip"` it when it
   * matches the job's size and checksum (when known), or `"overwrite"` it.
   * @default "skip"
   */
  existing?: "skip" | "overwrite" | "update";
  /**
   * ETag / Last-Modified remembered from earlier runs, by destination, for
   * `existing: "update"` (a conditional GET: 304 means unchanged). When
   * given, the validators of every file written are recorded for the next
   * run (the writer appends them to the output directory's state file).
   * @default undefined
   */
  validators?: ValidatorStore;
  /**
   * Names the file from the response (e.g. its `Content-Disposition`);
   * returns a safe destination, or undefined to keep the job's. Turns resume
   * off, since the name is only known once the response arrives.
   * @default undefined
   */
  nameFromResponse?: (job: Job, headers: Headers) => string | undefined;
  /** Continue a `.part` left by an earlier run with `Range` / `If-Range`. @default true */
  resume?: boolean;
  /**
   * Compute every written file's SHA-256 for its outcome, even when the job
   * has no checksum to check (the JSON report lists it). Off, an outcome's
   * `sha256` is `""` unless the job gave one; checksums given are always
   * checked. Hashing is most of the CPU a large file costs.
   * @default true
   */
  digest?: boolean;
  /** Bodies of at most this many bytes (by `Content-Length`) are read whole and written in one go. @default 1048576 */
  smallBodyLimit?: number;
  /** Receives started, bytes, retrying and done events. */
  onEvent?: EventListener;
  /** Cancels the job: it ends as "cancelled", keeping a resumable `.part`. */
  signal?: AbortSignal;
  /** HTTP client for `fetch` (connection pool settings). */
  client?: Deno.HttpClient;
  /** Waits between attempts; replaceable so tests need not wait. @default sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Options for {@linkcode fetchOne}: the policy and where bodies go. */
export interface FetchOneOptions extends FetchPolicy {
  /** Where bodies go. */
  writer: Writer;
  /** Sends `http:` and `https:` requests instead of `fetch` (unless `client` is given). */
  http1?: Http1Client;
}

/** What one successful attempt produced. */
interface AttemptResult extends WrittenFile {
  /** The response's status. */
  status: number;
  /** Where the file went (the job's, or the name the response gave). */
  dest: string;
  /** A conditional GET found the file unchanged (304). */
  notModified?: boolean;
}

/** Default attempts after the first for general downloads. */
export const DEFAULT_RETRIES = 5;

/**
 * Downloads one job to disk, with retries.
 *
 * @param job What to download.
 * @param options Writer, policy and cancellation.
 * @returns The job's outcome; never rejects.
 */
export async function fetchOne(
  job: Job,
  options: FetchOneOptions,
): Promise<Outcome> {
  const began = performance.now();
  const retries = options.retries ?? DEFAULT_RETRIES;
  let attempts = 0;
  let httpStatus: number | undefined;
  const finish = (
    status: OutcomeStatus,
    extra: Partial<Outcome> = {},
  ): Outcome => {
    const outcome: Outcome = {
      job,
      status,
      bytes: 0,
      attempts,
      httpStatus,
      elapsedMs: performance.now() - began,
      ...extra,
    };
    options.onEvent?.({ type: "done", outcome });
    return outcome;
  };

  try {
    const resume = (options.resume ?? true) && !options.nameFromResponse;
    const existing = options.existing ?? "skip";
    let probe = existing !== "overwrite" || resume
      ? await options.writer.probe(job.dest)
      : {};
    let conditional: Validators | undefined;
    if (probe.finalSize !== undefined && existing === "skip") {
      const kept = await keptFile(job, probe.finalSize, options.writer);
      if (kept) {
        return finish("skipped", { bytes: kept.bytes, sha256: kept.sha256 });
      }
    } else if (probe.finalSize !== undefined && existing === "update") {
      conditional = options.validators?.get(job.dest);
    }
    options.onEvent?.({ type: "started", job });
    try {
      const written = await retry(async (n) => {
        attempts = n;
        if (n > 1 && resume) probe = await options.writer.probe(job.dest);
        return await attempt(
          job,
          resume ? probe.part : undefined,
          conditional,
          options,
        );
      }, {
        ...options.backoff,
        maxAttempts: retries + 1,
        isRetriable: (error) =>
          error instanceof AttemptError && error.verdict === "retryable",
        retryAfter: (error) =>
          error instanceof AttemptError ? error.retryAfterMs : undefined,
        onRetry: ({ attempt, error, delayMs }) => {
          httpStatus = (error as AttemptError).status ?? httpStatus;
          options.onEvent?.({
            type: "retrying",
            job,
            attempt,
            reason: (error as Error).message,
            delayMs,
          });
        },
        signal: options.signal,
        sleep: options.sleep,
      });
      if (written.notModified) {
        return finish("not_modified", {
          bytes: probe.finalSize ?? 0,
          httpStatus: written.status,
        });
      }
      if (written.dest !== job.dest) job = { ...job, dest: written.dest };
      return finish("ok", {
        bytes: written.bytes,
        sha256: written.sha256,
        httpStatus: written.status,
      });
    } catch (error) {
      if (options.signal?.aborted) {
        return finish("cancelled", { reason: "interrupted" });
      }
      const failure = error instanceof RetryError ? error.cause : error;
      if (!(failure instanceof AttemptError)) throw failure; // writer trouble or a bug: below
      httpStatus = failure.status ?? httpStatus;
      return finish(
        failure.verdict === "not_found" ? "not_found" : "error",
        { reason: failure.message },
      );
    }
  } catch (error) {
    // A missing permission stops the run (the CLI prints one line, exit 2);
    // anything else here comes from the writer: the disk refused.
    if (error instanceof Deno.errors.NotCapable) throw error;
    if (error instanceof Error && error.name === "NotCapable") {
      throw new Deno.errors.NotCapable(error.message);
    }
    return finish("error", {
      reason: `write failed: ${describeNetworkError(error)}`,
    });
  }
}

/** The existing final file when it is complete (size and checksum as known), else undefined. */
async function keptFile(
  job: Job,
  size: number,
  writer: Writer,
): Promise<WrittenFile | undefined> {
  if (job.size !== undefined && size !== job.size) return undefined;
  if (job.sha256 === undefined) return { bytes: size, sha256: "" };
  try {
    return await writer.verify(job.dest, {
      size: job.size,
      sha256: job.sha256,
    });
  } catch {
    return undefined; // wrong bytes: download again
  }
}

/** One attempt: request (following redirects), judge, and write the body. */
async function attempt(
  job: Job,
  part: ProbeResult["part"],
  conditional: Validators | undefined,
  options: FetchOneOptions,
): Promise<AttemptResult> {
  const deadline = startDeadline(
    { ...DEADLINE_DEFAULTS, ...options.deadlines },
    options.signal,
  );
  try {
    const headers = requestHeaders(options.headers, job.headers);
    const validator = part?.meta?.url === job.url
      ? part.meta.etag ?? part.meta.lastModified
      : undefined;
    const offset = validator !== undefined && part!.size > 0 ? part!.size : 0;
    if (offset > 0) {
      headers.push(["range", `bytes=${offset}-`], ["if-range", validator!]);
    } else if (conditional?.etag) {
      headers.push(["if-none-match", conditional.etag]);
    } else if (conditional?.lastModified) {
      headers.push(["if-modified-since", conditional.lastModified]);
    }

    const response = await request(job.url, headers, deadline.signal, options);
    deadline.headersArrived();
    if (response.status === 304 && conditional) {
      await response.body?.cancel();
      return {
        notModified: true,
        status: 304,
        dest: job.dest,
        bytes: 0,
        sha256: "",
      };
    }
    const verdict = classifyStatus(response.status);
    if (verdict !== "ok") {
      await response.body?.cancel();
      if (response.status === 416 && offset > 0) {
        await discardPart(job.dest, options.writer);
        throw new AttemptError(
          "HTTP error 416 - resume refused, restarting",
          "retryable",
          {
            status: 416,
            retryAfterMs: 0,
          },
        );
      }
      throw new AttemptError(
        `HTTP error ${response.status} - ${response.statusText}`,
        verdict,
        {
          status: response.status,
          retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
        },
      );
    }

    const length = contentLength(response.headers);
    const resumed = offset > 0 && response.status === 206 &&
      rangeStart(response.headers) === offset;
    if (offset > 0 && response.status === 206 && !resumed) {
      await response.body?.cancel();
      await discardPart(job.dest, options.writer);
      throw new AttemptError(
        "server answered an unexpected range, restarting",
        "retryable",
        {
          status: 206,
          retryAfterMs: 0,
        },
      );
    }
    const start = resumed ? offset : 0;
    const total = length === undefined ? undefined : start + length;
    const maxSize = options.maxSize ?? Infinity;
    if (total !== undefined && total > maxSize) {
      await response.body?.cancel();
      throw new AttemptError(
        `too big: ${total} bytes is over --max-size ${maxSize}`,
        "fatal",
      );
    }
    const expect: Expectation = {
      size: job.size ?? total,
      sha256: job.sha256,
      digest: options.digest ?? true,
    };
    const dest = options.nameFromResponse?.(job, asHeaders(response.headers)) ??
      job.dest;
    const etag = response.headers.get("etag") ?? undefined;
    const lastModified = response.headers.get("last-modified") ?? undefined;
    const record = options.validators && (etag || lastModified)
      ? { etag, lastModified }
      : undefined;

    if (
      !resumed && length !== undefined &&
      length <= (options.smallBodyLimit ?? 1 << 20)
    ) {
      const body = await readSmallBody(response, deadline.signal);
      if (body.byteLength !== length) {
        throw new AttemptError(
          `truncated body: got ${body.byteLength} of ${length} bytes`,
          "retryable",
        );
      }
      options.onEvent?.({ type: "bytes", job, bytes: body.byteLength, total });
      const written = await options.writer.put(dest, body, expect, record)
        .catch(verifyFailure);
      return { ...written, status: response.status, dest };
    }

    const resumable = (etag !== undefined || lastModified !== undefined) &&
      response.headers.get("accept-ranges") === "bytes";
    const meta: PartMeta | undefined = resumable
      ? { url: job.url, etag, lastModified, total }
      : undefined;
    if (response.body === null) {
      throw new AttemptError("response has no body", "retryable");
    }
    const partPath = await options.writer.prepare(dest, start, meta);
    let received: number;
    try {
      received = await streamToFile(response, partPath, {
        deadline,
        maxSize: maxSize - start,
        onBytes: (bytes) =>
          options.onEvent?.({ type: "bytes", job, bytes, total }),
      });
      if (length !== undefined && received !== length) {
        throw new AttemptError(
          `truncated body: got ${received} of ${length} bytes`,
          "retryable",
        );
      }
    } catch (error) {
      const failure = bodyFailure(error, deadline.signal);
      await options.writer.release(
        dest,
        resumable && failure.verdict === "retryable",
      );
      throw failure;
    }
    const written = await options.writer.seal(dest, expect, record)
      .catch(verifyFailure);
    return { ...written, status: response.status, dest };
  } finally {
    deadline.dispose();
  }
}

/**
 * The policy's headers with the job's over them, as pairs with lower-case
 * names (a `Headers` object per attempt cost more than the request itself).
 */
function requestHeaders(
  policy: Record<string, string> | undefined,
  job: Record<string, string> | undefined,
): HeaderPairs {
  const byName = new Map<string, string>();
  for (const layer of [policy, job]) {
    if (!layer) continue;
    for (const name in layer) {
      const value = String(layer[name]).trim();
      if (!HEADER_NAME.test(name) || !isHeaderValue(value)) {
        throw new AttemptError(
          `invalid request header ${JSON.stringify(name)}`,
          "fatal",
        );
      }
      byName.set(name.toLowerCase(), value);
    }
  }
  return [...byName];
}

/** Sends the request and follows redirects by hand, dropping credentials across origins. */
async function request(
  url: string,
  headers: HeaderPairs,
  signal: AbortSignal,
  options: FetchOneOptions,
): Promise<HttpResponse> {
  const first = new URL(url);
  const seen = new Set([first.href]);
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let current = first;
  for (let hop = 0;; hop++) {
    let response: HttpResponse;
    try {
      const hopHeaders = headersForHop(headers, first, current);
      response = options.http1 && !options.client &&
          (current.protocol === "http:" || current.protocol === "https:")
        ? await options.http1.get(current, hopHeaders, signal)
        : await fetch(current, {
          headers: hopHeaders,
          redirect: "manual",
          signal,
          client: options.client,
        });
    } catch (error) {
      throw networkFailure(error, signal);
    }
    const next = redirectTarget(response, current);
    if (next === undefined) return response;
    await response.body?.cancel();
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new AttemptError(
        `redirect to unsupported scheme ${next.protocol}`,
        "fatal",
      );
    }
    if (seen.has(next.href)) {
      throw new AttemptError(`redirect loop after ${hop + 1} hops`, "fatal");
    }
    if (hop + 1 > maxRedirects) {
      throw new AttemptError(
        `too many redirects (more than ${maxRedirects})`,
        "fatal",
      );
    }
    seen.add(next.href);
    current = next;
  }
}

/** How often a streamed body's file is looked at for progress and deadlines. */
const STREAM_WATCH_MS = 200;

/**
 * Writes a response's body into the `.part` at `path` (appending), returning
 * the bytes written. A `fetch` body is piped, which the runtime does from
 * the socket to the file without JavaScript per chunk; a body of bulkget's
 * own client is read into one reused buffer and written from it (a stream
 * of new buffers took twice the time and memory). Progress, the idle
 * deadline and the size limit follow the bytes read (own client) or the
 * file's size, looked at every {@linkcode STREAM_WATCH_MS} (fetch's pipe).
 */
async function streamToFile(
  response: HttpResponse,
  path: string,
  watch: {
    deadline: ReturnType<typeof startDeadline>;
    maxSize: number;
    onBytes: (bytes: number) => void;
  },
): Promise<number> {
  const file = await Deno.open(path, { write: true, append: true });
  const start = (await file.stat()).size;
  const stop = new AbortController();
  let seen = start;
  let tooBig: AttemptError | undefined;
  const look = (size: number) => {
    if (size > seen) {
      watch.deadline.activity();
      watch.onBytes(size - seen);
      seen = size;
    }
    if (size - start > watch.maxSize && !tooBig) {
      tooBig = new AttemptError(
        `too big: over --max-size ${watch.maxSize + start} bytes`,
        "fatal",
      );
      stop.abort(tooBig);
    }
  };
  const direct = directBody(response);
  // A direct copy reports its reads; only fetch's pipe needs the file watched.
  const timer = direct ? undefined : setInterval(() => {
    Deno.stat(path).then((info) => look(info.size), () => {});
  }, STREAM_WATCH_MS);
  try {
    if (direct) {
      // Bytes count as they are read (they reach the file a buffer later).
      let read = start;
      await copyDirect(direct, file, () => tooBig, (n) => look(read += n));
    } else {
      await response.body!.pipeTo(file.writable, {
        signal: AbortSignal.any([stop.signal, watch.deadline.signal]),
        preventAbort: true,
      });
    }
  } catch (error) {
    // Bytes already read may still be queued for the file: aborting it would
    // drop them, so let them land and a resume starts after them.
    await file.writable.close().catch(() => {});
    throw tooBig ?? error;
  } finally {
    clearInterval(timer);
    try {
      file.close();
    } catch {
      // pipeTo has closed it already
    }
  }
  const size = (await Deno.stat(path)).size;
  look(size);
  if (tooBig) throw tooBig;
  return size - start;
}

/**
 * Buffer of a body copied by {@linkcode copyDirect}: filled by several socket
 * reads (about 124 KiB each on loopback) before one write, because each
 * async file write is a hand-off to another thread. The buffers of all
 * copies in the process share a 16 MiB budget, so memory stays flat at any
 * concurrency.
 */
const DIRECT_BUFFER = { max: 4 << 20, min: 256 << 10, budget: 16 << 20 };
/** Bodies being copied by {@linkcode copyDirect} now, in this process. */
let directCopies = 0;

/** Longest a byte read by {@linkcode copyDirect} waits in memory before it is written. */
const DIRECT_FLUSH_MS = 100;

/**
 * Copies a body of bulkget's own HTTP client into `file` through one reused
 * buffer (its connection closes on the attempt's deadline, failing the
 * read). Bytes are written when the buffer is full, and at least every
 * {@linkcode DIRECT_FLUSH_MS} while reads go on, so what arrived is on disk
 * even while the server stalls (and a resume after a crash starts after
 * it). `onRead` hears of every read, so progress and the idle deadline see
 * bytes as they arrive.
 */
async function copyDirect(
  body: DirectBody,
  file: Deno.FsFile,
  stopped: () => Error | undefined,
  onRead: (bytes: number) => void,
): Promise<void> {
  directCopies++;
  const share = Math.floor(DIRECT_BUFFER.budget / directCopies);
  const buffer = new Uint8Array(
    Math.max(DIRECT_BUFFER.min, Math.min(DIRECT_BUFFER.max, share)),
  );
  let filled = 0; // bytes of buffer read
  let handed = 0; // bytes of buffer given to a write
  // Writes run one after another (the file is appended to), while the next
  // reads fill the rest of the buffer.
  let writes: Promise<void> = Promise.resolve();
  // Caught at once (a rejection nobody awaits yet would end the process)
  // and thrown by drain().
  let writeFailure: unknown;
  const handOver = () => {
    if (handed === filled) return;
    const piece = buffer.subarray(handed, filled);
    handed = filled;
    writes = writes.then(async () => {
      if (writeFailure !== undefined) return;
      let written = 0;
      while (written < piece.length) {
        written += await file.write(piece.subarray(written));
      }
    }).catch((error) => {
      writeFailure ??= error;
    });
  };
  const drain = async () => {
    handOver();
    await writes;
    if (writeFailure !== undefined) throw writeFailure;
  };
  const timer = setInterval(handOver, DIRECT_FLUSH_MS);
  try {
    for (;;) {
      const reason = stopped();
      if (reason) {
        body.cancel();
        throw reason;
      }
      const n = await body.readInto(buffer.subarray(filled));
      if (n === null) break;
      onRead(n);
      filled += n;
      if (filled === buffer.length) {
        await drain();
        filled = handed = 0;
      }
    }
    await drain();
  } catch (error) {
    await drain().catch(() => {});
    throw error;
  } finally {
    clearInterval(timer);
    directCopies--;
  }
}

/** A standard `Headers` for callers that want one (e.g. `nameFromResponse`). */
function asHeaders(headers: HeaderLookup): Headers {
  return headers instanceof ResponseHeaders
    ? headers.toHeaders()
    : headers as Headers;
}

async function readSmallBody(
  response: HttpResponse,
  signal: AbortSignal,
): Promise<Uint8Array> {
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw bodyFailure(error, signal);
  }
}

/** Removes a `.part` whose resume the server refused. */
async function discardPart(dest: string, writer: Writer): Promise<void> {
  await writer.release(dest, false);
}

function networkFailure(error: unknown, signal: AbortSignal): AttemptError {
  if (error instanceof AttemptError) return error;
  // A missing --allow-net is not a network problem: it stops the whole run.
  if (error instanceof Deno.errors.NotCapable) throw error;
  const cause = signal.aborted ? signal.reason : error;
  return new AttemptError(describeNetworkError(cause), "retryable", {
    cause: error,
  });
}

function bodyFailure(error: unknown, signal: AbortSignal): AttemptError {
  if (error instanceof AttemptError) return error;
  if (error instanceof Error && error.name === "WriterCrashed") {
    return new AttemptError(error.message, "fatal", { cause: error });
  }
  return networkFailure(error, signal);
}

/** A size or checksum mismatch is worth another download (the bytes may have been damaged on the way). */
function verifyFailure(error: unknown): never {
  if (error instanceof Error && error.name === "VerifyError") {
    throw new AttemptError(error.message, "retryable", { cause: error });
  }
  throw error;
}

function contentLength(headers: HeaderLookup): number | undefined {
  const value = headers.get("content-length");
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

function rangeStart(headers: HeaderLookup): number | undefined {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(
    headers.get("content-range") ?? "",
  );
  return match ? Number(match[1]) : undefined;
}
