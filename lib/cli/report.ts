/**
 * `bulkget report merge`: one JSON report from the reports of sharded runs
 * (`bulkget get --shard K/N --report …`), with an exit code that says whether
 * every job of the list succeeded exactly once.
 *
 * @module
 */

import { jobsFromInputFiles } from "../source/inputs.ts";
import { formatBytes, plural } from "../outputs/format.ts";
import { outcomeCounts } from "../outputs/summary.ts";
import {
  type MergedReport,
  mergedReportText,
  mergeReports,
  type MergeSummary,
  type NamedReport,
  parseReport,
} from "../report/merge.ts";
import { parseCommandLine, requireFile } from "./usage.ts";
import { missingPermission, USAGE_EXIT_CODE } from "./permissions.ts";
import { VERSION } from "./version.ts";
import { SourceError, UsageError } from "../core/errors.ts";

const USAGE = "usage: bulkget report merge [options] REPORT ...";

const HELP = `${USAGE}

Merge the JSON reports (--report FILE) of the workers of a sharded run
(bulkget get --shard K/N) into one, and check the whole: every job ended ok,
skipped or unchanged; no destination is in two reports; no shard is missing.
A REPORT that is a directory stands for the *.json files in it.

With the job list the workers were given (--manifest and -i, with the same
--keep-paths), it also finds the jobs that are in no report. Without it, only
overlaps, failures and (from the reports' shard fields) missing shards can be
detected.

options:
  -o, --output FILE          write the merged report to FILE
  --manifest FILE            the JSONL manifest the workers read; repeatable
  -i, --input FILE           a URL list or aria2 input file the workers read; repeatable
  --keep-paths               the workers ran with --keep-paths
  -q, --quiet                print only the problems
  -h, --help                 this help

exit codes: 0 every job succeeded once, 1 some failed, are missing or ran twice
(or a report is incomplete), 2 usage or permission error`;

/** Most missing or duplicated jobs printed (the -o report lists them all). */
const MAX_PRINTED = 10;

/** Parsed `bulkget report merge` options. */
export interface MergeCommandOptions {
  /** The REPORT arguments: files, or directories of `*.json` files. */
  reports: string[];
  /** `-o FILE`: where to write the merged report. */
  output?: string;
  /** `--manifest FILE`s the workers read. */
  manifests: string[];
  /** `-i FILE`s (URL lists, aria2 input files) the workers read. */
  lists: string[];
  /** `--keep-paths`: derive destinations as the workers did. */
  keepPaths: boolean;
  /** `-q`: print only the problems. */
  quiet: boolean;
  /** `-h`: print the help. */
  help: boolean;
}

/**
 * Parses the command line of `bulkget report merge`.
 *
 * @param args The arguments after `merge`.
 * @returns The options.
 * @throws {UsageError} For bad input.
 */
