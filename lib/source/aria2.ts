/**
 * Jobs from an aria2c input file (`aria2c -i`), so aria2 users can reuse
 * their files.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import {
  addHeader,
  parseHttpUrl,
  quoteUrl,
  urlDest,
  userDest,
} from "./_util.ts";
import { quote } from "../core/printable.ts";
import {
  inputName,
  type Line,
  type LineInput,
  readLineBatches,
} from "./lines.ts";
import { SourceError } from "./source_error.ts";
import { parseChecksum } from "./checksum.ts";
import type { Checksum } from "../core/job.ts";

/** Options for {@linkcode jobsFromAria2}. */
export interface Aria2Options {
  /**
   * Mirror each URL's path under the output directory when no `out=` names
   * the file (see `destFromUrl`).
   *
   * @default {false}
   */
  keepPaths?: boolean;
  /**
   * The input's name in origins and errors (`NAME:LINE`).
   *
   * @default {the path; "stdin" for "-"; "input" for a stream}
   */
  name?: string;
  /**
   * The input is a pipe or a terminal (standard input), whose next line may
   * come much later: a URL is yielded as soon as the input has no further
   * line ready and none comes within {@linkcode LIVE_HOLD_MS}, rather than
   * when the next URL line arrives. A producer writing one URL at a time
   * sees each start at once; option lines must come with their URL line
   * (in the same write, or within that time), else they are an error.
   *
   * @default {false}
   */
  live?: boolean;
  /**
   * Hears of each aria2 option that bulkget ignores because it cannot
   * change what is downloaded ({@linkcode IGNORED_OPTIONS}), once per
   * option name per input.
   *
   * @default {prints "bulkget: warning: MESSAGE" to stderr}
   */
  onWarning?: (message: string) => void;
}

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

/**
 * How long a URL of a `live` input waits for its option lines once the
 * input has nothing more ready, in ms.
 */
export const LIVE_HOLD_MS = 50;

/** The aria2 options understood, for the error that lists them. */
const OPTIONS = ["out", "dir", "checksum", "header"];

