/**
 * The writer Worker's handlers, one per request kind (`op`): each does what
 * its request asks and returns the reply's value, or throws.
 *
 * Every file goes to `NAME.part`, is hashed and checked against what was
 * expected, and only then renamed to `NAME` and recorded in the state file.
 *
 * These functions run in the Worker from their source text (see
 * `writerWorkerUrl`): each uses only its arguments, Deno's API, the
 * constants the Worker's source defines and the other functions of the
 * Worker's code. A new request kind gets a handler here and a line in the
 * Worker's table (`worker.ts`).
 *
 * @module
 */

import { type DestPaths, destPaths } from "./paths.ts";
import type {
  Expectation,
  PartMeta,
  ProbeResult,
  RequestOf,
  WrittenFile,
} from "./protocol.ts";
import type { WorkerContext } from "./worker_context.ts";
import {
  dropStaleFacts,
  ensureDir,
  removeQuietly,
  renameInto,
  statOf,
  syncData,
  writeAll,
} from "./worker_disk.ts";
import { writeSmallFile } from "./split_files.ts";
import {
  checkOtherDigest,
  checkSizeAndSha256,
  crcFile,
  hashFile,
  newCrc,
  newHash,
  otherHash,
  recordDigest,
} from "./worker_hash.ts";
import { matchesRecord, recordOf, remember } from "./worker_records.ts";

/**
 * `put`: writes a whole body as `dest` via its `.part`, checked, renamed and
 * recorded.
 *
 * @param ctx The Worker's state.
 * @param request The request.
 * @param arena The batch's packed small bodies.
 * @returns The file's size and digest.
 */
export function handlePut(
  ctx: WorkerContext,
  request: RequestOf<"put">,
  arena: ArrayBuffer | undefined,
): WrittenFile {
  const { dest, expect } = request;
  const bytes = request.packed
    ? new Uint8Array(arena!, request.packed[0], request.packed[1])
    : new Uint8Array(request.data!);
  const paths = destPaths(ctx.outDir, dest);
  const digest = recordDigest(expect);
  const written: WrittenFile = { bytes: bytes.byteLength };
  if (digest === "sha256") {
    written.sha256 = newHash(ctx).update(bytes).digest("hex");
  }
  checkSizeAndSha256(expect, written.bytes, written.sha256);
  checkOtherDigest(ctx, expect, bytes);
  if (digest === "crc32") {
    const crc = newCrc(ctx.crc32);
    crc.update(bytes);
    written.crc32 = crc.hex();
  }
  ensureDir(ctx, paths.dir);
  const placed = writeInPlace(ctx, paths, bytes, expect.mtime);
  return remember(ctx, dest, written, request.record, placed);
}

/**
 * Writes a whole small file as `paths.part`, gives it its remote time,
 * flushes it (when durable) and renames it to `paths.final`, all through
 * one open file: the time is set on the file itself, not looked up by name
 * again. Its info is read after the rename, which changes the file's change
 * time, by its final name (see the comment there).
 *
 * @param ctx The Worker's state.
 * @param paths The destination's paths.
 * @param bytes The body.
 * @param mtime The time to give it (ms), if any.
 * @returns The file's info once in place.
 */
export function writeInPlace(
  ctx: WorkerContext,
  paths: DestPaths,
  bytes: Uint8Array,
  mtime: number | undefined,
): Deno.FileInfo {
  dropStaleFacts(ctx, paths);
  const file = Deno.openSync(paths.part, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    writeAll(file, bytes);
    if (mtime !== undefined) {
      try {
        const when = new Date(mtime);
        file.utimeSync(when, when);
      } catch {
        // The file is complete; its time is a courtesy.
      }
    }
    if (ctx.durable) file.syncDataSync();
    renameInto(ctx, paths.part, paths.final, paths.dir);
    // By name, as a rerun's probe looks at it, not `file.statSync()`: unless
    // every permission is granted, Deno checks an open file's stat against
    // the path it was opened by and resolves that path first (a readlink
    // per directory level, twice over for a name that no longer exists: 7
    // under /tmp/a/b) against one lookup here.
    return Deno.statSync(paths.final);
  } finally {
    file.close();
  }
}

