/**
 * Opens a job source's input: a file path, or `-` for standard input.
 *
 * @module
 */

import { SourceError } from "../core/errors.ts";

/**
 * Opens `path` for reading as a byte stream; `-` means standard input.
 *
 * The file is closed when the stream ends or is cancelled.
 *
 * @example Usage
 * ```ts
 * import { openInput } from "./open_input.ts";
 * import { SourceError } from "../core/errors.ts";
 * import { equal, rejects } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "http://127.0.0.1/a.gif\n");
 * const stream = await openInput(path);
 * equal(await new Response(stream).text(), "http://127.0.0.1/a.gif\n");
 *
 * await Deno.remove(path);
 * await rejects(openInput(path), SourceError);
 * ```
 *
 * @param path A file path, or `-` for standard input.
 * @returns The file's bytes.
 * @throws {SourceError} When the file does not exist, is a directory, or the
 * operating system refuses to open it (origin: the path).
 * @throws {Deno.errors.NotCapable} When Deno lacks `--allow-read` for it (its
 * message names the flag).
 */
export async function openInput(
  path: string,
): Promise<ReadableStream<Uint8Array>> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `Cannot open input: expected a path or "-", got ${JSON.stringify(path)}`,
    );
  }
  if (path === "-") return Deno.stdin.readable;
  return (await openInputFile(path)).readable;
}

/**
 * Opens the file at `path` for reading, with {@linkcode openInput}'s checks
 * and errors (not `-`). For a reader that reads the file itself: a web
 * stream's first use costs some 3 ms of start-up, before the first job.
 *
 * @example Usage
 * ```ts
 * import { openInputFile } from "./open_input.ts";
 * import { equal } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "x\n");
 * using file = await openInputFile(path);
 * const buffer = new Uint8Array(8);
 * equal(await file.read(buffer), 2);
 * await Deno.remove(path);
 * ```
 *
 * @param path A file path.
 * @returns The open file; the caller closes it.
 * @throws {SourceError} As {@linkcode openInput}.
 * @throws {Deno.errors.NotCapable} As {@linkcode openInput}.
 */
export async function openInputFile(path: string): Promise<Deno.FsFile> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw openError(path, error);
  }
  let isDirectory: boolean;
  try {
    isDirectory = (await file.stat()).isDirectory;
  } catch (error) {
    file.close();
    throw openError(path, error);
  }
  if (isDirectory) {
    file.close();
    throw new SourceError(path, "cannot read: it is a directory");
  }
  return file;
}

function openError(path: string, error: unknown): unknown {
  if (error instanceof Deno.errors.NotFound) {
    return new SourceError(path, "cannot read: no such file", {
      cause: error,
    });
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new SourceError(path, "cannot read: permission denied", {
      cause: error,
    });
  }
  return error;
}
