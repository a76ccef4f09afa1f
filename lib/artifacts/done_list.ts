/**
 * The done list of `bulkget artifacts`: which artifacts this or an earlier
 * run downloaded, verified and extracted, so a rerun skips them.
 *
 * @module
 */

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
}

/**
 * The done list (`WORK_DIR/done.json`): artifacts extracted by this or an
 * earlier run. Saves are made one at a time, each whole (written aside,
 * then renamed).
 */
export class DoneList {
  #path: string;
  #entries: Record<number, DoneEntry>;
  #saving: Promise<void> = Promise.resolve();

  private constructor(path: string, entries: Record<number, DoneEntry>) {
    this.#path = path;
    this.#entries = entries;
  }

  /**
   * Reads the list in `workDir` (empty when missing or unreadable).
   *
   * @param workDir The work directory.
   * @returns The list.
   */
  static async load(workDir: string): Promise<DoneList> {
    const path = `${workDir}/done.json`;
    try {
      return new DoneList(path, JSON.parse(await Deno.readTextFile(path)));
    } catch (error) {
      if (
        error instanceof Deno.errors.NotFound || error instanceof SyntaxError
      ) return new DoneList(path, {});
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
    const text = JSON.stringify(this.#entries);
    this.#saving = this.#saving.then(async () => {
      await Deno.writeTextFile(`${this.#path}.tmp`, text);
      await Deno.rename(`${this.#path}.tmp`, this.#path);
    });
    return this.#saving;
  }
}