/**
 * `prepare`: readies `dest.part` for the main thread to stream into:
 * created empty, or cut to `offset` to resume; the resume facts are written
 * beside it (an empty one given none has the old ones removed).
 *
 * @param ctx The Worker's state.
 * @param request The request.
 * @returns The path to append to.
 */
export function handlePrepare(
  ctx: WorkerContext,
  request: RequestOf<"prepare">,
): string {
  const { dest, offset, meta } = request;
  const paths = destPaths(ctx.outDir, dest);
  ensureDir(ctx, paths.dir);
  if (offset > 0) {
    const file = Deno.openSync(paths.part, { write: true });
    try {
      if (file.statSync().size < offset) {
        throw new Error(`The .part of "${dest}" shrank while resuming`);
      }
      file.truncateSync(offset);
      if (ctx.durable) file.syncDataSync();
    } finally {
      file.close();
    }
  } else {
    // The resume facts of an earlier answer never stay beside a .part
    // restarted (the new ones, if any, are written after it is emptied):
    // a kill mid-body would leave the new answer's bytes under them, and
    // the rerun would append the old one's rest.
    dropStaleFacts(ctx, paths);
    writeSmallFile(paths.part, new Uint8Array(0), ctx.durable);
    ctx.dirtyDirs.add(paths.dir);
  }
  if (meta) {
    ctx.factsWritten.add(paths.meta);
    writeSmallFile(
      paths.meta,
      new TextEncoder().encode(JSON.stringify(meta)),
      ctx.durable,
    );
    ctx.dirtyDirs.add(paths.dir);
  }
  return paths.part;
}

/**
 * `seal`: reads a streamed `.part` back once to take its digest (SHA-256,
 * or CRC-32: see `recordDigest`) and check it — unless the digest is the
 * CRC-32 the main thread took as it wrote the bytes and there is no other
 * checksum to check —, renames it into place and records it; a wrong one is
 * removed.
 *
 * @param ctx The Worker's state.
 * @param request The request.
 * @returns The file's size and digest.
 */
export function handleSeal(
  ctx: WorkerContext,
  request: RequestOf<"seal">,
): WrittenFile {
  const { dest, expect } = request;
  ctx.split.settle(dest); // a segmented .part is closed, its sidecar saved
  const paths = destPaths(ctx.outDir, dest);
  // The other checksum is fed by the same read as the file's digest.
  const digest = recordDigest(expect);
  const other = digest ? otherHash(ctx, expect) : undefined;
  const written = digest === "sha256"
    ? hashFile(ctx, paths.part, other)
    : digest === "crc32" && (request.crc32 === undefined || other)
    ? crcFile(ctx, paths.part, other)
    : { bytes: Deno.statSync(paths.part).size };
  // Taken by the main thread as it wrote the bytes: not read back.
  if (digest === "crc32" && written.crc32 === undefined) {
    written.crc32 = request.crc32;
  }
  try {
    checkSizeAndSha256(expect, written.bytes, written.sha256);
    checkOtherDigest(ctx, expect, other ?? paths.part);
  } catch (error) {
    removeQuietly(paths.part);
    removeQuietly(paths.meta);
    throw error;
  }
  syncData(ctx, paths.part);
  renameInto(ctx, paths.part, paths.final, paths.dir);
  removeQuietly(paths.meta);
  setRemoteTime(ctx, dest, expect);
  return remember(ctx, dest, written, request.record);
}

/**
 * `release`: gives up a streamed `.part`: kept with its resume facts (its
 * bytes flushed), or removed with them (the removal flushed with the batch).
 *
 * @param ctx The Worker's state.
 * @param request The request.
 */
export function handleRelease(
  ctx: WorkerContext,
  request: RequestOf<"release">,
): undefined {
  ctx.split.settle(request.dest); // a segmented .part is closed, its sidecar saved
  const paths = destPaths(ctx.outDir, request.dest);
  if (request.keepPart && (statOf(paths.part)?.size ?? 0) > 0) {
    syncData(ctx, paths.part); // the kept bytes are on disk before this run stops trusting them
    return;
  }
  // The removals are flushed before the reply: what is written next in
  // their place never lies beside them after a power cut.
  const removed = removeQuietly(paths.part);
  if (removeQuietly(paths.meta) || removed) ctx.dirtyDirs.add(paths.dir);
}

