/**
 * One job, several attempts: look at what is on disk, then attempt (request,
 * follow redirects, judge the answer, write the body) and retry what is
 * worth retrying, each URL of the job in turn.
 *
 * Each step lives in the file named for it: the policy's options
 * (`policy.ts`), existing files (`existing.ts`), attempts, retries and
 * mirrors (`attempts.ts`), the request and its redirects (`request.ts`,
 * `redirect.ts`), resume (`resume.ts`), verdicts (`classify.ts`), the size
 * limit (`size_limit.ts`), the body (`write_body.ts`, `body_sink.ts`) and
 * how a failure ends the job (`failure_outcome.ts`).
 *
 * Never throws: every failure becomes an {@linkcode Outcome}, like the
 * book's `Result(status, cc)`.
 *
 * @module
 */

import type { Job, Outcome } from "../core/job.ts";
import {
  type AttemptDeadline,
  DEADLINE_DEFAULTS,
  type Deadlines,
  startDeadline,
} from "./deadline.ts";
import type { HttpResponse } from "./http_response.ts";
import {
  acceptRange,
  dropPart,
  partMeta,
  planResume,
  resumeHeaders,
} from "./resume.ts";
import { type BodyWrite, writeBody } from "./write_body.ts";
import { request, requestHeaders } from "./request.ts";
import type { HeaderPairs } from "../core/headers.ts";
import { type RateLimit, rateLimit } from "./rate_limit.ts";
import { mirrorUrls } from "./mirrors.ts";
import { remoteTime } from "./remote_time.ts";
import { statusFailure } from "./classify.ts";
import { refuseTooBig } from "./size_limit.ts";
import { claimDestination, destinationFromResponse } from "./claims.ts";
import {
  answerAboutExisting,
  type ExistingAnswer,
  lengthCheckHeaders,
  planExisting,
  validatorsToRecord,
} from "./existing.ts";
import {
  attemptEach,
  type AttemptsOptions,
  type AttemptTally,
} from "./attempts.ts";
import {
  attemptsFailed,
  type Ending,
  nameTaken,
  writeFailed,
} from "./failure_outcome.ts";
import { DEFAULT_RETRIES, type FetchOneOptions } from "./policy.ts";
import {
  continuesSplit,
  fetchSplit,
  resumeSplit,
  splitMeta,
  type SplitSwitch,
} from "./segmented.ts";
import type {
  Expectation,
  ProbeResult,
  Validators,
  WrittenFile,
} from "../writer/protocol.ts";

export {
  DEFAULT_RETRIES,
  type FetchOneOptions,
  type FetchPolicy,
} from "./policy.ts";

/** What one successful attempt produced. */
type AttemptResult =
  /** The body, written under `dest` (the job's, or the name the answer gave). */
  | WrittenFile & { kind: "written"; status: number; dest: string }
  /** An answer about the existing final file, with no body. */
  | { kind: ExistingAnswer; status: number };

/** What an attempt asks about the existing final file, if anything. */
interface ExistingQuestion {
  /** Its validators, for a conditional GET (`--update`). */
  conditional?: Validators;
  /** Its size, to ask whether the server's file has that length. */
  lengthCheck?: number;
}

/** What every attempt of one job shares. */
interface JobAttempts {
  /** The policy, the writer and the clients. */
  options: FetchOneOptions;
  /** What the policy makes the same for every job of the run. */
  constants: RunConstants;
  /** The download's rate limits: one budget across its attempts. */
  limits: readonly RateLimit[];
  /** The job's URLs, in the order they are tried. */
  urls: readonly string[];
  /** Whether a `.part` is resumed. */
  resume: boolean;
  /** Large files as ranges over several connections (`--split`), when on. */
  split?: SplitSwitch;
}

/**
 * Downloads one job to disk, with retries.
 *
 * @param job What to download.
 * @param options Writer, policy and cancellation: one object per run
 *   (what it makes the same for every job is worked out at its first job
 *   and kept with it; do not change it between calls).
 * @param firstProbe What the writer found under the job's name, when it was
 * asked before the job's turn (`probe_ahead.ts`); else it is asked here.
 * @returns The job's outcome; never rejects.
 */
