/**
 * Output for logs that are not terminals (CI): a plain status line every few
 * seconds and one line per failure, so a log stays readable; and, under
 * GitHub Actions, an `::error::` annotation per failure and a summary table
 * for `$GITHUB_STEP_SUMMARY`.
 *
 * @module
 */

import type { Outcome } from "../core/job.ts";
import type { EngineEvent } from "../core/events.ts";
import type { Totals } from "./tally.ts";
import { formatBytes, formatClock, plural } from "./format.ts";
import { type ProgressSnapshot, trackProgress } from "./progress_state.ts";
import { redactText, redactUrl } from "../core/redact.ts";
import { escapeControls } from "../core/printable.ts";
import type { RunListener } from "./listener.ts";

/** Options for {@linkcode startStatusLines}. */
export interface StatusLineOptions {
  /** Milliseconds between status lines. @default 5000 */
  intervalMs?: number;
  /** Where lines go. @default console.error */
  write?: (line: string) => void;
}

/** Periodic status lines. */
export interface StatusLines {
  /** Counts an event. */
  update(event: EngineEvent): void;
  /** Sets the total of jobs: final, or a count so far (`growing`). */
  setTotal(total: number, growing?: boolean): void;
  /** Stops the timer. */
  stop(): void;
}

/**
 * Prints a {@linkcode statusLine} every `intervalMs`.
 *
 * @param options Interval and output.
 * @returns The status printer.
 */
export function startStatusLines(options: StatusLineOptions = {}): StatusLines {
  const write = options.write ?? ((line: string) => console.error(line));
  const state = trackProgress();
  const timer = setInterval(
    () => write(statusLine(state.snapshot())),
    options.intervalMs ?? 5000,
  );
  return {
    update: (event) => void state.update(event),
    setTotal: (total, growing = false) => state.setTotal(total, growing),
    stop() {
      clearInterval(timer);
    },
  };
}

/**
 * One status line, as the bar would say it in plain text:
 * `[bulkget] 120/3000 done (2 failed), 4%, 3.4 MiB at 1.1 MiB/s, 1 retry,
 * 12.0 s, ETA 04:31` — the total with `+` while an input is still being
 * read, every failure kind (not found too) counted as failed; the share
 * and the remaining time only when they can be known.
 *
 * @param now The run's state.
 * @returns The line.
 */
export function statusLine(now: ProgressSnapshot): string {
  const count = now.total === undefined
    ? `${now.done}`
    : `${now.done}/${now.total}${now.growing ? "+" : ""}`;
  const parts = [
    `${count} done${now.failed ? ` (${now.failed} failed)` : ""}`,
    now.share === undefined ? "" : `${Math.floor(now.share * 100)}%`,
    formatBytes(now.received) +
    (now.byteRate > 0 ? ` at ${formatBytes(now.byteRate)}/s` : ""),
    now.retries ? plural(now.retries, "retry", "retries") : "",
    `${now.elapsed.toFixed(1)} s`,
    Number.isFinite(now.eta) ? `ETA ${formatClock(now.eta)}` : "",
  ];
  return `[bulkget] ${parts.filter(Boolean).join(", ")}`;
}

/**
 * The status lines as an output of a run.
 *
 * @param options Interval and output.
 * @returns The listener.
 */
export function statusLinesOutput(
  options: StatusLineOptions = {},
): RunListener {
  const lines = startStatusLines(options);
  return {
    event: (event) => lines.update(event),
    total: (total, growing) => lines.setTotal(total, growing),
    stop: () => lines.stop(),
  };
}

/**
 * A {@linkcode failureLine} for each failed job, as it fails.
 *
 * @param secretsOf The values never to show for an outcome.
 * @param print Where a line goes. @default console.error
 * @returns The listener.
 */
export function failureLines(
  secretsOf: (outcome: Outcome) => readonly string[],
  print: (line: string) => void = console.error,
): RunListener {
  return {
    outcome(outcome) {
      if (outcome.status !== "error" && outcome.status !== "not_found") return;
      print(failureLine(outcome, secretsOf(outcome)));
    },
  };
}