/**
 * `probe`: what is on disk for `dest`: a final file (and whether it is the
 * one the state file recorded), a `.part` with its resume facts.
 *
 * @param ctx The Worker's state.
 * @param request The request.
 * @returns What was found.
 */
export function handleProbe(
  ctx: WorkerContext,
  request: RequestOf<"probe">,
): ProbeResult {
  const paths = destPaths(ctx.outDir, request.dest);
  const result: ProbeResult = {};
  const final = statOf(paths.final);
  if (final !== undefined) {
    result.finalSize = final.size;
    const record = recordOf(ctx, request.dest);
    if (record !== undefined) {
      result.recorded = matchesRecord(ctx, paths.final, final, record);
      if (result.recorded && record.sha256) result.sha256 = record.sha256;
    }
  }
  const part = statOf(paths.part);
  if (part !== undefined) {
    let meta: PartMeta | undefined;
    try {
      meta = JSON.parse(Deno.readTextFileSync(paths.meta));
    } catch {
      meta = undefined; // no resume facts: the caller restarts the file
    }
    result.part = { size: part.size, meta };
  }
  return result;
}

/**
 * `verify`: hashes the final file and checks it.
 *
 * @param ctx The Worker's state.
 * @param request The request.
 * @returns The file's size and SHA-256.
 */
export function handleVerify(
  ctx: WorkerContext,
  request: RequestOf<"verify">,
): WrittenFile {
  const { dest, expect } = request;
  const other = otherHash(ctx, expect); // fed by the same read as SHA-256
  const written = hashFile(ctx, destPaths(ctx.outDir, dest).final, other);
  checkSizeAndSha256(expect, written.bytes, written.sha256);
  if (other) checkOtherDigest(ctx, expect, other);
  return written;
}

/**
 * `startSplit`: opens `dest.part` for a segmented download's positional
 * writes (see `split_files.ts`).
 *
 * @param ctx The Worker's state.
 * @param request The request.
 */
export function handleStartSplit(
  ctx: WorkerContext,
  request: RequestOf<"startSplit">,
): undefined {
  const paths = destPaths(ctx.outDir, request.dest);
  if (request.fresh) {
    // Settled first: an open .part of the same name saves its facts.
    ctx.split.settle(request.dest);
    dropStaleFacts(ctx, paths);
  }
  ctx.factsWritten.add(paths.meta); // its ranges are saved beside it
  ctx.split.start(request.dest, request.meta, request.fresh);
}

/**
 * `writeAt`: writes the next bytes of a segmented download's range.
 *
 * @param ctx The Worker's state.
 * @param request The request.
 * @returns The bytes' buffer, transferred back to be filled again.
 */
export function handleWriteAt(
  ctx: WorkerContext,
  request: RequestOf<"writeAt">,
): ArrayBuffer {
  const { dest, range, offset, data } = request;
  ctx.split.writeAt(dest, range, offset, new Uint8Array(data));
  return data;
}

/**
 * `close`: saves and closes every segmented `.part`; the Worker ends after
 * the batch.
 *
 * @param ctx The Worker's state.
 */
export function handleClose(ctx: WorkerContext): undefined {
  ctx.split.settle();
}

/**
 * Gives a file just renamed into place the `mtime` it was sent with (from
 * the response's `Last-Modified`); a refusal is ignored.
 *
 * @param ctx The Worker's state.
 * @param dest The destination.
 * @param expect Its expectation, with the time.
 */
export function setRemoteTime(
  ctx: WorkerContext,
  dest: string,
  expect: Expectation,
): void {
  if (expect.mtime === undefined) return;
  try {
    const when = new Date(expect.mtime);
    Deno.utimeSync(destPaths(ctx.outDir, dest).final, when, when);
  } catch {
    // The file is complete and verified; its time is a courtesy.
  }
}