export function parseMergeArgs(args: string[]): MergeCommandOptions {
  const parsed = parseCommandLine(args, {
    help: { type: "boolean", short: "h" },
    output: { type: "string", short: "o" },
    manifest: { type: "string", multiple: true },
    input: { type: "string", short: "i", multiple: true },
    "keep-paths": { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
  });
  const v = parsed.values;
  const options: MergeCommandOptions = {
    reports: parsed.positionals,
    output: v.output,
    manifests: v.manifest ?? [],
    lists: v.input ?? [],
    keepPaths: v["keep-paths"] ?? false,
    quiet: v.quiet ?? false,
    help: v.help ?? false,
  };
  if (!options.help && options.reports.length === 0) {
    throw new UsageError("no reports to merge: give REPORT ...");
  }
  if (
    [...options.manifests, ...options.lists].filter((p) => p === "-").length > 1
  ) {
    throw new UsageError("standard input (-) can be read only once");
  }
  if (options.reports.includes("-")) {
    throw new UsageError("reports are read from files, not standard input");
  }
  return options;
}

/**
 * Runs `bulkget report …` (the one subcommand is `merge`).
 *
 * @param args The arguments after `report`.
 * @returns The exit code.
 */
export async function reportCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "-h" || sub === "--help" || sub === "help") {
    console.log(HELP);
    return 0;
  }
  if (sub !== "merge") {
    console.error(
      `bulkget report: ${
        sub === undefined
          ? "give a subcommand"
          : `unknown subcommand ${JSON.stringify(sub)}`
      } (the one subcommand is merge)\n${USAGE}`,
    );
    return USAGE_EXIT_CODE;
  }
  let options: MergeCommandOptions;
  let paths: string[];
  try {
    options = parseMergeArgs(rest);
    if (options.help) {
      console.log(HELP);
      return 0;
    }
    const denied = missingPermission([
      ...[...options.reports, ...options.manifests, ...options.lists]
        .filter((p) => p !== "-")
        .map((path) => ({ name: "read" as const, path })),
      ...(options.output
        ? [{ name: "write" as const, path: options.output }]
        : []),
    ]);
    if (denied) {
      console.error(`bulkget report merge: ${denied}`);
      return USAGE_EXIT_CODE;
    }
    paths = await reportPaths(options.reports, options.output);
    for (const path of [...options.manifests, ...options.lists]) {
      if (path !== "-") await requireFile(path);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bulkget report merge: ${error.message}\n${USAGE}`);
    return USAGE_EXIT_CODE;
  }
  return await merge(options, paths);
}

/** Merges the reports at `paths`, writes `-o`, says what was found. */
async function merge(
  options: MergeCommandOptions,
  paths: string[],
): Promise<number> {
  const { reports, unreadable } = await readReports(paths);
  const listed = options.manifests.length + options.lists.length > 0;
  let result;
  try {
    result = await mergeReports(reports, {
      tool: `bulkget ${VERSION}`,
      expected: listed ? jobsFromInputFiles(options) : undefined,
    });
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    console.error(`bulkget report merge: ${error.message}`);
    return USAGE_EXIT_CODE;
  }
  const { report } = result;
  report.merge.problems.unshift(
    ...unreadable.map((line) => `${line}: its jobs count as missing`),
  );
  if (options.output) await writeMerged(options.output, report);
  if (!options.quiet) printFindings(report, reports.length);
  printProblems(report.merge);
  const exitCode = unreadable.length > 0 ? 1 : result.exitCode;
  if (exitCode === 0 && !options.quiet) {
    console.log(
      listed
        ? "bulkget report merge: every job of the list succeeded once"
        : "bulkget report merge: every job in the reports succeeded once",
    );
  }
  return exitCode;
}

/** The reports that parse, and a line for each that does not. */
async function readReports(
  paths: readonly string[],
): Promise<{ reports: NamedReport[]; unreadable: string[] }> {
  const reports: NamedReport[] = [];
  const unreadable: string[] = [];
  for (const path of paths) {
    try {
      const report = parseReport(await Deno.readTextFile(path), path);
      reports.push({ name: path, report });
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      unreadable.push(error.message);
    }
  }
  return { reports, unreadable };
}

/** Writes the merged report to `path`, piece by piece. */
async function writeMerged(path: string, report: MergedReport): Promise<void> {
  const file = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  const writer = file.writable.getWriter();
  const encoder = new TextEncoder();
  for (const piece of mergedReportText(report)) {
    await writer.write(encoder.encode(piece));
  }
  await writer.close();
}

/** The counts line and the notes, on stdout. */
function printFindings(report: MergedReport, reportCount: number): void {
  const t = report.totals;
  const summary = report.merge;
  const shardCount = summary.shards.find((s) => s !== null)?.count;
  console.log(
    `bulkget report merge: ${plural(reportCount, "report")}${
      shardCount ? ` (of ${plural(shardCount, "shard")})` : ""
    }, ${plural(t.jobs, "job")}${
      summary.expectedJobs === null
        ? ""
        : ` (the list has ${summary.expectedJobs})`
    }: ${outcomeCounts(t).join(", ")}; ${
      // Sizes on disk, not what crossed the network: a rerun's already
      // complete files add to the first, not the second.
      formatBytes(t.bytes)} in complete files${
      t.transferred > 0 ? `, ${formatBytes(t.transferred)} received` : ""
    }`,
  );
  for (const note of summary.notes) console.log(`note: ${note}`);
  if (summary.expectedJobs === null) {
    console.log(
      "note: without --manifest/-i, jobs missing from every report cannot be detected",
    );
  }
}

/**
 * The problems on stderr, each list of jobs (the first missing, the first
 * duplicated) right after the problem it details.
 */
function printProblems(summary: MergeSummary): void {
  for (const problem of summary.problems) {
    console.error(`bulkget report merge: ${problem}`);
    // The words merge_checks.ts gives these two problems.
    if (problem.endsWith(" in no report")) {
      for (const job of summary.missing.slice(0, MAX_PRINTED)) {
        console.error(
          `  missing: ${job.dest}${job.origin ? ` (${job.origin})` : ""}`,
        );
      }
      printMore(summary.missing.length);
    } else if (problem.endsWith(" in two or more reports")) {
      for (const duplicate of summary.duplicates.slice(0, MAX_PRINTED)) {
        console.error(
          `  in ${duplicate.reports.join(" and ")}: ${duplicate.dest}`,
        );
      }
      printMore(summary.duplicates.length);
    }
  }
}

/** Says how many of a list's `count` entries were not printed, and where they are. */
function printMore(count: number): void {
  if (count > MAX_PRINTED) {
    console.error(
      `  … and ${
        count - MAX_PRINTED
      } more, listed in the merged report (-o FILE)`,
    );
  }
}

/** The report files: each argument, or the `*.json` files of a directory. */
async function reportPaths(
  args: string[],
  output: string | undefined,
): Promise<string[]> {
  const paths: string[] = [];
  for (const arg of args) {
    let info;
    try {
      info = await Deno.stat(arg);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new UsageError(`${arg}: no such file`);
      }
      throw error;
    }
    if (!info.isDirectory) {
      paths.push(arg);
      continue;
    }
    const names: string[] = [];
    for await (const entry of Deno.readDir(arg)) {
      if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name);
    }
    const outPath = output === undefined ? undefined : await realPath(output);
    const inDir: string[] = [];
    for (const name of names.sort()) {
      const path = `${arg.replace(/\/+$/, "")}/${name}`;
      // An earlier merge's output in the same directory is not a shard's report.
      if (outPath === undefined || await realPath(path) !== outPath) {
        inDir.push(path);
      }
    }
    if (inDir.length === 0) throw new UsageError(`${arg}: no *.json reports`);
    paths.push(...inDir);
  }
  return paths;
}

/**
 * The real path of a file that may not exist yet: its directory's real path
 * and its name, so `merged.json`, `./merged.json` and `d/../merged.json`
 * compare equal.
 */
async function realPath(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    const slash = path.replace(/\\/g, "/").lastIndexOf("/");
    const dir = slash < 0 ? "." : path.slice(0, slash) || "/";
    try {
      return `${await Deno.realPath(dir)}/${path.slice(slash + 1)}`;
    } catch {
      return path;
    }
  }
}
