/**
 * The rules an archive's entry name must pass before anything of the
 * archive is written ({@linkcode checkName}: the same rules as every other
 * destination, and none of the caller's reserved names), and the error a
 * refused archive raises. Free of the zip reader, so the main thread can
 * use it without loading that.
 *
 * @module
 */

import { safeDest } from "./safe_name.ts";
import { ExtractError, UnsafeNameError } from "../core/errors.ts";

/**
 * Refuses a name the destination rules or `reserved` refuse.
 *
 * @param name A `/`-separated relative path.
 * @param reserved First path components and what each is.
 * @throws {ExtractError} Saying why.
 */
export function checkName(
  name: string,
  reserved?: Record<string, string>,
): void {
  try {
    safeDest(name);
  } catch (error) {
    if (!(error instanceof UnsafeNameError)) throw error;
    throw new ExtractError(`entry refused: ${error.message}`);
  }
  const what = reservedName(name, reserved);
  if (what !== undefined) {
    throw new ExtractError(
      `entry refused: ${JSON.stringify(name)} is in ${what}`,
    );
  }
}

/**
 * What `path`'s first component is, when it is one of `reserved` (compared
 * in lower case, as a case-insensitive file system would).
 *
 * @param path A `/`-separated relative path.
 * @param reserved First components and what each is.
 * @returns What it is, or undefined when it is not reserved.
 */
export function reservedName(
  path: string,
  reserved: Record<string, string> = {},
): string | undefined {
  const first = path.split("/")[0].toLowerCase();
  for (const [name, what] of Object.entries(reserved)) {
    if (name.toLowerCase() === first) return `${what} (${name})`;
  }
  return undefined;
}
