/**
 * One job, several attempts: request, follow redirects, judge the response,
 * stream the body to the writer, and retry what is worth retrying.
 *
 * Never throws: every failure becomes an {@linkcode Outcome}, like the
 * book's `Result(status, cc)`.
 *
 * @module
 */

import type { Job, Outcome, OutcomeStatus } from "../core/job.ts";
import type { EventListener } from "../core/events.ts";
import {
  AttemptError,
  bodyFailure,
  classifyStatus,
  describeNetworkError,
  statusCode,
  verifyFailure,
} from "./classify.ts";
import { ERROR_CODES } from "../core/errors.ts";
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
import type { Writer } from "../writer/client.ts";
import type { Http1Client } from "./http1.ts";
import {
  framedLength,
  type HeaderLookup,
  type HttpResponse,
} from "./http_response.ts";
import {
  dropPart,
  judgeRange,
  keepsPart,
  partMeta,
  planResume,
  resumeHeaders,
  type ResumePlan,
} from "./resume.ts";
import { readSmallBody, streamToFile } from "./body_sink.ts";
import {
  judgeLengthCheck,
  lengthCheckHeaders,
  planExisting,
} from "./existing.ts";
import { request, requestHeaders } from "./request.ts";
import { pace, type RateLimit, rateLimit } from "./rate_limit.ts";
import { mirrorUrls, nextMirrorMayHelp } from "./mirrors.ts";
import { remoteTime } from "./remote_time.ts";
import {
  continuesSplit,
  fetchSplit,
  resumeSplit,
  splitMeta,
  type SplitPolicy,
  type SplitSwitch,
} from "./segmented.ts";
import type { ProxyRoute } from "./proxy.ts";
import { escapeControls } from "../core/printable.ts";
import { redactUrl } from "../core/redact.ts";
import {
  claimDestination,
  type DestinationClaims,
  destinationFromResponse,
} from "./claims.ts";
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
  /**
   * Credential headers for a request's URL (`.netrc`, cookies; see
   * `credentials.ts`); `headers` and the job's headers win over them. Like
   * every credential, dropped on a redirect to another origin.
   * @default undefined
   */
  credentials?: (url: URL) => Record<string, string>;
  /** Most redirect hops per request. @default 10 */
  maxRedirects?: number;
  /** Largest body accepted, in bytes; larger is a fatal error. @default Infinity */
  maxSize?: number;
  /**
   * What to do when the final file already exists: `"skip"` it when it is
   * complete (the state file's record, the job's size and checksums, or the
   * server's length; see `existing.ts`), `"update"` it by a conditional GET,
   * or `"overwrite"` it.
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
  /**
   * Give each written file the server's `Last-Modified` as its modification
   * time (see `remote_time.ts`). @default true
   */
  remoteTime?: boolean;
  /** Bodies of at most this many bytes (by `Content-Length`) are read whole and written in one go. @default 1048576 */
  smallBodyLimit?: number;
  /**
   * Which job writes which file, shared by the jobs of a run; used with
   * `nameFromResponse`, so a server-chosen name never takes another job's
   * file. @default undefined
   */
  claims?: DestinationClaims;
  /**
   * A rate limit shared by every download of the run (`--limit-rate`);
   * see {@linkcode rateLimit}. @default undefined (no limit)
   */
  rateLimit?: RateLimit;
  /** Bytes per second for each download on its own (`--max-download-limit`). @default undefined (no limit) */
  limitRatePerDownload?: number;
  /**
   * Fetch large files as ranges over several connections (`--split`; see
   * `segmented.ts`). @default undefined (one connection per file)
   */
  split?: SplitPolicy;
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
  /** Sends through a proxy, except the hosts it lets go direct (`--proxy`). */
  proxy?: ProxyRoute;
}

/** What one successful attempt produced. */
interface AttemptResult extends WrittenFile {
  /** The response's status. */
  status: number;
  /** Where the file went (the job's, or the name the response gave). */
  dest: string;
  /** A conditional GET found the file unchanged (304). */
  notModified?: boolean;
  /** The server's file has the existing final file's length: it is kept. */
  sameLength?: boolean;
  /** The server's file has another length: fetch it whole. */
  lengthDiffers?: boolean;
}

