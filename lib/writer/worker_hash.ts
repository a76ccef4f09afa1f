/**
 * The writer Worker's hashing and checks: SHA-256 of every file, another
 * digest when the job gives one (md5, sha-1, sha-512), both fed by one read
 * of the file; a size or digest that differs from the expected throws an
 * error coded `VERIFY_FAILED`.
 *
 * These functions run in the Worker from their source text (see
 * `writerWorkerUrl`): each uses only its arguments, Deno's API and the other
 * functions of the Worker's code.
 *
 * @module
 */

import type { Hash } from "node:crypto";
import { ERROR_CODES, type ErrorCode } from "../core/errors.ts";
import type { Expectation, WriterRequest, WrittenFile } from "./protocol.ts";
import type { WorkerContext } from "./worker_context.ts";

/** The digest a file's record is taken with: see `Expectation.digest`. */
export type RecordDigest = "sha256" | "crc32" | undefined;

/**
 * Which digest a file is taken with: SHA-256 when one is to be checked or
 * the caller wants it (the default), CRC-32 when the caller asked only for
 * that (`digest: "crc32"`), none when it opted out (`digest: false`).
 *
 * @param expect What the file must match.
 * @returns The digest, or undefined for none.
 */
export function recordDigest(expect: Expectation): RecordDigest {
  if (expect.sha256 !== undefined) return "sha256";
  if (expect.digest === false) return undefined;
  return expect.digest === "crc32" ? "crc32" : "sha256";
}

/**
 * Whether a request needs `node:crypto` (and `node:zlib`, loaded with it).
 *
 * @param request A request.
 * @returns True when its handler hashes.
 */
export function needsCrypto(request: WriterRequest): boolean {
  switch (request.op) {
    case "put":
    case "seal":
      return recordDigest(request.expect) !== undefined ||
        request.expect.checksum !== undefined;
    case "verify":
    case "probe":
      return true;
    default:
      return false;
  }
}

/**
 * A fresh SHA-256.
 *
 * @param ctx The Worker's state (`node:crypto` loaded in it).
 * @returns The hash.
 * @throws {Error} When `node:crypto` could not be loaded.
 */
export function newHash(ctx: WorkerContext, algorithm = "sha256"): Hash {
  if (ctx.createHash === undefined) {
    throw new Error("node:crypto could not be loaded to hash the file");
  }
  return ctx.createHash(algorithm);
}

/**
 * A fresh hash for `expect.checksum`, if there is one.
 *
 * @param ctx The Worker's state.
 * @param expect What the file must match.
 * @returns The hash, or undefined with no other checksum to check.
 */
export function otherHash(
  ctx: WorkerContext,
  expect: Expectation,
): Hash | undefined {
  const want = expect.checksum;
  if (want === undefined) return undefined;
  return newHash(ctx, want.algorithm.replace("-", ""));
}

/**
 * Reads a whole file; returns its size and SHA-256 (and feeds `also`).
 *
 * @param ctx The Worker's state.
 * @param path The file.
 * @param also Another hash fed by the same read.
 * @returns Its size and SHA-256.
 */
export function hashFile(
  ctx: WorkerContext,
  path: string,
  also?: Hash,
): WrittenFile {
  const hash = newHash(ctx);
  const bytes = feedFile(ctx, path, also ? [hash, also] : [hash]);
  return { bytes, sha256: hash.digest("hex") };
}

/**
 * Reads a whole file; returns its size and CRC-32 (`node:zlib`'s, as zip
 * and gzip use).
 *
 * @param ctx The Worker's state.
 * @param path The file.
 * @param also Another hash fed by the same read.
 * @returns Its size and CRC-32.
 */
export function crcFile(
  ctx: WorkerContext,
  path: string,
  also?: Hash,
): WrittenFile {
  const crc = newCrc(ctx.crc32);
  const bytes = feedFile(ctx, path, also ? [crc, also] : [crc]);
  return { bytes, crc32: crc.hex() };
}

