/**
 * The JSON report (`--report FILE`), streamed to disk as jobs finish so a
 * million-job run never holds its items in memory.
 *
 * Shape (version 1):
 *
 * ```json
 * {
 *   "version": 1,
 *   "tool": "bulkget 0.1.0",
 *   "startedAt": "2026-11-29T18:00:00.000Z",
 *   "items": [
 *     { "url": "https://host/a.bin?sig=***", "dest": "a.bin", "status": "ok",
 *       "bytes": 1024, "transferred": 1024, "sha256": "…", "attempts": 1,
 *       "httpStatus": 200, "reason": null, "elapsedMs": 12.5,
 *       "origin": "list.txt:1", "label": null }
 *   ],
 *   "totals": { "ok": 1, "skipped": 0, "not_modified": 0, "not_found": 0,
 *               "error": 0, "cancelled": 0, "jobs": 1, "bytes": 1024,
 *               "transferred": 1024, "retries": 0, "not_started": 0 },
 *   "elapsedMs": 40.1,
 *   "interrupted": false,
 *   "error": null,
 *   "shard": { "index": 1, "count": 3 }
 * }
 * ```
 *
 * `status` is one of `ok`, `skipped`, `not_modified`, `not_found`, `error`,
 * `cancelled`. `bytes` is the file's size on disk (ok, skipped, unchanged);
 * `transferred` the body bytes received for it in this run, by every attempt
 * (a skipped file: 0; a resumed one: only what came after the `.part`; a
 * failed attempt at a body of up to 1 MiB, read whole: none of its bytes).
 * URLs are redacted; `reason` is null unless the job failed; `label` is the
 * manifest's `label`, or null. `error` is null unless the run was cut short
 * by an input error (a bad line, an unreadable list): then it is that error,
 * and the jobs after it were never read. `interrupted` is true when a signal
 * stopped the run; `totals.not_started` then counts the jobs of the regular
 * input files never read (`totals.jobs` plus it is every job of the
 * inputs; jobs read but not started are items with status `cancelled`). `shard` is present only for a `--shard` run. A reader must
 * ignore fields it does not know; `version` changes when a field changes
 * meaning.
 *
 * @module
 */

import type { Outcome } from "../core/job.ts";
import type { Totals } from "../outputs/tally.ts";
import { redactText, redactUrl } from "../core/redact.ts";
import type { RunListener } from "../outputs/listener.ts";
import { createTextFile } from "../outputs/text_file.ts";

/** The report format's version. */
export const REPORT_VERSION = 1;

/** One job in the report. */
export interface ReportItem {
  url: string;
  dest: string;
  status: Outcome["status"];
  bytes: number;
  /** Body bytes received for this job in this run (absent in older reports). */
  transferred?: number;
  sha256: string | null;
  attempts: number;
  httpStatus: number | null;
  reason: string | null;
  /** The failure's stable code (see `lib/core/errors.ts`), or null (absent in older reports). */
  code?: string | null;
  elapsedMs: number;
  origin: string | null;
  /** The job's label (manifest `label`), or null (absent in older reports). */
  label?: string | null;
}

/** A whole report, as read back. */
export interface Report {
  version: number;
  tool: string;
  startedAt: string;
  items: ReportItem[];
  totals: Totals;
  elapsedMs: number;
  interrupted: boolean;
  /** The input error that cut the run short, or null (absent in older reports). */
  error?: string | null;
  shard?: { index: number; count: number };
}

/**
 * The report's view of an outcome, with secrets masked.
 *
 * @param outcome A finished job.
 * @param secrets Strings never to show.
 * @param transferred Body bytes received for it in this run. @default 0
 * @returns The item.
 */
export function reportItem(
  outcome: Outcome,
  secrets: readonly string[] = [],
  transferred = 0,
): ReportItem {
  return {
    url: redactText(redactUrl(outcome.job.url), secrets),
    dest: outcome.job.dest,
    status: outcome.status,
    bytes: outcome.bytes,
    transferred,
    sha256: outcome.sha256 ?? null,
    attempts: outcome.attempts,
    httpStatus: outcome.httpStatus ?? null,
    reason: outcome.reason === undefined
      ? null
      : redactText(outcome.reason, secrets),
    code: outcome.code ?? null,
    elapsedMs: Math.round(outcome.elapsedMs * 10) / 10,
    origin: outcome.job.origin ?? null,
    label: outcome.job.label ?? null,
  };
}

/** A report being written. */
export interface ReportWriter {
  /** Appends one item; `transferred`: its body bytes received in this run. */
  add(outcome: Outcome, transferred?: number): void;
  /** Writes the totals and closes the file. */
  finish(
    totals: Totals,
    extra: {
      elapsedMs: number;
      interrupted: boolean;
      error?: string;
      shard?: Report["shard"];
    },
  ): void;
  /** Closes and removes the file: the run stopped before it began. */
  discard(): void;
}

/**
 * Opens `path` and starts the report. Items are buffered and written in
 * blocks, synchronously (a report line is small and the file is local).
 *
 * @param path Where to write.
 * @param tool The `tool` field, e.g. `bulkget 0.1.0`.
 * @param secrets Strings never to write.
 * @returns The writer.
 */
export function openReport(
  path: string,
  tool: string,
  secrets: readonly string[] = [],
): ReportWriter {
  const file = createTextFile(path);
  let buffer = "";
  let first = true;
  const flush = () => {
    file.write(buffer);
    buffer = "";
  };
  buffer +=
    `{\n  "version": ${REPORT_VERSION},\n  "tool": ${JSON.stringify(tool)},\n` +
    `  "startedAt": ${JSON.stringify(new Date().toISOString())},\n  "items": [`;
  return {
    add(outcome, transferred) {
      buffer += (first ? "\n    " : ",\n    ") +
        JSON.stringify(reportItem(outcome, secrets, transferred));
      first = false;
      if (buffer.length > 64 * 1024) flush();
    },
    finish(totals, extra) {
      buffer +=
        `${first ? "" : "\n  "}],\n  "totals": ${JSON.stringify(totals)},\n` +
        `  "elapsedMs": ${
          Math.round(extra.elapsedMs * 10) / 10
        },\n  "interrupted": ${extra.interrupted},\n  "error": ${
          extra.error === undefined
            ? "null"
            : JSON.stringify(redactText(extra.error, secrets))
        }` +
        (extra.shard ? `,\n  "shard": ${JSON.stringify(extra.shard)}` : "") +
        "\n}\n";
      flush();
      file.close();
    },
    discard() {
      file.close();
      Deno.removeSync(path);
    },
  };
}

/**
 * The report as an output of a run: an item per outcome, the totals at the
 * end.
 *
 * @param writer The opened report.
 * @param shard This run's shard, when sharded.
 * @returns The listener.
 */
export function reportOutput(
  writer: ReportWriter,
  shard?: Report["shard"],
): RunListener {
  return {
    outcome: (outcome, transferred) => writer.add(outcome, transferred),
    finish({ totals, elapsedMs, interrupted, error }) {
      writer.finish(totals, { elapsedMs, interrupted, error, shard });
    },
  };
}
