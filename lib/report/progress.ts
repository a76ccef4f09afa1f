/**
 * A progress bar redrawn in place on a terminal: done/total, bar, elapsed and
 * remaining time, rate, bytes, retries and failures.
 *
 * The total of files may be known up front (the lines of a list counted
 * before the downloads start), grow while a pipe is still open (`40/57+`), or
 * stay unknown. The bar and the remaining time follow bytes when the sizes
 * are known: the files in progress by their `Content-Length`, the files not
 * started yet by the mean known length so far (one 200 MB file moves the bar
 * as its bytes arrive); without any known length they follow file counts.
 *
 * Redraws are throttled, so a burst of events costs one write.
 *
 * @module
 */

import type { EngineEvent } from "../core/events.ts";
import type { Job } from "../core/job.ts";
import { formatBytes, formatClock, plural } from "./format.ts";
import type { RunListener } from "./listener.ts";

/** Options for {@linkcode startProgressBar}. */
export interface ProgressBarOptions {
  /** Jobs in all, when known. @default unknown */
  total?: number;
  /** Where to draw. @default Deno.stderr */
  output?: { writeSync(data: Uint8Array): number };
  /** Columns available. @default the terminal's width, or 80 */
  columns?: number;
  /** Least time between redraws, in ms. @default 100 */
  intervalMs?: number;
  /** Unit shown in the rate. @default "files" */
  unit?: string;
  /** The clock, in ms (replaceable so tests need not wait). @default performance.now */
  now?: () => number;
}

/** A running progress bar. */
export interface ProgressBar {
  /** Counts an engine event. */
  update(event: EngineEvent): void;
  /**
   * Sets the total of jobs: final, or (`growing`) a count so far of an
   * input still being read, shown as `57+`.
   */
  setTotal(total: number, growing?: boolean): void;
  /** Draws the final state and moves to a new line. */
  stop(): void;
}

/** What the bar knows of a job in progress. */
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

/**
 * The key the bar and the summary follow a job by while it runs: its origin
 * and URL (a job's object may be replaced, e.g. when the response names it).
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

/**
 * Starts drawing a progress bar.
 *
 * @example
 * ```ts
 * import { startProgressBar } from "./progress.ts";
 * const lines: string[] = [];
 * const bar = startProgressBar({
 *   total: 1,
 *   columns: 100,
 *   output: { writeSync: (b) => (lines.push(new TextDecoder().decode(b)), b.length) },
 * });
 * const job = { url: "http://127.0.0.1/a", dest: "a" };
 * bar.update({ type: "bytes", job, bytes: 512, total: 1024 });
 * bar.stop();
 * if (!lines.at(-2)!.includes(" 50%|")) throw new Error(lines.at(-2));
 * ```
 *
 * @param options Where and how to draw.
 * @returns The bar; feed it events, then stop it.
 */
