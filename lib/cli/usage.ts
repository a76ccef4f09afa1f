/**
 * The error a command throws for bad command-line input: printed as one
 * line plus the usage, exit code 2.
 *
 * @module
 */

import { parseDuration, parseSize } from "../core/units.ts";

import {
  type OptionsConfig,
  parseArgs,
  type ParsedArgs,
} from "./parse_args.ts";
import { HEADER_NAME } from "../core/headers.ts";
import { UsageError } from "../core/errors.ts";

/**
 * Parses a whole number option, e.g. `-m 100`.
 *
 * @param text The option's value as typed.
 * @param what How the error names the option, e.g. `--max_req CONCURRENT`.
 * @param min The least allowed value.
 * @param max The greatest allowed value. @default Number.MAX_SAFE_INTEGER
 * @returns The number.
 * @throws {UsageError} When it is not a whole number from `min` to `max`.
 */
export function parseWholeNumber(
  text: string,
  what: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  const value = Number(text);
  if (
    !/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(value) ||
    value < min || value > max
  ) {
    const range = max === Number.MAX_SAFE_INTEGER
      ? `>= ${min}`
      : `from ${min} to ${max}`;
    throw new UsageError(
      `${what} must be a whole number ${range}, got "${text}"`,
    );
  }
  return value;
}

/**
 * Parses a duration in seconds, e.g. `--timeout 2.5`.
 *
 * @param text The option's value as typed.
 * @param what How the error names the option.
 * @returns Milliseconds.
 * @throws {UsageError} When it is not a positive number.
 */
export function parseSeconds(text: string, what: string): number {
  let ms: number;
  try {
    ms = parseDuration(text, "s");
  } catch {
    ms = 0;
  }
  if (ms <= 0) {
    throw new UsageError(
      `${what} must be a positive number of seconds, got "${text}"`,
    );
  }
  return ms;
}

/**
 * Parses a byte size: a whole number with an optional binary unit
 * (`K`, `M`, `G`, `T`, with or without `iB`/`B`), e.g. `10M` = 10 MiB.
 *
 * @param text The option's value as typed.
 * @param what How the error names the option.
 * @returns Bytes.
 * @throws {UsageError} When it is not a size.
 */
export function parseByteSize(text: string, what: string): number {
  try {
    return parseSize(text);
  } catch {
    throw new UsageError(
      `${what} must be a size such as 500000, 64K or 10M, got "${text}"`,
    );
  }
}

/**
 * Parses a `Name: value` header.
 *
 * @param text The option's value as typed.
 * @returns The name and the value.
 * @throws {UsageError} When it is not a valid header.
 */
export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(":");
  const name = colon > 0 ? text.slice(0, colon).trim() : "";
  if (!HEADER_NAME.test(name)) {
    throw new UsageError(`-H must be "Name: value", got "${text}"`);
  }
  const value = text.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(value)) {
    throw new UsageError(`-H ${name}: the value must not contain line breaks`);
  }
  return [name, value];
}

/**
 * Parses a command line (see {@linkcode parseArgs}: `node:util`'s rules),
 * its errors (an unknown option, a missing value) turned into
 * {@linkcode UsageError}s.
 *
 * @param args The command line after the command's name.
 * @param options The options it takes.
 * @returns The parsed values and positionals.
 * @throws {UsageError} For input the parser refuses.
 */
export function parseCommandLine<T extends OptionsConfig>(
  args: string[],
  options: T,
): ParsedArgs<T> {
  try {
    return parseArgs(negativeValues(args, options), options);
  } catch (error) {
    const message = (error as Error).message;
    // Node's wording of this one is long and ends in an unclosed quote.
    const unknown = /^Unknown option '([^']*)'/.exec(message)?.[1];
    if (unknown === undefined) throw new UsageError(message);
    const meant = closestOption(unknown, Object.keys(options));
    throw new UsageError(
      `unknown option ${unknown}${meant ? ` (did you mean ${meant}?)` : ""}`,
    );
  }
}

/** The long option `typed` is at most two edits from, when there is one. */
function closestOption(typed: string, names: string[]): string | undefined {
  if (!typed.startsWith("--")) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const distance = editDistance(typed.slice(2), name);
    if (distance < bestDistance) [best, bestDistance] = [`--${name}`, distance];
  }
  return best;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j] + 1,
        next[j - 1] + 1,
        row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length];
}

/**
 * Joins a string option and a value that looks like a negative number
 * (`--retries -1` becomes `--retries=-1`): `node:util`'s rules call such a
 * value ambiguous, but no option of ours is a digit, so the value is meant,
 * and the option's own check can then say what is wrong with it.
 */
function negativeValues(args: string[], options: OptionsConfig): string[] {
  const shortString = new Set(
    Object.values(options).filter((o) => o.type === "string" && o.short)
      .map((o) => o.short),
  );
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const takesValue = /^--[^=]+$/.test(arg)
      ? options[arg.slice(2)]?.type === "string"
      : /^-[^-]$/.test(arg) && shortString.has(arg[1]);
    if (takesValue && /^-\d/.test(args[i + 1] ?? "")) {
      out.push(`${arg}=${args[++i]}`.replace(/^-([^-])=/, "-$1"));
    } else out.push(arg);
  }
  return out;
}

/**
 * Checks that an input file named on the command line is there, before the
 * run starts.
 *
 * @param path The file.
 * @throws {UsageError} When it is missing or not a file.
 */
export async function requireFile(path: string): Promise<void> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new UsageError(`${path}: not a file`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`${path}: no such file`);
    }
    throw error;
  }
}
