/**
 * What a run has done so far and how much is left, as the bar and the CI
 * status lines both show it: files done of the total (final, or growing
 * while a pipe is open), bytes and their rate, retries, failures of every
 * kind, the share done and the remaining time.
 *
 * The share and the remaining time follow bytes once a length is known: a
 * running file by its `Content-Length` less what is there (a resumed
 * `.part` included), a file not started yet at the mean known length so
 * far; without any known length they follow file counts.
 *
 * @module
 */

import type { EngineEvent } from "../core/events.ts";
import type { Job } from "../core/job.ts";

/** What is known of a job in progress. */
interface Running {
  /** Body bytes received in this run. */
  received: number;
  /**
   * Bytes of the file there so far: what was on disk before (a resumed
   * `.part`) and what arrived since, for what remains.
   */
  position: number;
  /** The whole body's length, when the server said. */
  total?: number;
  /** Retries announced for it so far. */
  retries: number;
}

/** The state of a run at one moment. */
export interface ProgressSnapshot {
  /** Seconds since the run began. */
  elapsed: number;
  /** Jobs finished, every outcome. */
  done: number;
  /** Jobs failed, every failure kind (not found included). */
  failed: number;
  /** Of `failed`, the jobs not found (404, 410). */
  notFound: number;
  /** Body bytes received in this run. */
  received: number;
  /** Retries of finished jobs and those announced for running ones. */
  retries: number;
  /** Jobs in all, when known. */
  total?: number;
  /** Whether `total` is a count so far of an input still being read. */
  growing: boolean;
  /** Files finished per second. */
  fileRate: number;
  /** Bytes received per second. */
  byteRate: number;
  /** The share done, from 0 to 1, when it can be known. */
  share?: number;
  /** Seconds left, or NaN when unknown. */
  eta: number;
}

/** A run's progress, fed with events. */
export interface ProgressState {
  /** Counts an engine event; false for an event that changes nothing shown. */
  update(event: EngineEvent): boolean;
  /** Sets the total of jobs: final, or a count so far (`growing`). */
  setTotal(total: number | undefined, growing: boolean): void;
  /** The state now. */
  snapshot(): ProgressSnapshot;
}

/**
 * The key a run's outputs follow a job by while it runs: its origin and URL
 * (a job's object may be replaced, e.g. when the response names it).
 *
 * @param job A job.
 * @returns A string unique to the job within a run.
 */
export function jobKey(job: Job): string {
  // Asked on every body chunk: made once per job object, not per chunk.
  let key = KEYS.get(job);
  if (key === undefined) {
    key = `${job.origin ?? ""}\n${job.url}`;
    KEYS.set(job, key);
  }
  return key;
}

const KEYS = new WeakMap<Job, string>();

/** Everything counted so far. */
interface Counts {
  total?: number;
  growing: boolean;
  done: number;
  failed: number;
  notFound: number;
  received: number;
  // Retries of finished jobs (from their outcomes) plus those announced for
  // running ones: the same count the summary ends with.
  finishedRetries: number;
  runningRetries: number;
  // Lengths the servers gave, to estimate the files not started yet.
  knownLengths: number;
  knownLengthSum: number;
  running: Map<string, Running>;
}

/**
 * Starts following a run's progress.
 *
 * @example
 * ```ts
 * import { trackProgress } from "./progress_state.ts";
 * import { equal } from "node:assert/strict";
 * const state = trackProgress();
 * state.setTotal(1, false);
 * const job = { url: "http://127.0.0.1/a", dest: "a" };
 * state.update({ type: "bytes", job, bytes: 512, total: 1024 });
 * equal(state.snapshot().share, 0.5);
 * ```
 *
 * @param now The clock, in ms. @default performance.now
 * @param began When the run began, on that clock. @default now
 * @returns The state; feed it events.
 */
export function trackProgress(
  now: () => number = () => performance.now(),
  began: number = now(),
): ProgressState {
  const counts: Counts = {
    growing: false,
    done: 0,
    failed: 0,
    notFound: 0,
    received: 0,
    finishedRetries: 0,
    runningRetries: 0,
    knownLengths: 0,
    knownLengthSum: 0,
    running: new Map(),
  };
  return {
    update: (event) => count(counts, event),
    setTotal(value, isGrowing) {
      counts.total = value;
      counts.growing = isGrowing;
    },
    snapshot: () => snapshotOf(counts, (now() - began) / 1000),
  };
}

/** What is known of a running job (made on its first event). */
function runningEntry(counts: Counts, job: Job): Running {
  const key = jobKey(job);
  let value = counts.running.get(key);
  if (value === undefined) {
    value = { received: 0, position: 0, retries: 0 };
    counts.running.set(key, value);
  }
  return value;
}

/** Counts an event; false for one that changes nothing shown. */
function count(counts: Counts, event: EngineEvent): boolean {
  if (event.type === "bytes") {
    counts.received += event.bytes;
    const job = runningEntry(counts, event.job);
    job.received += event.bytes;
    job.position = event.offset === undefined
      ? job.received
      : event.offset + event.bytes;
    if (event.total !== undefined && job.total === undefined) {
      job.total = event.total;
      counts.knownLengths++;
      counts.knownLengthSum += event.total;
    }
  } else if (event.type === "retrying") {
    runningEntry(counts, event.job).retries++;
    counts.runningRetries++;
  } else if (event.type === "done") {
    const outcome = event.outcome;
    const key = jobKey(outcome.job);
    counts.runningRetries -= counts.running.get(key)?.retries ?? 0;
    counts.running.delete(key);
    counts.finishedRetries += Math.max(0, outcome.attempts - 1);
    counts.done++;
    if (outcome.status === "error" || outcome.status === "not_found") {
      counts.failed++;
    }
    if (outcome.status === "not_found") counts.notFound++;
  } else return false;
  return true;
}

/** Bytes still to come, when a length is known and the total of files is final. */
function remainingBytes(counts: Counts): number | undefined {
  const { total, growing, knownLengths } = counts;
  if (total === undefined || growing || knownLengths === 0) return undefined;
  const mean = counts.knownLengthSum / knownLengths;
  let left = 0, running = 0;
  for (const job of counts.running.values()) {
    running++;
    left += Math.max(0, (job.total ?? mean) - job.position);
  }
  return left + Math.max(0, total - counts.done - running) * mean;
}

/** The state after `elapsed` seconds. */
function snapshotOf(counts: Counts, elapsed: number): ProgressSnapshot {
  const { total, growing, done, received } = counts;
  const fileRate = elapsed > 0 ? done / elapsed : 0;
  const byteRate = elapsed > 0 ? received / elapsed : 0;
  const bytesLeft = remainingBytes(counts);
  let share: number | undefined;
  let eta = NaN;
  if (bytesLeft !== undefined && received + bytesLeft > 0) {
    share = received / (received + bytesLeft);
    if (byteRate > 0) eta = bytesLeft / byteRate;
  } else if (total !== undefined && !growing) {
    share = total > 0 ? done / total : 1;
    if (fileRate > 0) eta = (total - done) / fileRate;
  }
  if (total !== undefined && !growing && done >= total) {
    share = 1;
    eta = 0;
  }
  return {
    elapsed,
    done,
    failed: counts.failed,
    notFound: counts.notFound,
    received,
    retries: counts.finishedRetries + counts.runningRetries,
    total,
    growing,
    fileRate,
    byteRate,
    share,
    eta,
  };
}
