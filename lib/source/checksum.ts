/**
 * `ALGORITHM=HEX` checksums as aria2 writes them (`checksum=sha-1=…`) and
 * manifests give them (`"checksum": "sha-512=…"`): SHA-256 (the job's
 * `sha256`), MD5, SHA-1 and SHA-512.
 *
 * @module
 */

import type { Checksum, ChecksumAlgorithm } from "../core/job.ts";

/** Hex digits of each algorithm's digest, by every accepted spelling. */
const ALGORITHMS: Record<string, [ChecksumAlgorithm | "sha-256", number]> = {
  "md5": ["md5", 32],
  "sha-1": ["sha-1", 40],
  "sha1": ["sha-1", 40],
  "sha-256": ["sha-256", 64],
  "sha256": ["sha-256", 64],
  "sha-512": ["sha-512", 128],
  "sha512": ["sha-512", 128],
};

/** The algorithms accepted, for error messages. */
export const CHECKSUM_ALGORITHMS = "md5, sha-1, sha-256, sha-512";

/**
 * Reads `ALGORITHM=HEX`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseChecksum } from "./checksum.ts";
 * assert.deepEqual(parseChecksum("MD5=" + "AB".repeat(16)), {
 *   checksum: { algorithm: "md5", hex: "ab".repeat(16) },
 * });
 * assert.deepEqual(parseChecksum("sha-256=" + "0".repeat(64)), { sha256: "0".repeat(64) });
 * ```
 *
 * @param text The value.
 * @returns `{ sha256 }` for SHA-256, `{ checksum }` for the others.
 * @throws {RangeError} Naming what is wrong (unknown algorithm, wrong hex).
 */
export function parseChecksum(
  text: string,
): { sha256: string } | { checksum: Checksum } {
  const sep = text.indexOf("=");
  if (sep <= 0) throw new RangeError(`expected "ALGORITHM=HEX"`);
  const name = text.slice(0, sep).trim().toLowerCase();
  const known = ALGORITHMS[name];
  if (!known) {
    throw new RangeError(
      `unsupported checksum algorithm "${
        text.slice(0, Math.min(sep, 20))
      }" (supported: ${CHECKSUM_ALGORITHMS})`,
    );
  }
  const [algorithm, digits] = known;
  const hex = text.slice(sep + 1).trim();
  if (!new RegExp(`^[0-9a-f]{${digits}}$`, "i").test(hex)) {
    throw new RangeError(
      `expected ${digits} hex digits after "${text.slice(0, sep)}="`,
    );
  }
  return algorithm === "sha-256"
    ? { sha256: hex.toLowerCase() }
    : { checksum: { algorithm, hex: hex.toLowerCase() } };
}
