/**
 * `bulkget flags`: the *Fluent Python* flags downloader (`flags2_asyncio.py`,
 * and `flags3` with `--names`), with the book's command line and output.
 *
 * stdout carries the book's lines and nothing else; notices (a started
 * server, retries) go to stderr.
 *
 * @module
 */

import { download } from "../engine/download.ts";
import type { Job, Outcome } from "../core/job.ts";
import type { EngineEvent } from "../core/events.ts";
import { startProgressBar } from "../outputs/progress.ts";
import { plural } from "../outputs/format.ts";
import {
  FLAG_SERVERS,
  type FlagsOptions,
  HELP,
  parseFlagsArgs,
  USAGE,
} from "./flags_options.ts";
import { safeDest } from "../writer/safe_name.ts";
import { INTERRUPT_EXIT_CODES, listenForInterrupts } from "./interrupt.ts";
import { missingPermission, USAGE_EXIT_CODE } from "./permissions.ts";
import { netHost } from "../core/net_permission.ts";
import type { RunningServer } from "../server/server.ts";
import { AttemptError, ERROR_CODES, UsageError } from "../core/errors.ts";

export {
  FLAG_SERVERS,
  type FlagsOptions,
  parseFlagsArgs,
  type ServerLabel,
} from "./flags_options.ts";

/**
 * The book's first three lines.
 *
 * @param options The parsed options.
 * @param connections Connections that will be used.
 * @returns The lines, without newlines.
 */
export function headerLines(
  options: FlagsOptions,
  connections: number,
): string[] {
  const { codes } = options;
  const list = codes.length <= 10
    ? codes.join(", ")
    : `from ${codes[0]} to ${codes[codes.length - 1]}`;
  return [
    `${options.label} site: ${options.baseUrl}`,
    `Searching for ${plural(codes.length, "flag")}: ${list}`,
    connections === 1
      ? "1 connection will be used."
      : `${connections} concurrent connections will be used.`,
  ];
}

/** Counts of a flags run. */
export interface FlagCounts {
  ok: number;
  notFound: number;
  error: number;
}

/**
 * The book's closing lines.
 *
 * @param counts What happened.
 * @param elapsedSeconds Wall time of the downloads.
 * @returns The lines, without newlines.
 */
export function summaryLines(
  counts: FlagCounts,
  elapsedSeconds: number,
): string[] {
  const pad = (n: number) => String(n).padStart(3);
  const lines = [
    "-".repeat(20),
    `${pad(counts.ok)} flag${counts.ok === 1 ? "" : "s"} downloaded.`,
  ];
  if (counts.notFound > 0) lines.push(`${pad(counts.notFound)} not found.`);
  if (counts.error > 0) {
    lines.push(`${pad(counts.error)} error${counts.error === 1 ? "" : "s"}.`);
  }
  lines.push(`Elapsed time: ${elapsedSeconds.toFixed(2)}s`);
  return lines;
}

/**
 * The `-v` line for one outcome: `BR OK`, `ZZ not found: URL`, `BA error: reason`.
 *
 * @param outcome The flag's outcome.
 * @returns The line.
 */
export function verboseLine(outcome: Outcome): string {
  const cc = outcome.job.label ?? outcome.job.dest;
  switch (outcome.status) {
    case "ok":
      return `${cc} OK`;
    case "not_found":
      return `${cc} not found: ${outcome.job.url}`;
    default:
      return `${cc} error: ${outcome.reason ?? outcome.status}`;
  }
}

/**
 * Runs `bulkget flags`.
 *
 * @param args The arguments after `flags`.
 * @returns The exit code: 0 no errors, 1 some errors, 2 usage, 130/143 interrupted.
 */
export async function flagsCommand(args: string[]): Promise<number> {
  let options: FlagsOptions;
  try {
    options = await parseFlagsArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.log(`*** Usage error: ${error.message}`);
    console.log(USAGE);
    return USAGE_EXIT_CODE;
  }
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  const base = new URL(options.baseUrl);
  const denied = missingPermission([
    { name: "net", host: netHost(base) },
    { name: "write", path: options.outDir },
    // The writer renames .part files into place, which Deno grants only with read too.
    { name: "read", path: options.outDir },
  ]);
  if (denied) {
    console.error(`bulkget flags: ${denied}`);
    return USAGE_EXIT_CODE;
  }

  let server: RunningServer | undefined;
  if (
    options.baseUrl === FLAG_SERVERS[options.label] &&
    options.label !== "REMOTE"
  ) {
    server = await startBuiltInServerIfNeeded(options.label, base);
  }
  const interrupts = listenForInterrupts();
  try {
    const connections = Math.min(
      options.concurrency,
      1000,
      options.codes.length,
    );
    for (const line of headerLines(options, connections)) console.log(line);
    const began = performance.now();
    const counts = await runDownloads(options, connections, interrupts.signal);
    for (
      const line of summaryLines(counts, (performance.now() - began) / 1000)
    ) console.log(line);
    const signal = interrupts.received();
    if (signal) return INTERRUPT_EXIT_CODES[signal];
    return counts.error > 0 ? 1 : 0;
  } finally {
    interrupts.dispose();
    await server?.close();
  }
}

