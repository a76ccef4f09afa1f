/**
 * Safe destination names: checking a relative path a user gave
 * ({@linkcode safeDest}), deriving one from a URL ({@linkcode destFromUrl}) and
 * from a `Content-Disposition` header ({@linkcode nameFromContentDisposition}).
 *
 * A destination is a `/`-separated path relative to the output directory. It
 * is safe when it stays inside that directory and names a file that every
 * common file system can hold, so the same input works on Linux, macOS and
 * Windows:
 *
 * - not empty, not absolute (`/x`, `C:x`), no backslash;
 * - no empty, `.` or `..` segment (so `a//b`, `./a` and `a/` are refused too);
 * - no control character (U+0000–U+001F, U+007F–U+009F) and well-formed
 *   Unicode;
 * - no Windows device name as a segment (CON, PRN, AUX, NUL, COM0–9, LPT0–9,
 *   also with superscript digits, CONIN$, CONOUT$), with or without an
 *   extension, in any case;
 * - no segment ending with a dot or a space (Windows drops them);
 * - no segment ending with `.part` or `.part.json` (any case): those names are
 *   the writer's own temporary files, and a job named like another job's
 *   temporary file would corrupt it;
 * - at most 245 UTF-8 bytes per segment (the common 255-byte limit minus room
 *   for the writer's `.part.json` suffix) and 4096 bytes in all.
 *
 * Names a user wrote (a manifest `dest`, an aria2 `out`) are only checked:
 * anything unsafe is refused, never rewritten. Names derived from a URL or a
 * server header are made safe where the fix is obvious; see
 * {@linkcode destFromUrl}.
 *
 * `:` and the other characters Windows refuses (`<>"|?*`) are allowed after
 * the first segment's start: they are valid on POSIX file systems, and on
 * Windows the write fails for that one job instead of escaping the directory.
 *
 * @module
 */

import { quote } from "../core/printable.ts";

import { dispositionFilename } from "./content_disposition.ts";
import { META_SUFFIX, PART_SUFFIX, STATE_FILE } from "./paths.ts";
import { UnsafeNameError } from "../core/errors.ts";

/** The common file-system limit on one name, in bytes. */
const FS_NAME_BYTES = 255;

/** Longest segment accepted by default, leaving room for the writer's suffixes. */
export const DEFAULT_MAX_SEGMENT_BYTES = FS_NAME_BYTES - META_SUFFIX.length;

/** Longest destination accepted by default, in UTF-8 bytes. */
export const DEFAULT_MAX_PATH_BYTES = 4096;

/** Options for {@linkcode safeDest}. */
export interface SafeNameOptions {
  /**
   * Longest segment (file or directory name) accepted, in UTF-8 bytes.
   *
   * @default {245}
   */
  maxSegmentBytes?: number;
  /**
   * Longest destination accepted, in UTF-8 bytes.
   *
   * @default {4096}
   */
  maxPathBytes?: number;
}

/** Options for {@linkcode destFromUrl}. */
export interface DestFromUrlOptions extends SafeNameOptions {
  /**
   * Mirror the URL's path under the output directory (`http://h/a/b.gif` →
   * `a/b.gif`) instead of keeping only its last segment (`b.gif`). The host
   * is not included.
   *
   * @default {false}
   */
  keepPaths?: boolean;
}

// deno-lint-ignore no-control-regex -- control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// deno-lint-ignore no-control-regex -- control characters are what it replaces
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g;
const DEVICE =
  /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$) *(\..*)?$/i;
const DRIVE = /^[a-z]:/i;
const TEMP_SUFFIX = new RegExp(
  `(${escapeRegExp(META_SUFFIX)}|${escapeRegExp(PART_SUFFIX)})$`,
  "i",
);
const EXTENSION = /\.[^.]{1,16}$/;
/** Characters that need no decoding or fixing in a URL's last segment. */
const PLAIN = /^[\w.~+-]+$/;

/**
 * Checks that `path` is a safe destination and returns it unchanged.
 *
 * @example Usage
 * ```ts
 * import { safeDest } from "./safe_name.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(safeDest("flags/br.gif"), "flags/br.gif");
 * throws(() => safeDest("../etc/passwd"));
 * throws(() => safeDest("con.txt"));
 * ```
 *
 * @param path A `/`-separated path relative to the output directory.
 * @param options Limits.
 * @returns `path`, unchanged.
 * @throws {UnsafeNameError} When `path` is not safe (see the module doc).
 * @throws {RangeError} When an option is out of range.
 */
export function safeDest(path: string, options: SafeNameOptions = {}): string {
  const { maxSegmentBytes, maxPathBytes } = limits(options);
  const reason = unsafeReason(path, maxSegmentBytes, maxPathBytes);
  if (reason !== undefined) throw new UnsafeNameError(path, reason);
  return path;
}

