/**
 * What `bulkget artifacts github` and `gitlab` share once their arguments
 * are parsed: the options every vendor has, and the run itself (list,
 * select, print or fetch, report, exit code).
 *
 * @module
 */

import {
  type ArtifactResult,
  fetchArtifacts,
} from "../artifacts/fetch_artifacts.ts";
import type { Artifact, ArtifactApi } from "../artifacts/artifact.ts";
import { parseDurability, poolLimits } from "./get_options.ts";
import type { Durability } from "../writer/client.ts";
import { formatBytes, plural } from "../outputs/format.ts";
import { redactText } from "../core/redact.ts";
import { escapeControls } from "../core/printable.ts";
import { INTERRUPT_EXIT_CODES, listenForInterrupts } from "./interrupt.ts";
import { ArtifactApiError, UsageError } from "../core/errors.ts";
import {
  missingNetPermission,
  missingPermission,
  USAGE_EXIT_CODE,
} from "./permissions.ts";
import { extractorReads } from "../writer/zip_extractor.ts";

/** The command-line options every vendor takes (for `parseCommandLine`). */
export const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  list: { type: "boolean" },
  json: { type: "boolean" },
  output: { type: "string", short: "o" },
  "no-extract": { type: "boolean" },
  merge: { type: "boolean" },
  "api-url": { type: "string" },
  "token-env": { type: "string" },
  "max-concurrent": { type: "string", short: "m" },
  retries: { type: "string" },
  durability: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  report: { type: "string" },
} as const;

/** The options every vendor shares, parsed. */
export interface CommonOptions {
  /** Print the artifacts, download nothing. */
  list: boolean;
  /** With `list`: as JSON. */
  json: boolean;
  /** The output directory. */
  outDir: string;
  /** Extract (off: keep the zips). */
  extract: boolean;
  /** Every artifact into the output directory itself. */
  merge: boolean;
  /** Downloads at once. */
  concurrency: number;
  /** Retries per download. */
  retries: number;
  /** What an `ok` guarantees after a power cut. */
  durability: Durability;
  /** Only failures and the summary. */
  quiet: boolean;
  /** Where to write the JSON report. */
  report?: string;
}

/**
 * Reads the shared options from parsed values.
 *
 * @param values The values `parseCommandLine` gave for {@linkcode COMMON_OPTIONS}.
 * @returns The options.
 * @throws {UsageError} For options that exclude each other or bad numbers.
 */
export function commonOptions(values: {
  list?: boolean;
  json?: boolean;
  output?: string;
  "no-extract"?: boolean;
  merge?: boolean;
  "max-concurrent"?: string;
  retries?: string;
  durability?: string;
  quiet?: boolean;
  report?: string;
}): CommonOptions {
  if (values.json && !values.list) {
    throw new UsageError(
      "--json goes with --list (use --report FILE for a download's JSON)",
    );
  }
  if (values.merge && values["no-extract"]) {
    throw new UsageError("--merge and --no-extract exclude each other");
  }
  return {
    list: values.list ?? false,
    json: values.json ?? false,
    outDir: values.output ?? ".",
    extract: !values["no-extract"],
    merge: values.merge ?? false,
    ...poolLimits(values),
    durability: parseDurability(values.durability ?? "full"),
    quiet: values.quiet ?? false,
    report: values.report,
  };
}

/** What one vendor's command hands to {@linkcode runArtifacts}. */
export interface ArtifactsRun<L> {
  /** Which CI, for messages and the report. */
  vendor: "github" | "gitlab";
  /** The shared options. */
  options: CommonOptions;
  /** The token, kept out of every message. */
  token?: string;
  /** The API base (its host must be granted before the first call). */
  apiUrl: string;
  /** Makes the API client. */
  makeApi(
    signal: AbortSignal,
    say: (line: string) => void,
  ): ArtifactApi<L>;
  /** Lists the candidates. */
  list(api: ArtifactApi<L>): Promise<Artifact[]>;
  /** Chooses among them. */
  select(artifacts: Artifact[]): Artifact[];
  /** One artifact: into the output directory itself. */
  flat: boolean;
  /** Most redirects a download follows (see `FetchArtifactsOptions`). */
  maxRedirects?: number;
  /** What the report says about the selection. */
  meta: Record<string, unknown>;
}

/**
 * Lists, then prints or fetches, the artifacts of `run`.
 *
 * @param run The vendor's part.
 * @returns The exit code.
 */