/**
 * One line for a failed job: `FAILED dest <- url: reason`, or
 * `FAILED dest [label] <- url: reason` when the job has a label.
 *
 * @param outcome The failed job.
 * @param secrets Strings never to show.
 * @returns The line.
 */
export function failureLine(
  outcome: Outcome,
  secrets: readonly string[] = [],
): string {
  const what = failureReason(outcome);
  return redactText(
    `FAILED ${outcome.job.dest}${labelPart(outcome)} <- ${
      redactUrl(outcome.job.url)
    }: ${what}`,
    secrets,
  );
}

/**
 * A GitHub Actions error annotation for a failed job.
 *
 * @param outcome The failed job.
 * @param secrets Strings never to show.
 * @returns `::error title=…::message`, escaped as GitHub requires.
 */
export function githubAnnotation(
  outcome: Outcome,
  secrets: readonly string[] = [],
): string {
  const what = failureReason(outcome);
  const message = redactText(`${redactUrl(outcome.job.url)}: ${what}`, secrets);
  return `::error title=${
    escapeProperty(`bulkget: ${outcome.job.dest}${labelPart(outcome)}`)
  }::${escapeData(message)}`;
}

/**
 * A Markdown summary for `$GITHUB_STEP_SUMMARY`: totals (and the jobs a
 * stopped run never read), then the failed jobs given (the first ones) and
 * how many more failed.
 *
 * @param totals The run's totals.
 * @param failures Failed jobs.
 * @param elapsedMs The run's wall time.
 * @param secrets Strings never to show.
 * @returns Markdown text.
 */
export function githubSummary(
  totals: Totals,
  failures: readonly Outcome[],
  elapsedMs: number,
  secrets: readonly string[] = [],
): string {
  const rows = [
    "### bulkget",
    "",
    "| ok | skipped | not found | failed | interrupted | received | retries | time |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
    `| ${totals.ok} | ${
      totals.skipped + totals.not_modified
    } | ${totals.not_found} | ${totals.error} | ${totals.cancelled} | ${
      formatBytes(totals.transferred)
    } | ${totals.retries} | ${(elapsedMs / 1000).toFixed(1)} s |`,
  ];
  if (totals.not_started > 0) {
    rows.push(
      "",
      totals.not_started === 1
        ? "1 job not started (the run was stopped before reading it)"
        : `${totals.not_started} jobs not started (the run was stopped before reading them)`,
    );
  }
  if (failures.length > 0) {
    rows.push("", "| failed | URL | reason |", "|---|---|---|");
    for (const outcome of failures) {
      const reason = failureReason(outcome);
      rows.push(
        `| ${cell(outcome.job.dest + labelPart(outcome))} | ${
          cell(redactText(redactUrl(outcome.job.url), secrets))
        } | ${cell(redactText(reason, secrets))} |`,
      );
    }
    // Only the first failures are kept for the summaries: say the rest.
    const more = totals.error + totals.not_found - failures.length;
    if (more > 0) {
      rows.push("", `… and ${more} more (\`--report FILE\` lists them all)`);
    }
  }
  return rows.join("\n") + "\n";
}

/** Why a job failed, for people: `not found`, or its reason. */
function failureReason(outcome: Outcome): string {
  return outcome.status === "not_found"
    ? "not found"
    : outcome.reason ?? outcome.status;
}

/**
 * ` [label]` for a job with a label (control characters, C1 ones too,
 * shown as `\xNN`), else "".
 */
function labelPart(outcome: Outcome): string {
  const label = outcome.job.label;
  if (label === undefined || label === "") return "";
  return ` [${escapeControls(label)}]`;
}

/**
 * Text for one cell of a Markdown table: a line break of any kind becomes a
 * space and other control characters are shown as `\xNN`, so that server
 * text can neither end its row nor forge one; `|` is escaped.
 */
function cell(text: string): string {
  return escapeControls(
    text.replace(/\|/g, "\\|").replace(/\r\n|\r|\n/g, " "),
  );
}

function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
