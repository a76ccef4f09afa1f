/**
 * The command line of `bulkget flags`: the book's options (with its
 * messages) and bulkget's additions.
 *
 * @module
 */

import { flagCodes, selectCodes } from "../source/country_codes.ts";
import { parseCommandLine, parseSeconds, parseWholeNumber } from "./usage.ts";
import type { OptionsConfig } from "./parse_args.ts";
import { UsageError } from "../core/errors.ts";

/** The book's servers. */
export const FLAG_SERVERS = {
  LOCAL: "http://localhost:8001/flags",
  DELAY: "http://localhost:8002/flags",
  ERROR: "http://localhost:8003/flags",
  REMOTE: "https://www.fluentpython.com/data/flags",
} as const;

/** A server label. */
export type ServerLabel = keyof typeof FLAG_SERVERS;

/** The one-line usage of `bulkget flags`. */
export const USAGE =
  "usage: bulkget flags [-h] [-a] [-e] [-l N] [-m CONCURRENT] [-s LABEL] [-v] [-o DIR] [--retries N] [--base-url URL] [--names] [--timeout S] [CC ...]";

/** `bulkget flags -h`. */
export const HELP = `${USAGE}

Download flags for country codes. Default: top 20 countries by population.

positional arguments:
  CC                    country code or 1st letter (eg. B for BA...BZ)

options:
  -h, --help            show this help message and exit
  -a, --all             get all available flags (AD to ZW)
  -e, --every           get flags for every possible code (AA...ZZ)
  -l N, --limit N       limit to N first codes
  -m CONCURRENT, --max_req CONCURRENT
                        maximum concurrent requests (default=5)
  -s LABEL, --server LABEL
                        Server to hit; one of DELAY, ERROR, LOCAL, REMOTE (default=LOCAL)
  -v, --verbose         output detailed progress info

bulkget additions:
  -o DIR, --output DIR  where to save the flags (default=downloads)
  --retries N           retries per flag for errors worth retrying (default=0, as in the book)
  --base-url URL        any server with the book's layout (overrides -s)
  --names               also fetch metadata.json and name each file after its country (flags3)
  --timeout S           seconds before a request is given up (default=30)
`;

/** Parsed `bulkget flags` options. */
export interface FlagsOptions {
  codes: string[];
  label: ServerLabel;
  baseUrl: string;
  concurrency: number;
  verbose: boolean;
  outDir: string;
  retries: number;
  names: boolean;
  timeoutMs: number;
  help: boolean;
}

/** The options `bulkget flags` takes. */
const FLAGS_OPTIONS = {
  help: { type: "boolean", short: "h" },
  all: { type: "boolean", short: "a" },
  every: { type: "boolean", short: "e" },
  limit: { type: "string", short: "l" },
  max_req: { type: "string", short: "m" },
  "max-req": { type: "string" },
  server: { type: "string", short: "s" },
  verbose: { type: "boolean", short: "v" },
  output: { type: "string", short: "o" },
  retries: { type: "string" },
  "base-url": { type: "string" },
  names: { type: "boolean" },
  timeout: { type: "string" },
} satisfies OptionsConfig;

/**
 * Parses the command line of `bulkget flags`.
 *
 * @param args The arguments after `flags`.
 * @returns The options.
 * @throws {UsageError} For anything the book would refuse.
 */
export async function parseFlagsArgs(args: string[]): Promise<FlagsOptions> {
  const parsed = parseCommandLine(args, FLAGS_OPTIONS);
  const v = parsed.values;
  const concurrency = bookWholeNumber(
    v.max_req ?? v["max-req"] ?? "5",
    "--max_req CONCURRENT",
    1,
  );
  const limit = v.limit === undefined
    ? undefined
    : bookWholeNumber(v.limit, "--limit N", 1);
  const label = (v.server ?? "LOCAL").toUpperCase();
  if (!(label in FLAG_SERVERS)) {
    throw new UsageError(
      "--server LABEL must be one of DELAY, ERROR, LOCAL, REMOTE",
    );
  }
  const baseUrl = v["base-url"] === undefined
    ? FLAG_SERVERS[label as ServerLabel] as string
    : parseBaseUrl(v["base-url"]);
  const wantsFlagList = v.all && !v.every;
  let codes: string[];
  try {
    codes = selectCodes(
      { every: v.every, all: v.all, codes: parsed.positionals, limit },
      wantsFlagList ? await flagCodes() : [],
    );
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
  return {
    codes,
    label: label as ServerLabel,
    baseUrl,
    concurrency,
    verbose: v.verbose ?? false,
    outDir: v.output ?? "downloads",
    retries: v.retries === undefined
      ? 0
      : bookWholeNumber(v.retries, "--retries N", 0),
    names: v.names ?? false,
    timeoutMs: v.timeout === undefined
      ? 30_000
      : parseSeconds(v.timeout, "--timeout S"),
    help: v.help ?? false,
  };
}

/**
 * A whole number option with the book's message when it is too small
 * (`--max_req CONCURRENT must be >= 1`); anything else as `get` says it.
 */
function bookWholeNumber(text: string, what: string, min: number): number {
  const value = Number(text);
  if (
    /^\s*-?\d+\s*$/.test(text) && Number.isSafeInteger(value) && value < min
  ) {
    throw new UsageError(`${what} must be >= ${min}`);
  }
  return parseWholeNumber(text, what, min);
}

/** `--base-url`: an http(s) URL, without trailing slashes. */
function parseBaseUrl(text: string): string {
  const url = URL.parse(text);
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UsageError(`--base-url must be an http(s) URL, got "${text}"`);
  }
  return url.href.replace(/\/+$/, "");
}
