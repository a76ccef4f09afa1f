/**
 * Inside GitHub Actions: an `::error` annotation per failed job, and the
 * run's summary appended to `$GITHUB_STEP_SUMMARY`.
 *
 * @module
 */

import type { Outcome } from "../core/job.ts";
import { githubAnnotation, githubSummary } from "./ci_log.ts";
import type { RunListener } from "./listener.ts";

/** Options for {@linkcode githubOutputs}. */
export interface GithubOptions {
  /** Values never to show. */
  secrets: readonly string[];
  /** The secrets of one job (its own headers) beside the run's. */
  secretsOf?: (outcome: Outcome) => readonly string[];
  /** `$GITHUB_STEP_SUMMARY`, when set and readable. */
  summaryPath?: string;
  /** Where annotations go. @default console.log */
  print?: (line: string) => void;
  /** Where a warning goes. @default console.error */
  warn?: (line: string) => void;
}

/**
 * The GitHub outputs of a run.
 *
 * @param options Secrets, the step summary's path, where lines go.
 * @returns The listener.
 */
export function githubOutputs(options: GithubOptions): RunListener {
  const print = options.print ?? console.log;
  const warn = options.warn ?? console.error;
  return {
    outcome(outcome) {
      if (outcome.status !== "error" && outcome.status !== "not_found") return;
      print(
        githubAnnotation(
          outcome,
          options.secretsOf?.(outcome) ?? options.secrets,
        ),
      );
    },
    async finish({ totals, failures, elapsedMs }) {
      if (!options.summaryPath) return;
      const warning = await appendStepSummary(
        options.summaryPath,
        githubSummary(totals, failures, elapsedMs, options.secrets),
      );
      if (warning) warn(`bulkget get: warning: ${warning}`);
    },
  };
}

/**
 * Appends to the step summary. The downloads are done by now: a file that
 * cannot be written costs the summary only, with a warning.
 *
 * @returns A warning for people, or undefined when written.
 */
async function appendStepSummary(
  path: string,
  markdown: string,
): Promise<string | undefined> {
  const skipped = (why: string) =>
    `cannot write the step summary to $GITHUB_STEP_SUMMARY (${path}): ${why}; skipped`;
  if (
    Deno.permissions.querySync({ name: "write", path }).state !== "granted"
  ) {
    return skipped(`no write permission (add --allow-write=${path})`);
  }
  try {
    await Deno.writeTextFile(path, markdown, { append: true });
  } catch (error) {
    return skipped(
      error instanceof Deno.errors.NotFound
        ? "no such directory"
        : error instanceof Deno.errors.PermissionDenied
        ? "permission denied"
        : (error as Error).message,
    );
  }
  return undefined;
}
