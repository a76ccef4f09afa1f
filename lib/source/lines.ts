/**
 * Reads text lines, streamed, with their line numbers: the one reader under
 * every line-based job source.
 *
 * @module
 */

import { openInput, openInputFile } from "./open_input.ts";
import { SourceError } from "../core/errors.ts";

/** Longest line accepted by default, in bytes. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** One line of input. */
export interface Line {
  /** Line number, counting from 1. */
  line: number;
  /** The text, without its `\n` or `\r\n` (and, on line 1, without a BOM). */
  text: string;
}

/** What {@linkcode readLines} reads: a path, `-` for stdin, or a byte stream. */
export type LineInput = string | ReadableStream<Uint8Array>;

/** Options for {@linkcode readLines}. */
export interface ReadLinesOptions {
  /**
   * The input's name in error messages and origins (`NAME:LINE`).
   *
   * @default {the path; "stdin" for "-"; "input" for a stream}
   */
  name?: string;
  /**
   * Longest line accepted, in bytes; a longer one is an error, so an input
   * without newlines cannot fill memory.
   *
   * @default {1048576}
   */
  maxLineBytes?: number;
}

/**
 * The name {@linkcode readLines} gives an input by default.
 *
 * @param input A path, `-`, or a stream.
 * @returns The path; `stdin` for `-`; `input` for a stream.
 */
export function inputName(input: LineInput): string {
  if (typeof input !== "string") return "input";
  return input === "-" ? "stdin" : input;
}

/**
 * Yields the lines of `input` one at a time, reading it chunk by chunk: a
 * million-line file starts yielding at once and runs in flat memory.
 *
 * Lines end with `\n` or `\r\n`; a last line without a newline counts; a
 * UTF-8 byte-order mark at the start is dropped. The input must be UTF-8.
 * Breaking out of the loop cancels the stream (closing the file).
 *
 * @example Usage
 * ```ts
 * import { readLines } from "./lines.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const stream = ReadableStream.from([new TextEncoder().encode("a\r\nb")]);
 * const lines = await Array.fromAsync(readLines(stream));
 * deepEqual(lines, [{ line: 1, text: "a" }, { line: 2, text: "b" }]);
 * ```
 *
 * @param input A file path, `-` for standard input, or a byte stream.
 * @param options The name used in errors, the line length limit.
 * @returns The lines, in order.
 * @throws {SourceError} (while iterating) When the file cannot be opened, a
 * line is not valid UTF-8 or is too long: `NAME:LINE: invalid UTF-8`.
 * @throws {TypeError} When `input` is neither a string nor a stream.
 * @throws {RangeError} When `maxLineBytes` is not a positive integer.
 */
export function readLines(
  input: LineInput,
  options: ReadLinesOptions = {},
): AsyncGenerator<Line, void, undefined> {
  const maxLineBytes = checkedLineOptions(input, options);
  return lines(input, options.name ?? inputName(input), maxLineBytes);
}

/** Checks the arguments of the two readers; returns the line limit. */
function checkedLineOptions(
  input: LineInput,
  options: ReadLinesOptions,
): number {
  if (typeof input !== "string" && !(input instanceof ReadableStream)) {
    throw new TypeError(
      `Cannot read lines: expected a path or a ReadableStream, got ${typeof input}`,
    );
  }
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new RangeError(
      `Invalid option "maxLineBytes": expected a positive integer, got ${maxLineBytes}`,
    );
  }
  return maxLineBytes;
}

async function* lines(
  input: LineInput,
  name: string,
  maxLineBytes: number,
): AsyncGenerator<Line, void, undefined> {
  for await (const batch of batches(input, name, maxLineBytes)) yield* batch;
}

/**
 * Turns the bytes of each line, in order, into a numbered {@linkcode Line}:
 * a BOM at the start and a final `\r` dropped, invalid UTF-8 and lines over
 * `maxLineBytes` refused with the line's number.
 */
