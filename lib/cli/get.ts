/**
 * `bulkget get`: download URLs from arguments, lists, aria2 input files and
 * JSONL manifests, with retries, resume, verification, and output for people
 * (a progress bar) and for CI (status lines, GitHub annotations, a JSON
 * report). Its options are `get_options.ts`, what is checked before the
 * first request `get_preflight.ts`, each output a listener in `lib/outputs/`.
 *
 * @module
 */

import { download, type DownloadOptions } from "../engine/download.ts";
import type { Job, Outcome } from "../core/job.ts";
import type { EngineEvent } from "../core/events.ts";
import { jobsFromUrls } from "../source/args.ts";
import { jobsFromInputFiles } from "../source/inputs.ts";
import { dedupeDestinations } from "../source/dedupe.ts";
import { shardJobs } from "../source/shard.ts";
import { countInputJobs } from "../source/count.ts";
import { nameFromContentDisposition } from "../writer/safe_name.ts";
import { loadValidators } from "../writer/validators.ts";
import { progressBarOutput } from "../outputs/progress.ts";
import { failureLines, statusLinesOutput } from "../outputs/ci_log.ts";
import type { RunListener } from "../outputs/listener.ts";
import { verboseLines } from "../outputs/verbose.ts";
import { githubOutputs } from "../outputs/github.ts";
import { summaryOutput } from "../outputs/summary.ts";
import { exitCodeFor } from "../outputs/tally.ts";
import { reportOutput, type ReportWriter } from "../report/json_report.ts";
import { type RunOutputs, runOutputs } from "../outputs/run_outputs.ts";
import { redactText } from "../core/redact.ts";
import {
  INTERRUPT_EXIT_CODES,
  type Interrupts,
  listenForInterrupts,
} from "./interrupt.ts";
import { holdOpen, interruptedOutcome } from "./interrupted_jobs.ts";
import { trackJobTotal } from "./job_total.ts";
import {
  netPermitted,
  optionalEnv,
  permissionMessage,
  USAGE_EXIT_CODE,
} from "./permissions.ts";
import {
  existingPolicy,
  type GetOptions,
  HELP,
  parseGetArgs,
  secretsOf,
  USAGE,
} from "./get_options.ts";
import { openOutputFiles, resolveEnvironment } from "./get_preflight.ts";
import { ERROR_CODES, SourceError, UsageError } from "../core/errors.ts";

export { type GetOptions, parseGetArgs } from "./get_options.ts";

/**
 * Runs `bulkget get`.
 *
 * @param args The arguments after `get`.
 * @returns The exit code.
 */
export async function getCommand(args: string[]): Promise<number> {
  let options: GetOptions;
  try {
    options = parseGetArgs(args);
    if (options.help) {
      console.log(HELP);
      return 0;
    }
    const denied = await resolveEnvironment(options);
    if (denied) {
      console.error(`bulkget get: ${denied}`);
      return USAGE_EXIT_CODE;
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bulkget get: ${error.message}\n${USAGE}`);
    return USAGE_EXIT_CODE;
  }
  if (options.dryRun) return await dryRunCommand(options);
  let report: ReportWriter | undefined;
  try {
    report = await openOutputFiles(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bulkget get: ${error.message}`);
    return USAGE_EXIT_CODE;
  }
  return await run(options, report);
}

/** `--dry-run`: the plan on stdout, a count at the end; exit 0, or 2 for a bad input line. */
async function dryRunCommand(options: GetOptions): Promise<number> {
  const secrets = secretsOf(options);
  let failed = 0;
  const jobs = dedupeDestinations(allJobs(options), {
    onDuplicate: (error, job) => {
      failed++;
      console.log(redactText(`fail ${job.dest}: ${error.message}`, secrets));
    },
  });
  try {
    // Loaded here, not at start-up: it imports node:crypto, which costs
    // every run about 15 ms before its first request.
    const { dryRun } = await import("./dry_run.ts");
    const counts = await dryRun(jobs, {
      outDir: options.outDir,
      existing: existingPolicy(options),
      secrets,
    });
    console.log(
      `bulkget: dry run: ${counts.download} to download, ${counts.skip} already complete` +
        (counts.check ? `, ${counts.check} to check with the server` : "") +
        (failed ? `, ${failed} would fail` : "") +
        "; nothing was fetched or written",
    );
    return failed ? 1 : 0;
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    console.error(`bulkget get: ${redactText(error.message, secrets)}`);
    return USAGE_EXIT_CODE;
  }
}

