/**
 * `bulkget get`: download URLs from arguments, lists, aria2 input files and
 * JSONL manifests, with retries, resume, verification, and output for people
 * (a progress bar) and for CI (status lines, GitHub annotations, a JSON
 * report).
 *
 * @module
 */

import { DEFAULT_CONCURRENCY, download } from "../engine/download.ts";
import { DEFAULT_RETRIES } from "../engine/fetch_one.ts";
import { DEADLINE_DEFAULTS } from "../engine/deadline.ts";
import type { Job, Outcome } from "../core/job.ts";
import type { EngineEvent } from "../core/events.ts";
import { jobsFromUrls } from "../source/args.ts";
import { jobsFromInputFiles } from "../source/inputs.ts";
import { dedupeDestinations } from "../source/dedupe.ts";
import {
  resolveShard,
  type Shard,
  shardJobs,
  shardVariable,
} from "../source/shard.ts";
import { SourceError } from "../source/source_error.ts";
import { nameFromContentDisposition } from "../writer/safe_name.ts";
import { loadValidators } from "../writer/validators.ts";
import { jobKey, startProgressBar } from "../report/progress.ts";
import { countJobs } from "../source/count.ts";
import { failureLine, startStatusLines } from "../report/ci_log.ts";
import type { RunListener } from "../report/listener.ts";
import { verboseLines } from "../report/verbose.ts";
import { githubOutputs } from "../report/github.ts";
import { printSummary } from "../report/summary.ts";
import { DURABILITIES, type Durability } from "../writer/client.ts";
import {
  addOutcome,
  emptyTotals,
  exitCodeFor,
  type Totals,
} from "../report/tally.ts";
import { openReport, type ReportWriter } from "../report/json_report.ts";
import { redactText } from "../core/redact.ts";
import {
  parseByteSize,
  parseCommandLine,
  parseHeader,
  parseSeconds,
  parseWholeNumber,
  requireFile,
  UsageError,
} from "./usage.ts";
import { INTERRUPT_EXIT_CODES, listenForInterrupts } from "./interrupt.ts";
import {
  missingPermission,
  optionalEnv,
  USAGE_EXIT_CODE,
} from "./permissions.ts";
import { VERSION } from "./version.ts";
import { dryRun } from "./dry_run.ts";
import { type AuthChoice, resolveAuth } from "./auth_options.ts";
import { type LogFile, openLogFile } from "./log_file.ts";

const USAGE =
  "usage: bulkget get [options] [URL ...]   (or: bulkget [options] URL ...)";