/**
 * Derives a destination from a URL: the last segment of its path,
 * percent-decoded, or with `keepPaths` the whole path (host excluded). The
 * query and fragment are ignored. A path ending with `/` gives `index.html`,
 * as wget does.
 *
 * The URL parser has already resolved `.` and `..` segments (also when
 * spelled `%2e`). Each segment is then made safe where the fix is obvious:
 *
 * - a decoded `/` or `\` or control character becomes `_`, so a decoded
 *   name never creates directories (`%2e%2e%2fx` → `.._x`);
 * - trailing dots and spaces are dropped (a name left empty becomes `_`);
 * - a Windows device name gets a `_` prefix (`CON` → `_CON`), as does a
 *   drive-like first segment (`C:x` → `_C:x`);
 * - a name ending in `.part` or `.part.json` gets a `_` suffix;
 * - a name that is too long is cut to the limit, keeping its extension;
 * - empty segments (`a//b`) are skipped.
 *
 * A `.` or `..` segment that survives decoding, or a path still too long, is
 * refused.
 *
 * @example Usage
 * ```ts
 * import { destFromUrl } from "./safe_name.ts";
 * import { equal } from "node:assert/strict";
 *
 * const url = new URL("https://example.com/flags/br/br%20flag.gif?x=1");
 * equal(destFromUrl(url), "br flag.gif");
 * equal(destFromUrl(url, { keepPaths: true }), "flags/br/br flag.gif");
 * equal(destFromUrl(new URL("https://example.com/docs/")), "index.html");
 * ```
 *
 * @param url The URL.
 * @param options `keepPaths` and limits.
 * @returns A safe destination.
 * @throws {UnsafeNameError} When no safe name can be made.
 * @throws {RangeError} When an option is out of range.
 */
export function destFromUrl(
  url: URL,
  options: DestFromUrlOptions = {},
): string {
  const { maxSegmentBytes, maxPathBytes } = limits(options);
  if (!options.keepPaths) {
    const plain = plainName(url.pathname, maxSegmentBytes);
    if (plain !== undefined) return plain;
  }
  const raw = url.pathname.split("/").slice(1);
  const last = raw.pop() ?? "";
  const dirs = options.keepPaths ? raw.filter((s) => s !== "") : [];
  const segments = dirs.map((s) => makeSafeSegment(decode(s), maxSegmentBytes));
  segments.push(
    last === "" ? "index.html" : makeSafeSegment(decode(last), maxSegmentBytes),
  );
  if (DRIVE.test(segments[0])) segments[0] = "_" + segments[0];
  const path = segments.join("/");
  const reason = unsafeReason(path, maxSegmentBytes, maxPathBytes);
  if (reason !== undefined) throw new UnsafeNameError(path, reason);
  return path;
}

/**
 * Reads the file name from a `Content-Disposition` header (RFC 6266):
 * `filename*=UTF-8''…` (percent-encoded UTF-8 or ISO-8859-1) wins over
 * `filename="…"` or `filename=…`. Any directory part the server sent is
 * dropped, and the name is made safe as {@linkcode destFromUrl} makes a URL
 * segment safe.
 *
 * @example Usage
 * ```ts
 * import { nameFromContentDisposition } from "./safe_name.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(
 *   nameFromContentDisposition(
 *     `attachment; filename="x.bin"; filename*=UTF-8''%E2%82%AC%20rates.txt`,
 *   ),
 *   "€ rates.txt",
 * );
 * equal(nameFromContentDisposition("inline"), undefined);
 * ```
 *
 * @param header The header's value (`null` and `undefined` are accepted, as
 * `Headers.get` returns `null`).
 * @param options Limits.
 * @returns A single safe file name, or `undefined` when the header gives none
 * that can be used.
 */
export function nameFromContentDisposition(
  header: string | null | undefined,
  options: SafeNameOptions = {},
): string | undefined {
  if (!header) return undefined;
  const { maxSegmentBytes, maxPathBytes } = limits(options);
  let name = dispositionFilename(header);
  if (name === undefined) return undefined;
  name = name.split(/[/\\]/).pop()!.trim();
  if (name === "" || name === "." || name === "..") return undefined;
  let safe = makeSafeSegment(name, maxSegmentBytes);
  if (DRIVE.test(safe)) safe = "_" + safe;
  try {
    return safeDest(safe, { maxSegmentBytes, maxPathBytes });
  } catch (error) {
    if (error instanceof UnsafeNameError) return undefined;
    throw error;
  }
}

const DEFAULT_LIMITS = {
  maxSegmentBytes: DEFAULT_MAX_SEGMENT_BYTES,
  maxPathBytes: DEFAULT_MAX_PATH_BYTES,
};

