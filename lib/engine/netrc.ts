/**
 * `.netrc` credentials (`--netrc`, `--netrc-file`), as curl and wget read
 * them: `machine HOST login USER password PASS` entries and a `default`
 * one; `macdef` blocks are skipped.
 *
 * @module
 */

/** One `machine` (or the `default`) entry. */
export interface NetrcEntry {
  /** The host name; undefined for `default`. */
  machine?: string;
  /** The user name. */
  login?: string;
  /** The password. */
  password?: string;
}

/**
 * Reads a `.netrc` file's text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { netrcLookup, parseNetrc } from "./netrc.ts";
 * const entries = parseNetrc("machine h login me password s3\ndefault login anon password x");
 * assert.deepEqual(netrcLookup(entries, "h"), { machine: "h", login: "me", password: "s3" });
 * assert.equal(netrcLookup(entries, "other")?.login, "anon");
 * ```
 *
 * @param text The file's text.
 * @returns The entries, in order.
 */
export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  const lines = text.split(/\r?\n/);
  let current: NetrcEntry | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trimStart().startsWith("#")) continue;
    const tokens = line.trim().split(/\s+/).filter((t) => t !== "");
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t];
      const value = tokens[t + 1];
      switch (token) {
        case "machine":
          current = { machine: value };
          entries.push(current);
          t++;
          break;
        case "default":
          current = {};
          entries.push(current);
          break;
        case "login":
          if (current) current.login = value;
          t++;
          break;
        case "password":
          if (current) current.password = value;
          t++;
          break;
        case "account":
          t++;
          break;
        case "macdef":
          // The macro runs to the next empty line.
          while (i + 1 < lines.length && lines[i + 1].trim() !== "") i++;
          t = tokens.length;
          break;
      }
    }
  }
  return entries;
}

/**
 * The entry for a host: its `machine`, else the `default`, else undefined.
 *
 * @param entries Parsed entries.
 * @param host The URL's host name (no port).
 * @returns The entry.
 */
export function netrcLookup(
  entries: readonly NetrcEntry[],
  host: string,
): NetrcEntry | undefined {
  return entries.find((e) => e.machine?.toLowerCase() === host.toLowerCase()) ??
    entries.find((e) => e.machine === undefined);
}
