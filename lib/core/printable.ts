/**
 * Server text made safe for a terminal and a log.
 *
 * @module
 */

/** Characters a terminal may act on (C0 but HTAB, DEL, C1). */
// deno-lint-ignore no-control-regex -- control characters are what it finds
const PRINT_UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/**
 * Control characters (ESC, CR, …) shown as `\xNN`, so a status reason, a
 * header or a file name from a server cannot move the cursor, recolour the
 * terminal or forge a log line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeControls } from "./printable.ts";
 * assert.equal(escapeControls("OK\x1b[2J"), "OK\\x1b[2J");
 * ```
 *
 * @param text Text from a server.
 * @returns The text with control characters escaped.
 */
export function escapeControls(text: string): string {
  return text.replace(
    PRINT_UNSAFE,
    (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * Quotes a value for a message: JSON escapes (so control characters are
 * shown, never acted on), cut to 200 characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quote } from "./printable.ts";
 * assert.equal(quote("a\nb"), '"a\\nb"');
 * ```
 *
 * @param text Any text.
 * @returns It quoted.
 */
export function quote(text: string): string {
  const short = text.length > 200 ? text.slice(0, 200) + "…" : text;
  return JSON.stringify(short);
}