const HELP = `${USAGE}

Download every URL given as an argument, in the lists (-i) and in the
manifests (--manifest), at once, with retries, resume and verification.

inputs:
  URL ...                    http(s) URLs
  -i, --input FILE           a URL list or an aria2 input file (- for stdin); repeatable
  --manifest FILE            JSONL: {"url", "dest"?, "sha256"?, "size"?, "headers"?} per line; repeatable

where:
  -o, --output DIR           output directory (default: .)
  --keep-paths               mirror each URL's path under DIR (default: last path segment)
  --force                    download again even when a complete, verified file exists
  --update                   ask the server whether files from earlier --update runs changed
                             (conditional GET with their ETag / Last-Modified); fetch only those
  --content-disposition      name files as the server's Content-Disposition says (made safe)

sharding (split one list across N workers; see README):
  --shard K/N                keep only shard K of N (K from 1), by a stable hash of each destination
  --shard-count N            N shards; K from $JOB_COMPLETION_INDEX (Kubernetes Indexed Job, counts from 0)
  --shard-from-env VAR       K (from 1, with --shard-count N) or K/N from the variable VAR

how:
  -m, --max-concurrent N     downloads at once (default: ${DEFAULT_CONCURRENCY})
  --per-host N               downloads at once per host (default: no limit)
  --retries N                retries per file for retryable failures (default: ${DEFAULT_RETRIES})
  --connect-timeout S        seconds until response headers (default: ${
  DEADLINE_DEFAULTS.connectMs / 1000
})
  --idle-timeout S           seconds without a body byte (default: ${
  DEADLINE_DEFAULTS.idleMs / 1000
})
  --timeout S                seconds for a whole attempt (default: no limit)
  --max-size SIZE            refuse bodies larger than SIZE, e.g. 100M (default: no limit)
  --no-resume                restart .part files instead of resuming them
  --dry-run                  print what would be downloaded where (after --shard, dedupe and skip checks); no request
  --no-remote-time           keep the download's time as the file's mtime (default: the server's Last-Modified)
  --limit-rate SIZE          most bytes per second for the whole run, e.g. 500K (default: no limit)
  --max-download-limit SIZE  most bytes per second for each download (default: no limit)
  --proxy URL                send requests through this HTTP proxy (user:password@ in URL: its login)
  --no-proxy LIST            hosts that go direct, e.g. localhost,.internal.example,10.0.0.1:8080
  --durability full|none     full: a file is reported downloaded only once its bytes and name are
                             on stable storage (fdatasync, rename, directory fsync); none: no
                             flushes, faster on real disks, a power cut may lose reported files
                             (default: full)
  --use-fetch                send requests with Deno's fetch (HTTP/2, proxies), not bulkget's own
                             HTTP/1.1 client (fetch is used anyway when HTTP(S)_PROXY is set)
  -H, --header "Name: value" send a header with every request; repeatable
  --user USER[:PASSWORD]     Basic authorization for each URL's origin (never sent to another origin)
  --password-env NAME        the --user password from the variable NAME (off the command line)
  --netrc, --netrc-file FILE credentials by host from ~/.netrc (or FILE)
  --cookie FILE              send the cookies of a Netscape cookie file where they match
  --token-env NAME           send "Authorization: Bearer $NAME" (the token stays off the command line)
  --ca-cert FILE             also trust the CA certificate(s) in this PEM file for https; repeatable

output:
  -q, --quiet                only failures and the summary
  -v, --verbose              one line per file
  --report FILE              write a JSON report (see README)
  --log FILE                 also write the plain lines (each file, each retry, status) to FILE, time-stamped
  --status-interval S        seconds between status lines when stderr is not a terminal (default: 5)

exit codes: 0 all downloaded, 1 some failed, 2 usage or permission error, 130 interrupted (143 on SIGTERM)`;

/** Parsed `bulkget get` options. */
export interface GetOptions {
  urls: string[];
  lists: string[];
  manifests: string[];
  outDir: string;
  keepPaths: boolean;
  force: boolean;
  update: boolean;
  contentDisposition: boolean;
  concurrency: number;
  perHost?: number;
  retries: number;
  connectMs: number;
  idleMs: number;
  totalMs: number;
  maxSize?: number;
  /** `--limit-rate`: bytes per second, the whole run. */
  limitRate?: number;
  /** `--max-download-limit`: bytes per second, each download. */
  limitRatePerDownload?: number;
  resume: boolean;
  /** `--log FILE`: where the plain lines also go. */
  log?: string;
  /** That file, opened before the first request. */
  logFile?: LogFile;
  /** `--user`, `--password-env`, `--netrc`, `--netrc-file`, `--cookie` as typed. */
  auth: AuthChoice;
  /** Per-URL credentials resolved from them (netrc, cookies). */
  credentials?: (url: URL) => Record<string, string>;
  /** Strings no output may show, beside the header values. */
  secrets?: string[];
  /** `--proxy URL`. */
  proxy?: string;
  /** `--no-proxy LIST`. */
  noProxy?: string;
  /** `--dry-run`: print the plan, download nothing. */
  dryRun: boolean;
  /** `--no-remote-time` turns it off: files keep the download's time. */
  remoteTime: boolean;
  /** `--durability`: what an OK guarantees after a power cut. */
  durability: Durability;
  /** `--use-fetch`: no own HTTP/1.1 client. */
  useFetch: boolean;
  headers: Record<string, string>;
  tokenEnv?: string;
  /** `--ca-cert FILE`: PEM files of extra CAs to trust. */
  caCertFiles: string[];
  /** The PEM text of those files, read before the first request. */
  caCerts?: string[];
  quiet: boolean;
  verbose: boolean;
  report?: string;
  statusIntervalMs: number;
  /** `--shard`, `--shard-count`, `--shard-from-env` as typed; see `shard.ts`. */
  shardChoice: { shard?: string; count?: string; fromEnv?: string };
  /** The resolved shard (set by `getCommand` once the environment is read). */
  shard?: Shard;
  help: boolean;
}

