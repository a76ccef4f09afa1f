/**
 * `-v`: one line per retry and per file, on stderr.
 *
 * @module
 */

import { redactText } from "../core/redact.ts";
import { formatBytes } from "./format.ts";
import type { RunListener } from "./listener.ts";

/**
 * The `-v` lines: `retry N DEST: REASON (waiting S s)`, `STATUS DEST (SIZE)`
 * for every job that did not fail (failures have their own lines), and
 * `INTERRUPTED DEST (SIZE received)` for one a Ctrl-C stopped.
 *
 * @param secrets Values never to show.
 * @param print Where a line goes. @default console.error
 * @returns The listener.
 */
export function verboseLines(
  secrets: readonly string[],
  print: (line: string) => void = console.error,
): RunListener {
  return {
    event(event) {
      if (event.type !== "retrying") return;
      print(redactText(
        `retry ${event.attempt} ${event.job.dest}: ${event.reason} (waiting ${
          (event.delayMs / 1000).toFixed(1)
        } s)`,
        secrets,
      ));
    },
    outcome(outcome, transferred) {
      if (outcome.status === "error" || outcome.status === "not_found") return;
      if (outcome.status === "cancelled") {
        // As the log says it: no file, so what came is said instead.
        print(
          `INTERRUPTED ${outcome.job.dest} (${
            formatBytes(transferred)
          } received)`,
        );
        return;
      }
      print(
        `${outcome.status.toUpperCase()} ${outcome.job.dest} (${
          formatBytes(outcome.bytes)
        })`,
      );
    },
  };
}
