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
  TRUST_HINT,
} from "./classify.ts";
import {
  type BackoffOptions,
  parseRetryAfter,
  retry,
  RetryError,
} from "./retry.ts";
import {
  type AttemptDeadline,
  DEADLINE_DEFAULTS,
  type Deadlines,
  startDeadline,
} from "./deadline.ts";
import {
  DEFAULT_MAX_REDIRECTS,
  followRedirects,
  type SendRequest,
} from "./redirect.ts";
import { HEADER_NAME, type HeaderPairs, isHeaderValue } from "./headers.ts";
import type { Writer } from "../writer/client.ts";
import type { Http1Client } from "./http1.ts";
import { HttpProtocolError } from "./http1_parser.ts";
import {
  framedLength,
  type HeaderLookup,
  Http1Response,
  type HttpResponse,
  ResponseHeaders,
} from "./http_response.ts";
import {
  judgeRange,
  partMeta,
  planResume,
  resumeHeaders,
  type ResumePlan,
} from "./resume.ts";
import { streamToFile } from "./body_sink.ts";
import { escapeControls } from "../core/printable.ts";
import { redactUrl } from "../core/redact.ts";
import { claimDestination, type DestinationClaims } from "./claims.ts";
import type { ValidatorStore } from "../writer/validators.ts";
import type {
  Expectation,
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
  /**
   * Which job writes which file, shared by the jobs of a run; used with
   * `nameFromResponse`, so a server-chosen name never takes another job's
   * file. @default undefined
   */
  claims?: DestinationClaims;
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
    const owner = options.claims &&
      claimDestination(options.claims, job.dest, job.url);
    if (owner) {
      return finish("error", {
        reason: `${job.dest} is written by another download of this run (${
          redactUrl(owner)
        }, named so by its server)`,
      });
    }
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

/**
 * One attempt, as its steps: plan (resume or not) → request (following
 * redirects) → judge the status → judge the range → write the body → seal.
 */
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
    const plan = planResume(part, job.url);
    const headers = [
      ...requestHeaders(options.headers, job.headers),
      ...resumeHeaders(plan, conditional),
    ];
    const response = await request(job.url, headers, deadline, options);
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
    await judgeStatus(response, plan, job.dest, options.writer);
    const length = framedLength(response);
    const range = judgeRange(response.status, response.headers, length, plan);
    if (range.kind === "restart" || range.kind === "refused") {
      await response.body?.cancel();
      if (range.kind === "restart") await discardPart(job.dest, options.writer);
      throw new AttemptError(range.reason, "retryable", {
        status: response.status,
        retryAfterMs: range.kind === "restart" ? 0 : undefined,
      });
    }
    const start = range.kind === "resumed" ? range.start : 0;
    const expected = range.kind === "resumed" ? range.length : length;
    const total = range.kind === "resumed"
      ? range.total
      : length === undefined
      ? undefined
      : length;
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
    const dest = await destinationFromResponse(job, response, options);
    const record = validatorsToRecord(response.headers, options);

    if (
      start === 0 && expected !== undefined &&
      expected <= (options.smallBodyLimit ?? 1 << 20)
    ) {
      const body = await readSmallBody(response, expected, deadline);
      if (body.byteLength !== expected) {
        throw new AttemptError(
          `truncated body: got ${body.byteLength} of ${expected} bytes`,
          "retryable",
        );
      }
      options.onEvent?.({ type: "bytes", job, bytes: body.byteLength, total });
      const written = await options.writer.put(dest, body, expect, record)
        .catch(verifyFailure);
      return { ...written, status: response.status, dest };
    }

    const meta = partMeta(job.url, response.headers, total) ??
      (range.kind === "resumed" ? part?.meta : undefined);
    if (response.body === null) {
      throw new AttemptError("response has no body", "retryable");
    }
    const partPath = await options.writer.prepare(dest, start, meta);
    let keepPart = meta !== undefined;
    try {
      const received = await streamToFile(response, partPath, {
        deadline,
        maxSize: maxSize - start,
        onBytes: (bytes) =>
          options.onEvent?.({ type: "bytes", job, bytes, total }),
      });
      // The body ended by its framing with another length than announced:
      // the server's word on where its bytes belong cannot be trusted.
      if (expected !== undefined && received !== expected) {
        keepPart = false;
        throw new AttemptError(
          `${
            received < expected
              ? "truncated body"
              : "body longer than announced"
          }: got ${received} of ${expected} bytes`,
          "retryable",
        );
      }
    } catch (error) {
      const failure = bodyFailure(error, deadline.signal);
      await options.writer.release(
        dest,
        keepPart && failure.verdict === "retryable",
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
 * Judges a non-2xx status: a 416 to a resume drops the `.part` and
 * restarts; anything else becomes the attempt's error with its verdict.
 */
async function judgeStatus(
  response: HttpResponse,
  plan: ResumePlan,
  dest: string,
  writer: Writer,
): Promise<void> {
  const verdict = classifyStatus(response.status);
  if (verdict === "ok") return;
  await response.body?.cancel();
  if (response.status === 416 && plan.offset > 0) {
    await discardPart(dest, writer);
    throw new AttemptError(
      "HTTP error 416 - resume refused, restarting",
      "retryable",
      { status: 416, retryAfterMs: 0 },
    );
  }
  throw new AttemptError(
    `HTTP error ${response.status} - ${escapeControls(response.statusText)}`,
    verdict,
    {
      status: response.status,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
    },
  );
}

/**
 * The file an answer goes to: the job's, or the name its server gives
 * (`nameFromResponse`), claimed before a byte is written; a name that
 * another job of the run writes, or a file that exists (without
 * `existing: "overwrite"`), is refused.
 */
async function destinationFromResponse(
  job: Job,
  response: HttpResponse,
  options: FetchOneOptions,
): Promise<string> {
  const named = options.nameFromResponse?.(job, asHeaders(response.headers));
  if (named === undefined || named === job.dest) return job.dest;
  const refuse = async (why: string) => {
    await response.body?.cancel();
    throw new AttemptError(
      `Content-Disposition name ${JSON.stringify(named)} ${why}`,
      "fatal",
    );
  };
  const claims = options.claims ?? new Map();
  const owner = claimDestination(claims, named, job.url);
  if (owner) {
    return await refuse(`is already used by ${redactUrl(owner)}`);
  }
  const probe = await options.writer.probe(named);
  if (probe.finalSize !== undefined && options.existing !== "overwrite") {
    claims.delete(named);
    return await refuse("exists; not overwritten without --force");
  }
  return named;
}

/** The response's validators, when the policy records them (`--update`). */
function validatorsToRecord(
  headers: HeaderLookup,
  options: FetchOneOptions,
): Validators | undefined {
  const etag = headers.get("etag") ?? undefined;
  const lastModified = headers.get("last-modified") ?? undefined;
  return options.validators && (etag || lastModified)
    ? { etag, lastModified }
    : undefined;
}

/**
 * The policy's headers with the job's over them, as pairs with lower-case
 * names (a `Headers` object per attempt cost more than the request itself).
 */
function requestHeaders(
  policy: Record<string, string> | undefined,
  job: Record<string, string> | undefined,
): HeaderPairs {
  // Bodies are saved as sent: never ask for a content coding (`fetch`
  // would otherwise ask for gzip and br and decode them, the own client not).
  const byName = new Map<string, string>([["accept-encoding", "identity"]]);
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

/**
 * Sends the request with the chosen client, following redirects by hand
 * (`redirect.ts`); the own client tells the deadline when the head and the
 * bytes of a small body arrive.
 */
async function request(
  url: string,
  headers: HeaderPairs,
  deadline: AttemptDeadline,
  options: FetchOneOptions,
): Promise<HttpResponse> {
  const signal = deadline.signal;
  const hooks = {
    onHead: () => deadline.headersArrived(),
    onBytes: () => deadline.activity(),
  };
  const send: SendRequest = async (current, hopHeaders) => {
    try {
      const response = options.http1 && !options.client &&
          (current.protocol === "http:" || current.protocol === "https:")
        ? await options.http1.get(current, hopHeaders, signal, hooks)
        : await fetch(current, {
          headers: hopHeaders,
          redirect: "manual",
          signal,
          client: options.client,
        });
      refuseFraming(response);
      return response;
    } catch (error) {
      throw networkFailure(error, signal);
    }
  };
  return await followRedirects(
    url,
    headers,
    send,
    options.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
  );
}

/**
 * Applies the own client's framing rules to `fetch`'s answers too: a
 * transfer coding other than `chunked`, or one beside `Content-Length`, is
 * refused (`fetch` would read it and keep the connection for the next file).
 */
function refuseFraming(response: HttpResponse): void {
  if (response instanceof Http1Response) return;
  const codings = response.headers.get("transfer-encoding");
  if (codings === null) return;
  if (response.headers.get("content-length") !== null) {
    void response.body?.cancel();
    throw new HttpProtocolError(
      "refused: Content-Length beside Transfer-Encoding (ambiguous framing)",
      false,
    );
  }
  if (codings.trim().toLowerCase() !== "chunked") {
    void response.body?.cancel();
    throw new HttpProtocolError(
      `unsupported Transfer-Encoding "${
        escapeControls(codings.slice(0, 80))
      }" (bulkget decodes only chunked)`,
      false,
    );
  }
}

/** A standard `Headers` for callers that want one (e.g. `nameFromResponse`). */
function asHeaders(headers: HeaderLookup): Headers {
  return headers instanceof ResponseHeaders
    ? headers.toHeaders()
    : headers as Headers;
}

/**
 * Reads a body of known, small length whole. The own client has read it
 * already (telling the deadline of each read); `fetch`'s is read piece by
 * piece so every piece pushes the idle deadline back, into a buffer of the
 * announced length, never more.
 */
async function readSmallBody(
  response: HttpResponse,
  length: number,
  deadline: AttemptDeadline,
): Promise<Uint8Array> {
  try {
    if (response instanceof Http1Response || response.body === null) {
      return new Uint8Array(await response.arrayBuffer());
    }
    const body = new Uint8Array(length);
    let got = 0;
    for await (const piece of response.body) {
      deadline.activity();
      if (got + piece.length > length) {
        await response.body.cancel().catch(() => {});
        throw new AttemptError(
          `body longer than announced: over ${length} bytes`,
          "retryable",
        );
      }
      body.set(piece, got);
      got += piece.length;
    }
    return body.subarray(0, got);
  } catch (error) {
    throw bodyFailure(error, deadline.signal);
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
  // A certificate that does not verify, or an answer bulkget will not
  // decode, is the same on the next attempt.
  const fatal = !signal.aborted &&
    ((error instanceof HttpProtocolError && !error.retryable) ||
      describeNetworkError(error).includes(TRUST_HINT));
  return new AttemptError(
    describeNetworkError(cause),
    fatal ? "fatal" : "retryable",
    { cause: error },
  );
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
