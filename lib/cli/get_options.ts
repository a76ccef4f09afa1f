/**
 * The command line of `bulkget get`: its help, its options and how each is
 * read and checked (checks that need the environment or the disk are in
 * `get_preflight.ts`).
 *
 * @module
 */

import { DEFAULT_CONCURRENCY } from "../engine/download.ts";
import { DEFAULT_RETRIES } from "../engine/fetch_one.ts";
import { DEADLINE_DEFAULTS } from "../engine/deadline.ts";
import type { Shard } from "../source/shard.ts";
import { DURABILITIES, type Durability } from "../writer/client.ts";
import {
  parseByteSize,
  parseCommandLine,
  parseHeader,
  parseSeconds,
  parseWholeNumber,
} from "./usage.ts";
import type { AuthChoice } from "./auth_options.ts";
import type { LogFile } from "./log_file.ts";
import { SPLIT_USAGE, splitOption } from "./split_options.ts";
import type { SplitPolicy } from "../engine/segmented.ts";
import type { OptionsConfig, ParsedArgs } from "./parse_args.ts";
import { UsageError } from "../core/errors.ts";

/** The one-line usage of `bulkget get`. */
export const USAGE =
  "usage: bulkget get [options] [URL ...]   (or: bulkget [options] URL ...)";

/** `bulkget get -h`. */
export const HELP = `${USAGE}

Download every URL given as an argument, in the lists (-i) and in the
manifests (--manifest), at once, with retries, resume and verification.

inputs:
  URL ...                    http(s) URLs
  -i, --input FILE           a URL list or an aria2 input file (- for stdin); repeatable
  --manifest FILE            JSONL, one object a line: "url" (or "urls": mirrors), and optional
                             "dest", "sha256", "checksum", "size", "headers", "label"; repeatable

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
${SPLIT_USAGE}
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

exit codes: 0 all downloaded or already complete, 1 some failed or not found, 2 usage, input or
permission error, 130 interrupted (143 on SIGTERM)`;

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
  /** `--split`, `--min-split-size`: segmented downloads of large files. */
  split?: SplitPolicy;
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

/**
 * Checks `--durability`.
 *
 * @param text The option's value.
 * @returns The durability.
 * @throws {UsageError} For another value than `full` or `none`.
 */
export function parseDurability(text: string): Durability {
  if (!(DURABILITIES as readonly string[]).includes(text)) {
    throw new UsageError(
      `Cannot parse "--durability": expected ${
        DURABILITIES.join(" or ")
      }, got "${text}"`,
    );
  }
  return text as Durability;
}

/** The options `bulkget get` takes. */
const GET_OPTIONS = {
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
  split: { type: "string" },
  "min-split-size": { type: "string" },
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
} satisfies OptionsConfig;

/** The values of {@linkcode GET_OPTIONS} as parsed. */
type Values = ParsedArgs<typeof GET_OPTIONS>["values"];

/**
 * Parses the command line of `bulkget get`.
 *
 * @param args The arguments after `get`.
 * @returns The options.
 * @throws {UsageError} For bad input.
 */
export function parseGetArgs(args: string[]): GetOptions {
  const parsed = parseCommandLine(args, GET_OPTIONS);
  const v = parsed.values;
  const headers = parseHeaders(v.header ?? []);
  const options: GetOptions = {
    urls: parsed.positionals,
    lists: v.input ?? [],
    manifests: v.manifest ?? [],
    outDir: v.output ?? ".",
    keepPaths: v["keep-paths"] ?? false,
    force: v.force ?? false,
    update: v.update ?? false,
    contentDisposition: v["content-disposition"] ?? false,
    ...transferOptions(v),
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
  checkCombinations(options);
  return options;
}

/** `-H` values, by header name. */
function parseHeaders(texts: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const text of texts) {
    const [name, value] = parseHeader(text);
    headers[name] = value;
  }
  return headers;
}

/**
 * `-m` and `--retries`, read the same way by every command that downloads
 * through the pool (`get`, `artifacts`).
 *
 * @param v The parsed option values (strings as given).
 * @returns The global limit and the retries per file, defaults filled in.
 * @throws {UsageError} When a value is not a whole number in range.
 */
export function poolLimits(
  v: { "max-concurrent"?: string; retries?: string },
): { concurrency: number; retries: number } {
  return {
    concurrency: v["max-concurrent"] === undefined
      ? DEFAULT_CONCURRENCY
      : parseWholeNumber(v["max-concurrent"], "-m", 1),
    retries: v.retries === undefined
      ? DEFAULT_RETRIES
      : parseWholeNumber(v.retries, "--retries", 0),
  };
}

/** How each transfer goes: limits, retries, deadlines, resume, durability. */
function transferOptions(v: Values) {
  return {
    ...poolLimits(v),
    perHost: v["per-host"] === undefined
      ? undefined
      : parseWholeNumber(v["per-host"], "--per-host", 1),
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
    split: splitOption(v.split, v["min-split-size"]),
    resume: !(v["no-resume"] ?? false),
    remoteTime: !(v["no-remote-time"] ?? false),
    durability: parseDurability(v.durability ?? "full"),
    useFetch: v["use-fetch"] ?? false,
  };
}

/**
 * Refuses options that contradict each other or leave nothing to do.
 *
 * @throws {UsageError} Naming the conflict.
 */
function checkCombinations(options: GetOptions): void {
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
}

/** A rate option's bytes per second (above 0), or undefined when not given. */
function optionalRate(text: string | undefined, what: string) {
  if (text === undefined) return undefined;
  const rate = parseByteSize(text, what);
  if (rate === 0) throw new UsageError(`${what} must be above 0`);
  return rate;
}

/**
 * What to do with a file that exists: `--force` overwrites, `--update` asks
 * the server, otherwise a complete one is skipped.
 *
 * @param options The parsed options.
 * @returns The engine's `existing` policy.
 */
export function existingPolicy(
  options: Pick<GetOptions, "force" | "update">,
): "overwrite" | "update" | "skip" {
  return options.force ? "overwrite" : options.update ? "update" : "skip";
}

/**
 * Every value no output may show: the `-H` values, the proxy's and the
 * credentials' passwords.
 *
 * @param options The parsed (and resolved) options.
 * @returns The values.
 */
export function secretsOf(options: GetOptions): string[] {
  return [...Object.values(options.headers), ...options.secrets ?? []];
}