async function runDownloads(
  options: FlagsOptions,
  connections: number,
  signal: AbortSignal,
): Promise<FlagCounts> {
  const jobs: Job[] = options.codes.map((cc) => {
    const lower = cc.toLowerCase();
    return {
      url: `${options.baseUrl}/${lower}/${lower}.gif`,
      dest: `${lower}.gif`,
      label: cc,
    };
  });
  const bar = !options.verbose && Deno.stderr.isTerminal()
    // Not found is an answer here (the closing lines count it apart), not
    // a failure.
    ? startProgressBar({
      total: jobs.length,
      unit: "flags",
      notFoundFails: false,
    })
    : undefined;
  // Stopped at the Ctrl-C, as get's is: the flags interrupted then are in
  // no closing line, so the bar's last frame must not count them done.
  signal.addEventListener("abort", () => bar?.stop(), { once: true });
  const onEvent = (event: EngineEvent) => {
    bar?.update(event);
    if (options.verbose && event.type === "retrying") {
      console.error(
        `${event.job.label} retry ${event.attempt}: ${event.reason} (waiting ${
          (event.delayMs / 1000).toFixed(1)
        }s)`,
      );
    }
  };
  const counts: FlagCounts = { ok: 0, notFound: 0, error: 0 };
  try {
    for await (
      const outcome of download(jobs, {
        outDir: options.outDir,
        concurrency: connections,
        retries: options.retries,
        existing: "overwrite",
        resume: false,
        deadlines: {
          connectMs: options.timeoutMs,
          totalMs: options.timeoutMs,
          idleMs: options.timeoutMs,
        },
        prepare: options.names
          ? (job, s) => nameAfterCountry(job, options, s)
          : undefined,
        onEvent,
        signal,
      })
    ) {
      if (outcome.status === "cancelled") continue;
      if (outcome.status === "ok") counts.ok++;
      else if (outcome.status === "not_found") counts.notFound++;
      else counts.error++;
      if (options.verbose) console.log(verboseLine(outcome));
    }
  } finally {
    bar?.stop();
  }
  return counts;
}

/** flags3: fetch the country's metadata and name the file after it, e.g. `Brazil.gif`. */
async function nameAfterCountry(
  job: Job,
  options: FlagsOptions,
  signal?: AbortSignal,
): Promise<Job> {
  const lower = job.label!.toLowerCase();
  const url = `${options.baseUrl}/${lower}/metadata.json`;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const response = await fetch(url, {
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new AttemptError(
      `HTTP error ${response.status} - ${response.statusText}`,
      response.status === 404 ? "not_found" : "fatal",
      {
        code: response.status === 404
          ? ERROR_CODES.notFound
          : ERROR_CODES.lookup,
        status: response.status,
      },
    );
  }
  const metadata = await response.json() as { country?: unknown };
  if (typeof metadata.country !== "string" || metadata.country.trim() === "") {
    throw new AttemptError(`metadata.json has no country name`, "fatal", {
      code: ERROR_CODES.lookup,
    });
  }
  // The book's name (spaces to underscores), refused if a server sends an unsafe one.
  const dest = `${metadata.country.replace(/ /g, "_")}.gif`;
  try {
    return { ...job, dest: safeDest(dest) };
  } catch (error) {
    throw new AttemptError((error as Error).message, "fatal", {
      code: ERROR_CODES.lookup,
    });
  }
}

/** Starts the built-in server for a book label when nothing answers on its port. */
async function startBuiltInServerIfNeeded(
  label: "LOCAL" | "DELAY" | "ERROR",
  base: URL,
): Promise<RunningServer | undefined> {
  const port = Number(base.port);
  if (await answers(base.hostname, port)) return undefined;
  // Loaded only when needed: most runs talk to a server that is already up.
  const { startServer } = await import("../server/server.ts");
  const server = await startServer({
    preset: label,
    port,
    hostname: "127.0.0.1",
    alt: false,
  });
  console.error(
    `bulkget: nothing answered on ${base.host}; started the built-in ${label} server at ${server.url}`,
  );
  return server;
}

async function answers(hostname: string, port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname, port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}