/**

/**
 * Downloads every job, feeding the outputs; after a Ctrl-C every job read is
 * accounted for.
 *
 * @returns The exit code.
 */
async function run(
  options: GetOptions,
  report: ReportWriter | undefined,
): Promise<number> {
  const secrets = secretsOf(options);
  const bar = Deno.stderr.isTerminal() && !options.quiet && !options.verbose
    ? progressBarOutput()
    : undefined;
  const listeners = runListeners(options, report, bar);
  const outputs = runOutputs(listeners);
  const interrupts = listenForInterrupts((name) => {
    bar?.stop?.();
    console.error(
      `bulkget: ${name}: stopping; press Ctrl-C ${
        name === "SIGINT" ? "again " : ""
      }to quit at once`,
    );
  });
  const fromStdin = [...options.lists, ...options.manifests].includes("-");
  // Counted for the jobs a Ctrl-C leaves unread (with --shard, only the
  // jobs this shard keeps); up front only when an output shows the total.
  const total = trackJobTotal({
    fromStdin,
    count: (signal) => countInputJobs(options, signal),
    upfront: listeners.some((listener) => listener.total !== undefined),
    onTotal: outputs.total,
    onRead: outputs.read,
  });
  const input = holdOpen(
    dedupeDestinations(total.counted(netPermitted(allJobs(options))), {
      onDuplicate: (error, job) => failBeforeStart(outputs, job, error),
    }),
  );
  const began = performance.now();
  let inputError: Error | undefined;
  try {
    inputError = await downloadAll(input.jobs, options, outputs, interrupts);
  } finally {
    if (
      interrupts.received() && fromStdin && !total.listingDone && !inputError
    ) {
      await input.drain();
    }
    if (interrupts.received() && !inputError) {
      outputs.neverRead(await total.unread());
    }
    input.close();
    total.stop();
    outputs.stop();
    interrupts.dispose();
  }
  // Jobs read but never started (the pool stopped on Ctrl-C) were
  // interrupted too: no job read goes unaccounted for.
  for (const job of outputs.unfinished()) {
    outputs.outcome(interruptedOutcome(job));
  }
  const signal = interrupts.received();
  const error = inputError && redactText(inputError.message, secrets);
  const totals = await outputs.finish({
    elapsedMs: performance.now() - began,
    interrupted: signal !== undefined,
    error,
  });
  if (error !== undefined) {
    console.error(`bulkget get: ${error}`);
    return USAGE_EXIT_CODE;
  }
  if (signal) return INTERRUPT_EXIT_CODES[signal];
  return exitCodeFor(totals);
}

/**
 * Downloads the jobs until they end or the signal stops the pool.
 *
 * @returns The input error (or missing permission) that cut the run short, if any.
 */
async function downloadAll(
  jobs: AsyncIterable<Job>,
  options: GetOptions,
  outputs: RunOutputs,
  interrupts: Interrupts,
): Promise<Error | undefined> {
  try {
    const settings = await engineOptions(options, outputs.event);
    for await (
      const outcome of download(jobs, {
        ...settings,
        signal: interrupts.signal,
      })
    ) outputs.outcome(outcome);
  } catch (error) {
    if (error instanceof SourceError) return error;
    // A permission found missing mid-run (a redirect to a host not granted)
    // ends the run as a bad line does: the report and summary are whole.
    const denied = permissionMessage(error);
    if (denied === undefined) throw error;
    return new Error(denied);
  }
  return undefined;
}

/**
 * The outputs asked for, in the order they hear things: the bar or status
 * lines, the log, the report, failure and verbose lines, the summary, the
 * GitHub outputs.
 */
