/**
 * A cookie file in the Netscape format (`--cookie FILE`, as curl `-b FILE`
 * and aria2c `--load-cookies` read it): one cookie a line, seven
 * tab-separated fields — domain, include subdomains (`TRUE`/`FALSE`), path,
 * secure (`TRUE`/`FALSE`), expiry (Unix seconds, `0` for a session
 * cookie), name, value. `#` lines are comments, except `#HttpOnly_` before
 * a domain.
 *
 * @module
 */

/** One cookie of the file. */
export interface Cookie {
  /** The domain, without a leading dot. */
  domain: string;
  /** Also sent to the domain's subdomains. */
  subdomains: boolean;
  /** Sent for paths under this one. */
  path: string;
  /** Sent over `https:` only. */
  secure: boolean;
  /** Expiry in ms since the epoch; 0 never expires (a session cookie). */
  expires: number;
  /** The name. */
  name: string;
  /** The value. */
  value: string;
}

/**
 * Reads a Netscape cookie file; malformed lines are skipped.
 *
 * @param text The file's text.
 * @returns The cookies, in order.
 */
export function parseCookieFile(text: string): Cookie[] {
  const cookies: Cookie[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line.startsWith("#HttpOnly_")) line = line.slice("#HttpOnly_".length);
    else if (line.startsWith("#") || line.trim() === "") continue;
    const fields = line.split("\t");
    if (fields.length < 7) continue;
    const [domain, subdomains, path, secure, expires, name] = fields;
    if (!/^\d+$/.test(expires) || name === "") continue;
    cookies.push({
      domain: domain.replace(/^\./, "").toLowerCase(),
      subdomains: subdomains.toUpperCase() === "TRUE" || domain.startsWith("."),
      path: path || "/",
      secure: secure.toUpperCase() === "TRUE",
      expires: Number(expires) * 1000,
      name,
      value: fields.slice(6).join("\t"),
    });
  }
  return cookies;
}

/**
 * The `Cookie` header for a URL: the cookies whose domain, path and
 * scheme match and that have not expired; undefined when none does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cookieHeader, parseCookieFile } from "./cookies.ts";
 * const cookies = parseCookieFile(".example.com\tTRUE\t/\tFALSE\t0\tsid\tabc\n");
 * assert.equal(cookieHeader(cookies, new URL("http://www.example.com/x")), "sid=abc");
 * assert.equal(cookieHeader(cookies, new URL("http://example.org/x")), undefined);
 * ```
 *
 * @param cookies The cookies.
 * @param url The request's URL.
 * @param now The time, in ms. @default Date.now()
 * @returns `name=value; …`, or undefined.
 */
export function cookieHeader(
  cookies: readonly Cookie[],
  url: URL,
  now: number = Date.now(),
): string | undefined {
  const host = url.hostname.toLowerCase();
  const matching = cookies.filter((c) =>
    (host === c.domain || (c.subdomains && host.endsWith(`.${c.domain}`))) &&
    pathMatches(url.pathname, c.path) &&
    (!c.secure || url.protocol === "https:") &&
    (c.expires === 0 || c.expires > now)
  );
  return matching.length === 0
    ? undefined
    : matching.map((c) => `${c.name}=${c.value}`).join("; ");
}

function pathMatches(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(
    prefix.endsWith("/") ? prefix : `${prefix}/`,
  );
}