export async function fetchOne(
  job: Job,
  options: FetchOneOptions,
  firstProbe?: ProbeResult,
): Promise<Outcome> {
  const began = performance.now();
  const tally: AttemptTally = { attempts: 0, tried: 0 };
  const finish = (ending: Ending): Outcome => {
    // The ending's fields over the defaults (no rest object per job).
    const outcome: Outcome = {
      job,
      bytes: 0,
      attempts: tally.attempts,
      httpStatus: tally.httpStatus,
      elapsedMs: performance.now() - began,
      ...ending,
    };
    options.onEvent?.({ type: "done", outcome });
    return outcome;
  };
  try {
    const resume = (options.resume ?? true) &&
      (!options.nameFromResponse || options.resumeOwnName === true);
    const existing = options.existing ?? "skip";
    const probe: ProbeResult = firstProbe ??
      (existing !== "overwrite" || resume
        ? await options.writer.probe(job.dest)
        : {});
    const owner = options.claims &&
      claimDestination(options.claims, job.dest, job.url);
    if (owner) return finish(nameTaken(job.dest, owner));
    const plan = await planExisting(
      job,
      probe,
      existing,
      options.writer,
      options.validators,
    );
    if (plan.kind === "kept") {
      const { bytes, sha256 } = plan.file;
      return finish({ status: "skipped", bytes, sha256 });
    }
    options.onEvent?.({ type: "started", job });
    const constants = runConstants(options);
    const run: JobAttempts = {
      options,
      constants,
      limits: options.limitRatePerDownload
        ? downloadLimits(options)
        : constants.limits,
      urls: mirrorUrls(job),
      resume,
      split: (options.split?.connections ?? 1) > 1
        ? { policy: options.split!, on: true }
        : undefined,
    };
    // Not resumed, a .part found there is stale. (Not looked for, with
    // --force --no-resume and in `flags`: a round trip per file for a .part
    // that is hardly ever there. The Worker drops stale facts itself before
    // it starts a .part anew: `dropStaleFacts`.)
    const seen = { probe, stalePart: !resume && !!probe.part };
    try {
      const result = await attemptEach(
        job,
        run.urls,
        constants.attempts,
        tally,
        attemptAt(job, { ...plan }, run, seen),
      );
      return finish(succeeded(job, result, seen.probe.finalSize));
    } catch (error) {
      return finish(
        attemptsFailed(error, options.signal, {
          tried: tally.tried,
          count: run.urls.length,
        }),
      );
    }
  } catch (error) {
    return finish(writeFailed(error));
  }
}

/**
 * The attempt at one of a job's URLs: the `.part` is looked at again
 * before every attempt but the first; when the server's length differs
 * from the existing file's, the whole file is asked for at once, in the
 * same attempt.
 */
function attemptAt(
  job: Job,
  question: ExistingQuestion,
  run: JobAttempts,
  seen: { probe: ProbeResult; stalePart: boolean },
): (url: string, mirror: number, n: number) => Promise<AttemptResult> {
  return async (url, mirror, n) => {
    if ((mirror > 0 || n > 1) && run.resume) {
      seen.probe = await run.options.writer.probe(job.dest);
    }
    // A .part not to be resumed (one found, or one an attempt kept) goes
    // with its facts, on disk, before anything is written in its place: a
    // crash must never leave old facts beside new bytes.
    if (!run.resume && (seen.stalePart || mirror > 0 || n > 1)) {
      await dropPart(job.dest, run.options.writer);
      seen.stalePart = false;
    }
    const target = mirror === 0 ? job : { ...job, url };
    const part = run.resume ? seen.probe.part : undefined;
    const first = await attempt(target, part, question, run);
    if (first.kind !== "length_differs") return first;
    question.lengthCheck = undefined; // from now on, the whole file
    return await attempt(target, part, question, run);
  };
}

/**
 * How a successful attempt ends the job: written (under the name the answer
 * may have given), unchanged, or complete already.
 */
function succeeded(
  job: Job,
  result: AttemptResult,
  finalSize: number | undefined,
): Ending {
  if (result.kind === "written") {
    return {
      status: "ok",
      job: result.dest === job.dest ? job : { ...job, dest: result.dest },
      bytes: result.bytes,
      sha256: result.sha256,
      httpStatus: result.status,
    };
  }
  return result.kind === "unchanged"
    ? {
      status: "not_modified",
      bytes: finalSize ?? 0,
      httpStatus: result.status,
    }
    : { status: "skipped", bytes: finalSize ?? 0 };
}

/**
 * One attempt, as its steps: plan (resume, or ask about the existing file)
 * → request (following redirects) → what it says of the existing file →
 * judge the range → judge the status → the size limit → write the body.
 */
async function attempt(
  job: Job,
  part: ProbeResult["part"],
  question: ExistingQuestion,
  run: JobAttempts,
): Promise<AttemptResult> {
  const { options } = run;
  if (continuesSplit(part, run.urls)) {
    const written = await resumeSplit(
      job,
      part!.meta!,
      options,
      run.limits,
      run.split,
    );
    return { kind: "written", ...written, status: 206, dest: job.dest };
  }
  const deadline = startDeadline(run.constants.deadlines, options.signal);
  try {
    const plan = planResume(part, job.resumeKey ?? run.urls);
    // A `.part` to resume says more than the length of the final file.
    const asked = {
      conditional: question.conditional,
      lengthCheck: plan.offset === 0 ? question.lengthCheck : undefined,
    };
    const extra = asked.lengthCheck === undefined
      ? resumeHeaders(plan, asked.conditional)
      : lengthCheckHeaders(asked.lengthCheck);
    const base = jobHeaders(job, run);
    const headers = extra.length === 0 ? base : [...base, ...extra];
    const response = await request(job.url, headers, deadline, options);
    deadline.headersArrived();
    // Only a question about the existing file can have an answer.
    const answer = asked.conditional !== undefined ||
        asked.lengthCheck !== undefined
      ? await answerAboutExisting(response, asked)
      : undefined;
    if (answer) return { kind: answer, status: response.status };
    const place = await acceptRange(response, plan, job.dest, options.writer);
    await judgeStatus(response);
    await refuseTooBig(response, place.total, options.maxSize ?? Infinity);
    const dest = await destinationFromResponse(job, response, options);
    const written = await writeAnswer(
      response,
      {
        job,
        dest,
        place,
        expect: expectation(job, place.total, response, options),
        record: validatorsToRecord(response.headers, options.validators),
        resumed: place.start > 0 ? part?.meta : undefined,
      },
      deadline,
      run,
    );
    return { kind: "written", ...written, status: response.status, dest };
  } finally {
    deadline.dispose();
  }
}

