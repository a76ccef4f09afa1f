/**
 * `--proxy URL` and `--no-proxy LIST`: requests go through an HTTP proxy
 * (`fetch` with `Deno.createHttpClient({ proxy })`), except to the hosts of
 * the list, which go direct (bulkget's own client, or `fetch` without the
 * proxy). Given as flags, no `--allow-env` is needed.
 *
 * @module
 */

/** Requests through a proxy, and which go around it. */
export interface ProxyRoute {
  /** The `fetch` client that sends through the proxy. */
  client: Deno.HttpClient;
  /** Whether a URL goes direct (its host is in `--no-proxy`). */
  bypass: (url: URL) => boolean;
}

/**
 * The `proxy` option of `Deno.createHttpClient` for a proxy URL: its
 * user-info becomes `basicAuth` (and leaves the URL).
 *
 * @param text The proxy's URL (`http:` or `https:`).
 * @returns The option.
 * @throws {TypeError} When it is not an http(s) URL.
 */
export function proxyOption(text: string): Deno.Proxy {
  const url = URL.parse(text);
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new TypeError(`the proxy must be an http(s) URL`);
  }
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  return username
    ? { url: url.href, basicAuth: { username, password } }
    : { url: url.href };
}

/**
 * A `NO_PROXY`-style matcher: comma-separated entries, `*` for every host,
 * a host name matching itself and its subdomains (a leading `.` is
 * optional), an IP address, each with an optional `:port`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { noProxyMatcher } from "./proxy.ts";
 * const bypass = noProxyMatcher("localhost, .internal.example, 10.0.0.1:8080");
 * assert.ok(bypass(new URL("http://a.internal.example/x")));
 * assert.ok(bypass(new URL("http://10.0.0.1:8080/")));
 * assert.ok(!bypass(new URL("http://10.0.0.1:9090/")));
 * assert.ok(!bypass(new URL("http://example.com/")));
 * ```
 *
 * @param list The list.
 * @returns Whether a URL goes direct.
 */
export function noProxyMatcher(list: string): (url: URL) => boolean {
  const entries = list.split(",").map((e) => e.trim().toLowerCase()).filter(
    (e) => e !== "",
  );
  if (entries.includes("*")) return () => true;
  const rules = entries.map((entry) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    return { host: (m?.[1] ?? entry).replace(/^\./, ""), port: m?.[2] };
  });
  return (url) => {
    const host = url.hostname.toLowerCase();
    const port = url.port ||
      (url.protocol === "https:" ? "443" : "80");
    return rules.some((rule) =>
      (host === rule.host || host.endsWith(`.${rule.host}`)) &&
      (rule.port === undefined || rule.port === port)
    );
  };
}