/** Checks `--durability`. */
function parseDurability(text: string): Durability {
  if (!(DURABILITIES as readonly string[]).includes(text)) {
    throw new UsageError(
      `Cannot parse "--durability": expected ${
        DURABILITIES.join(" or ")
      }, got "${text}"`,
    );
  }
  return text as Durability;
}

/**
 * Parses the command line of `bulkget get`.
 *
 * @param args The arguments after `get`.
 * @returns The options.
 * @throws {UsageError} For bad input.
 */
export function parseGetArgs(args: string[]): GetOptions {
  const parsed = parseCommandLine(args, {
    help: { type: "boolean", short: "h" },
    input: { type: "string", short: "i", multiple: true },
    manifest: { type: "string", multiple: true },
    output: { type: "string", short: "o" },
    "keep-paths": { type: "boolean" },
    force: { type: "boolean" },
    update: { type: "boolean" },
    "content-disposition": { type: "boolean" },
    "max-concurrent": { type: "string", short: "m" },
    "per-host": { type: "string" },
    retries: { type: "string" },
    "connect-timeout": { type: "string" },
    "idle-timeout": { type: "string" },
    timeout: { type: "string" },
    "max-size": { type: "string" },
    "limit-rate": { type: "string" },
    "max-download-limit": { type: "string" },
    "no-resume": { type: "boolean" },
    "no-remote-time": { type: "boolean" },
    "dry-run": { type: "boolean" },
    log: { type: "string" },
    user: { type: "string" },
    "password-env": { type: "string" },
    netrc: { type: "boolean" },
    "netrc-file": { type: "string" },
    cookie: { type: "string" },
    proxy: { type: "string" },
    "no-proxy": { type: "string" },
    durability: { type: "string" },
    "use-fetch": { type: "boolean" },
    header: { type: "string", short: "H", multiple: true },
    "ca-cert": { type: "string", multiple: true },
    "token-env": { type: "string" },
    quiet: { type: "boolean", short: "q" },
    verbose: { type: "boolean", short: "v" },
    report: { type: "string" },
    shard: { type: "string" },
    "shard-count": { type: "string" },
    "shard-from-env": { type: "string" },
    "status-interval": { type: "string" },
  });
  const v = parsed.values;
  const headers: Record<string, string> = {};
  for (const text of v.header ?? []) {
    const [name, value] = parseHeader(text);
    headers[name] = value;
  }
  const options: GetOptions = {
    urls: parsed.positionals,
    lists: v.input ?? [],
    manifests: v.manifest ?? [],
    outDir: v.output ?? ".",
    keepPaths: v["keep-paths"] ?? false,
    force: v.force ?? false,
    update: v.update ?? false,
    contentDisposition: v["content-disposition"] ?? false,
    concurrency: parseWholeNumber(
      v["max-concurrent"] ?? String(DEFAULT_CONCURRENCY),
      "-m",
      1,
    ),
    perHost: v["per-host"] === undefined
      ? undefined
      : parseWholeNumber(v["per-host"], "--per-host", 1),
    retries: v.retries === undefined
      ? DEFAULT_RETRIES
      : parseWholeNumber(v.retries, "--retries", 0),
    connectMs: v["connect-timeout"] === undefined
      ? DEADLINE_DEFAULTS.connectMs
      : parseSeconds(v["connect-timeout"], "--connect-timeout"),
    idleMs: v["idle-timeout"] === undefined
      ? DEADLINE_DEFAULTS.idleMs
      : parseSeconds(v["idle-timeout"], "--idle-timeout"),
    totalMs: v.timeout === undefined ? 0 : parseSeconds(v.timeout, "--timeout"),
    maxSize: v["max-size"] === undefined
      ? undefined
      : parseByteSize(v["max-size"], "--max-size"),
    limitRate: optionalRate(v["limit-rate"], "--limit-rate"),
    limitRatePerDownload: optionalRate(
      v["max-download-limit"],
      "--max-download-limit",
    ),
    resume: !(v["no-resume"] ?? false),
    remoteTime: !(v["no-remote-time"] ?? false),
    dryRun: v["dry-run"] ?? false,
    log: v.log,
    proxy: v.proxy,
    noProxy: v["no-proxy"],
    auth: {
      user: v.user,
      passwordEnv: v["password-env"],
      netrc: v.netrc ?? false,
      netrcFile: v["netrc-file"],
      cookieFile: v.cookie,
    },
    durability: parseDurability(v.durability ?? "full"),
    useFetch: v["use-fetch"] ?? false,
    headers,
    tokenEnv: v["token-env"],
    caCertFiles: v["ca-cert"] ?? [],
    quiet: v.quiet ?? false,
    verbose: v.verbose ?? false,
    report: v.report,
    shardChoice: {
      shard: v.shard,
      count: v["shard-count"],
      fromEnv: v["shard-from-env"],
    },
    statusIntervalMs: v["status-interval"] === undefined
      ? 5000
      : parseSeconds(v["status-interval"], "--status-interval"),
    help: v.help ?? false,
  };
  if (options.force && options.update) {
    throw new UsageError("--force and --update cannot be used together");
  }
  if (options.quiet && options.verbose) {
    throw new UsageError("-q and -v cannot be used together");
  }
  if (
    !options.help &&
    options.urls.length + options.lists.length + options.manifests.length === 0
  ) {
    throw new UsageError(
      "nothing to download: give URLs, -i FILE or --manifest FILE",
    );
  }
  if (options.proxy !== undefined) {
    const url = URL.parse(options.proxy);
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw new UsageError("--proxy must be an http(s) URL");
    }
    if (url.password) options.secrets = [decodeURIComponent(url.password)];
  }
  if (options.noProxy !== undefined && options.proxy === undefined) {
    throw new UsageError("--no-proxy needs --proxy URL");
  }
  if (
    options.lists.filter((p) => p === "-").length +
        options.manifests.filter((p) => p === "-").length > 1
  ) {
    throw new UsageError("standard input (-) can be read only once");
  }
  return options;
}