/** Fails the attempt on an answer that is not 2xx, its body cancelled. */
async function judgeStatus(response: HttpResponse): Promise<void> {
  const failure = statusFailure(response);
  if (failure === undefined) return;
  await response.body?.cancel();
  throw failure;
}

/**
 * Writes an accepted answer's body: as ranges over several connections when
 * the split is on and the file large enough (`segmented.ts`), else through
 * one connection (`write_body.ts`).
 */
function writeAnswer(
  response: HttpResponse,
  body: BodyWrite,
  deadline: AttemptDeadline,
  run: JobAttempts,
): Promise<WrittenFile> {
  const { options, limits } = run;
  const ranged = run.split && splitMeta(
    run.split,
    partMeta(body.job.url, response.headers, body.place.total),
    response.status,
  );
  if (ranged) {
    const split = run.split!; // a split plan comes only from a split switched on
    const { job, dest, expect, record } = body;
    const segments = { job, dest, expect, record, options, limits, split };
    return fetchSplit(segments, ranged, { response, deadline });
  }
  // Not awaited: no frame of this step is kept while the body is written.
  return writeBody(response, body, {
    writer: options.writer,
    deadline,
    limits,
    maxSize: options.maxSize ?? Infinity,
    smallBodyLimit: options.smallBodyLimit ?? 1 << 20,
    onEvent: options.onEvent,
    retryMismatch: options.retryMismatch,
    onBodyPiece: options.onBodyPiece,
  });
}

/**
 * The policy's headers (with the credentials for the URL), the job's over
 * them; without credentials or headers of the job's own, the run's.
 */
function jobHeaders(job: Job, run: JobAttempts): HeaderPairs {
  const { options, constants } = run;
  if (!options.credentials && job.headers === undefined) {
    return constants.headers ??= requestHeaders(options.headers, undefined);
  }
  return requestHeaders(
    options.credentials
      ? { ...options.credentials(new URL(job.url)), ...options.headers }
      : options.headers,
    job.headers,
  );
}

/** What the complete file must match, and the time it is given. */
function expectation(
  job: Job,
  total: number | undefined,
  response: HttpResponse,
  options: FetchOneOptions,
): Expectation {
  return {
    size: job.size ?? total,
    sha256: job.sha256,
    checksum: job.checksum,
    digest: options.digest ?? true,
    mtime: options.remoteTime === false
      ? undefined
      : remoteTime(response.headers),
  };
}

/** What the policy makes the same for every job of a run, made once. */
interface RunConstants {
  /** The retry policy, events and cancellation, for `attemptEach`. */
  attempts: AttemptsOptions;
  /** The deadlines of each attempt, defaults filled in. */
  deadlines: Deadlines;
  /** The run's rate limit, when a job has none of its own. */
  limits: readonly RateLimit[];
  /** The request headers of a job with no credentials or headers of its own (made at first use: a bad header fails each job). */
  headers?: HeaderPairs;
}

/** The constants of each run (its options object), made at its first job. */
const constantsOfRun = new WeakMap<FetchOneOptions, RunConstants>();

/**
 * The constants of the run whose options `options` are: made once per
 * options object, not per job or attempt (a spread of the deadlines, the
 * retry options, the headers, each per file before).
 */
function runConstants(options: FetchOneOptions): RunConstants {
  let constants = constantsOfRun.get(options);
  if (constants === undefined) {
    constants = {
      attempts: attemptsOptions(options),
      deadlines: { ...DEADLINE_DEFAULTS, ...options.deadlines },
      limits: options.rateLimit ? [options.rateLimit] : [],
    };
    constantsOfRun.set(options, constants);
  }
  return constants;
}

/**
 * The retry policy, events and cancellation of `options`, for `attemptEach`:
 * five fields, not a spread of the whole policy (some thirty).
 */
function attemptsOptions(options: FetchOneOptions): AttemptsOptions {
  return {
    retries: options.retries ?? DEFAULT_RETRIES,
    backoff: options.backoff,
    onEvent: options.onEvent,
    signal: options.signal,
    sleep: options.sleep,
  };
}

/** The download's rate limits: the run's, and its own (`--max-download-limit`). */
function downloadLimits(options: FetchOneOptions): RateLimit[] {
  return [
    ...(options.rateLimit ? [options.rateLimit] : []),
    ...(options.limitRatePerDownload
      ? [rateLimit(options.limitRatePerDownload)]
      : []),
  ];
}
