/**
 * `readZipIndex`: what a zip file holds, checked before anything of it is
 * written. zip.js reads the central directory (zip64 included); every entry
 * name then goes through the same rules as every other destination
 * ({@linkcode safeDest}), symlink and encrypted entries and compression
 * methods other than stored (0) and deflate (8) are refused, and each
 * entry's data must lie inside the file. One refused entry refuses the
 * whole archive.
 *
 * {@linkcode entryDataStart} finds where an entry's bytes begin (after its
 * local header), so they can be read straight from the file.
 *
 * @module
 */

import { configure, type Entry, Reader, ZipReader } from "@zip.js/zip.js";
import { safeDest } from "./safe_name.ts";
import { checkName } from "./entry_names.ts";
import { ExtractError, UnsafeNameError } from "../core/errors.ts";

configure({ useWebWorkers: false });

/** One entry of an archive, as {@linkcode readZipIndex} checked it. */
export interface ZipEntryInfo {
  /** Its path, `/`-separated, safe; a directory's without the trailing `/`. */
  name: string;
  /** A directory entry (nothing to write but the directory). */
  directory: boolean;
  /** 0 (stored) or 8 (deflate). */
  method: number;
  /** The CRC-32 of its bytes, as the archive gives it. */
  crc32: number;
  /** Its bytes in the archive. */
  compressedSize: number;
  /** Its bytes once extracted. */
  uncompressedSize: number;
  /** Where its local header starts. */
  offset: number;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const STORED = 0;
const DEFLATE = 8;
const LOCAL_HEADER = 0x04034b50;

/**
 * Reads and checks the entries of the open zip `file`.
 *
 * @param file The archive, open for reading.
 * @param size Its size in bytes.
 * @param reserved First path components no entry may have, in any letter
 *   case, each with what it is (see `ExtractOptions.reserved`).
 * @returns Its entries, in the archive's order.
 * @throws {ExtractError} For a file that is not a valid zip, or one refused
 *   entry (the message names it and says why).
 */
export async function readZipIndex(
  file: Deno.FsFile,
  size: number,
  reserved?: Record<string, string>,
): Promise<ZipEntryInfo[]> {
  const reader = new ZipReader(new FileReader(file, size), {
    checkSignature: true,
  });
  let entries: Entry[];
  try {
    entries = await reader.getEntries();
  } catch (error) {
    throw refusal(error);
  }
  await reader.close();
  return entries.map((entry) => {
    const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
    if (mode === S_IFLNK) {
      throw new ExtractError(
        `symlink entry ${JSON.stringify(entry.filename)} refused`,
      );
    }
    const name = entry.directory
      ? entry.filename.replace(/\/+$/, "")
      : entry.filename;
    checkName(name, reserved);
    const info: ZipEntryInfo = {
      name,
      directory: entry.directory,
      method: entry.compressionMethod,
      crc32: entry.crc32 ?? entry.signature ?? 0,
      compressedSize: entry.compressedSize,
      uncompressedSize: entry.uncompressedSize,
      offset: entry.offset,
    };
    if (!entry.directory) checkData(entry, info, size);
    return info;
  });
}

/**
 * Where `entry`'s bytes begin: after its local header, whose name and extra
 * field lengths may differ from the central directory's.
 *
 * @param file The archive.
 * @param entry The entry.
 * @param buffer At least 30 bytes of scratch space.
 * @returns The offset of its first byte.
 * @throws {ExtractError} When no local header is there.
 */
export async function entryDataStart(
  file: Deno.FsFile,
  entry: ZipEntryInfo,
  buffer: Uint8Array,
): Promise<number> {
  const head = buffer.subarray(0, 30);
  await readFully(file, entry.offset, head);
  const view = new DataView(head.buffer, head.byteOffset, 30);
  if (view.getUint32(0, true) !== LOCAL_HEADER) {
    throw new ExtractError(
      `entry ${JSON.stringify(entry.name)}: no local header at its offset`,
    );
  }
  return entry.offset + 30 + view.getUint16(26, true) +
    view.getUint16(28, true);
}

/**
 * Fills `buffer` from `offset` of `file`.
 *
 * @param file The file.
 * @param offset Where to read from.
 * @param buffer What to fill.
 * @throws {ExtractError} When the file ends first.
 */
export async function readFully(
  file: Deno.FsFile,
  offset: number,
  buffer: Uint8Array,
): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < buffer.length) {
    const n = await file.read(buffer.subarray(got));
    if (n === null) throw new ExtractError("the zip file is truncated");
    got += n;
  }
}

function checkData(entry: Entry, info: ZipEntryInfo, size: number) {
  const what = `entry ${JSON.stringify(info.name)}`;
  if (entry.encrypted) throw new ExtractError(`${what}: encrypted`);
  if (info.method !== STORED && info.method !== DEFLATE) {
    throw new ExtractError(
      `${what}: compression method ${info.method} is not supported (stored and deflate are)`,
    );
  }
  if (info.method === STORED && info.compressedSize !== info.uncompressedSize) {
    throw new ExtractError(`${what}: stored, but its two sizes differ`);
  }
  if (info.offset + 30 + info.compressedSize > size) {
    throw new ExtractError(`${what}: its data runs past the end of the file`);
  }
}

/** zip.js's failure, said in our rules' words when it refused a name. */
function refusal(error: unknown): ExtractError {
  const refused = (error as { filename?: unknown }).filename;
  if (typeof refused === "string") {
    try {
      safeDest(refused);
    } catch (unsafe) {
      if (unsafe instanceof UnsafeNameError) {
        return new ExtractError(`entry refused: ${unsafe.message}`);
      }
    }
    return new ExtractError(
      `entry refused: unsafe name ${JSON.stringify(refused)}`,
    );
  }
  return new ExtractError(
    `not a valid zip file (${error instanceof Error ? error.message : error})`,
    { cause: error },
  );
}

/** zip.js's view of the open file: random access by offset. */
class FileReader extends Reader<Deno.FsFile> {
  #file: Deno.FsFile;
  constructor(file: Deno.FsFile, size: number) {
    super(file);
    this.#file = file;
    // deno-lint-ignore no-explicit-any -- zip.js reads `size` from the reader
    (this as any).size = size;
  }
  override async init() {}
  override async readUint8Array(offset: number, length: number) {
    const buffer = new Uint8Array(length);
    await readFully(this.#file, offset, buffer);
    return buffer;
  }
}
