/**
 * `makeZip`: builds the zip archives the CI API doubles serve, byte by byte,
 * so tests can ask for what real archives rarely hold: entries that escape
 * the directory, symlinks, a wrong CRC or size, zip64 records. Entries are
 * stored (method 0) or, on request, deflated (method 8, by `node:zlib`); the
 * server shares no code with the client's zip reader.
 *
 * @module
 */

/** One entry of an archive built by {@linkcode makeZip}. */
export interface ZipEntrySpec {
  /** The name written in the archive, as is (`../x`, `/etc/x` allowed). */
  name: string;
  /** The entry's bytes (for a symlink, its target). */
  data: Uint8Array | string;
  /** Mark the entry as a Unix symlink (mode 0o120777). @default false */
  symlink?: boolean;
  /** Write this CRC-32 instead of the right one. @default the right one */
  crc?: number;
  /** Compress the entry with deflate (method 8). @default false (stored) */
  deflate?: boolean;
  /** Write this compression method instead (e.g. 12, bzip2, which the data is not). @default 0 or 8 */
  method?: number;
  /** Write this uncompressed size instead of the right one. @default the right one */
  size?: number;
  /** Set the "encrypted" flag (the bytes stay as they are). @default false */
  encrypted?: boolean;
}

/** Options of {@linkcode makeZip}. */
export interface MakeZipOptions {
  /** Write zip64 extra fields and end records for every entry. @default false */
  zip64?: boolean;
}

import { deflateRawSync } from "node:zlib";

const encoder = new TextEncoder();

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32 (IEEE) of `bytes`.
 *
 * @param bytes The data.
 * @returns The checksum as an unsigned 32-bit integer.
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Builds a stored zip archive of `entries`, in order.
 *
 * @param entries The entries.
 * @param options See {@linkcode MakeZipOptions}.
 * @returns The archive's bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeZip } from "./zip_maker.ts";
 * const zip = makeZip([{ name: "a.txt", data: "hello" }]);
 * assert.equal(new TextDecoder().decode(zip.subarray(0, 4)), "PK\x03\x04");
 * const stored = new TextDecoder().decode(zip); // stored: the bytes are there as they are
 * assert.ok(stored.includes("a.txthello"));
 * ```
 */
export function makeZip(
  entries: ZipEntrySpec[],
  options: MakeZipOptions = {},
): Uint8Array<ArrayBuffer> {
  const zip64 = options.zip64 ?? false;
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    const data = typeof entry.data === "string"
      ? encoder.encode(entry.data)
      : entry.data;
    const crc = entry.crc ?? crc32(data);
    const size = entry.size ?? data.length;
    const method = entry.method ?? (entry.deflate ? 8 : 0);
    const stored = entry.deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const extraLocal = zip64 ? zip64Extra([size, stored.length]) : null;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, zip64 ? 45 : 10, true);
    const flags = 0x0800 | (entry.encrypted ? 1 : 0); // UTF-8 names
    local.setUint16(6, flags, true);
    local.setUint16(8, method, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, zip64 ? 0xffffffff : stored.length, true);
    local.setUint32(22, zip64 ? 0xffffffff : size, true);
    local.setUint16(26, name.length, true);
    local.setUint16(28, extraLocal?.length ?? 0, true);
    parts.push(new Uint8Array(local.buffer), name);
    if (extraLocal) parts.push(extraLocal);
    parts.push(stored);

    const extraCentral = zip64
      ? zip64Extra([size, stored.length, offset])
      : null;
    const head = new DataView(new ArrayBuffer(46));
    head.setUint32(0, 0x02014b50, true);
    head.setUint16(4, (3 << 8) | 45, true); // made by Unix
    head.setUint16(6, zip64 ? 45 : 10, true);
    head.setUint16(8, flags, true);
    head.setUint16(10, method, true);
    head.setUint32(16, crc, true);
    head.setUint32(20, zip64 ? 0xffffffff : stored.length, true);
    head.setUint32(24, zip64 ? 0xffffffff : size, true);
    head.setUint16(28, name.length, true);
    head.setUint16(30, extraCentral?.length ?? 0, true);
    const mode = entry.symlink ? 0o120777 : 0o100644;
    head.setUint32(38, (mode << 16) >>> 0, true);
    head.setUint32(42, zip64 ? 0xffffffff : offset, true);
    central.push(new Uint8Array(head.buffer), name);
    if (extraCentral) central.push(extraCentral);
    offset += 30 + name.length + (extraLocal?.length ?? 0) + stored.length;
  }
  const centralSize = central.reduce((n, p) => n + p.length, 0);
  const tail = endRecords(entries.length, centralSize, offset, zip64);
  const all = [...parts, ...central, ...tail];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function zip64Extra(values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(4 + 8 * values.length));
  view.setUint16(0, 0x0001, true);
  view.setUint16(2, 8 * values.length, true);
  values.forEach((v, i) => view.setBigUint64(4 + 8 * i, BigInt(v), true));
  return new Uint8Array(view.buffer);
}

/** The end of central directory record (with zip64's record and locator). */
function endRecords(
  count: number,
  centralSize: number,
  offset: number,
  zip64: boolean,
): Uint8Array[] {
  const tail: Uint8Array[] = [];
  if (zip64) {
    const end64 = new DataView(new ArrayBuffer(56));
    end64.setUint32(0, 0x06064b50, true);
    end64.setBigUint64(4, 44n, true);
    end64.setUint16(12, 45, true);
    end64.setUint16(14, 45, true);
    end64.setBigUint64(24, BigInt(count), true);
    end64.setBigUint64(32, BigInt(count), true);
    end64.setBigUint64(40, BigInt(centralSize), true);
    end64.setBigUint64(48, BigInt(offset), true);
    const locator = new DataView(new ArrayBuffer(20));
    locator.setUint32(0, 0x07064b50, true);
    locator.setBigUint64(8, BigInt(offset + centralSize), true);
    locator.setUint32(16, 1, true);
    tail.push(new Uint8Array(end64.buffer), new Uint8Array(locator.buffer));
  }
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, zip64 ? 0xffff : count, true);
  end.setUint16(10, zip64 ? 0xffff : count, true);
  end.setUint32(12, zip64 ? 0xffffffff : centralSize, true);
  end.setUint32(16, zip64 ? 0xffffffff : offset, true);
  tail.push(new Uint8Array(end.buffer));
  return tail;
}
