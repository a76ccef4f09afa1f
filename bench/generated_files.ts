/**
 * The built-in server's generated files, written to disk for nginx and
 * hashed, of any size: `generatedBody` holds at most 64 MiB in memory, so
 * larger files are written and hashed piece by piece.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { generatedChunks } from "../lib/server/files.ts";

/**
 * Writes the generated file `name` of `size` bytes at `path`.
 *
 * @param path Where to write it (created or truncated).
 * @param name The name its bytes come from.
 * @param size Its size in bytes.
 * @returns Its SHA-256 in hex.
 */
export function writeGeneratedFile(
  path: string,
  name: string,
  size: number,
): string {
  const hash = createHash("sha256");
  const file = Deno.openSync(path, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    for (const chunk of generatedChunks(name, size, 0, size)) {
      hash.update(chunk);
      for (let off = 0; off < chunk.length;) {
        off += file.writeSync(chunk.subarray(off));
      }
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}
