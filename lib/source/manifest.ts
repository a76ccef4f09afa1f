/**
 * Jobs from a JSONL manifest (`--manifest FILE`): one JSON object per line.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import {
  addHeader,
  jobsByLine,
  parseHttpUrl,
  parseSha256,
  urlDest,
  userDest,
} from "./_util.ts";
import { quote } from "../core/printable.ts";
import type { LineInput } from "./lines.ts";
import { parseChecksum } from "./checksum.ts";
import { SourceError } from "../core/errors.ts";

/** Options for {@linkcode jobsFromManifest}. */
export interface ManifestOptions {
  /**
   * Mirror each URL's path under the output directory when no `dest` is
   * given (see `destFromUrl`).
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

const FIELDS = [
  "url",
  "urls",
  "dest",
  "sha256",
  "checksum",
  "size",
  "headers",
  "label",
];

/**
 * Reads a JSONL manifest, streamed. Each non-blank line is one object:
 *
 * - `url` (required unless `urls` is given): an absolute http(s) URL;
 * - `urls`: instead of `url`, a non-empty array of http(s) URLs of the same
 *   file (mirrors), tried in order (see `lib/engine/mirrors.ts`); the name
 *   comes from the first;
 * - `dest`: the destination relative to the output directory, checked and
 *   refused when unsafe, never rewritten (default: from the URL);
 * - `sha256`: 64 hex digits (stored in lower case);
 * - `checksum`: `ALGORITHM=HEX` with `md5`, `sha-1`, `sha-256` or `sha-512`
 *   (see `checksum.ts`);
 * - `size`: the expected size in bytes, a non-negative integer;
 * - `headers`: an object of header names to string values;
 * - `label`: a short name for progress lines.
 *
 * A `null` optional field counts as absent. Any other field is an error, so
 * a typo (`sha265`) does not silently skip a check. Each job's `origin` is
 * `NAME:LINE`.
 *
 * @example Usage
 * ```ts
 * import { jobsFromManifest } from "./manifest.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const text = '{"url": "https://example.com/x", "dest": "d/x.bin", "size": 3}\n';
 * const stream = ReadableStream.from([new TextEncoder().encode(text)]);
 * const jobs = await Array.fromAsync(jobsFromManifest(stream, { name: "m" }));
 * deepEqual(jobs, [{
 *   url: "https://example.com/x",
 *   dest: "d/x.bin",
 *   size: 3,
 *   origin: "m:1",
 * }]);
 * ```
 *
 * @param input A file path, `-` for standard input, or a byte stream.
 * @param options `keepPaths` and the input's name.
 * @returns The jobs, in order, as the input is read.
 * @throws {SourceError} (while iterating) When the input cannot be read or a
 * line is bad: `m.jsonl:3: "size" must be a non-negative integer, got "3"`.
 */
export function jobsFromManifest(
  input: LineInput,
  options: ManifestOptions = {},
): AsyncGenerator<Job, void, undefined> {
  return jobsByLine(input, options, toJob);
}

function toJob(text: string, origin: string, keepPaths: boolean): Job {
  const line = readLine(parseObject(text, origin), origin);
  const { url, mirrors } = readUrls(line);
  const job: Job = { url: url.href, dest: "", origin };
  if (mirrors.length > 0) job.mirrors = mirrors;
  const dest = line.field("dest");
  if (dest === undefined) job.dest = urlDest(url, keepPaths, origin);
  else if (typeof dest !== "string") throw line.wrong("dest", "a string");
  else job.dest = userDest(dest, "dest", origin);
  readChecksums(line, job);
  const size = line.field("size");
  if (size !== undefined) {
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      throw line.wrong("size", "a non-negative integer");
    }
    job.size = size;
  }
  const headers = line.field("headers");
  if (headers !== undefined) job.headers = readHeaders(line, headers);
  const label = line.field("label");
  if (label !== undefined) {
    if (typeof label !== "string") throw line.wrong("label", "a string");
    job.label = label;
  }
  return job;
}

