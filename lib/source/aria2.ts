/**
 * Jobs from an aria2c input file (`aria2c -i`), so aria2 users can reuse
 * their files. Every `-i FILE` of `bulkget get` is read here (through
 * `inputs.ts`): a plain list of URLs is the simplest aria2 input file. The
 * lines of one entry are read by `aria2_entry.ts`.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { quote } from "../core/printable.ts";
import {
  inputName,
  type Line,
  type LineInput,
  readLineBatches,
} from "./lines.ts";
import {
  addOption,
  type Entry,
  IGNORED_OPTIONS,
  toJob,
  urlLine,
} from "./aria2_entry.ts";
import { SourceError } from "../core/errors.ts";

export { IGNORED_OPTIONS };

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
 * How long a URL of a `live` input waits for its option lines once the
 * input has nothing more ready, in ms.
 */
export const LIVE_HOLD_MS = 50;

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

/** Warns of an ignored option once per option name. */
function warnOnce(onWarning: (message: string) => void) {
  const warned = new Set<string>();
  return (key: string, origin: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    onWarning(
      `${origin}: aria2 option "${key}" ignored (it cannot change the file; warned once per input)`,
    );
  };
}

/**
 * The error for an option line with no URL before it, or (live input) one
 * that came after its URL had started (`released`: that URL's line).
 */
function optionWithoutUrl(
  origin: string,
  trimmed: string,
  released: number | undefined,
): SourceError {
  return new SourceError(
    origin,
    released === undefined
      ? `option line without a URL line before it: ${
        quote(trimmed.split("=")[0])
      }`
      : `option line came more than ${LIVE_HOLD_MS} ms after its URL (line ${released}), which had already started: write a URL and its options together`,
  );
}

const HELD = Symbol("held");

async function* generate(
  batches: AsyncGenerator<Line[], void, undefined>,
  name: string,
  keepPaths: boolean,
  live: boolean,
  onWarning: (message: string) => void,
): AsyncGenerator<Job, void, undefined> {
  let entry: Entry | undefined;
  const ignore = warnOnce(onWarning);
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
            throw optionWithoutUrl(origin, trimmed, released);
          }
          addOption(entry, text.trimStart(), origin, line, ignore);
          continue;
        }
        released = undefined;
        if (entry !== undefined) yield toJob(entry, name, keepPaths);
        entry = undefined;
        entry = urlLine(trimmed, origin, line);
      }
    }
    if (entry !== undefined) yield toJob(entry, name, keepPaths);
  } finally {
    if (waiting) batches.return().catch(() => {});
    else await batches.return();
  }
}