interface Entry {
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
 * Reads an aria2c input file, streamed.
 *
 * A line starting with a non-blank character other than `#` holds a URL;
 * the lines after it that start with a space or a tab are its options,
 * `name=value`:
 *
 * - `out=NAME`: the file name, relative to `dir` (checked, never rewritten:
 *   unsafe names are refused);
 * - `dir=DIR`: a directory relative to the output directory (checked the
 *   same way; trailing `/` and a leading `./` are allowed, `.` means the
 *   output directory itself); absolute directories are refused;
 * - `checksum=sha-256=HEX` (`sha256` accepted too); other algorithms are an
 *   error;
 * - `header=Name: value`, repeatable.
 *
 * Any other option is an error naming its line. Blank lines and lines whose
 * first non-blank character is `#` are skipped. Several URLs of the same
 * file (mirrors) on one line, separated by tabs, become the job's `url` and
 * `mirrors` (tried in order; see `lib/engine/mirrors.ts`); the name comes
 * from the first. URLs of other schemes (`ftp:`) are left out; a line with
 * no http(s) URL is an error.
 *
 * Each job's `origin` is the line of its URL; it is yielded once its option
 * lines have been read.
 *
 * @example Usage
 * ```ts
 * import { jobsFromAria2 } from "./aria2.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const text = "https://example.com/a.gif\n  dir=flags\n  out=br.gif\n";
 * const stream = ReadableStream.from([new TextEncoder().encode(text)]);
 * const jobs = await Array.fromAsync(jobsFromAria2(stream, { name: "in" }));
 * deepEqual(jobs, [{
 *   url: "https://example.com/a.gif",
 *   dest: "flags/br.gif",
 *   origin: "in:1",
 * }]);
 * ```
 *
 * @param input A file path, `-` for standard input, or a byte stream.
 * @param options `keepPaths` and the input's name.
 * @returns The jobs, in order, as the input is read.
 * @throws {SourceError} (while iterating) When the input cannot be read or a
 * line is bad: `in.txt:4: unknown aria2 option "split" (supported: out, dir,
 * checksum, header)`.
 */
export function jobsFromAria2(
  input: LineInput,
  options: Aria2Options = {},
): AsyncGenerator<Job, void, undefined> {
  if (options.name !== undefined && typeof options.name !== "string") {
    throw new TypeError(
      `Invalid option "name": expected a string, got ${typeof options.name}`,
    );
  }
  const name = options.name ?? inputName(input);
  return generate(
    readLineBatches(input, { name }),
    name,
    options.keepPaths ?? false,
    options.live ?? false,
    options.onWarning ??
      ((message) => console.error(`bulkget: warning: ${message}`)),
  );
}

/** What waiting for the next batch of a live input resolves to when it took too long. */
const HELD = Symbol("held");

async function* generate(
  batches: AsyncGenerator<Line[], void, undefined>,
  name: string,
  keepPaths: boolean,
  live: boolean,
  onWarning: (message: string) => void,
): AsyncGenerator<Job, void, undefined> {
  let entry: Entry | undefined;
  const warned = new Set<string>();
  const ignore = (key: string, origin: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    onWarning(
      `${origin}: aria2 option "${key}" ignored (it cannot change the file; warned once per input)`,
    );
  };
  // The URL line of the last job yielded early (live), for the error when
  // its options come too late.
  let released: number | undefined;
  // A batch asked for while a job was yielded early: the input may never
  // send it, so stopping must not wait for it.
  let waiting = false;
  try {
    while (true) {
      let next: Promise<IteratorResult<Line[]>> = batches.next();
      if (live && entry !== undefined) {
        // Nothing more is ready: let the URL start unless its options follow
        // at once.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const held = new Promise<typeof HELD>((resolve) => {
          timer = setTimeout(() => resolve(HELD), LIVE_HOLD_MS);
        });
        const first = await Promise.race([next, held]);
        clearTimeout(timer);
        if (first === HELD) {
          released = entry.line;
          const job = toJob(entry, name, keepPaths);
          entry = undefined;
          waiting = true;
          yield job;
        } else next = Promise.resolve(first);
      }
      const result = await next;
      waiting = false;
      if (result.done) break;
      for (const { line, text } of result.value) {
        const trimmed = text.trim();
        if (trimmed === "" || trimmed.startsWith("#")) continue;
        const origin = `${name}:${line}`;
        // An indented line is an option, unless it is a URL: plain URL lists
        // with leading spaces stay valid (an option name never holds "://").
        const indented = text[0] === " " || text[0] === "\t";
        if (indented && !/^https?:\/\//i.test(trimmed)) {
          if (entry === undefined) {
            throw new SourceError(
              origin,
              released === undefined
                ? `option line without a URL line before it: ${
                  quote(trimmed.split("=")[0])
                }`
                : `option line came more than ${LIVE_HOLD_MS} ms after its URL (line ${released}), which had already started: write a URL and its options together`,
            );
          }
          addOption(entry, text.trimStart(), origin, line, ignore);
          continue;
        }
        released = undefined;
        if (entry !== undefined) yield toJob(entry, name, keepPaths);
        entry = undefined;
        const uris = trimmed.split("\t").map((uri) => uri.trim())
          .filter((uri) => uri !== "");
        for (const uri of uris) {
          if (/\s/.test(uri)) {
            throw new SourceError(
              origin,
              `expected URLs separated by tabs, got ${
                quoteUrl(uri)
              } (write spaces in a URL as %20)`,
            );
          }
        }
        // Mirrors bulkget cannot fetch (ftp:, sftp:) are left out.
        const usable = uris.map((uri) => URL.parse(uri)).filter((url) =>
          url?.protocol === "http:" || url?.protocol === "https:"
        ) as URL[];
        if (usable.length === 0) parseHttpUrl(uris[0], origin); // throws
        const [first, ...mirrors] = usable;
        entry = { url: first, line };
        if (mirrors.length > 0) entry.mirrors = mirrors;
      }
    }
    if (entry !== undefined) yield toJob(entry, name, keepPaths);
  } finally {
    if (waiting) batches.return().catch(() => {});
    else await batches.return();
  }
}

function addOption(
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
    case "checksum": {
      once(entry.sha256 ?? entry.checksum?.hex);
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
            ? `${error.message}, got ${
              quote(value.slice(value.indexOf("=") + 1))
            }`
            : error.message,
        );
      }
      return;
    }
    case "header": {
      const colon = value.indexOf(":");
      if (colon <= 0) {
        throw new SourceError(
          origin,
          `expected "header=Name: value", got no ":"`, // values can be secrets
        );
      }
      entry.headers ??= {};
      const problem = addHeader(
        entry.headers,
        value.slice(0, colon).trim(),
        value.slice(colon + 1),
      );
      if (problem !== undefined) throw new SourceError(origin, problem);
      return;
    }
    default:
      if (IGNORED_OPTIONS.includes(key)) return ignore(key, origin);
      throw new SourceError(
        origin,
        `unknown aria2 option ${quote(key)} (supported: ${OPTIONS.join(", ")})`,
      );
  }
}

function toJob(entry: Entry, name: string, keepPaths: boolean): Job {
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
