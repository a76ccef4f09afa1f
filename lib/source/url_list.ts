/**
 * Jobs from a plain list of URLs, one per line: the library's reader
 * (`jobsFromList` in `mod.ts`). The command line's `-i FILE` does not come
 * here: `inputs.ts` reads every `-i` file with the aria2 reader
 * (`aria2.ts`), of which a plain list is the simplest case.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { jobsByLine, parseHttpUrl, refuseSpaces, urlDest } from "./_util.ts";
import type { LineInput } from "./lines.ts";

/** Options for {@linkcode jobsFromList}. */
export interface ListOptions {
  /**
   * Mirror each URL's path under the output directory instead of keeping
   * only its last segment (see `destFromUrl`).
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
}

/**
 * Reads a list of URLs, one per line, streamed. Blank lines and lines whose
 * first non-blank character is `#` are skipped; spaces and tabs around a URL
 * are ignored. A line holding spaces or tabs inside it is an error (two URLs
 * on one line, or a URL whose spaces should be written `%20`). Each job's
 * `origin` is `NAME:LINE`; its `dest` comes from the URL.
 *
 * A plain list is also a valid aria2 input file as long as no line starts
 * with a space or tab (see `jobsFromAria2`).
 *
 * @example Usage
 * ```ts
 * import { jobsFromList } from "./url_list.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const text = "# flags\nhttps://example.com/br.gif\n\n";
 * const stream = ReadableStream.from([new TextEncoder().encode(text)]);
 * const jobs = await Array.fromAsync(jobsFromList(stream, { name: "l.txt" }));
 * deepEqual(jobs, [{
 *   url: "https://example.com/br.gif",
 *   dest: "br.gif",
 *   origin: "l.txt:2",
 * }]);
 * ```
 *
 * @param input A file path, `-` for standard input, or a byte stream.
 * @param options `keepPaths` and the input's name.
 * @returns The jobs, in order, as the input is read.
 * @throws {SourceError} (while iterating) When the input cannot be read or a
 * line is bad: `list.txt:12: not an http(s) URL: "ftp://x"`.
 */
export function jobsFromList(
  input: LineInput,
  options: ListOptions = {},
): AsyncGenerator<Job, void, undefined> {
  return jobsByLine(input, options, (line, origin, keepPaths) => {
    const text = line.trim();
    if (text.startsWith("#")) return undefined;
    refuseSpaces(text, origin, "one URL per line");
    const url = parseHttpUrl(text, origin);
    return { url: url.href, dest: urlDest(url, keepPaths, origin), origin };
  });
}
