/**
 * One entry of an aria2 input file: its URL line (URLs separated by tabs),
 * its option lines (`out`, `dir`, `checksum`, `header`; the options that
 * cannot change the file are ignored), and the job it makes.
 *
 * @module
 */

import type { Checksum, Job } from "../core/job.ts";
import {
  addHeader,
  parseHttpUrl,
  refuseSpaces,
  urlDest,
  userDest,
} from "./_util.ts";
import { quote } from "../core/printable.ts";
import { parseChecksum } from "./checksum.ts";
import { SourceError } from "../core/errors.ts";

/**
 * aria2 options accepted with a warning and ignored: they tune how aria2
 * fetches (connections, pieces, allocation, its retries) and cannot make
 * the file other than the URL's bytes. bulkget's own options do what
 * some of them do (`--retries`, `--max-download-limit`, `--timeout`).
 */
export const IGNORED_OPTIONS: readonly string[] = [
  "split",
  "max-connection-per-server",
  "min-split-size",
  "piece-length",
  "file-allocation",
  "continue",
  "max-tries",
  "retry-wait",
  "timeout",
  "connect-timeout",
  "lowest-speed-limit",
  "max-download-limit",
  "remote-time",
  "uri-selector",
  "stream-piece-selector",
  "enable-http-pipelining",
  "enable-http-keep-alive",
  "http-accept-gzip",
  "check-integrity",
  "conditional-get",
  "auto-file-renaming",
];

/** The aria2 options understood, for the error that lists them. */
const OPTIONS = ["out", "dir", "checksum", "header"];

/** One entry: its URL line and what its option lines said. */
export interface Entry {
  url: URL;
  mirrors?: URL[];
  line: number;
  out?: { value: string; line: number };
  dir?: { value: string; line: number };
  sha256?: string;
  checksum?: Checksum;
  headers?: Record<string, string>;
}

/**
 * A URL line: its URLs, tab-separated; mirrors bulkget cannot fetch (ftp:,
 * sftp:) are left out.
 *
 * @throws {SourceError} For a URL with spaces, or no http(s) URL at all.
 */
export function urlLine(trimmed: string, origin: string, line: number): Entry {
  const uris = trimmed.split("\t").map((uri) => uri.trim())
    .filter((uri) => uri !== "");
  for (const uri of uris) {
    refuseSpaces(uri, origin, "URLs separated by tabs");
  }
  const usable = uris.map((uri) => URL.parse(uri)).filter((url) =>
    url?.protocol === "http:" || url?.protocol === "https:"
  ) as URL[];
  if (usable.length === 0) parseHttpUrl(uris[0], origin); // throws
  const [first, ...mirrors] = usable;
  const entry: Entry = { url: first, line };
  if (mirrors.length > 0) entry.mirrors = mirrors;
  return entry;
}

/** `checksum=ALGORITHM=HEX` into the entry. */
function addChecksum(
  entry: Entry,
  option: string,
  value: string,
  origin: string,
): void {
  if (value.indexOf("=") <= 0) {
    throw new SourceError(
      origin,
      `expected "checksum=sha-256=HEX", got ${quote(option)}`,
    );
  }
  try {
    Object.assign(entry, parseChecksum(value));
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const hexWrong = error.message.startsWith("expected");
    throw new SourceError(
      origin,
      hexWrong
        ? `${error.message}, got ${quote(value.slice(value.indexOf("=") + 1))}`
        : error.message,
    );
  }
}

/** `header=Name: value` into the entry (values can be secrets: never quoted). */
function addHeaderOption(entry: Entry, value: string, origin: string): void {
  const colon = value.indexOf(":");
  if (colon <= 0) {
    throw new SourceError(origin, `expected "header=Name: value", got no ":"`);
  }
  entry.headers ??= {};
  const problem = addHeader(
    entry.headers,
    value.slice(0, colon).trim(),
    value.slice(colon + 1),
  );
  if (problem !== undefined) throw new SourceError(origin, problem);
}

/** What waiting for the next batch of a live input resolves to when it took too long. */
/**
 * One option line (`name=value`) into its entry; an ignored option is
 * passed to `ignore`.
 *
 * @throws {SourceError} For a malformed, repeated or unknown option.
 */
export function addOption(
  entry: Entry,
  option: string,
  origin: string,
  line: number,
  ignore: (key: string, origin: string) => void,
): void {
  const eq = option.indexOf("=");
  if (eq <= 0) {
    throw new SourceError(
      origin,
      // Not quoted: a line missing its "header=" may hold a secret.
      `expected an option "name=value", got ${eq === 0 ? "no name" : 'no "="'}`,
    );
  }
  const key = option.slice(0, eq).trim();
  const value = option.slice(eq + 1);
  const once = (given: { line: number } | string | undefined) => {
    if (given !== undefined) {
      throw new SourceError(origin, `option "${key}" is given twice`);
    }
  };
  switch (key) {
    case "out":
      once(entry.out);
      if (value === "") throw new SourceError(origin, `option "out" is empty`);
      entry.out = { value, line };
      return;
    case "dir":
      once(entry.dir);
      if (value === "") throw new SourceError(origin, `option "dir" is empty`);
      entry.dir = { value, line };
      return;
    case "checksum":
      once(entry.sha256 ?? entry.checksum?.hex);
      return addChecksum(entry, option, value, origin);
    case "header":
      return addHeaderOption(entry, value, origin);
    default:
      if (IGNORED_OPTIONS.includes(key)) return ignore(key, origin);
      throw new SourceError(
        origin,
        `unknown aria2 option ${quote(key)} (supported: ${OPTIONS.join(", ")})`,
      );
  }
}

/** The job an entry describes, its names checked. */
export function toJob(entry: Entry, name: string, keepPaths: boolean): Job {
  const origin = `${name}:${entry.line}`;
  let dir = "";
  if (entry.dir !== undefined) {
    // "sub/", "./sub" and "." are spellings of safe directories, not risks.
    dir = entry.dir.value.replace(/(.)\/+$/, "$1").replace(/^\.\//, "");
    if (dir !== "" && dir !== ".") {
      dir = userDest(dir, "dir", `${name}:${entry.dir.line}`);
    } else dir = "";
  }
  const dest = entry.out === undefined
    ? urlDest(entry.url, keepPaths, origin)
    : userDest(entry.out.value, "out", `${name}:${entry.out.line}`);
  const job: Job = { url: entry.url.href, dest, origin };
  if (entry.mirrors) job.mirrors = entry.mirrors.map((url) => url.href);
  if (dir !== "") {
    // Each part is safe; together they may still be too long.
    const blame = `${name}:${(entry.out ?? entry.dir)!.line}`;
    job.dest = userDest(`${dir}/${dest}`, "destination", blame);
  }
  if (entry.sha256 !== undefined) job.sha256 = entry.sha256;
  if (entry.checksum !== undefined) job.checksum = entry.checksum;
  if (entry.headers !== undefined) job.headers = entry.headers;
  return job;
}
