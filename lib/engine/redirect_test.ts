/**
 * Unit tests of `redirect.ts`: the hop limit, loop detection, schemes, and
 * credentials kept to the first URL's origin. Each hop's answer is made
 * here (`SendRequest` is the seam): no network.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { HeaderPairs } from "../core/headers.ts";
import { AttemptError } from "../core/errors.ts";
import {
  followRedirects,
  headersForHop,
  redirectTarget,
  type SendRequest,
} from "./redirect.ts";

/** A sender that answers each URL from `routes` and records what it sent. */
function sender(routes: Record<string, [number, string?]>) {
  const sent: { url: string; headers: HeaderPairs }[] = [];
  const send: SendRequest = (url, headers) => {
    sent.push({ url: url.href, headers });
    const [status, location] = routes[url.href] ?? [200];
    return Promise.resolve(
      new Response(status === 200 ? "body" : null, {
        status,
        headers: location === undefined ? {} : { location },
      }),
    );
  };
  return { send, sent };
}

const names = (headers: HeaderPairs) => headers.map(([name]) => name);

Deno.test("followRedirects follows relative and absolute Locations to the first answer that is not a redirect", async () => {
  const { send, sent } = sender({
    "http://a/1": [301, "/2"],
    "http://a/2": [307, "http://b/3"],
  });
  const response = await followRedirects("http://a/1", [], send);
  assert.equal(response.status, 200);
  assert.deepEqual(sent.map((s) => s.url), [
    "http://a/1",
    "http://a/2",
    "http://b/3",
  ]);
});

Deno.test("followRedirects: credentials go to the first origin only, and user-info becomes Basic there", async () => {
  const { send, sent } = sender({
    "http://a/1": [302, "http://a/2"],
    "http://a/2": [302, "http://a:8080/3"],
  });
  await followRedirects("http://u:p%40ss@a/1", [
    ["cookie", "c=1"],
    ["x-api-key", "k"],
    ["accept", "*/*"],
  ], send);
  const basic = `Basic ${btoa("u:p@ss")}`;
  assert.ok(
    sent[0].headers.some(([n, v]) => n === "authorization" && v === basic),
  );
  assert.equal(sent[0].url, "http://a/1", "user-info is not sent in the URL");
  assert.deepEqual(names(sent[1].headers).sort(), [
    "accept",
    "authorization",
    "cookie",
    "x-api-key",
  ]);
  assert.deepEqual(
    names(sent[2].headers),
    ["accept"],
    "another port is another origin",
  );
});

Deno.test("followRedirects: a loop, more hops than the limit, and a scheme other than http(s) are fatal REDIRECT failures", async () => {
  const fatal = async (
    routes: Record<string, [number, string?]>,
    pattern: RegExp,
    maxRedirects?: number,
  ) => {
    const error = await followRedirects(
      "http://a/1",
      [],
      sender(routes).send,
      maxRedirects,
    )
      .then(() => undefined, (e) => e);
    assert.ok(error instanceof AttemptError, String(error));
    assert.deepEqual([error.verdict, error.code], ["fatal", "REDIRECT"]);
    assert.match(error.message, pattern);
  };
  await fatal(
    { "http://a/1": [302, "/2"], "http://a/2": [302, "/1"] },
    /redirect loop after 2 hops/,
  );
  const chain: Record<string, [number, string?]> = {};
  for (let i = 1; i <= 4; i++) chain[`http://a/${i}`] = [302, `/${i + 1}`];
  await fatal(chain, /too many redirects \(more than 2\)/, 2);
  await fatal(
    { "http://a/1": [302, "file:///etc/passwd"] },
    /unsupported scheme file:/,
  );
});

Deno.test("redirectTarget: only 301, 302, 303, 307, 308 with a Location; an invalid Location is fatal", () => {
  const at = new URL("http://a/x/y");
  const answer = (status: number, location?: string) =>
    new Response(null, { status, headers: location ? { location } : {} });
  assert.equal(redirectTarget(answer(303, "../z"), at)?.href, "http://a/z");
  assert.equal(redirectTarget(answer(300, "/z"), at), undefined);
  assert.equal(redirectTarget(answer(302), at), undefined);
  assert.throws(
    () => redirectTarget(answer(308, "http://[bad"), at),
    /invalid Location/,
  );
});

Deno.test("headersForHop drops every credential header when the origin changes", () => {
  const headers: HeaderPairs = [
    ["authorization", "x"],
    ["cookie", "x"],
    ["proxy-authorization", "x"],
    ["private-token", "x"],
    ["job-token", "x"],
    ["x-api-key", "x"],
    ["range", "bytes=1-"],
  ];
  const first = new URL("https://a/1");
  assert.equal(headersForHop(headers, first, new URL("https://a/2")), headers);
  assert.deepEqual(
    names(headersForHop(headers, first, new URL("http://a/2"))),
    ["range"],
    "another scheme is another origin",
  );
});
