/**
 * The writer Worker's side of segmented downloads (`--split`): one `.part`
 * of the file's full size, written at positions by several ranges at once,
 * and the sidecar (`NAME.part.json`) that records how much of each range is
 * on disk, so a later attempt or run continues each range where it stopped.
 *
 * The sidecar never claims a byte that is not written: it is saved after the
 * data it counts (flushed first when durable), about once a second while
 * bytes arrive and whenever the file is settled (sealed, released, or the
 * writer closed).
 *
 * Like the Worker's own code, these functions run from their source text
 * inside the Worker ({@linkcode splitFilesSource}, used by `worker.ts`), so
 * they use only each other and what `deps` gives.
 *
 * @module
 */

import type { destPaths } from "./paths.ts";
import type { PartMeta } from "./protocol.ts";

/** What {@linkcode splitFiles} needs from the Worker. */
export interface SplitFilesDeps {
  /** Where a destination's files live (from `paths.ts`). */
  destPaths: typeof destPaths;
  /** The output directory (known once the Worker is initialised). */
  outDir: () => string;
  /** Whether data is flushed before the sidecar that counts it. */
  durable: () => boolean;
  /** Creates a directory (and its parents) once. */
  ensureDir: (dir: string) => void;
  /** Marks a directory whose entries changed, flushed with the batch. */
  dirty: (dir: string) => void;
}

/** The Worker's segmented files. */
export interface SplitFiles {
  /**
   * Opens `dest.part` for positional writes: a new one of `meta.split`'s
   * full size (`fresh`), or the one an earlier attempt left, which must have
   * that size. The sidecar is written at once.
   */
  start(dest: string, meta: PartMeta, fresh: boolean): void;
  /**
   * Writes the next bytes of range `range` at `offset`, which must be where
   * that range stopped; they must stay inside the range.
   */
  writeAt(
    dest: string,
    range: number,
    offset: number,
    bytes: Uint8Array,
  ): void;
  /** Saves the sidecar and closes `dest.part` (every open one without `dest`); a no-op for others. */
  settle(dest?: string): void;
}

/**
 * Writes `bytes` to `path` (created or emptied), flushed when `durable`.
 *
 * @param path Where.
 * @param bytes What.
 * @param durable Flush the data before returning.
 */
export function writeSmallFile(
  path: string,
  bytes: Uint8Array,
  durable: boolean,
): void {
  const file = Deno.openSync(path, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    for (let at = 0; at < bytes.length;) {
      at += file.writeSync(bytes.subarray(at));
    }
    if (durable) file.syncDataSync();
  } finally {
    file.close();
  }
}

/**
 * Opens a segmented `.part` for positional writes: a new one of `total`
 * bytes (sparse: every range writes its own), or one left by an earlier
 * attempt, which must have that size.
 *
 * @param path The `.part`.
 * @param total The file's size.
 * @param fresh Make it new.
 * @returns The open file.
 * @throws {Error} When an old `.part` has another size.
 */
export function openSplitPart(
  path: string,
  total: number,
  fresh: boolean,
): Deno.FsFile {
  const file = Deno.openSync(path, {
    write: true,
    create: fresh,
    truncate: fresh,
  });
  try {
    if (fresh) file.truncateSync(total);
    else if (file.statSync().size !== total) {
      throw new Error(
        `${path} is not ${total} bytes; cannot continue its ranges`,
      );
    }
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}

/**
 * The source of this module's functions, for the Worker's Blob (see
 * `worker.ts`): {@linkcode splitFiles} calls the others by name.
 */
export function splitFilesSource(): string {
  return [writeSmallFile, openSplitPart, splitFiles].map(String).join("\n");
}

/**
 * The segmented files of one Worker.
 *
 * @param deps Paths, policy and directory helpers of the Worker.
 * @returns Its handlers.
 */
export function splitFiles(deps: SplitFilesDeps): SplitFiles {
  /** Longest the sidecar lags behind the bytes written, in ms. */
  const SAVE_EVERY_MS = 1000;
  const open = new Map<
    string,
    { file: Deno.FsFile; meta: PartMeta; savedAt: number }
  >();

  /** Saves the sidecar of `dest`, after the data it counts. */
  const save = (dest: string): void => {
    const entry = open.get(dest)!;
    if (deps.durable()) entry.file.syncDataSync();
    writeSmallFile(
      deps.destPaths(deps.outDir(), dest).meta,
      new TextEncoder().encode(JSON.stringify(entry.meta)),
      deps.durable(),
    );
    entry.savedAt = performance.now();
  };

  const settle = (dest?: string): void => {
    for (const name of dest === undefined ? [...open.keys()] : [dest]) {
      const entry = open.get(name);
      if (entry === undefined) continue;
      try {
        save(name);
      } finally {
        open.delete(name);
        entry.file.close();
      }
    }
  };

  return {
    start(dest, meta, fresh) {
      const split = meta.split;
      if (split === undefined || meta.total === undefined) {
        throw new Error(`no ranges to write "${dest}" by`);
      }
      settle(dest);
      const paths = deps.destPaths(deps.outDir(), dest);
      deps.ensureDir(paths.dir);
      const file = openSplitPart(paths.part, meta.total, fresh);
      open.set(dest, {
        file,
        meta: { ...meta, split: { ...split, done: [...split.done] } },
        savedAt: 0,
      });
      save(dest);
      deps.dirty(paths.dir);
    },
    writeAt(dest, range, offset, bytes) {
      const entry = open.get(dest);
      if (entry === undefined) {
        throw new Error(`"${dest}" is not open for ranges`);
      }
      const { ranges, done } = entry.meta.split!;
      const [start, end] = ranges[range] ?? [0, -1];
      if (offset !== start + done[range] || offset + bytes.length > end) {
        throw new Error(
          `write of ${bytes.length} bytes at ${offset} does not continue range ${range} of "${dest}"`,
        );
      }
      entry.file.seekSync(offset, Deno.SeekMode.Start);
      for (let at = 0; at < bytes.length;) {
        at += entry.file.writeSync(bytes.subarray(at));
      }
      done[range] += bytes.length;
      if (performance.now() - entry.savedAt >= SAVE_EVERY_MS) save(dest);
    },
    settle,
  };
}