/** The permissions the credential options need: their files, their variables. */
function authPermissions(auth: AuthChoice) {
  return [
    ...[auth.netrcFile, auth.cookieFile].filter((p) => p !== undefined)
      .map((path) => ({ name: "read" as const, path })),
    ...[auth.passwordEnv, auth.netrc && !auth.netrcFile ? "HOME" : undefined]
      .filter((v) => v !== undefined)
      .map((variable) => ({ name: "env" as const, variable })),
  ];
}

/** A rate option's bytes per second (above 0), or undefined when not given. */
function optionalRate(text: string | undefined, what: string) {
  if (text === undefined) return undefined;
  const rate = parseByteSize(text, what);
  if (rate === 0) throw new UsageError(`${what} must be above 0`);
  return rate;
}

/** The jobs of every input (only this worker's share with `--shard`). */
function allJobs(options: GetOptions): AsyncIterable<Job> {
  const jobs = inputJobs(options);
  return options.shard ? shardJobs(jobs, options.shard) : jobs;
}

/** The jobs of every input, in order: arguments, then lists, then manifests. */
async function* inputJobs(options: GetOptions): AsyncGenerator<Job> {
  yield* jobsFromUrls(options.urls, { keepPaths: options.keepPaths });
  yield* jobsFromInputFiles(options);
}

/**
 * Names files after `Content-Disposition`, in the job's directory (the
 * engine refuses a name another job of the run writes, or a file that
 * exists without --force).
 */
