/**
 * Guarded routes, for tests of credentials: a path prefix that asks for
 * Basic authorization or a cookie before the rest of the path is served.
 *
 * | prefix | answer without the credential |
 * |---|---|
 * | `/auth/basic/{user}/{password}/…` | 401 with `WWW-Authenticate: Basic realm="bulkget"` unless `Authorization` is Basic `user:password` |
 * | `/auth/cookie/{name}/{value}/…` | 403 unless the `Cookie` header holds `name=value` |
 *
 * Prefixes nest; with the credential, the rest (`/…`) is served as if asked
 * for directly.
 *
 * @module
 */

/** What a guard decided: serve `pathname`, or answer with `status`. */
export type GuardVerdict =
  | { pathname: string }
  | { status: 401 | 403; headers: Record<string, string> };

/**
 * Strips the guard prefixes the request satisfies.
 *
 * @param pathname The request's path.
 * @param headers The request's headers.
 * @returns The path to serve, or the refusal.
 */
export function checkGuards(pathname: string, headers: Headers): GuardVerdict {
  for (;;) {
    const m = /^\/auth\/(basic|cookie)\/([^/]+)\/([^/]+)(\/.*)$/.exec(pathname);
    if (!m) return { pathname };
    const [, kind, a, b, rest] = m;
    const first = decodeURIComponent(a), second = decodeURIComponent(b);
    if (kind === "basic") {
      const expected = `Basic ${btoa(`${first}:${second}`)}`;
      if (headers.get("authorization") !== expected) {
        return {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="bulkget"' },
        };
      }
    } else {
      const cookies = (headers.get("cookie") ?? "").split(";").map((c) =>
        c.trim()
      );
      if (!cookies.includes(`${first}=${second}`)) {
        return { status: 403, headers: {} };
      }
    }
    pathname = rest;
  }
}
