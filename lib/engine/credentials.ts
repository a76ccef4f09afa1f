/**
 * Credentials chosen per URL (`.netrc`, a cookie file): the headers a
 * request to that URL carries. They go to that URL's origin only: a
 * redirect to another origin drops them (`redirect.ts`), and no output
 * prints them.
 *
 * @module
 */

import { type Cookie, cookieHeader } from "./cookies.ts";
import { type NetrcEntry, netrcLookup } from "./netrc.ts";

/** Options for {@linkcode credentialsFor}. */
export interface CredentialSources {
  /** `.netrc` entries: Basic authorization for their hosts. @default [] */
  netrc?: readonly NetrcEntry[];
  /** Cookies to send where they match. @default [] */
  cookies?: readonly Cookie[];
}

/**
 * The function that gives a URL its credential headers. A URL with its own
 * user-info takes no `.netrc` entry (the URL's wins, as in curl).
 *
 * @param sources The `.netrc` entries and the cookies.
 * @returns Headers by URL (`Authorization`, `Cookie`), possibly none.
 */
export function credentialsFor(
  sources: CredentialSources,
): (url: URL) => Record<string, string> {
  return (url) => {
    const headers: Record<string, string> = {};
    const entry = url.username === "" && sources.netrc
      ? netrcLookup(sources.netrc, url.hostname)
      : undefined;
    if (entry?.login !== undefined) {
      headers.Authorization = basicAuthorization(
        entry.login,
        entry.password ?? "",
      );
    }
    const cookie = sources.cookies && cookieHeader(sources.cookies, url);
    if (cookie) headers.Cookie = cookie;
    return headers;
  };
}

/**
 * `Basic base64(user:password)` (UTF-8).
 *
 * @param user The user name.
 * @param password The password.
 * @returns The header value.
 */
export function basicAuthorization(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}