/** The JSON object of a line, with known fields only. */
function parseObject(text: string, origin: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SourceError(
      origin,
      `invalid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null
      ? "null"
      : Array.isArray(value)
      ? "an array"
      : typeof value;
    throw new SourceError(origin, `expected a JSON object, got ${kind}`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!FIELDS.includes(key)) {
      throw new SourceError(
        origin,
        `unknown field ${quote(key)} (known: ${FIELDS.join(", ")})`,
      );
    }
  }
  return record;
}

/** A manifest line being read: its fields, and the error for a wrong one. */
interface ManifestLine {
  origin: string;
  /** A field's value; `null` reads as absent. */
  field(key: string): unknown;
  /** `"KEY" must be EXPECTED, got VALUE`. */
  wrong(key: string, expected: string): SourceError;
}

function readLine(
  record: Record<string, unknown>,
  origin: string,
): ManifestLine {
  return {
    origin,
    field: (key) => record[key] ?? undefined,
    wrong: (key, expected) =>
      new SourceError(
        origin,
        `"${key}" must be ${expected}, got ${
          shorten(JSON.stringify(record[key]))
        }`,
      ),
  };
}

/** `url`, or `urls` (the first, then its mirrors). */
function readUrls(line: ManifestLine): { url: URL; mirrors: string[] } {
  const { origin } = line;
  const urls = line.field("urls");
  if (urls !== undefined && line.field("url") !== undefined) {
    throw new SourceError(origin, `give "url" or "urls", not both`);
  }
  if (
    urls !== undefined &&
    (!Array.isArray(urls) || urls.length === 0 ||
      urls.some((u) => typeof u !== "string"))
  ) throw line.wrong("urls", "a non-empty array of strings");
  const urlText = urls === undefined
    ? line.field("url")
    : (urls as string[])[0];
  if (urlText === undefined) {
    throw new SourceError(origin, `missing field "url"`);
  }
  if (typeof urlText !== "string") throw line.wrong("url", "a string");
  const url = parseHttpUrl(urlText, origin);
  const mirrors = urls === undefined
    ? []
    : (urls as string[]).slice(1).map((text) =>
      parseHttpUrl(text, origin).href
    );
  return { url, mirrors };
}

/** `sha256` and `checksum` into the job (they must agree). */
function readChecksums(line: ManifestLine, job: Job): void {
  const sha256 = line.field("sha256");
  if (sha256 !== undefined) {
    const parsed = typeof sha256 === "string" ? parseSha256(sha256) : undefined;
    if (parsed === undefined) throw line.wrong("sha256", "64 hex digits");
    job.sha256 = parsed;
  }
  const checksum = line.field("checksum");
  if (checksum === undefined) return;
  if (typeof checksum !== "string") throw line.wrong("checksum", "a string");
  let parsed;
  try {
    parsed = parseChecksum(checksum);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new SourceError(line.origin, `"checksum": ${error.message}`);
  }
  if ("sha256" in parsed && job.sha256 && job.sha256 !== parsed.sha256) {
    throw new SourceError(line.origin, `"sha256" and "checksum" disagree`);
  }
  Object.assign(job, parsed);
}

/** `headers`: an object of strings, each a valid header. */
function readHeaders(
  line: ManifestLine,
  headers: unknown,
): Record<string, string> {
  if (typeof headers !== "object" || Array.isArray(headers)) {
    throw line.wrong("headers", "an object of strings");
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers as object)) {
    if (typeof value !== "string") {
      throw new SourceError(
        line.origin,
        `header ${quote(key)} must be a string, got ${
          shorten(JSON.stringify(value))
        }`,
      );
    }
    const problem = addHeader(out, key, value);
    if (problem !== undefined) throw new SourceError(line.origin, problem);
  }
  return out;
}

function shorten(text: string): string {
  return text.length > 200 ? text.slice(0, 200) + "…" : text;
}