/** What an attempt asks about the existing final file, if anything. */
interface Existing {
  /** Its validators, for a conditional GET (`--update`). */
  conditional?: Validators;
  /** Its size, to ask whether the server's file has that length. */
  lengthCheck?: number;
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
        code: ERROR_CODES.nameTaken,
        reason: `${job.dest} is written by another download of this run (${
          redactUrl(owner)
        }, named so by its server)`,
      });
    }
    const plan = await planExisting(
      job,
      probe,
      existing,
      options.writer,
      options.validators,
    );
    if (plan.kind === "kept") {
      return finish("skipped", {
        bytes: plan.file.bytes,
        sha256: plan.file.sha256,
      });
    }
    const { conditional } = plan;
    let lengthCheck = plan.lengthCheck;
    options.onEvent?.({ type: "started", job });
    // One budget per download, across its attempts.
    const limits = [
      ...(options.rateLimit ? [options.rateLimit] : []),
      ...(options.limitRatePerDownload
        ? [rateLimit(options.limitRatePerDownload)]
        : []),
    ];
    const urls = mirrorUrls(job);
    const split: SplitSwitch | undefined = (options.split?.connections ?? 1) > 1
      ? { policy: options.split!, on: true }
      : undefined;
    let tried = 0;
    try {
      let written: AttemptResult | undefined;
      for (let m = 0; written === undefined; m++) {
        const url = urls[m];
        tried = m + 1;
        const before = attempts;
        if (m > 0 && resume) probe = await options.writer.probe(job.dest);
        try {
          written = await retry(async (n) => {
            attempts = before + n;
            if (n > 1 && resume) probe = await options.writer.probe(job.dest);
            const once = () =>
              attempt(
                m === 0 ? job : { ...job, url },
                resume ? probe.part : undefined,
                { conditional, lengthCheck },
                options,
                limits,
                urls,
                split,
              );
            const result = await once();
            if (!result.lengthDiffers) return result;
            // Not the server's length: the whole file, by a new request.
            lengthCheck = undefined;
            return await once();
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
                attempt: before + attempt,
                reason: (error as Error).message,
                delayMs,
              });
            },
            signal: options.signal,
            sleep: options.sleep,
          });
        } catch (error) {
          const failure = error instanceof RetryError ? error.cause : error;
          if (
            m + 1 >= urls.length || options.signal?.aborted ||
            !nextMirrorMayHelp(failure)
          ) throw error;
          const reason = (failure as AttemptError).message;
          httpStatus = (failure as AttemptError).status ?? httpStatus;
          // Said without the URLs: they may hold credentials.
          options.onEvent?.({
            type: "retrying",
            job,
            attempt: attempts + 1,
            reason: `mirror ${
              m + 1
            } of ${urls.length}: ${reason}; trying mirror ${m + 2}`,
            delayMs: 0,
          });
        }
      }
      if (written.sameLength) {
        return finish("skipped", { bytes: probe.finalSize!, sha256: "" });
      }
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
        {
          code: failure.code,
          reason: urls.length === 1
            ? failure.message
            : tried === urls.length
            ? `${failure.message} (every mirror failed; this was the last of ${urls.length})`
            : `${failure.message} (mirror ${tried} of ${urls.length}; a fatal failure, the others were not tried)`,
        },
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
      code: ERROR_CODES.write,
      reason: `write failed: ${describeNetworkError(error)}`,
    });
  }
}

/**
 * One attempt, as its steps: plan (resume or not) → request (following
 * redirects) → judge the status → judge the range → write the body → seal.
 */
