/**
 * Redirects, followed by hand so that credentials never leave their origin.
 *
 * `fetch` would follow redirects itself and keep custom headers such as
 * `Authorization` on every hop. We follow them one by one: a hop limit, loop
 * detection, and `Authorization`, `Cookie`, `Proxy-Authorization` and the
 * token headers of CI APIs (`PRIVATE-TOKEN`, `JOB-TOKEN`, `X-API-Key`)
 * dropped once a hop leaves the origin (scheme, host, port) of the first URL.
 *
 * @module
 */

import type { HttpResponse } from "./http_response.ts";
import type { HeaderPairs } from "../core/headers.ts";
import { AttemptError, ERROR_CODES } from "../core/errors.ts";
import { escapeControls } from "../core/printable.ts";

/** Statuses that carry a `Location` to follow. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Headers that carry credentials, dropped when a redirect changes origin. */
export const CREDENTIAL_HEADERS = [
  "authorization",
  "cookie",
  "proxy-authorization",
  // Tokens of CI APIs and API gateways sent as their own headers.
  "private-token",
  "job-token",
  "x-api-key",
];

/** Default most redirect hops for one request. */
export const DEFAULT_MAX_REDIRECTS = 10;

/**
 * The next URL of a redirect response, resolved against the current one.
 *
 * @param response The response (its body is left alone).
 * @param current The URL that was requested.
 * @returns The next URL, or undefined when this is not a redirect.
 * @throws {AttemptError} (fatal) When `Location` is not a URL.
 */
export function redirectTarget(
  response: HttpResponse,
  current: URL,
): URL | undefined {
  if (!REDIRECT_STATUSES.has(response.status)) return undefined;
  const location = response.headers.get("location");
  if (location === null) return undefined;
  try {
    return new URL(location, current);
  } catch {
    throw new AttemptError(
      `HTTP ${response.status} redirect to an invalid Location "${
        escapeControls(location.slice(0, 200))
      }"`,
      "fatal",
      { status: response.status, code: ERROR_CODES.redirect },
    );
  }
}

/** Sends one request (no redirects followed) for {@linkcode followRedirects}. */
export type SendRequest = (
  url: URL,
  headers: HeaderPairs,
) => Promise<HttpResponse>;

/**
 * Sends `url` and follows redirects by hand: at most `maxRedirects` hops,
 * a loop is an error, only `http:` and `https:` targets, and credentials
 * (including a Basic `Authorization` made from the URL's user-info) go to
 * the first URL's origin only.
 *
 * @param url The job's URL (user-info becomes Basic authorization).
 * @param headers The request headers.
 * @param send Sends one request.
 * @param maxRedirects Most hops. @default DEFAULT_MAX_REDIRECTS
 * @returns The first response that is not a redirect.
 * @throws {AttemptError} (fatal) On a loop, too many hops, or an unsupported target.
 */
export async function followRedirects(
  url: string,
  headers: HeaderPairs,
  send: SendRequest,
  maxRedirects = DEFAULT_MAX_REDIRECTS,
): Promise<HttpResponse> {
  const first = new URL(url);
  headers = withUserInfo(first, headers);
  // The chain's URLs, made at the first redirect (most answers have none).
  let seen: Set<string> | undefined;
  let current = first;
  for (let hop = 0;; hop++) {
    const response = await send(
      current,
      headersForHop(headers, first, current),
    );
    const next = redirectTarget(response, current);
    if (next === undefined) return response;
    await response.body?.cancel();
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new AttemptError(
        `redirect to unsupported scheme ${next.protocol}`,
        "fatal",
        { code: ERROR_CODES.redirect },
      );
    }
    seen ??= new Set([first.href]);
    if (seen.has(next.href)) {
      throw new AttemptError(`redirect loop after ${hop + 1} hops`, "fatal", {
        code: ERROR_CODES.redirect,
      });
    }
    if (hop + 1 > maxRedirects) {
      throw new AttemptError(
        `too many redirects (more than ${maxRedirects})`,
        "fatal",
        { code: ERROR_CODES.redirect },
      );
    }
    seen.add(next.href);
    // Credentials in a redirect's own user-info are not followed.
    next.username = "";
    next.password = "";
    current = next;
  }
}

/**
 * Moves a URL's user-info into a Basic `Authorization` header (unless one
 * is given), as curl and `fetch` do, and strips it from the URL in place.
 */
function withUserInfo(url: URL, headers: HeaderPairs): HeaderPairs {
  if (url.username === "" && url.password === "") return headers;
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  if (headers.some(([name]) => name === "authorization")) return headers;
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  const token = btoa(String.fromCharCode(...bytes));
  return [...headers, ["authorization", `Basic ${token}`]];
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
  if (next === first || next.origin === first.origin) return headers;
  return headers.filter(([name]) => !CREDENTIAL_HEADERS.includes(name));
}
