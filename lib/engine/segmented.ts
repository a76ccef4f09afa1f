/**
 * Segmented downloads (`--split N`, as aria2c's `-s`/`-x`): a large file
 * whose server takes ranges is fetched as up to N ranges over N connections
 * at once, into one `.part` that the writer Worker writes at positions.
 *
 * - Which files: the answer to the plain request is a `200` with a known
 *   length, `Accept-Ranges: bytes` and a validator (`ETag` or
 *   `Last-Modified`), and every range would be at least `minSize` bytes
 *   (so the file is at least twice that). Anything else is one download
 *   over one connection.
 * - That first answer carries the first range: its body is read up to the
 *   first range's end, then dropped. The other ranges are asked for with
 *   `Range` and `If-Range` and judged by `range_answer.ts`.
 * - Each range is retried on its own (from where it stopped) as an attempt
 *   is; a range that fails for good stops the others, and the download's
 *   `.part` keeps what was written when a later attempt may continue it.
 * - The ranges written are recorded beside the `.part` (`split_files.ts`),
 *   so a later attempt or run asks only for what is missing, when the
 *   validators and the complete length still agree (else it starts over).
 * - The whole file is verified (size, checksums) before its rename, as any.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import type {
  Expectation,
  PartMeta,
  Validators,
  WrittenFile,
} from "../writer/protocol.ts";
import { DEFAULT_RETRIES, type FetchOneOptions } from "./policy.ts";
import type { HttpResponse } from "./http_response.ts";
import { framedLength, placedUntilFailure } from "./http_response.ts";
import {
  type AttemptDeadline,
  DEADLINE_DEFAULTS,
  startDeadline,
} from "./deadline.ts";
import { verifyFailure } from "./classify.ts";
import { keepsSplitPart } from "./resume.ts";
import { retry, type RetryOptions } from "./retry.ts";
import { request, requestHeaders } from "./request.ts";
import type { RateLimit } from "./rate_limit.ts";
import { judgeRangeAnswer, rangeHeaders } from "./range_answer.ts";
import { copyRange } from "./range_copy.ts";
import { remoteTime } from "./remote_time.ts";
import {
  AttemptError,
  ERROR_CODES,
  RetryError,
  SplitAbort,
} from "../core/errors.ts";

/** How downloads are split (`--split`, `--min-split-size`). */
export interface SplitPolicy {
  /** Most ranges, each over its own connection, per file. */
  connections: number;
  /** Fewest bytes per range: a file is split only when at least twice this. @default 20 MiB */
  minSize?: number;
}

/** Default of {@linkcode SplitPolicy.minSize}: 20 MiB, as aria2c's `--min-split-size`. */
export const DEFAULT_MIN_SPLIT_SIZE = 20 << 20;

/**
 * One download's split: the policy, and whether ranges may still be used
 * (a server that answered a range with other bytes, or with the whole file,
 * gets one connection from then on).
 */
export interface SplitSwitch {
  /** The run's policy. */
  policy: SplitPolicy;
  /** Ranges may be used. */
  on: boolean;
}

/**
 * The ranges a file of `total` bytes is split into: as many as the policy
 * allows with every range at least `minSize`; undefined when fewer than two.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planRanges } from "./segmented.ts";
 * assert.deepEqual(planRanges(100, { connections: 4, minSize: 30 }), [[0, 33], [33, 66], [66, 100]]);
 * assert.equal(planRanges(50, { connections: 4, minSize: 30 }), undefined);
 * ```
 *
 * @param total The file's size.
 * @param policy The split policy.
 * @returns The ranges as `[start, end)`, or undefined.
 */
export function planRanges(
  total: number,
  policy: SplitPolicy,
): [number, number][] | undefined {
  const minSize = Math.max(1, policy.minSize ?? DEFAULT_MIN_SPLIT_SIZE);
  const count = Math.min(policy.connections, Math.floor(total / minSize));
  if (count < 2) return undefined;
  return Array.from({ length: count }, (_, i) => [
    Math.floor(total * i / count),
    Math.floor(total * (i + 1) / count),
  ]);
}

/**
 * The resume facts of a new segmented download, when the first answer
 * allows one (see the module's rules); undefined for one connection.
 *
 * @param split The download's split, if any.
 * @param meta The answer's resume facts (undefined when it gave no
 *   validator or takes no ranges).
 * @param status The answer's status.
 * @returns The facts with the ranges, all empty.
 */
