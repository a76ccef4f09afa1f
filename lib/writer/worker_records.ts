/**
 * The writer Worker's side of the state file (`.bulkget-state.jsonl` in the
 * output directory): one JSON line for every file it completes — size,
 * SHA-256 or CRC-32, modification and change times once in place,
 * validators — and
 * whether a file found on a rerun is still the one recorded. A file whose
 * times are the recorded ones is trusted by its size; any other is read and
 * hashed.
 *
 * These functions run in the Worker from their source text (see
 * `writerWorkerUrl`): each uses only its arguments, Deno's API, the
 * constants the Worker's source defines and the other functions of the
 * Worker's code.
 *
 * @module
 */

import { destPaths, STATE_FILE } from "./paths.ts";
import type { Validators, WrittenFile } from "./protocol.ts";
import type { FileRecord, WorkerContext } from "./worker_context.ts";
import { statOf, writeAll } from "./worker_disk.ts";
import { crcFile, hashFile } from "./worker_hash.ts";

/**
 * Queues a state line recording what was written as `dest`, after it was
 * renamed (and given its remote time): its times are read now.
 *
 * @param ctx The Worker's state.
 * @param dest The destination.
 * @param written Its size and SHA-256.
 * @param validators Its validators, when they are recorded.
 * @param placed Its info once in place, when the caller has it already.
 * @returns `written`.
 */
export function remember(
  ctx: WorkerContext,
  dest: string,
  written: WrittenFile,
  validators: Validators | undefined,
  placed?: Deno.FileInfo,
): WrittenFile {
  const line: FileRecord & { dest: string } = {
    dest,
    size: written.bytes,
    // SHA-256 when taken, else CRC-32 when taken, else (digest: false) the
    // size alone.
    ...(written.sha256 !== undefined
      ? { sha256: written.sha256 }
      : written.crc32 !== undefined
      ? { crc32: written.crc32 }
      : {}),
    ...stampOf(placed ?? Deno.statSync(destPaths(ctx.outDir, dest).final)),
    ...validators,
  };
  ctx.stateLines += JSON.stringify(line) + "\n";
  ctx.records?.set(dest, line);
  return written;
}

/**
 * A file's modification and change times in ms, when the system gives both.
 *
 * @param info The file's info.
 * @returns Both times, or nothing.
 */
export function stampOf(
  info: Deno.FileInfo,
): { mtime?: number; ctime?: number } {
  const mtime = info.mtime?.getTime();
  const ctime = info.ctime?.getTime();
  return mtime === undefined || ctime === undefined ? {} : { mtime, ctime };
}

/**
 * Appends the batch's state lines to the state file, flushed when durable
 * (a new state file's directory joins the batch's flush).
 *
 * @param ctx The Worker's state.
 */
export function writeStateLines(ctx: WorkerContext): void {
  if (ctx.stateLines === "") return;
  const text = ctx.stateLines;
  ctx.stateLines = "";
  const paths = destPaths(ctx.outDir, STATE_FILE);
  const found = statOf(paths.final);
  const created = found === undefined;
  const file = Deno.openSync(paths.final, {
    read: true,
    append: true,
    create: true,
  });
  try {
    // A run that crashed mid-append may have left a torn last line: this
    // run's first line starts on a line of its own, or both would be lost.
    const torn = ctx.stateFileSeen !== paths.final && !created &&
      found.size > 0 && !endsInNewline(file, found.size);
    ctx.stateFileSeen = paths.final;
    writeAll(file, new TextEncoder().encode(torn ? "\n" + text : text));
    if (ctx.durable) file.syncDataSync();
  } finally {
    file.close();
  }
  if (created) ctx.dirtyDirs.add(paths.dir);
}

/**
 * Whether an open file's last byte is a line feed.
 *
 * @param file The file, open for reading.
 * @param size Its size (above 0).
 * @returns True when it ends in `\n`.
 */
export function endsInNewline(file: Deno.FsFile, size: number): boolean {
  const last = new Uint8Array(1);
  file.seekSync(size - 1, Deno.SeekMode.Start);
  return file.readSync(last) === 1 && last[0] === 0x0a;
}

/**
 * The records of a state file's text: the last line about a destination
 * wins; a line without a size (an older version's) removes the record, and
 * a torn line is skipped (that file is fetched again).
 *
 * @param text The state file's content.
 * @returns The records by destination.
 */
export function parseRecords(text: string): Map<string, FileRecord> {
  const records = new Map<string, FileRecord>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let parsed;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const { dest, size, sha256, crc32, mtime, ctime } = parsed ?? {};
    if (typeof dest !== "string") continue;
    if (typeof size !== "number") {
      records.delete(dest);
      continue;
    }
    records.set(dest, {
      size,
      sha256: typeof sha256 === "string" ? sha256 : undefined,
      ...(typeof crc32 === "string" ? { crc32 } : {}),
      ...(typeof mtime === "number" && typeof ctime === "number"
        ? { mtime, ctime }
        : {}),
    });
  }
  return records;
}

/**
 * What the state file last recorded for `dest` (read once per run).
 *
 * @param ctx The Worker's state.
 * @param dest The destination.
 * @returns Its record, if any.
 */
export function recordOf(
  ctx: WorkerContext,
  dest: string,
): FileRecord | undefined {
  if (ctx.records === undefined) {
    let text = "";
    try {
      text = Deno.readTextFileSync(destPaths(ctx.outDir, STATE_FILE).final);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    ctx.records = parseRecords(text);
  }
  return ctx.records.get(dest);
}

/**
 * Whether the file at `path` is the one recorded: the same size, and the
 * same digest recorded (SHA-256, else CRC-32), read and hashed only when
 * its times differ from the recorded ones (a file written since has another
 * modification or change time). A record with neither digest (an older
 * version's, or `digest: false`) is matched by size.
 *
 * @param ctx The Worker's state.
 * @param path The file.
 * @param info Its info.
 * @param record Its record.
 * @returns True when it matches.
 */
export function matchesRecord(
  ctx: WorkerContext,
  path: string,
  info: Deno.FileInfo,
  record: FileRecord,
): boolean {
  if (record.size !== info.size) return false;
  if (record.sha256 === undefined && record.crc32 === undefined) return true;
  const stamp = stampOf(info);
  if (
    record.mtime !== undefined && record.mtime === stamp.mtime &&
    record.ctime === stamp.ctime
  ) return true;
  return record.sha256 !== undefined
    ? hashFile(ctx, path).sha256 === record.sha256
    : crcFile(ctx, path).crc32 === record.crc32;
}
