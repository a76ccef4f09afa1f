/**
 * A progress bar redrawn in place on a terminal: done/total, bar, rate,
 * bytes, elapsed and remaining time, retries and failures.
 *
 * Redraws are throttled, so a burst of events costs one write.
 *
 * @module
 */

import type { EngineEvent } from "../engine/events.ts";
import { formatBytes, formatClock } from "./format.ts";

/** Options for {@linkcode startProgressBar}. */
export interface ProgressBarOptions {
  /** Jobs in all, when known. */
  total?: number;
  /** Where to draw. @default Deno.stderr */
  output?: { writeSync(data: Uint8Array): number };
  /** Columns available. @default the terminal's width, or 80 */
  columns?: number;
  /** Least time between redraws, in ms. @default 100 */
  intervalMs?: number;
  /** Unit shown in the rate. @default "files" */
  unit?: string;
}

/** A running progress bar. */
export interface ProgressBar {
  /** Counts an engine event. */
  update(event: EngineEvent): void;
  /** Sets the total once the input has been read to the end. */
  setTotal(total: number): void;
  /** Draws the final state and moves to a new line. */
  stop(): void;
}

/**
 * Starts drawing a progress bar.
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
  const began = performance.now();
  let total = options.total;
  let done = 0, failed = 0, retries = 0, bytes = 0;
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
  const draw = () => {
    dirty = false;
    const elapsed = (performance.now() - began) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const remaining = total !== undefined && rate > 0
      ? (total - done) / rate
      : NaN;
    const count = total === undefined ? `${done}` : `${done}/${total}`;
    const extras = [
      bytes > 0 ? formatBytes(bytes) : "",
      retries > 0 ? `${retries} retries` : "",
      failed > 0 ? `${failed} failed` : "",
    ].filter(Boolean).join(", ");
    const tail =
      ` ${count} [${formatClock(elapsed)}<${formatClock(remaining)}, ${
        rate.toFixed(1)
      } ${unit}/s]` +
      (extras ? ` ${extras}` : "");
    const share = total ? Math.min(1, done / total) : 0;
    const percent = total
      ? `${String(Math.floor(share * 100)).padStart(3)}%`
      : "";
    // The bar takes what the counts leave of the line (2 for the bar's ends,
    // 1 so the cursor never wraps), between 10 and 40 cells.
    const room = columns() - tail.length - percent.length - 3;
    const width = Math.max(10, Math.min(40, room));
    const filled = Math.round(share * width);
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
      if (event.type === "bytes") bytes += event.bytes;
      else if (event.type === "retrying") retries++;
      else if (event.type === "done") {
        done++;
        if (event.outcome.status === "error") failed++;
      } else return;
      dirty = true;
    },
    setTotal(value) {
      total = value;
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