export function splitMeta(
  split: SplitSwitch | undefined,
  meta: PartMeta | undefined,
  status: number,
): PartMeta | undefined {
  if (!split?.on || status !== 200 || meta?.total === undefined) {
    return undefined;
  }
  const ranges = planRanges(meta.total, split.policy);
  return ranges && { ...meta, split: { ranges, done: ranges.map(() => 0) } };
}

/**
 * Whether a `.part` left by an earlier attempt or run is a segmented one
 * that may be continued: it came from one of the job's URLs.
 *
 * @param part The `.part` the writer found.
 * @param urls The job's URLs.
 * @returns True to continue its ranges.
 */
export function continuesSplit(
  part: { size: number; meta?: PartMeta } | undefined,
  urls: readonly string[],
): boolean {
  const meta = part?.meta;
  return meta?.split !== undefined && meta.total !== undefined &&
    urls.includes(meta.url) && (meta.etag ?? meta.lastModified) !== undefined;
}

/** What a segmented download needs beside its facts. */
export interface SplitRun {
  /** The job (its URL is asked, its headers sent). */
  job: Job;
  /** Where the file goes. */
  dest: string;
  /** What the whole file must match before its rename. */
  expect: Expectation;
  /** Validators to record with the file (`--update`). */
  record?: Validators;
  /** The policy and clients of the download. */
  options: FetchOneOptions;
  /** The download's rate limits. */
  limits: readonly RateLimit[];
  /** The download's split (turned off when the server cannot be trusted). */
  split: SplitSwitch;
}

/**
 * Downloads a file as ranges into one `.part` and seals it.
 *
 * @param run The job, destination, policy.
 * @param meta The resume facts with the ranges (`meta.split`).
 * @param first The answer that began the download (new downloads only):
 *   it carries the first range.
 * @returns The written file.
 * @throws {AttemptError} When a range failed for good (the `.part` kept
 *   when it may be continued), or the file changed (dropped).
 */
export async function fetchSplit(
  run: SplitRun,
  meta: PartMeta,
  first?: { response: HttpResponse; deadline: AttemptDeadline },
): Promise<WrittenFile> {
  const { writer } = run.options;
  const stop = new AbortController();
  // Bytes of the file on disk or received, over all ranges: each progress
  // event's offset, so the bar's remaining bytes are the file's.
  const present = { bytes: meta.split!.done.reduce((a, b) => a + b, 0) };
  const signal = run.options.signal
    ? AbortSignal.any([stop.signal, run.options.signal])
    : stop.signal;
  let failure: unknown;
  try {
    await writer.startSplit(run.dest, meta, first !== undefined);
    await Promise.all(
      meta.split!.ranges.map((_, i) =>
        fetchRange(run, meta, i, i === 0 ? first : undefined, signal, present)
          .catch((error) => {
            failure ??= error instanceof RetryError ? error.cause : error;
            stop.abort(failure);
          })
      ),
    );
  } catch (error) {
    failure ??= error;
    // The first answer was never read: let its connection go.
    await first?.response.body?.cancel().catch(() => {});
  }
  if (failure === undefined) {
    return await writer.seal(run.dest, run.expect, run.record)
      .catch(verifyFailure);
  }
  if (failure instanceof SplitAbort && failure.oneConnection) {
    run.split.on = false;
  }
  await writer.release(run.dest, keepsSplitPart(failure));
  throw failure;
}

/**
 * Continues the ranges of a segmented `.part` left by an earlier attempt
 * or run (see {@linkcode continuesSplit}); what it needs of an answer
 * (validators, the file's time) comes from its recorded facts.
 *
 * @param job The job.
 * @param meta The `.part`'s resume facts, with its ranges.
 * @param options The download's policy.
 * @param limits Its rate limits.
 * @param split Its split, if the run splits.
 * @returns The written file.
 */
export function resumeSplit(
  job: Job,
  meta: PartMeta,
  options: FetchOneOptions,
  limits: readonly RateLimit[],
  split: SplitSwitch | undefined,
): Promise<WrittenFile> {
  const validators = { etag: meta.etag, lastModified: meta.lastModified };
  return fetchSplit({
    job,
    dest: job.dest,
    expect: {
      size: job.size ?? meta.total,
      sha256: job.sha256,
      checksum: job.checksum,
      digest: options.digest ?? true,
      mtime: options.remoteTime === false ? undefined : remoteTime({
        get: (name) =>
          name === "last-modified" ? meta.lastModified ?? null : null,
      }),
    },
    record: options.validators ? validators : undefined,
    options,
    limits,
    split: split ??
      { policy: { connections: meta.split!.ranges.length }, on: true },
  }, meta);
}