/**
 * A running CRC-32, fed like a hash. The main thread takes one of the bytes
 * it streams into a `.part` (`write_body.ts`), the Worker one of the files
 * it reads: the same code on both sides of the record.
 *
 * @param crc32 `node:zlib`'s `crc32` (the Worker's `ctx.crc32`).
 * @returns The CRC: `update` feeds it, `seen` counts the bytes fed, `hex`
 *   gives its 8 hex digits.
 * @throws {Error} When `node:zlib` could not be loaded.
 */
export function newCrc(
  crc32: ((data: Uint8Array, value?: number) => number) | undefined,
): { update(data: Uint8Array): unknown; seen: number; hex(): string } {
  if (crc32 === undefined) {
    throw new Error("node:zlib could not be loaded to check the file");
  }
  let value = 0;
  const crc = {
    seen: 0,
    update(data: Uint8Array) {
      value = crc32(data, value);
      crc.seen += data.byteLength;
    },
    hex: () => (value >>> 0).toString(16).padStart(8, "0"),
  };
  return crc;
}

/**
 * Reads a whole file once into every hash.
 *
 * @param ctx The Worker's state (its read buffer).
 * @param path The file.
 * @param hashes The hashes (or CRCs) to feed.
 * @returns The file's size.
 */
export function feedFile(
  ctx: WorkerContext,
  path: string,
  hashes: { update(data: Uint8Array): unknown }[],
): number {
  const file = Deno.openSync(path, { read: true });
  try {
    // One buffer for every read: a rerun hashes thousands of small files,
    // and a fresh 1 MiB buffer each cost more than hashing them.
    const buffer = ctx.readBuffer ??= new Uint8Array(1 << 20);
    let bytes = 0;
    for (let n; (n = file.readSync(buffer)) !== null && n > 0;) {
      for (const hash of hashes) hash.update(buffer.subarray(0, n));
      bytes += n;
    }
    return bytes;
  } finally {
    file.close();
  }
}

/**
 * Checks a file's size and SHA-256 against what was expected.
 *
 * @param expect What the file must match.
 * @param bytes Its size.
 * @param sha256 Its SHA-256.
 * @throws {Error} Coded `VERIFY_FAILED` when they differ.
 */
export function checkSizeAndSha256(
  expect: Expectation,
  bytes: number,
  sha256: string | undefined,
): void {
  if (expect.size !== undefined && bytes !== expect.size) {
    throw verifyError(
      `size mismatch: expected ${expect.size} bytes, got ${bytes}`,
    );
  }
  if (expect.sha256 !== undefined && sha256 !== expect.sha256.toLowerCase()) {
    throw verifyError(
      `checksum mismatch: expected sha256 ${expect.sha256}, got ${sha256}`,
    );
  }
}

/**
 * Checks `expect.checksum` (if any) against the bytes, a file, or a hash
 * already fed with them.
 *
 * @param ctx The Worker's state.
 * @param expect What the file must match.
 * @param source The bytes, the file's path, or the fed hash.
 * @throws {Error} Coded `VERIFY_FAILED` when it differs.
 */
export function checkOtherDigest(
  ctx: WorkerContext,
  expect: Expectation,
  source: Uint8Array | string | Hash,
): void {
  const want = expect.checksum;
  if (want === undefined) return;
  const fed = typeof source !== "string" && !(source instanceof Uint8Array);
  const hash = fed ? source : otherHash(ctx, expect)!;
  if (source instanceof Uint8Array) hash.update(source);
  else if (typeof source === "string") feedFile(ctx, source, [hash]);
  const got = hash.digest("hex");
  if (got !== want.hex) {
    throw verifyError(
      `checksum mismatch: expected ${want.algorithm} ${want.hex}, got ${got}`,
    );
  }
}

/**
 * The error of bytes that are not what was expected (a plain `Error` with a
 * `code`: the Worker's code cannot import classes).
 *
 * @param message What differs.
 * @returns The error, coded `VERIFY_FAILED`.
 */
export function verifyError(message: string): Error & { code: ErrorCode } {
  return Object.assign(new Error(message), { code: ERROR_CODES.verify });
}