async function attempt(
  job: Job,
  part: ProbeResult["part"],
  existing: Existing,
  options: FetchOneOptions,
  limits: readonly RateLimit[],
  urls: readonly string[],
  split?: SplitSwitch,
): Promise<AttemptResult> {
  if (continuesSplit(part, urls)) {
    const written = await resumeSplit(job, part!.meta!, options, limits, split);
    return { ...written, status: 206, dest: job.dest };
  }
  const { conditional } = existing;
  const deadline = startDeadline(
    { ...DEADLINE_DEFAULTS, ...options.deadlines },
    options.signal,
  );
  try {
    const plan = planResume(part, job.resumeKey ?? urls);
    // A `.part` to resume says more than the length of the final file.
    const lengthCheck = plan.offset === 0 ? existing.lengthCheck : undefined;
    const headers = [
      ...requestHeaders(
        options.credentials
          ? { ...options.credentials(new URL(job.url)), ...options.headers }
          : options.headers,
        job.headers,
      ),
      ...(lengthCheck === undefined
        ? resumeHeaders(plan, conditional)
        : lengthCheckHeaders(lengthCheck)),
    ];
    const response = await request(job.url, headers, deadline, options);
    deadline.headersArrived();
    const lengthVerdict = lengthCheck === undefined
      ? "answer"
      : judgeLengthCheck(response.status, response.headers, lengthCheck);
    if (lengthVerdict !== "answer") {
      await response.body?.cancel();
      return {
        sameLength: lengthVerdict === "same",
        lengthDiffers: lengthVerdict === "differs",
        status: response.status,
        dest: job.dest,
        bytes: 0,
        sha256: "",
      };
    }
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
      if (range.kind === "restart") await dropPart(job.dest, options.writer);
      throw new AttemptError(range.reason, "retryable", {
        code: ERROR_CODES.range,
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
        { code: ERROR_CODES.tooBig },
      );
    }
    const expect: Expectation = {
      size: job.size ?? total,
      sha256: job.sha256,
      checksum: job.checksum,
      digest: options.digest ?? true,
      mtime: options.remoteTime === false
        ? undefined
        : remoteTime(response.headers),
    };
    const dest = await destinationFromResponse(job, response, options);
    const record = validatorsToRecord(response.headers, options);
    const ranged = splitMeta(
      split,
      partMeta(job.url, response.headers, total),
      response.status,
    );
    if (ranged) {
      const run = { job, dest, expect, record, options, limits, split: split! };
      const written = await fetchSplit(run, ranged, { response, deadline });
      return { ...written, status: response.status, dest };
    }

    if (
      start === 0 && expected !== undefined &&
      expected <= (options.smallBodyLimit ?? 1 << 20)
    ) {
      const body = await readSmallBody(response, expected, deadline);
      // Read whole already: the next read of the run (or retry) waits instead.
      await pace(limits, body.byteLength, { signal: deadline.signal })
        .catch((error) => {
          throw bodyFailure(error, deadline.signal);
        });
      if (body.byteLength !== expected) {
        throw new AttemptError(
          `truncated body: got ${body.byteLength} of ${expected} bytes`,
          "retryable",
          { code: ERROR_CODES.length },
        );
      }
      options.onEvent?.({
        type: "bytes",
        job,
        bytes: body.byteLength,
        total,
        offset: 0,
      });
      const written = await options.writer.put(dest, body, expect, record)
        .catch(verifyFailure);
      return { ...written, status: response.status, dest };
    }

    const meta = partMeta(job.resumeKey ?? job.url, response.headers, total) ??
      (range.kind === "resumed" ? part?.meta : undefined);
    if (response.body === null) {
      throw new AttemptError("response has no body", "retryable", {
        code: ERROR_CODES.length,
      });
    }
    const partPath = await options.writer.prepare(dest, start, meta);
    let offset = start;
    try {
      const received = await streamToFile(response, partPath, {
        deadline,
        maxSize: maxSize - start,
        limits,
        onBytes: (bytes) => {
          options.onEvent?.({ type: "bytes", job, bytes, total, offset });
          offset += bytes;
        },
      });
      // The body ended by its framing with another length than announced:
      // the server's word on where its bytes belong cannot be trusted.
      if (expected !== undefined && received !== expected) {
        throw new AttemptError(
          `${
            received < expected
              ? "truncated body"
              : "body longer than announced"
          }: got ${received} of ${expected} bytes`,
          "retryable",
          { code: ERROR_CODES.length },
        );
      }
    } catch (error) {
      const failure = bodyFailure(error, deadline.signal);
      await options.writer.release(dest, keepsPart(meta, failure));
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
    await dropPart(dest, writer);
    throw new AttemptError(
      "HTTP error 416 - resume refused, restarting",
      "retryable",
      { status: 416, retryAfterMs: 0, code: ERROR_CODES.range },
    );
  }
  throw new AttemptError(
    `HTTP error ${response.status} - ${escapeControls(response.statusText)}`,
    verdict,
    {
      code: statusCode(response.status),
      status: response.status,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
    },
  );
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
