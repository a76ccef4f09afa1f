/**
 * Reading the file name a server offers in `Content-Disposition` (RFC 6266,
 * with RFC 8187's `filename*`), as written: making it a safe destination is
 * `nameFromContentDisposition` in `safe_name.ts`.
 *
 * @module
 */

/**
 * The file name of a `Content-Disposition` header, as the server wrote it:
 * `filename*=` (percent-encoded UTF-8 or ISO-8859-1) wins over `filename=`
 * (quoted or not). It may hold directories, dots or anything else.
 *
 * @example
 * ```ts
 * import { dispositionFilename } from "./content_disposition.ts";
 * import { equal } from "node:assert/strict";
 * equal(dispositionFilename(`attachment; filename="a \\"b\\".txt"`), 'a "b".txt');
 * equal(dispositionFilename("attachment; filename*=UTF-8''%E2%82%AC.txt"), "€.txt");
 * equal(dispositionFilename("inline"), undefined);
 * ```
 *
 * @param header The header's value.
 * @returns The name, or `undefined` when the header offers none.
 */
export function dispositionFilename(header: string): string | undefined {
  const params = dispositionParams(header);
  const extended = params.get("filename*");
  const name = extended === undefined ? undefined : decodeExtValue(extended);
  return name ?? params.get("filename");
}

/** Parses the `name=value` parameters after the disposition type. */
function dispositionParams(header: string): Map<string, string> {
  const params = new Map<string, string>();
  let i = header.indexOf(";");
  if (i === -1) return params;
  i++;
  while (i < header.length) {
    const eq = header.indexOf("=", i);
    if (eq === -1) break;
    const name = header.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (header[i] === " " || header[i] === "\t") i++;
    let value = "";
    if (header[i] === '"') {
      for (i++; i < header.length && header[i] !== '"'; i++) {
        if (header[i] === "\\" && i + 1 < header.length) i++;
        value += header[i];
      }
      const semi = header.indexOf(";", i);
      i = semi === -1 ? header.length : semi + 1;
    } else {
      const semi = header.indexOf(";", i);
      const end = semi === -1 ? header.length : semi;
      value = header.slice(i, end).trim();
      i = end + 1;
    }
    if (name !== "" && !params.has(name)) params.set(name, value);
  }
  return params;
}

/** Decodes an RFC 8187 `charset'lang'value`; `undefined` when it cannot. */
function decodeExtValue(value: string): string | undefined {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (match === null) return undefined;
  const charset = match[1].toLowerCase();
  try {
    if (charset === "utf-8") return decodeURIComponent(match[2]);
    if (charset === "iso-8859-1") {
      return match[2].replace(
        /%([0-9a-f]{2})/gi,
        (_, hex) => String.fromCharCode(parseInt(hex, 16)),
      );
    }
  } catch {
    return undefined;
  }
  return undefined;
}
