/**
 * What the writer Worker keeps between requests, passed to every function
 * of its code (`worker_*.ts`). Those functions run from their source text
 * (see `writerWorkerUrl` in `worker.ts`), so they share state through this
 * object, never through module variables.
 *
 * @module
 */

import type { createHash as CreateHash } from "node:crypto";
import type { crc32 as Crc32 } from "node:zlib";
import { destPaths } from "./paths.ts";
import { type SplitFiles, splitFiles } from "./split_files.ts";
import { ensureDir } from "./worker_disk.ts";

/** What the state file records of a file bulkget completed. */
export interface FileRecord {
  /** Its size in bytes. */
  size: number;
  /** Its SHA-256, when one was computed (absent in lines of older versions). */
  sha256?: string;
  /** Its CRC-32 (8 hex digits), recorded instead of a SHA-256 when none was computed. */
  crc32?: string;
  /** Its modification time (ms) once it was in place. */
  mtime?: number;
  /** Its change time (ms; whole seconds in Deno) once it was in place. */
  ctime?: number;
}

/** The writer Worker's state. */
export interface WorkerContext {
  /** The directory every destination is relative to. */
  outDir: string;
  /** Whether files and directories are flushed before replies. */
  durable: boolean;
  /** `node:crypto`'s `createHash`, once loaded. */
  createHash?: typeof CreateHash;
  /** `node:zlib`'s `crc32`, loaded with `createHash`. */
  crc32?: typeof Crc32;
  /** Directories known to exist. */
  madeDirs: Set<string>;
  /** Directories that gained or lost a name in this batch, flushed at its end. */
  dirtyDirs: Set<string>;
  /**
   * Directories by whether they were missing or empty when this Worker first
   * looked for resume facts in them (see `mayHoldFacts`).
   */
  cleanDirs: Map<string, boolean>;
  /** The resume facts this Worker wrote (`prepare`, `--split`): they may still be there. */
  factsWritten: Set<string>;
  /** State lines waiting to be appended to the state file, one write per batch. */
  stateLines: string;
  /**
   * The state file this Worker has appended to already (its end was looked
   * at before the first append: see `writeStateLines`).
   */
  stateFileSeen?: string;
  /** What is recorded for each destination, read on the first probe that needs it. */
  records?: Map<string, FileRecord>;
  /** The buffer every whole-file read goes through. */
  readBuffer?: Uint8Array;
  /** Segmented downloads' `.part`s, open for positional writes (`--split`). */
  split: SplitFiles;
}

/**
 * A fresh context.
 *
 * @param outDir The output directory.
 * @param durable Whether to flush (`durability: "full"`).
 * @returns The context.
 */
export function newWorkerContext(
  outDir: string,
  durable: boolean,
): WorkerContext {
  const ctx: Omit<WorkerContext, "split"> = {
    outDir,
    durable,
    madeDirs: new Set(),
    dirtyDirs: new Set(),
    cleanDirs: new Map(),
    factsWritten: new Set(),
    stateLines: "",
  };
  const split = splitFiles({
    destPaths,
    outDir: () => ctx.outDir,
    durable: () => ctx.durable,
    ensureDir: (dir) => ensureDir(ctx as WorkerContext, dir),
    dirty: (dir) => ctx.dirtyDirs.add(dir),
  });
  return Object.assign(ctx, { split });
}