export async function runArtifacts<L>(run: ArtifactsRun<L>): Promise<number> {
  const { options } = run;
  const secrets = run.token ? [run.token] : [];
  const say = (line: string) => console.error(redactText(line, secrets));
  // Asked before the first call, so a missing one is one line, not an
  // API call retried as a network error or a Worker failing each archive.
  const denied = missingNetPermission([run.apiUrl]) ??
    (options.extract && !options.list
      ? missingPermission(extractorReads())
      : undefined);
  if (denied) {
    say(`bulkget artifacts ${run.vendor}: ${denied}`);
    return USAGE_EXIT_CODE;
  }
  const interrupts = listenForInterrupts();
  const interrupted = () =>
    INTERRUPT_EXIT_CODES[interrupts.received() ?? "SIGINT"];
  try {
    const api = run.makeApi(interrupts.signal, say);
    let artifacts: Artifact[];
    try {
      artifacts = await run.list(api);
    } catch (error) {
      if (interrupts.signal.aborted) return interrupted();
      if (!(error instanceof ArtifactApiError)) throw error;
      say(`bulkget artifacts ${run.vendor}: ${error.message}`);
      return 1;
    }
    const chosen = run.select(artifacts);
    if (options.list) {
      printList(chosen, options.json);
      return 0;
    }
    if (chosen.length === 0) {
      say(`bulkget artifacts ${run.vendor}: no artifact matches`);
      return 1;
    }
    const began = performance.now();
    const results = await fetchArtifacts(api, chosen, {
      outDir: options.outDir,
      extract: options.extract,
      merge: options.merge,
      flat: run.flat,
      concurrency: options.concurrency,
      retries: options.retries,
      durability: options.durability,
      maxRedirects: run.maxRedirects,
      signal: interrupts.signal,
      onResult: (r) => {
        if (r.status !== "ok" || !options.quiet) {
          say(resultLine(r, options.extract));
        }
      },
    });
    const elapsedMs = performance.now() - began;
    say(summaryLine(results, elapsedMs));
    if (options.report) {
      await writeReport(options.report, run, results, elapsedMs);
    }
    if (interrupts.received()) return interrupted();
    return results.every((r) => r.status === "ok" || r.status === "skipped")
      ? 0
      : 1;
  } finally {
    interrupts.dispose();
  }
}

/**
 * `2 of 3 artifacts done: 1 downloaded (318 B), 1 already complete in 0.4 s`:
 * the size is that of the artifacts downloaded by this run, as `get`'s
 * summary counts a skipped file apart and adds nothing for it. The bytes
 * received in this run follow when they differ from it (a resumed
 * download's earlier bytes, a retry's, a failed or interrupted one's):
 * `…: 1 downloaded (3.0 MiB); 1.5 MiB received in 0.4 s`.
 */
function summaryLine(results: ArtifactResult[], elapsedMs: number): string {
  const count = (status: ArtifactResult["status"]) =>
    results.filter((r) => r.status === status).length;
  const downloaded = results.filter((r) => r.status === "ok");
  const skipped = count("skipped");
  const bytes = downloaded.reduce((n, r) => n + r.bytes, 0);
  const received = results.reduce((n, r) => n + r.transferred, 0);
  const parts = [
    `${downloaded.length} downloaded` +
    (downloaded.length ? ` (${formatBytes(bytes)})` : ""),
  ];
  if (skipped) parts.push(`${skipped} already complete`);
  for (
    const [status, words] of [
      ["expired", "expired"],
      ["error", "failed"],
      ["cancelled", "interrupted"],
    ] as const
  ) {
    if (count(status)) parts.push(`${count(status)} ${words}`);
  }
  const receivedPart = received === bytes
    ? ""
    : `; ${formatBytes(received)} received`;
  return `${downloaded.length + skipped} of ${results.length} artifacts done: ${
    parts.join(", ")
  }${receivedPart} in ${(elapsedMs / 1000).toFixed(1)} s`;
}

function resultLine(r: ArtifactResult, extract: boolean): string {
  const name = escapeControls(r.name);
  switch (r.status) {
    case "ok": {
      // Without extraction a zip holds its files still: "0 files" would say
      // the artifact was empty.
      const what = r.raw
        ? "not a zip"
        : extract
        ? plural(r.files, "file")
        : "zip kept, not extracted";
      // A resumed (or retried) download received more or less than its size.
      const received = r.transferred === r.bytes
        ? ""
        : ` (${formatBytes(r.transferred)} received)`;
      return `ok       ${name} (${r.id}): ${
        formatBytes(r.bytes)
      }${received}, ${what} -> ${escapeControls(r.path)}`;
    }
    case "skipped":
      return `skipped  ${name} (${r.id}): done by an earlier run`;
    default:
      return `${r.status.padEnd(8)} ${name} (${r.id}): ${
        escapeControls(r.reason ?? r.status)
      }`;
  }
}

async function writeReport<L>(
  path: string,
  run: ArtifactsRun<L>,
  results: ArtifactResult[],
  elapsedMs: number,
) {
  const report = {
    version: 1,
    ci: run.vendor,
    ...run.meta,
    elapsedMs: Math.round(elapsedMs),
    artifacts: results.map((r) => ({
      id: r.id,
      name: r.name,
      digest: r.digest,
      sha256: r.sha256 ?? null,
      bytes: r.bytes,
      transferred: r.transferred,
      files: r.files,
      path: r.path,
      status: r.status,
      reason: r.reason ?? null,
      conflicts: r.conflicts ?? [],
    })),
  };
  await Deno.writeTextFile(path, JSON.stringify(report, null, 2) + "\n");
}

function printList(artifacts: Artifact[], json: boolean) {
  if (json) {
    console.log(JSON.stringify(
      artifacts.map((a) => ({
        id: a.id,
        name: a.name,
        size: a.size,
        digest: a.sha256 === null ? null : `sha256:${a.sha256}`,
        expired: a.expired,
        created_at: a.createdAt,
        run_id: a.runId ?? null,
      })),
      null,
      2,
    ));
    return;
  }
  const rows = [
    ["NAME", "ID", "SIZE", "DIGEST", "EXPIRED"],
    ...artifacts.map((a) => [
      escapeControls(a.name),
      String(a.id),
      formatBytes(a.size),
      a.sha256 === null ? "-" : `sha256:${a.sha256.slice(0, 12)}…`,
      a.expired ? "yes" : "no",
    ]),
  ];
  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map((r) => r[i].length))
  );
  for (const row of rows) {
    console.log(row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
  }
}
