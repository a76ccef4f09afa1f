/**
 * Flushing directories (`fsync`), so that the names a piece of work gave
 * (renames into a directory, directories made) survive a power cut:
 * {@linkcode flushDir} for one, {@linkcode ChangedDirs} for every directory
 * an extraction changed, flushed once each at its end.
 *
 * @module
 */

/**
 * Flushes the directory `dir` (`fsync`): the names renamed into it or made
 * in it are on disk when this returns.
 *
 * @param dir The directory.
 */
export async function flushDir(dir: string): Promise<void> {
  using file = await Deno.open(dir, { read: true });
  await file.sync();
}

/**
 * The directories some work changed under a top directory, to flush once
 * each when it ends. A directory noted changes its own entries; its making
 * changes its parent's, so every directory between it and the top's parent
 * is flushed too (a directory made with its parents at once does not say
 * which it made).
 *
 * @example
 * ```ts
 * import { ChangedDirs } from "./changed_dirs.ts";
 *
 * const top = await Deno.makeTempDir();
 * await Deno.mkdir(`${top}/a/b`, { recursive: true });
 * await Deno.writeTextFile(`${top}/a/b/x.part`, "x");
 * await Deno.rename(`${top}/a/b/x.part`, `${top}/a/b/x`);
 * const changed = new ChangedDirs(top);
 * changed.add(`${top}/a/b`);
 * await changed.flush(); // a/b, a, the top and its parent
 * await Deno.remove(top, { recursive: true });
 * ```
 */
export class ChangedDirs {
  #top: string;
  #dirs = new Set<string>();

  /**
   * @param top The directory the work is under (made by it, or not).
   */
  constructor(top: string) {
    this.#top = top;
  }

  /**
   * Notes that `dir` (the top, or a directory under it) changed.
   *
   * @param dir The directory.
   */
  add(dir: string): void {
    this.#dirs.add(dir);
  }

  /**
   * Flushes every directory noted, the ones between each and the top, the
   * top and its parent, deepest first; then forgets them.
   */
  async flush(): Promise<void> {
    const all = new Set<string>();
    for (let dir of this.#dirs) {
      while (dir.length > this.#top.length && dir.startsWith(this.#top)) {
        all.add(dir);
        dir = dir.slice(0, dir.lastIndexOf("/"));
      }
    }
    all.add(this.#top);
    all.add(parentOf(this.#top));
    this.#dirs.clear();
    const deepestFirst = [...all].sort((a, b) => b.length - a.length);
    for (const dir of deepestFirst) await flushDir(dir);
  }
}

/**
 * The directory `path` is in ("." for a bare name, "/" for a top one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parentOf } from "./changed_dirs.ts";
 *
 * assert.equal(parentOf("o/x/y"), "o/x");
 * assert.equal(parentOf("o"), ".");
 * assert.equal(parentOf("/o"), "/");
 * ```
 *
 * @param path A path with forward slashes.
 * @returns Its parent directory.
 */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash > 0) return path.slice(0, slash);
  return slash === 0 ? "/" : ".";
}
