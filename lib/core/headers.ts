/**
 * What a header may be, in one place: every path that takes a header (the
 * command line's `-H`, list and manifest headers, the engine's requests, the
 * own HTTP client's responses) checks it with these.
 *
 * @module
 */

/** What a header name may be: an RFC 9110 token. */
export const HEADER_NAME: RegExp = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Whether `value` can go on the wire as a header value: one byte per
 * character (Latin-1), and no NUL, CR or LF.
 *
 * @param value The value.
 * @returns True when it can be sent.
 */
export function isHeaderValue(value: string): boolean {
  // deno-lint-ignore no-control-regex -- control characters are what it finds
  return !/[\u0000\r\n]|[^\u0000-\u00ff]/.test(value);
}

/** Request headers as `[lower-case name, value]` pairs, one per name. */
export type HeaderPairs = [string, string][];
