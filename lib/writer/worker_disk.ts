/**
 * The writer Worker's disk calls, all synchronous: writing, flushing,
 * renaming, looking. Durability (`ctx.durable`): a file's data is flushed
 * before its rename, and every directory a batch renamed into is flushed
 * once at the batch's end ({@linkcode flushDirs}).
 *
 * These functions run in the Worker from their source text (see
 * `writerWorkerUrl`): each uses only its arguments, Deno's API and the other
 * functions of the Worker's code.
 *
 * @module
 */

import { parentOf } from "./changed_dirs.ts";
import type { WorkerContext } from "./worker_context.ts";

/**
 * Writes every byte of `bytes` to `file`.
 *
 * @param file An open file.
 * @param bytes What to write.
 */
export function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.byteLength) at += file.writeSync(bytes.subarray(at));
}

/**
 * Flushes the data of a file written elsewhere (the main thread streams
 * into `.part`s), when durable.
 *
 * @param ctx The Worker's state.
 * @param path The file.
 */
export function syncData(ctx: WorkerContext, path: string): void {
  if (!ctx.durable) return;
  const file = Deno.openSync(path, { read: true });
  try {
    file.syncDataSync();
  } finally {
    file.close();
  }
}

/**
 * Renames `from` to `to` and marks their directory for the batch's flush.
 *
 * @param ctx The Worker's state.
 * @param from The old path.
 * @param to The new path.
 * @param dir The directory of both.
 */
export function renameInto(
  ctx: WorkerContext,
  from: string,
  to: string,
  dir: string,
): void {
  Deno.renameSync(from, to);
  ctx.dirtyDirs.add(dir);
}

/**
 * Flushes every directory this batch changed: one `fsync` each (none when
 * not durable).
 *
 * @param ctx The Worker's state.
 */
export function flushDirs(ctx: WorkerContext): void {
  if (!ctx.durable) {
    ctx.dirtyDirs.clear();
    return;
  }
  try {
    for (const dir of ctx.dirtyDirs) syncDir(dir);
  } finally {
    ctx.dirtyDirs.clear();
  }
}

/**
 * Flushes one directory's entries now.
 *
 * @param dir The directory.
 */
export function syncDir(dir: string): void {
  const file = Deno.openSync(dir, { read: true });
  try {
    file.syncSync();
  } finally {
    file.close();
  }
}

/**
 * Removes the resume facts beside a `.part` about to be started anew and,
 * when there were any, flushes their directory at once (when durable),
 * before the `.part` changes: a crash must never leave old facts beside new
 * bytes, whatever did or did not look for them first (`--force
 * --no-resume` and `flags` ask nothing before writing). One failed unlink
 * when there may be some and are none; none where there cannot be any
 * ({@linkcode mayHoldFacts}).
 *
 * @param ctx The Worker's state.
 * @param paths The `.part`'s facts and their directory.
 */
export function dropStaleFacts(
  ctx: WorkerContext,
  paths: { meta: string; dir: string },
): void {
  if (!mayHoldFacts(ctx, paths)) return;
  if (removeQuietly(paths.meta) && ctx.durable) syncDir(paths.dir);
}

/**
 * Whether resume facts may be at `paths.meta`. In a directory that was
 * missing or empty when this Worker first looked, only the facts it wrote
 * itself can be (`ctx.factsWritten`); elsewhere any may. A failed unlink
 * costs a small file as much as its write (Deno builds an error, and under
 * narrow permissions resolves the path first).
 *
 * @param ctx The Worker's state.
 * @param paths The facts' path and their directory.
 * @returns False when there can be none.
 */
export function mayHoldFacts(
  ctx: WorkerContext,
  paths: { meta: string; dir: string },
): boolean {
  if (ctx.factsWritten.has(paths.meta)) return true;
  let clean = ctx.cleanDirs.get(paths.dir);
  if (clean === undefined) {
    try {
      clean = isMissingOrEmpty(paths.dir);
    } catch {
      clean = false; // not readable: the unlink says what it can
    }
    ctx.cleanDirs.set(paths.dir, clean);
  }
  return !clean;
}

/**
 * Whether `dir` does not exist or holds nothing: no file in it can need a
 * look before it is written.
 *
 * @param dir A directory.
 * @returns True when missing or empty.
 */
export function isMissingOrEmpty(dir: string): boolean {
  try {
    for (const _ of Deno.readDirSync(dir)) return false;
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return true;
    throw error;
  }
}

/**
 * Creates `dir` and its parents, once per run.
 *
 * @param ctx The Worker's state.
 * @param dir The directory.
 */
export function ensureDir(ctx: WorkerContext, dir: string): void {
  if (ctx.madeDirs.has(dir)) return;
  // A directory made is a new name in its parent: the parent is flushed with
  // the batch, as a rename's directory is, or a power cut could lose the
  // directory with the files reported in it. A parent bulkget may not read
  // (narrow permissions) cannot be opened to flush, so it is left as it is.
  const made: string[] = [];
  for (let at = dir; isMissing(at); at = parentOf(at)) {
    made.push(at);
    if (parentOf(at) === at) break;
  }
  Deno.mkdirSync(dir, { recursive: true });
  for (const at of made) {
    const parent = parentOf(at);
    const read = Deno.permissions.querySync({ name: "read", path: parent });
    if (read.state === "granted") ctx.dirtyDirs.add(parent);
  }
  ctx.madeDirs.add(dir);
}

/**
 * What is at `path` (links followed), or undefined when nothing is.
 *
 * @param path A path.
 * @returns Its file info.
 */
export function statOf(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Whether nothing is at `path`; false too when bulkget may not look there
 * (narrow permissions), since it then makes nothing there either.
 *
 * @param path A path.
 * @returns True when it does not exist.
 */
export function isMissing(path: string): boolean {
  try {
    return statOf(path) === undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return false;
    throw error;
  }
}

/**
 * Removes `path`; nothing there is fine.
 *
 * @param path A path.
 * @returns Whether something was removed.
 */
export function removeQuietly(path: string): boolean {
  try {
    Deno.removeSync(path);
    return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return false;
  }
}