/** Fetches what is missing of range `i`, retrying it on its own. */
async function fetchRange(
  run: SplitRun,
  meta: PartMeta,
  i: number,
  first: { response: HttpResponse; deadline: AttemptDeadline } | undefined,
  stop: AbortSignal,
  present: { bytes: number },
): Promise<void> {
  const { options } = run;
  const split = meta.split!;
  const [start, end] = split.ranges[i];
  if (start + split.done[i] >= end) return;
  const watchFor = (deadline: AttemptDeadline) => ({
    deadline,
    limits: run.limits,
    stop,
    onBytes: (bytes: number) => {
      options.onEvent?.({
        type: "bytes",
        job: run.job,
        bytes,
        total: meta.total,
        offset: present.bytes,
      });
      present.bytes += bytes;
    },
    onQueued: (bytes: number) => {
      split.done[i] += bytes;
    },
  });
  const target = () => ({
    writer: options.writer,
    dest: run.dest,
    range: i,
    from: start + split.done[i],
    end,
  });
  await retry(async (n) => {
    // Every byte came before the last answer failed (a cut after them):
    // done, and a Range from its end would end before it starts.
    if (start + split.done[i] >= end) return;
    if (n === 1 && first) {
      return await copyRange(
        first.response,
        target(),
        watchFor(first.deadline),
        true,
      );
    }
    const deadline = startDeadline({
      ...DEADLINE_DEFAULTS,
      ...options.deadlines,
    }, stop);
    try {
      const asked = { from: start + split.done[i], end, meta };
      const headers = [
        ...requestHeaders(
          options.credentials
            ? {
              ...options.credentials(new URL(run.job.url)),
              ...options.headers,
            }
            : options.headers,
          run.job.headers,
        ),
        ...rangeHeaders(asked),
      ];
      const response = await request(run.job.url, headers, deadline, options);
      deadline.headersArrived();
      await judgeRangeAnswer(response, framedLength(response), asked);
      await copyRange(response, target(), watchFor(deadline), false)
        .catch((error) => {
          const broken = misplaced(error, response, i);
          if (broken) throw broken;
          // Every byte came, at its place, before the connection failed
          // (e.g. before a chunked body's last chunk): the range is
          // complete, and nothing is asked again or counted as a retry.
          if (start + split.done[i] < end) throw error;
        });
    } finally {
      deadline.dispose();
    }
  }, rangeRetries(run, i, split.ranges.length, stop));
}

/**
 * A range body that failed after some of its bytes were written at places
 * nothing vouches for: one whose own framing (chunked, or the connection's
 * end) ended it at another length than its range (`LENGTH_MISMATCH`), a
 * chunk longer than its size (`PROTOCOL`), or a failure of `fetch`'s chunked
 * body, which fails alike for a cut and for a broken chunk. The range
 * cannot be continued from there: the file is fetched again over one
 * connection.
 */
function misplaced(
  error: unknown,
  response: HttpResponse,
  i: number,
): SplitAbort | undefined {
  if (!(error instanceof AttemptError) || error instanceof SplitAbort) {
    return undefined;
  }
  const broken = error.code === ERROR_CODES.length ||
    error.code === ERROR_CODES.protocol ||
    (error.code === ERROR_CODES.network && !placedUntilFailure(response));
  return broken
    ? new SplitAbort(
      `range ${i + 1}: ${error.message}; its bytes cannot be placed`,
      true,
      response.status,
    )
    : undefined;
}

/** How a range is retried: as an attempt is, and a `SplitAbort` never (it ends the download). */
function rangeRetries(
  run: SplitRun,
  i: number,
  count: number,
  stop: AbortSignal,
): RetryOptions<unknown> {
  const { options } = run;
  return {
    ...options.backoff,
    maxAttempts: (options.retries ?? DEFAULT_RETRIES) + 1,
    isRetriable: (error) =>
      error instanceof AttemptError && error.verdict === "retryable" &&
      !(error instanceof SplitAbort),
    retryAfter: (error) =>
      error instanceof AttemptError ? error.retryAfterMs : undefined,
    onRetry: ({ attempt, error, delayMs }) =>
      options.onEvent?.({
        type: "retrying",
        job: run.job,
        attempt,
        reason: `range ${i + 1} of ${count}: ${(error as Error).message}`,
        delayMs,
      }),
    signal: stop,
    sleep: options.sleep,
  };
}