function contentDispositionNamer(): (
  job: Job,
  headers: Headers,
) => string | undefined {
  return (job, headers) => {
    const name = nameFromContentDisposition(headers.get("content-disposition"));
    if (name === undefined) return undefined;
    const slash = job.dest.lastIndexOf("/");
    return slash < 0 ? name : `${job.dest.slice(0, slash + 1)}${name}`;
  };
}

/** The PEM text of a `--ca-cert` file; a file that holds no certificate is a usage error. */
async function readCaCert(path: string): Promise<string> {
  await requireFile(path);
  const pem = await Deno.readTextFile(path);
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new UsageError(`--ca-cert ${path}: no PEM certificate in the file`);
  }
  return pem;
}

/** Most failed jobs listed at the end of a run (the report has them all). */
const MAX_LISTED_FAILURES = 20;

/**
 * Runs `bulkget get`.
 *
 * @param args The arguments after `get`.
 * @returns The exit code.
 */
export async function getCommand(args: string[]): Promise<number> {
  let options: GetOptions;
  try {
    options = parseGetArgs(args);
    if (options.help) {
      console.log(HELP);
      return 0;
    }
    const denied = missingPermission([
      ...[...options.lists, ...options.manifests, ...options.caCertFiles]
        .filter((p) => p !== "-").map((
          path,
        ) => ({ name: "read" as const, path })),
      // A dry run only looks.
      ...(options.dryRun
        ? []
        : [{ name: "write" as const, path: options.outDir }]),
      // Renaming .part files into place needs read access too.
      { name: "read", path: options.outDir },
      ...(options.report
        ? [{ name: "write" as const, path: options.report }]
        : []),
      ...(options.log ? [{ name: "write" as const, path: options.log }] : []),
      ...authPermissions(options.auth),
      ...(options.tokenEnv
        ? [{ name: "env" as const, variable: options.tokenEnv }]
        : []),
      ...[shardVariable(options.shardChoice)].filter((v) => v !== undefined)
        .map((variable) => ({ name: "env" as const, variable })),
    ]);
    if (denied) {
      console.error(`bulkget get: ${denied}`);
      return USAGE_EXIT_CODE;
    }
    if (options.tokenEnv) {
      const token = Deno.env.get(options.tokenEnv);
      if (!token) {
        throw new UsageError(
          `--token-env ${options.tokenEnv}: the variable is not set or empty`,
        );
      }
      options.headers.Authorization = `Bearer ${token}`;
    }
    const auth = await resolveAuth(options.auth, (name) => Deno.env.get(name));
    if (auth.authorization) {
      if (options.tokenEnv) {
        throw new UsageError("--user and --token-env both set Authorization");
      }
      options.headers.Authorization = auth.authorization;
    }
    options.credentials = auth.credentials;
    options.secrets = [...options.secrets ?? [], ...auth.secrets];
    try {
      options.shard = resolveShard(options.shardChoice, Deno.env.get);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new UsageError(error.message);
    }
    for (const path of [...options.lists, ...options.manifests]) {
      if (path !== "-") await requireFile(path);
    }
    options.caCerts = await Promise.all(options.caCertFiles.map(readCaCert));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bulkget get: ${error.message}\n${USAGE}`);
    return USAGE_EXIT_CODE;
  }
  if (options.dryRun) return await dryRunCommand(options);
  let report: ReportWriter | undefined;
  if (options.report !== undefined) {
    try {
      report = await openReportFile(options);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      console.error(`bulkget get: ${error.message}`);
      return USAGE_EXIT_CODE;
    }
  }
  if (options.log !== undefined) {
    try {
      options.logFile = openLogFile(options.log, {
        secrets: [...Object.values(options.headers), ...options.secrets ?? []],
        statusIntervalMs: options.statusIntervalMs,
      });
    } catch (error) {
      report?.discard(); // a report of a run that never began would mislead
      console.error(
        `bulkget get: --log ${options.log}: ${(error as Error).message}`,
      );
      return USAGE_EXIT_CODE;
    }
  }
  return await run(options, report);
}

/** `--dry-run`: the plan on stdout, a count at the end; exit 0, or 2 for a bad input line. */
async function dryRunCommand(options: GetOptions): Promise<number> {
  const secrets = [...Object.values(options.headers), ...options.secrets ?? []];
  let failed = 0;
  const jobs = dedupeDestinations(allJobs(options), {
    onDuplicate: (error, job) => {
      failed++;
      console.log(redactText(`fail ${job.dest}: ${error.message}`, secrets));
    },
  });
  try {
    const counts = await dryRun(jobs, {
      outDir: options.outDir,
      existing: options.force
        ? "overwrite"
        : options.update
        ? "update"
        : "skip",
      secrets,
    });
    console.log(
      `bulkget: dry run: ${counts.download} to download, ${counts.skip} already complete` +
        (counts.check ? `, ${counts.check} to check with the server` : "") +
        (failed ? `, ${failed} would fail` : "") +
        "; nothing was fetched or written",
    );
    return failed ? 1 : 0;
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    console.error(`bulkget get: ${redactText(error.message, secrets)}`);
    return USAGE_EXIT_CODE;
  }
}

/**
 * Opens `--report FILE` before the first request, so a path that cannot be
 * written stops the run at once with one line. Its directory is created
 * when it lies inside the output directory (which is created anyway).
 *
 * @throws {UsageError} When the file cannot be written.
 */
async function openReportFile(options: GetOptions): Promise<ReportWriter> {
  const path = options.report!;
  const what = `--report ${path}`;
  const slash = path.replace(/\\/g, "/").lastIndexOf("/");
  const dir = slash < 0 ? "." : path.slice(0, slash) || "/";
  const open = () =>
    openReport(path, `bulkget ${VERSION}`, [
      ...Object.values(options.headers),
      ...options.secrets ?? [],
    ]);
  // Opening is the check: it needs no more permission than writing does.
  try {
    try {
      return open();
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      if (!isInside(dir, options.outDir)) {
        throw new UsageError(`${what}: the directory ${dir} does not exist`);
      }
      await Deno.mkdir(dir, { recursive: true });
      return open();
    }
  } catch (error) {
    if (
      error instanceof UsageError || error instanceof Deno.errors.NotCapable
    ) {
      throw error;
    }
    const why = error instanceof Deno.errors.IsADirectory
      ? "it is a directory; give a file name"
      : error instanceof Deno.errors.NotADirectory
      ? `${dir} is not a directory`
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (error as Error).message;
    throw new UsageError(`${what}: cannot write: ${why}`);
  }
}

/** Whether `path` is `dir` or lies under it (both absolute, or from the current directory). */
function isInside(path: string, dir: string): boolean {
  let cwd = "";
  try {
    cwd = Deno.cwd();
  } catch {
    // not allowed to know it: compare the paths as given
  }
  const parts = (p: string) => {
    const absolute = p.startsWith("/") ? p : `${cwd}/${p}`;
    const out: string[] = [];
    for (const part of absolute.replace(/\\/g, "/").split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") out.pop();
      else out.push(part);
    }
    return out;
  };
  const inner = parts(path), outer = parts(dir);
  return outer.length <= inner.length &&
    outer.every((part, i) => part === inner[i]);
}

async function run(
  options: GetOptions,
  report: ReportWriter | undefined,
): Promise<number> {
  const secrets = [...Object.values(options.headers), ...options.secrets ?? []];
  const secretsOf = (
    outcome: Outcome,
  ) => [...secrets, ...Object.values(outcome.job.headers ?? {})];
  const github = optionalEnv("GITHUB_ACTIONS") === "true";
  const tty = Deno.stderr.isTerminal();
  const bar = tty && !options.quiet && !options.verbose
    ? startProgressBar()
    : undefined;
  const status = !tty && !options.quiet
    ? startStatusLines({ intervalMs: options.statusIntervalMs })
    : undefined;
  const interrupts = listenForInterrupts((name) => {
    bar?.stop();
    console.error(
      `bulkget: ${name}: stopping; press Ctrl-C again to quit at once`,
    );
  });
  const totals: Totals = emptyTotals();
  const failures: Outcome[] = [];
  /** Body bytes received so far by each job still running. */
  const receiving = new Map<string, number>();
  /** Jobs read from the inputs that have no outcome yet. */
  const unfinished = new Map<string, Job>();
  const listeners: RunListener[] = [
    ...(options.verbose ? [verboseLines(secrets)] : []),
    ...(github
      ? [githubOutputs({
        secrets,
        secretsOf,
        summaryPath: optionalEnv("GITHUB_STEP_SUMMARY"),
      })]
      : []),
  ];
  const onEvent = (event: EngineEvent) => {
    if (event.type === "bytes") {
      const key = jobKey(event.job);
      receiving.set(key, (receiving.get(key) ?? 0) + event.bytes);
    }
    bar?.update(event);
    status?.update(event);
    options.logFile?.event(event);
    for (const listener of listeners) listener.event?.(event);
  };
  const record = (outcome: Outcome) => {
    const key = jobKey(outcome.job);
    const transferred = receiving.get(key) ?? 0;
    receiving.delete(key);
    unfinished.delete(key);
    addOutcome(totals, outcome, transferred);
    report?.add(outcome, transferred);
    if (outcome.status === "error" || outcome.status === "not_found") {
      if (failures.length < MAX_LISTED_FAILURES) failures.push(outcome);
      if (!tty || options.verbose) {
        console.error(failureLine(outcome, secretsOf(outcome)));
      }
    }
    for (const listener of listeners) listener.outcome?.(outcome, transferred);
  };
  let listed = 0;
  // The total for the bar: counted up front from the regular input files
  // (not with --shard, which keeps an unknown share of them), and growing
  // with each job read while standard input is still open.
  const fromStdin = [...options.lists, ...options.manifests].includes("-");
  let upfront: number | undefined;
  let listingDone = false;
  const stopCounting = new AbortController();
  const showTotal = () => {
    if (listingDone) return bar?.setTotal(listed);
    if (upfront === undefined) return bar?.setTotal(listed, true);
    bar?.setTotal(Math.max(upfront, listed), fromStdin);
  };
  if (bar && !options.shard) {
    countUpfront(options, stopCounting.signal).then((count) => {
      upfront = count;
      showTotal();
    }, () => {}); // unreadable: the source will say so
  }
  const jobs = dedupeDestinations(counted(allJobs(options)), {
    onDuplicate: (error, job) => {
      const outcome: Outcome = {
        job,
        status: "error",
        bytes: 0,
        attempts: 0,
        reason: error.message,
        elapsedMs: 0,
      };
      onEvent({ type: "done", outcome });
      record(outcome);
    },
  });
  /**
   * Counts the jobs as they stream and keeps each until its outcome, so a
   * job read is always accounted for; once the input ends the bar knows the
   * total.
   */
  async function* counted(source: AsyncIterable<Job>): AsyncGenerator<Job> {
    for await (const job of source) {
      listed++;
      unfinished.set(jobKey(job), job);
      showTotal();
      yield job;
    }
    listingDone = true;
    stopCounting.abort();
    showTotal();
  }

  // The pool closes its source when it stops; kept open here, so that after
  // a Ctrl-C the jobs already read from standard input can still be counted.
  const source = jobs[Symbol.asyncIterator]();
  const kept: AsyncIterable<Job> = {
    [Symbol.asyncIterator]: () => ({
      next: () => source.next(),
      return: () => Promise.resolve({ done: true, value: undefined }),
    }),
  };
  const began = performance.now();
  let inputError: SourceError | undefined;
  try {
    for await (
      const outcome of download(kept, {
        outDir: options.outDir,
        concurrency: options.concurrency,
        perHost: options.perHost,
        retries: options.retries,
        deadlines: {
          connectMs: options.connectMs,
          idleMs: options.idleMs,
          totalMs: options.totalMs,
        },
        maxSize: options.maxSize,
        limitRate: options.limitRate,
        limitRatePerDownload: options.limitRatePerDownload,
        existing: options.force
          ? "overwrite"
          : options.update
          ? "update"
          : "skip",
        validators: options.update
          ? await loadValidators(options.outDir)
          : undefined,
        nameFromResponse: options.contentDisposition
          ? contentDispositionNamer()
          : undefined,
        resume: options.resume,
        remoteTime: options.remoteTime,
        durability: options.durability,
        ownHttp: !options.useFetch,
        caCerts: options.caCerts,
        headers: options.headers,
        credentials: options.credentials,
        proxyUrl: options.proxy,
        noProxy: options.noProxy,
        // Only the JSON report shows a digest nobody asked to check.
        // --update hashes too, so that the state file records every file's
        // SHA-256 and a file damaged since is fetched again, not kept.
        digest: options.report !== undefined || options.update,
        onEvent,
        signal: interrupts.signal,
      })
    ) record(outcome);
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    inputError = error;
  } finally {
    if (interrupts.received() && fromStdin && !listingDone && !inputError) {
      await drainReady(source);
    }
    source.return?.().catch(() => {}); // may wait for a line: not awaited
    stopCounting.abort();
    bar?.stop();
    status?.stop();
    options.logFile?.close();
    interrupts.dispose();
  }
  // Jobs read but never started (the pool stopped on Ctrl-C) were
  // interrupted too: no job read goes unaccounted for.
  for (const job of [...unfinished.values()]) {
    record({
      job,
      status: "cancelled",
      bytes: 0,
      attempts: 0,
      reason: "interrupted",
      elapsedMs: 0,
    });
  }
  const elapsedMs = performance.now() - began;
  const signal = interrupts.received();
  report?.finish(totals, {
    elapsedMs,
    interrupted: signal !== undefined,
    error: inputError === undefined
      ? undefined
      : redactText(inputError.message, secrets),
    shard: options.shard,
  });
  // A bad first line stops the run before anything happened: the error alone says it.
  if (!(inputError && totals.jobs === 0)) {
    printSummary(totals, failures, elapsedMs, secrets);
  }
  for (const listener of listeners) {
    await listener.finish?.({ totals, failures, elapsedMs });
  }
  if (inputError) {
    console.error(`bulkget get: ${redactText(inputError.message, secrets)}`);
    return USAGE_EXIT_CODE;
  }
  if (signal) return INTERRUPT_EXIT_CODES[signal];
  return exitCodeFor(totals);
}

/** How long {@linkcode drainReady} waits for one more job, and in all, in ms. */
const DRAIN_MS = { gap: 200, total: 2000 };

/**
 * Takes the jobs a source can still give at once (lines standard input
 * already delivered) after a Ctrl-C, so they are counted as interrupted
 * rather than dropped without a word. Stops at the first pause (longer than
 * an aria2 entry's hold), at the end, at an error, or after a bound.
 */
async function drainReady(source: AsyncIterator<Job>): Promise<void> {
  const until = performance.now() + DRAIN_MS.total;
  while (performance.now() < until) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pause = new Promise<"pause">((resolve) => {
      timer = setTimeout(() => resolve("pause"), DRAIN_MS.gap);
    });
    try {
      const next = await Promise.race([source.next(), pause]);
      if (next === "pause" || next.done) return;
    } catch {
      return; // a bad line: the jobs before it were counted
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The jobs of the regular input files and the URL arguments, counted in one
 * cheap pass (standard input is not counted: it can be read only once).
 */
async function countUpfront(
  options: GetOptions,
  signal: AbortSignal,
): Promise<number> {
  let count = options.urls.length;
  for (const path of options.lists) {
    if (path !== "-") count += await countJobs(path, { signal });
  }
  for (const path of options.manifests) {
    if (path !== "-") {
      count += await countJobs(path, { kind: "manifest", signal });
    }
  }
  return count;
}
