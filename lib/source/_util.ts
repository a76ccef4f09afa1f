// Helpers shared by the job sources; not part of the public API.

import type { Job } from "../core/job.ts";
import { HEADER_NAME, isHeaderValue } from "../core/headers.ts";
import { destFromUrl, safeDest } from "../writer/safe_name.ts";
import { inputName, type Line, type LineInput, readLines } from "./lines.ts";

import { quote } from "../core/printable.ts";
import { SourceError, UnsafeNameError } from "../core/errors.ts";

/** Quotes URL-like text for a message, hiding any `user:password@`. */
export function quoteUrl(text: string): string {
  return quote(text.replace(/\/\/[^/@\s]*@/g, "//***@"));
}

/**
 * Refuses URL text holding white space (a URL has none; a list separates
 * URLs by line or tab).
 *
 * @param text The URL as written.
 * @param origin Where it is, for the error.
 * @param expected What the line should hold, e.g. `one URL per line`.
 * @throws {SourceError} `ORIGIN: expected EXPECTED, got "…" (write spaces in a URL as %20)`.
 */
export function refuseSpaces(
  text: string,
  origin: string,
  expected: string,
): void {
  if (!/\s/.test(text)) return;
  throw new SourceError(
    origin,
    `expected ${expected}, got ${
      quoteUrl(text)
    } (write spaces in a URL as %20)`,
  );
}

/**
 * Parses an absolute `http:`/`https:` URL.
 *
 * @throws {SourceError} `ORIGIN: not an http(s) URL: "…"`.
 */
export function parseHttpUrl(text: string, origin: string): URL {
  const url = URL.parse(text);
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new SourceError(origin, `not an http(s) URL: ${quoteUrl(text)}`);
  }
  return url;
}

/**
 * Checks a destination the user wrote, refusing it when unsafe.
 *
 * @throws {SourceError} `ORIGIN: unsafe FIELD "…": REASON`.
 */
export function userDest(path: string, field: string, origin: string): string {
  try {
    return safeDest(path);
  } catch (error) {
    throw unsafe(error, field, origin);
  }
}

/**
 * Derives the destination of a URL.
 *
 * @throws {SourceError} `ORIGIN: unsafe name from URL "…": REASON`.
 */
export function urlDest(url: URL, keepPaths: boolean, origin: string): string {
  try {
    return destFromUrl(url, { keepPaths });
  } catch (error) {
    throw unsafe(error, "name from URL", origin);
  }
}

function unsafe(error: unknown, field: string, origin: string): unknown {
  if (!(error instanceof UnsafeNameError)) return error;
  return new SourceError(
    origin,
    `unsafe ${field} ${quote(error.path)}: ${error.reason}`,
    { cause: error },
  );
}

/**
 * Adds one request header to `headers`, joining a repeated name with `, `.
 *
 * @returns A reason when the name or value is not valid HTTP, else undefined.
 */
export function addHeader(
  headers: Record<string, string>,
  name: string,
  value: string,
): string | undefined {
  if (!HEADER_NAME.test(name)) return `invalid header name ${quote(name)}`;
  if (!isHeaderValue(value)) {
    return `invalid value for header ${quote(name)}`;
  }
  const existing = Object.keys(headers).find((key) =>
    key.toLowerCase() === name.toLowerCase()
  );
  if (existing === undefined) {
    // defineProperty: a "__proto__" header must be data, not a prototype.
    Object.defineProperty(headers, name, {
      value: value.trim(),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else headers[existing] += ", " + value.trim();
  return undefined;
}

/** Checks a lower- or upper-case hex SHA-256; returns it in lower case. */
export function parseSha256(text: string): string | undefined {
  return /^[0-9a-f]{64}$/i.test(text) ? text.toLowerCase() : undefined;
}

/**
 * A source's input as lines, under the name its errors use: `name`, else
 * the input's own (see `inputName`).
 *
 * @param input A file path, `-` for standard input, or a byte stream.
 * @param name The `name` option, as given.
 * @returns The name and the lines.
 * @throws {TypeError} When `name` is given and is not a string.
 */
export function namedLines(
  input: LineInput,
  name: unknown,
): { name: string; lines: AsyncGenerator<Line, void, undefined> } {
  if (name !== undefined && typeof name !== "string") {
    throw new TypeError(
      `Invalid option "name": expected a string, got ${typeof name}`,
    );
  }
  const named = name ?? inputName(input);
  return { name: named, lines: readLines(input, { name: named }) };
}

/**
 * Refuses anything that is not a (sync or async) iterable of jobs.
 *
 * @param jobs What was passed.
 * @param what The sentence start for the error, e.g. `Cannot shard jobs`.
 * @throws {TypeError} When `jobs` is not iterable.
 */
export function checkJobsIterable(jobs: unknown, what: string): void {
  const value = jobs as
    | Partial<AsyncIterable<unknown> & Iterable<unknown>>
    | null;
  if (
    value == null ||
    (typeof value[Symbol.asyncIterator] !== "function" &&
      typeof value[Symbol.iterator] !== "function")
  ) {
    throw new TypeError(
      `${what}: expected an iterable of jobs, got ${typeof jobs}`,
    );
  }
}

/**
 * The jobs of a line-per-job input: each line that is not blank, with its
 * origin (`NAME:LINE`), to `toJob`, which may skip it (undefined).
 *
 * @param input A file path, `-` for standard input, or a byte stream.
 * @param options The input's name (checked) and `keepPaths`.
 * @param toJob One line's job: its text (as read), origin, `keepPaths`.
 * @returns The jobs, in order, as the input is read.
 * @throws {TypeError} When the name is given and is not a string.
 */
export function jobsByLine(
  input: LineInput,
  options: { name?: unknown; keepPaths?: boolean },
  toJob: (text: string, origin: string, keepPaths: boolean) => Job | undefined,
): AsyncGenerator<Job, void, undefined> {
  const { name, lines } = namedLines(input, options.name);
  const keepPaths = options.keepPaths ?? false;
  return (async function* () {
    for await (const { line, text } of lines) {
      if (text.trim() === "") continue;
      const job = toJob(text, `${name}:${line}`, keepPaths);
      if (job !== undefined) yield job;
    }
  })();
}