function runListeners(
  options: GetOptions,
  report: ReportWriter | undefined,
  bar: RunListener | undefined,
): RunListener[] {
  const secrets = secretsOf(options);
  const secretsOfJob = (outcome: Outcome) => [
    ...secrets,
    ...Object.values(outcome.job.headers ?? {}),
  ];
  const tty = Deno.stderr.isTerminal();
  const logFile = options.logFile;
  const listeners: (RunListener | false | undefined)[] = [
    bar,
    !tty && !options.quiet &&
    statusLinesOutput({ intervalMs: options.statusIntervalMs }),
    logFile && {
      event: (e) => logFile.event(e),
      outcome: (o, transferred) => logFile.outcome(o, transferred),
      total: (total, growing) => logFile.total(total, growing),
      stop: () => logFile.stop(),
      finish: ({ totals, elapsedMs }) => logFile.close(totals, elapsedMs),
    },
    report && reportOutput(report, options.shard),
    (!tty || options.verbose) && failureLines(secretsOfJob),
    options.verbose && verboseLines(secrets),
    summaryOutput(secrets),
    optionalEnv("GITHUB_ACTIONS") === "true" && githubOutputs({
      secrets,
      secretsOf: secretsOfJob,
      summaryPath: optionalEnv("GITHUB_STEP_SUMMARY"),
    }),
  ];
  return listeners.filter((l) => l !== undefined && l !== false);
}

/** A job refused before it started (a destination another job has). */
function failBeforeStart(outputs: RunOutputs, job: Job, error: Error): void {
  const outcome: Outcome = {
    job,
    status: "error",
    bytes: 0,
    attempts: 0,
    reason: error.message,
    code: ERROR_CODES.nameTaken,
    elapsedMs: 0,
  };
  outputs.event({ type: "done", outcome });
  outputs.outcome(outcome);
}

/** The engine's settings for these options (all but the signal). */
async function engineOptions(
  options: GetOptions,
  onEvent: (event: EngineEvent) => void,
): Promise<DownloadOptions> {
  return {
    outDir: options.outDir,
    concurrency: options.concurrency,
    perHost: options.perHost,
    retries: options.retries,
    deadlines: {
      connectMs: options.connectMs,
      idleMs: options.idleMs,
      totalMs: options.totalMs,
    },
    maxSize: options.maxSize,
    limitRate: options.limitRate,
    limitRatePerDownload: options.limitRatePerDownload,
    split: options.split,
    existing: existingPolicy(options),
    validators: options.update
      ? await loadValidators(options.outDir)
      : undefined,
    nameFromResponse: options.contentDisposition
      ? contentDispositionNamer()
      : undefined,
    resume: options.resume,
    remoteTime: options.remoteTime,
    // Only the report shows a file's SHA-256: without one, the state file's
    // record takes the CRC-32, ~30 times cheaper (most of a large file's CPU).
    digest: options.report === undefined ? "crc32" : true,
    durability: options.durability,
    ownHttp: !options.useFetch,
    caCerts: options.caCerts,
    headers: options.headers,
    credentials: options.credentials,
    proxyUrl: options.proxy,
    noProxy: options.noProxy,
    onEvent,
  };
}

/** The jobs of every input (only this worker's share with `--shard`). */
function allJobs(options: GetOptions): AsyncIterable<Job> {
  const jobs = inputJobs(options);
  return options.shard ? shardJobs(jobs, options.shard) : jobs;
}

/** The jobs of every input, in order: arguments, then lists, then manifests. */
async function* inputJobs(options: GetOptions): AsyncGenerator<Job> {
  yield* jobsFromUrls(options.urls, { keepPaths: options.keepPaths });
  yield* jobsFromInputFiles(options);
}

/**
 * Names files after `Content-Disposition`, in the job's directory (the
 * engine refuses a name another job of the run writes, or a file that
 * exists without --force).
 */
function contentDispositionNamer(): (
  job: Job,
  headers: Headers,
) => string | undefined {
  return (job, headers) => {
    const name = nameFromContentDisposition(headers.get("content-disposition"));
    if (name === undefined) return undefined;
    const slash = job.dest.lastIndexOf("/");
    return slash < 0 ? name : `${job.dest.slice(0, slash + 1)}${name}`;
  };
}