function limits(options: SafeNameOptions) {
  if (
    options.maxSegmentBytes === undefined && options.maxPathBytes === undefined
  ) return DEFAULT_LIMITS;
  const maxSegmentBytes = options.maxSegmentBytes ??
    DEFAULT_MAX_SEGMENT_BYTES;
  const maxPathBytes = options.maxPathBytes ?? DEFAULT_MAX_PATH_BYTES;
  // The made-safe segments need room for "_" plus a short extension.
  if (!Number.isSafeInteger(maxSegmentBytes) || maxSegmentBytes < 32) {
    throw new RangeError(
      `Invalid option "maxSegmentBytes": expected an integer of at least 32, got ${maxSegmentBytes}`,
    );
  }
  if (!Number.isSafeInteger(maxPathBytes) || maxPathBytes < maxSegmentBytes) {
    throw new RangeError(
      `Invalid option "maxPathBytes": expected an integer of at least "maxSegmentBytes" (${maxSegmentBytes}), got ${maxPathBytes}`,
    );
  }
  return { maxSegmentBytes, maxPathBytes };
}

function unsafeReason(
  path: string,
  maxSegmentBytes: number,
  maxPathBytes: number,
): string | undefined {
  if (typeof path !== "string") return "it is not a string";
  if (path === "") return "it is empty";
  if (!path.isWellFormed()) return "it is not well-formed Unicode";
  if (CONTROL.test(path)) return "control characters are not allowed";
  if (path.includes("\\")) return "backslashes are not allowed";
  if (path.startsWith("/")) return "absolute paths are not allowed";
  if (DRIVE.test(path)) return "Windows drive paths are not allowed";
  const pathBytes = utf8Length(path);
  if (pathBytes > maxPathBytes) {
    return `it is ${pathBytes} bytes long, the limit is ${maxPathBytes}`;
  }
  if (path.toLowerCase() === STATE_FILE) {
    return `${quote(path)} is bulkget's own state file`;
  }
  for (const segment of path.split("/")) {
    if (segment === "") return "empty segments are not allowed";
    if (segment === "." || segment === "..") {
      return `"${segment}" segments are not allowed`;
    }
    if (DEVICE.test(segment)) {
      return `${quote(segment)} is a reserved device name on Windows`;
    }
    if (/[. ]$/.test(segment)) {
      return `${quote(segment)} ends with a dot or a space`;
    }
    if (TEMP_SUFFIX.test(segment)) {
      return `${
        quote(segment)
      } ends like the writer's temporary files (${PART_SUFFIX}, ${META_SUFFIX})`;
    }
    const bytes = utf8Length(segment);
    if (bytes > maxSegmentBytes) {
      return `a segment is ${bytes} bytes long, the limit is ${maxSegmentBytes}`;
    }
  }
  return undefined;
}

/**
 * The last segment of `pathname` when it is already a safe name as it
 * stands (the common `name.ext`: letters, digits and `._~+-`, not ending in
 * a dot, no device name, no temporary suffix, not the state file, short
 * enough), else undefined. What the general path would return for it, at
 * a fraction of its cost: it ran per file.
 */
function plainName(pathname: string, maxBytes: number): string | undefined {
  const name = pathname.slice(pathname.lastIndexOf("/") + 1);
  if (
    name.length === 0 || name.length > maxBytes || name.endsWith(".") ||
    !PLAIN.test(name) || DEVICE.test(name) || TEMP_SUFFIX.test(name) ||
    name.toLowerCase() === STATE_FILE
  ) return undefined;
  return name;
}

/** Makes one decoded name safe, or throws when it is `.` or `..`. */
function makeSafeSegment(name: string, maxBytes: number): string {
  if (name === "." || name === "..") {
    throw new UnsafeNameError(name, `"${name}" segments are not allowed`);
  }
  let safe = name.isWellFormed() ? name : name.toWellFormed();
  if (CONTROL.test(safe)) safe = safe.replace(CONTROL_ALL, "_");
  if (/[/\\]/.test(safe)) safe = safe.replace(/[/\\]/g, "_");
  if (/[. ]$/.test(safe)) safe = safe.replace(/[. ]+$/, "");
  if (safe === "") return "_";
  if (DEVICE.test(safe)) safe = "_" + safe;
  if (TEMP_SUFFIX.test(safe)) safe += "_";
  if (utf8Length(safe) > maxBytes) safe = truncate(safe, maxBytes);
  return safe;
}

/** Cuts `name` to `maxBytes` UTF-8 bytes, keeping a short extension. */
function truncate(name: string, maxBytes: number): string {
  const ext = EXTENSION.exec(name)?.[0] ?? "";
  const base = name.slice(0, name.length - ext.length);
  let cut = cutBytes(base, maxBytes - utf8Length(ext)).replace(/[. ]+$/, "");
  if (cut === "") cut = "_";
  return cut + ext;
}

/** The longest prefix of `text` that fits in `maxBytes` UTF-8 bytes. */
function cutBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = utf8Length(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/** UTF-8 length of a well-formed string, without encoding it. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function decode(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // not valid percent-encoded UTF-8: keep it as written
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
