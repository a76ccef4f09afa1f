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
 * Like the Worker's own code, {@linkcode splitFiles} runs from its source
 * text inside the Worker (see `worker.ts`), so it uses only what its
 * `deps` give it.
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

  const save = (dest: string): void => {
    const entry = open.get(dest)!;
    const paths = deps.destPaths(deps.outDir(), dest);
    if (deps.durable()) entry.file.syncDataSync();
    const text = new TextEncoder().encode(JSON.stringify(entry.meta));
    const sidecar = Deno.openSync(paths.meta, {
      write: true,
      create: true,
      truncate: true,
    });
    try {
      for (let at = 0; at < text.length;) {
        at += sidecar.writeSync(text.subarray(at));
      }
      if (deps.durable()) sidecar.syncDataSync();
    } finally {
      sidecar.close();
    }
    entry.savedAt = performance.now();
  };

  return {
    start(dest, meta, fresh) {
      const split = meta.split;
      if (split === undefined || meta.total === undefined) {
        throw new Error(`no ranges to write "${dest}" by`);
      }
      if (open.has(dest)) this.settle(dest);
      const paths = deps.destPaths(deps.outDir(), dest);
      deps.ensureDir(paths.dir);
      const file = Deno.openSync(paths.part, {
        write: true,
        create: fresh,
        truncate: fresh,
      });
      try {
        if (fresh) {
          file.truncateSync(meta.total); // sparse: every range writes its own
          deps.dirty(paths.dir);
        } else if (file.statSync().size !== meta.total) {
          throw new Error(
            `The .part of "${dest}" is not ${meta.total} bytes; cannot continue its ranges`,
          );
        }
      } catch (error) {
        file.close();
        throw error;
      }
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
    settle(dest) {
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
    },
  };
}