export function startProgressBar(
  options: ProgressBarOptions = {},
): ProgressBar {
  const output = options.output ?? Deno.stderr;
  const intervalMs = options.intervalMs ?? 100;
  const unit = options.unit ?? "files";
  const now = options.now ?? (() => performance.now());
  const encoder = new TextEncoder();
  const began = now();
  let total = options.total;
  let growing = false;
  let done = 0, failed = 0, received = 0;
  // Retries of finished jobs (from their outcomes) plus those announced for
  // running ones: the same count the summary ends with.
  let finishedRetries = 0, runningRetries = 0;
  // Lengths the servers gave, to estimate the files not started yet.
  let knownLengths = 0, knownLengthSum = 0;
  const running = new Map<string, Running>();
  let dirty = true;
  let stopped = false;
  const columns = () => {
    if (options.columns) return options.columns;
    try {
      return Deno.consoleSize().columns;
    } catch {
      return 80;
    }
  };
  const entry = (job: Job) => {
    const key = jobKey(job);
    let value = running.get(key);
    if (value === undefined) {
      value = { received: 0, position: 0, retries: 0 };
      running.set(key, value);
    }
    return value;
  };
  /** Bytes still to come, when a length is known and the total of files is final. */
  const remainingBytes = (): number | undefined => {
    if (total === undefined || growing || knownLengths === 0) return undefined;
    const mean = knownLengthSum / knownLengths;
    let left = 0, counted = 0;
    for (const job of running.values()) {
      counted++;
      left += Math.max(0, (job.total ?? mean) - job.position);
    }
    return left + Math.max(0, total - done - counted) * mean;
  };
  const draw = () => {
    dirty = false;
    const elapsed = (now() - began) / 1000;
    const fileRate = elapsed > 0 ? done / elapsed : 0;
    const byteRate = elapsed > 0 ? received / elapsed : 0;
    const bytesLeft = remainingBytes();
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
    const count = total === undefined
      ? `${done}`
      : `${done}/${total}${growing ? "+" : ""}`;
    const extras = [
      received > 0 ? `${formatBytes(received)} ${formatBytes(byteRate)}/s` : "",
      finishedRetries + runningRetries > 0
        ? plural(finishedRetries + runningRetries, "retry", "retries")
        : "",
      failed > 0 ? `${failed} failed` : "",
    ].filter(Boolean).join(", ");
    const tail =
      ` ${count} [${formatClock(elapsed)}<${formatClock(eta)}, ${
        fileRate.toFixed(1)
      } ${unit}/s]` + (extras ? ` ${extras}` : "");
    const fraction = Math.min(1, share ?? 0);
    const percent = share === undefined
      ? "    "
      : `${String(Math.floor(fraction * 100)).padStart(3)}%`;
    // The bar takes what the counts leave of the line (2 for the bar's ends,
    // 1 so the cursor never wraps), between 10 and 40 cells.
    const room = columns() - tail.length - percent.length - 3;
    const width = Math.max(10, Math.min(40, room));
    const filled = Math.round(fraction * width);
    const line = `${percent}|${"█".repeat(filled)}${
      " ".repeat(width - filled)
    }|${tail}`;
    output.writeSync(encoder.encode(`\r\x1b[K${line.slice(0, columns() - 1)}`));
  };
  const timer = setInterval(() => dirty && draw(), intervalMs);
  draw();
  return {
    update(event) {
      if (stopped) return;
      if (event.type === "bytes") {
        received += event.bytes;
        const job = entry(event.job);
        job.received += event.bytes;
        job.position = event.offset === undefined
          ? job.received
          : event.offset + event.bytes;
        if (event.total !== undefined && job.total === undefined) {
          job.total = event.total;
          knownLengths++;
          knownLengthSum += event.total;
        }
      } else if (event.type === "retrying") {
        entry(event.job).retries++;
        runningRetries++;
      } else if (event.type === "done") {
        const outcome = event.outcome;
        const key = jobKey(outcome.job);
        runningRetries -= running.get(key)?.retries ?? 0;
        running.delete(key);
        finishedRetries += Math.max(0, outcome.attempts - 1);
        done++;
        if (outcome.status === "error" || outcome.status === "not_found") {
          failed++;
        }
      } else return;
      dirty = true;
    },
    setTotal(value, isGrowing = false) {
      total = value;
      growing = isGrowing;
      dirty = true;
    },
    stop() {
      // Stopped early on Ctrl-C, then again when the run ends: the bar shows
      // the state at the first stop and is never drawn below the notice.
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      draw();
      output.writeSync(encoder.encode("\n"));
    },
  };
}

/**
 * The bar as an output of a run: it hears the events and the total, and
 * stops on the first Ctrl-C.
 *
 * @param bar The bar to feed. @default a new bar on stderr
 * @returns The listener.
 */
export function progressBarOutput(
  bar: ProgressBar = startProgressBar(),
): RunListener {
  return {
    event: (event) => bar.update(event),
    total: (total, growing) => bar.setTotal(total, growing),
    stop: () => bar.stop(),
  };
}