function lineDecoder(name: string, maxLineBytes: number) {
  // One decoder per line keeps errors on the right line; BOMs are ours to drop.
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let number = 0;
  const tooLong = () =>
    new SourceError(
      `${name}:${number + 1}`,
      `line is longer than ${maxLineBytes} bytes`,
    );
  const toLine = (bytes: Uint8Array): Line => {
    const length = bytes.length - (bytes[bytes.length - 1] === 13 ? 1 : 0);
    if (length > maxLineBytes) throw tooLong();
    number++;
    if (
      number === 1 && bytes[0] === 0xef && bytes[1] === 0xbb &&
      bytes[2] === 0xbf
    ) {
      bytes = bytes.subarray(3);
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch (error) {
      throw new SourceError(`${name}:${number}`, "invalid UTF-8", {
        cause: error,
      });
    }
    if (text.endsWith("\r")) text = text.slice(0, -1);
    return { line: number, text };
  };
  return { toLine, tooLong };
}

/**
 * Like {@linkcode readLines}, but yields the lines of each read together: a
 * batch ends where the input had nothing more to give at once, so a source
 * reading a pipe can tell "the next line is already here" from "the next
 * line needs another read, which may wait" (see `jobsFromAria2`'s `live`).
 *
 * @param input A file path, `-` for standard input, or a byte stream.
 * @param options The name used in errors, the line length limit.
 * @returns Non-empty arrays of lines, in order.
 * @throws {SourceError} (while iterating) As {@linkcode readLines}; the lines
 * before a bad one are yielded first.
 */
export function readLineBatches(
  input: LineInput,
  options: ReadLinesOptions = {},
): AsyncGenerator<Line[], void, undefined> {
  const maxLineBytes = checkedLineOptions(input, options);
  return batches(input, options.name ?? inputName(input), maxLineBytes);
}

async function* batches(
  input: LineInput,
  name: string,
  maxLineBytes: number,
): AsyncGenerator<Line[], void, undefined> {
  const reader = await chunkReader(input);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let batch: Line[] = [];
  const { toLine, tooLong } = lineDecoder(name, maxLineBytes);

  try {
    try {
      while (true) {
        const chunk = await reader.read();
        if (chunk === undefined) break;
        let start = 0;
        while (start < chunk.length) {
          const newline = chunk.indexOf(10, start);
          const end = newline === -1 ? chunk.length : newline;
          // + 1 leaves room for the "\r" of a "\r\n"; toLine checks exactly.
          if (pendingBytes + end - start > maxLineBytes + 1) throw tooLong();
          if (newline === -1) {
            // Copied: a stream may reuse its chunk's buffer.
            pending.push(chunk.slice(start));
            pendingBytes += chunk.length - start;
            break;
          }
          let bytes = chunk.subarray(start, newline);
          if (pending.length > 0) {
            pending.push(bytes);
            bytes = concat(pending, pendingBytes + bytes.length);
            pending = [];
            pendingBytes = 0;
          }
          batch.push(toLine(bytes));
          start = newline + 1;
        }
        if (batch.length > 0) {
          const full = batch;
          batch = [];
          yield full;
        }
      }
      if (pendingBytes > 0) batch.push(toLine(concat(pending, pendingBytes)));
    } catch (error) {
      // The good lines before a bad one still count.
      if (batch.length > 0) {
        const full = batch;
        batch = [];
        yield full;
      }
      throw error;
    }
    if (batch.length > 0) yield batch;
  } finally {
    await reader.close();
  }
}

/** Where {@linkcode batches} gets its bytes: one chunk at a time, then undefined. */
interface ChunkReader {
  /** The next chunk, valid until the next read; undefined at the end. */
  read(): Promise<Uint8Array | undefined>;
  /** Stops reading (cancels the stream, closes the file). */
  close(): Promise<void>;
}

/** Bytes a file read asks for: the size of Deno's file streams' chunks. */
const FILE_CHUNK_BYTES = 64 * 1024;

/**
 * A file path is read with the file's own reads into one reused buffer,
 * not through a web stream, whose first use costs some 3 ms before the
 * first job (a stream given, or `-`, is read through its reader).
 */
async function chunkReader(input: LineInput): Promise<ChunkReader> {
  if (typeof input === "string" && input !== "-") {
    const file = await openInputFile(input);
    const buffer = new Uint8Array(FILE_CHUNK_BYTES);
    let open = true;
    const close = () => {
      if (open) file.close();
      open = false;
    };
    return {
      async read() {
        const count = open ? await file.read(buffer) : null;
        if (count === null) {
          close();
          return undefined;
        }
        return buffer.subarray(0, count);
      },
      close: () => Promise.resolve(close()),
    };
  }
  const stream = typeof input === "string" ? await openInput(input) : input;
  const reader = stream.getReader();
  return {
    async read() {
      const { done, value } = await reader.read();
      return done ? undefined : value;
    },
    async close() {
      await reader.cancel().catch(() => {});
      reader.releaseLock();
    },
  };
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
