/**
 * A text file written synchronously and whole: the report and the log are
 * small appends to a local file, made from the main thread in blocks.
 *
 * @module
 */

/** A text file open for writing. */
export interface TextFile {
  /** Writes all of `text` (looping over short writes). */
  write(text: string): void;
  /** Closes the file. */
  close(): void;
}

/**
 * Creates (or truncates) `path` for writing.
 *
 * @param path The file.
 * @returns The file.
 * @throws {Deno.errors.NotFound} (and the like) When it cannot be opened.
 */
export function createTextFile(path: string): TextFile {
  const file = Deno.openSync(path, {
    write: true,
    create: true,
    truncate: true,
  });
  const encoder = new TextEncoder();
  return {
    write(text) {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) {
        written += file.writeSync(bytes.subarray(written));
      }
    },
    close: () => file.close(),
  };
}
