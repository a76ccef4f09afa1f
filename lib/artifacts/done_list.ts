/**
 * The done list of `bulkget artifacts`: which artifacts this or an earlier
 * run downloaded, verified and extracted, so a rerun skips them.
 *
 * @module
 */

import type { Durability } from "../writer/client.ts";
import { flushDir } from "../writer/changed_dirs.ts";

/** One artifact done. */
export interface DoneEntry {
  /** The SHA-256 of the bytes downloaded. */
  sha256: string;
  /** The digest the API gave (`sha256:HEX`), or null. */
  digest: string | null;
  /** Files extracted. */
  files: number;
  /** Bytes downloaded. */
  bytes: number;
  /** Where it went, relative to the output directory. */
  path: string;
  /** Kept without extraction and no zip: `path` is its server's file name. */
  raw?: boolean;
}

/**
 * The done list (`WORK_DIR/done.json`): artifacts extracted by this or an
 * earlier run. Saves are made one at a time, each whole (written aside,
 * then renamed); with durability `full` the new list's bytes are flushed
 * before its rename and the directory after, so an artifact recorded stays
 * recorded after a power cut, and one recorded is one whose files were
 * flushed before.
 */
export class DoneList {
  #workDir: string;
  #durable: boolean;
  #entries: Record<number, DoneEntry>;
  #saving: Promise<void> = Promise.resolve();

  private constructor(
    workDir: string,
    durable: boolean,
    entries: Record<number, DoneEntry>,
  ) {
    this.#workDir = workDir;
    this.#durable = durable;
    this.#entries = entries;
  }

  /**
   * Reads the list in `workDir` (empty when missing or unreadable).
   *
   * @param workDir The work directory.
   * @param durability `"full"`: each save is flushed; `"none"`: not.
   * @returns The list.
   */
  static async load(
    workDir: string,
    durability: Durability = "full",
  ): Promise<DoneList> {
    const durable = durability === "full";
    try {
      const text = await Deno.readTextFile(`${workDir}/done.json`);
      return new DoneList(workDir, durable, JSON.parse(text));
    } catch (error) {
      if (
        error instanceof Deno.errors.NotFound || error instanceof SyntaxError
      ) return new DoneList(workDir, durable, {});
      throw error;
    }
  }

  /**
   * What this or an earlier run recorded for `id`.
   *
   * @param id The artifact's id.
   * @returns Its entry, if any.
   */
  get(id: number): DoneEntry | undefined {
    return this.#entries[id];
  }

  /**
   * Records `id` and saves the list.
   *
   * @param id The artifact's id.
   * @param entry What was done.
   * @returns When the list is saved.
   */
  record(id: number, entry: DoneEntry): Promise<void> {
    this.#entries[id] = entry;
    const bytes = new TextEncoder().encode(JSON.stringify(this.#entries));
    const path = `${this.#workDir}/done.json`;
    this.#saving = this.#saving.then(async () => {
      {
        using file = await Deno.open(`${path}.tmp`, {
          write: true,
          create: true,
          truncate: true,
        });
        for (let at = 0; at < bytes.length;) {
          at += await file.write(bytes.subarray(at));
        }
        if (this.#durable) await file.syncData();
      }
      await Deno.rename(`${path}.tmp`, path);
      if (this.#durable) await flushDir(this.#workDir);
    });
    return this.#saving;
  }
}
