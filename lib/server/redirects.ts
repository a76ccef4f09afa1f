/**
 * Redirect routes of the test server, for testing how clients follow
 * redirects. Every hop answers `302` unless the query has
 * `?status=301|302|303|307|308`; the query is carried to the next hop.
 * Same-origin `Location`s are paths (`/flags/br/br.gif`), so clients must
 * resolve them; cross-origin ones are absolute URLs.
 *
 * | route | answer |
 * |---|---|
 * | `/redirect/same/{n}/{path}` | `n` same-origin hops (1 to 1000), then `/{path}` |
 * | `/redirect/cross/{path}` | one hop to `/{path}` on the other listener (`altUrl` from the main one, `url` from the alt one) |
 * | `/redirect/loop` | to `/redirect/loop/b`, which redirects back: an endless loop |
 * | `/redirect/chain/{n}` | to `/redirect/chain/{n-1}` … `/redirect/chain/0`, which answers 200 `end of chain` |
 *
 * @module
 */

/** The redirect to send, or a plain answer at the end of a chain. */
export type RedirectAnswer =
  | { status: number; location: string }
  | { status: 200; text: string }
  | undefined;

const STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Works out the answer to a `/redirect/...` path.
 *
 * @param pathname The path, without the query.
 * @param search The query, with its `?`, or `""`.
 * @param otherOrigin The other listener's origin, or `""` when there is none.
 * @returns The redirect, the end of a chain, or `undefined` for a 404.
 */
export function redirectFor(
  pathname: string,
  search: string,
  otherOrigin: string,
): RedirectAnswer {
  const param = /[?&]status=(\d{3})(?:&|$)/.exec(search);
  const status = param && STATUSES.has(Number(param[1]))
    ? Number(param[1])
    : 302;
  const to = (location: string) => ({ status, location: location + search });
  let m: RegExpExecArray | null;
  if ((m = /^\/redirect\/same\/(\d{1,4})\/(.*)$/.exec(pathname))) {
    const n = Number(m[1]);
    if (n < 1 || n > 1000) return undefined;
    return to(n > 1 ? `/redirect/same/${n - 1}/${m[2]}` : `/${m[2]}`);
  }
  if ((m = /^\/redirect\/cross\/(.*)$/.exec(pathname))) {
    return otherOrigin === "" ? undefined : to(`${otherOrigin}/${m[1]}`);
  }
  if (pathname === "/redirect/loop") return to("/redirect/loop/b");
  if (pathname === "/redirect/loop/b") return to("/redirect/loop");
  if ((m = /^\/redirect\/chain\/(\d{1,4})$/.exec(pathname))) {
    const n = Number(m[1]);
    return n === 0
      ? { status: 200, text: "end of chain\n" }
      : to(`/redirect/chain/${n - 1}`);
  }
  return undefined;
}
