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
import { formatBytes, formatClock, plural } from "./format.ts";
import { type ProgressSnapshot, trackProgress } from "./progress_state.ts";
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
  /**
   * Whether a job not found is shown as failed, or apart as `N not found`
   * (for `flags`, where not found is a normal answer). @default true
   */
  notFoundFails?: boolean;
  /** The clock, in ms (replaceable so tests need not wait). @default performance.now */
  now?: () => number;
  /** When the run began, on that clock: times count from it. @default when the bar starts */
  began?: number;
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

/**
 * The key the bar and the summary follow a job by while it runs (see
 * `progress_state.ts`).
 */
export { jobKey } from "./progress_state.ts";

/**
 * Starts drawing a progress bar.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
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
 * assert.match(lines.at(-2)!, / 50%\|/);
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
  const encoder = new TextEncoder();
  const state = trackProgress(options.now, options.began);
  state.setTotal(options.total, false);
  let dirty = true;
  let stopped = false;
  const columns = () => {
    if (options.columns) return options.columns;
    try {
      // 0 when the terminal did not say (a pseudo-terminal with no size).
      return Deno.consoleSize().columns || 80;
    } catch {
      return 80;
    }
  };
  const draw = () => {
    dirty = false;
    const line = barLine(
      state.snapshot(),
      columns(),
      unit,
      options.notFoundFails ?? true,
    );
    output.writeSync(encoder.encode(`\r\x1b[K${line}`));
  };
  const timer = setInterval(() => dirty && draw(), intervalMs);
  draw();
  return {
    update(event) {
      if (stopped) return;
      if (state.update(event)) dirty = true;
    },
    setTotal(value, isGrowing = false) {
      state.setTotal(value, isGrowing);
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
 * One frame of the bar, at most `columns - 1` wide (the cursor never wraps).
 * On a narrow terminal the bar shrinks first, then whole parts are left
 * out, the least telling first, the failures never: a part cut in the
 * middle could show a wrong number.
 */
function barLine(
  now: ProgressSnapshot,
  columns: number,
  unit: string,
  notFoundFails: boolean,
): string {
  const { total, growing, done, received, retries, share } = now;
  const notFound = notFoundFails ? 0 : now.notFound;
  const failed = now.failed - notFound;
  const count = total === undefined
    ? `${done}`
    : `${done}/${total}${growing ? "+" : ""}`;
  const clock = `${formatClock(now.elapsed)}<${formatClock(now.eta)}`;
  const fileRate = `${now.fileRate.toFixed(1)} ${unit}/s`;
  const bytes = received > 0 ? formatBytes(received) : "";
  const byteRate = received > 0 ? `${formatBytes(now.byteRate)}/s` : "";
  const retried = retries > 0 ? plural(retries, "retry", "retries") : "";
  const failures = [
    failed > 0 ? `${failed} failed` : "",
    notFound > 0 ? `${notFound} not found` : "",
  ];
  const tail = (
    times: string,
    extras: string[],
  ) => {
    const shown = extras.filter(Boolean).join(", ");
    return ` ${count}${times ? ` [${times}]` : ""}${shown ? ` ${shown}` : ""}`;
  };
  // From the fullest to the barest.
  const tails = [
    tail(`${clock}, ${fileRate}`, [
      bytes && `${bytes} ${byteRate}`,
      retried,
      ...failures,
    ]),
    tail(`${clock}, ${fileRate}`, [bytes, retried, ...failures]),
    tail(`${clock}, ${fileRate}`, [retried, ...failures]),
    tail(clock, [retried, ...failures]),
    tail(clock, failures),
    tail("", failures),
  ];
  const fraction = Math.min(1, share ?? 0);
  const percent = share === undefined
    ? "    "
    : `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  // The bar takes what the counts leave of the line (2 for the bar's ends,
  // 1 so the cursor never wraps), between 10 and 40 cells.
  const fits = (t: string) => percent.length + 12 + t.length <= columns - 1;
  const chosen = tails.find(fits) ?? tails.at(-1)!;
  const room = columns - chosen.length - percent.length - 3;
  const width = Math.max(10, Math.min(40, room));
  const filled = Math.round(fraction * width);
  const line = `${percent}|${"█".repeat(filled)}${
    " ".repeat(width - filled)
  }|${chosen}`;
  return line.slice(0, columns - 1);
}

/**
 * The bar as an output of a run: it hears the events and the total, and
 * stops on the first Ctrl-C. It is first drawn when the first job is read,
 * so a run that stops at its first input line (a bad line, a host without
 * net permission) draws no bar above its one-line error; a run that reads
 * no job draws none.
 *
 * @param options How to draw (`total` comes from the run).
 * @returns The listener.
 */
export function progressBarOutput(
  options: Omit<ProgressBarOptions, "total" | "began"> = {},
): RunListener {
  // The bar's times count from the run's start, however late the first job.
  const began = (options.now ?? (() => performance.now()))();
  let bar: ProgressBar | undefined;
  let total: [number, boolean] | undefined;
  return {
    read() {
      if (bar !== undefined) return;
      const [count, growing] = total ?? [];
      bar = startProgressBar({
        ...options,
        began,
        total: growing ? undefined : count,
      });
      if (growing) bar.setTotal(count!, growing);
    },
    event: (event) => bar?.update(event),
    total(count, growing) {
      total = [count, growing];
      bar?.setTotal(count, growing);
    },
    stop: () => bar?.stop(),
  };
}
