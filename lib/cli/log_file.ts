/**
 * `bulkget get --log FILE`: the plain lines of a run — one per finished
 * file and per retry (as `-v` prints them), a status line every
 * `--status-interval`, and a last line with the run's totals (the summary's
 * counts, "not started" after a Ctrl-C included) — written to a file,
 * time-stamped, while the terminal shows the progress bar.
 *
 * @module
 */

import type { EngineEvent } from "../core/events.ts";
import type { Outcome } from "../core/job.ts";
import type { Totals } from "../outputs/tally.ts";
import { outcomeCounts } from "../outputs/summary.ts";
import { failureLine, startStatusLines } from "../outputs/ci_log.ts";
import { formatBytes, plural } from "../outputs/format.ts";
import { redactText } from "../core/redact.ts";
import { createTextFile } from "../outputs/text_file.ts";

/** How often buffered lines are written to the file. */
const FLUSH_MS = 250;

/** An open `--log` file. */
export interface LogFile {
  /** Logs what an event says (retries) and feeds the status lines. */
  event(event: EngineEvent): void;
  /** Logs a job's end: failed, interrupted (with the bytes received), or its file. */
  outcome(outcome: Outcome, transferred: number): void;
  /** The total of jobs, for the status lines: final, or so far (`growing`). */
  total(total: number, growing: boolean): void;
  /** Stops the status lines and writes what is pending (live output ends). */
  stop(): void;
  /** Writes the totals line, flushes and closes the file. */
  close(totals: Totals, elapsedMs: number): void;
}

/** Options for {@linkcode openLogFile}. */
export interface LogFileOptions {
  /** Strings never to write (header values). @default [] */
  secrets?: string[];
  /** Milliseconds between status lines. @default 5000 */
  statusIntervalMs?: number;
}

/**
 * Creates (or truncates) the log file and starts logging.
 *
 * @param path The file.
 * @param options Secrets and the status interval.
 * @returns The log.
 * @throws {Deno.errors.NotCapable} Without write permission for `path`; the
 *   OS's error when it cannot be created.
 */
export function openLogFile(
  path: string,
  options: LogFileOptions = {},
): LogFile {
  const secrets = options.secrets ?? [];
  const file = createTextFile(path);
  let pending = "";
  const flush = () => {
    if (pending === "") return;
    const text = pending;
    pending = "";
    file.write(text);
  };
  const timer = setInterval(flush, FLUSH_MS);
  const write = (line: string) => {
    pending += `${new Date().toISOString()} ${redactText(line, secrets)}\n`;
  };
  const status = startStatusLines({
    intervalMs: options.statusIntervalMs,
    write,
  });
  return {
    event(event) {
      status.update(event);
      if (event.type === "retrying") {
        write(
          `retry ${event.attempt} ${event.job.dest}: ${event.reason} (waiting ${
            (event.delayMs / 1000).toFixed(1)
          } s)`,
        );
      }
    },
    outcome(outcome, transferred) {
      if (outcome.status === "error" || outcome.status === "not_found") {
        write(failureLine(outcome, [
          ...secrets,
          ...Object.values(outcome.job.headers ?? {}),
        ]));
      } else if (outcome.status === "cancelled") {
        // As the summary words it; no file, so what came is said instead.
        write(
          `INTERRUPTED ${outcome.job.dest} (${
            formatBytes(transferred)
          } received)`,
        );
      } else {
        write(
          `${outcome.status.toUpperCase()} ${outcome.job.dest} (${
            formatBytes(outcome.bytes)
          })`,
        );
      }
    },
    total: (total, growing) => status.setTotal(total, growing),
    stop() {
      status.stop();
      clearInterval(timer);
      flush();
    },
    close(totals, elapsedMs) {
      // The run's totals, as the summary counts them: the jobs interrupted
      // and never started after a Ctrl-C are known only now.
      write(
        `[bulkget] finished: ${outcomeCounts(totals).join(", ")}; ${
          formatBytes(totals.transferred)
        } received, ${plural(totals.retries, "retry", "retries")}, ${
          (elapsedMs / 1000).toFixed(1)
        } s`,
      );
      try {
        flush();
      } finally {
        file.close();
      }
    },
  };
}
