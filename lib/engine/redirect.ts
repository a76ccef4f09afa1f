/**
 * Redirects, followed by hand so that credentials never leave their origin.
 *
 * `fetch` would follow redirects itself and keep custom headers such as
 * `Authorization` on every hop. We follow them one by one: a hop limit, loop
 * detection, and `Authorization`, `Cookie` and `Proxy-Authorization` dropped
 * once a hop leaves the origin (scheme, host, port) of the first URL.
 *
 * @module
 */

import type { HttpResponse } from "./http_response.ts";
import type { HeaderPairs } from "./headers.ts";

/** Statuses that carry a `Location` to follow. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Headers that carry credentials, dropped when a redirect changes origin. */
export const CREDENTIAL_HEADERS = [
  "authorization",
  "cookie",
  "proxy-authorization",
];

/** Default most redirect hops for one request. */
export const DEFAULT_MAX_REDIRECTS = 10;

/**
 * The next URL of a redirect response, resolved against the current one.
 *
 * @param response The response (its body is left alone).
 * @param current The URL that was requested.
 * @returns The next URL, or undefined when this is not a redirect.
 */
export function redirectTarget(
  response: HttpResponse,
  current: URL,
): URL | undefined {
  if (!REDIRECT_STATUSES.has(response.status)) return undefined;
  const location = response.headers.get("location");
  if (location === null) return undefined;
  return new URL(location, current);
}

/**
 * Headers for a hop to `next`: the original headers, less credentials when
 * `next` is not of the first URL's origin.
 *
 * @param headers The job's request headers.
 * @param first The first URL of the chain (the origin credentials belong to).
 * @param next The URL about to be requested.
 * @returns Headers safe to send to `next`.
 */
export function headersForHop(
  headers: HeaderPairs,
  first: URL,
  next: URL,
): HeaderPairs {
  if (next.origin === first.origin) return headers;
  return headers.filter(([name]) => !CREDENTIAL_HEADERS.includes(name));
}
