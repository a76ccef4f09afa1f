/**
 * `--proxy URL` / `--no-proxy LIST`: requests go through a loopback proxy
 * (with its login), listed hosts go direct, under narrow permissions (no
 * --allow-env); the proxy's password is never printed.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { runBulkget } from "./_helpers.ts";

/** A forward proxy for http: URLs (absolute-form requests), recording what it was asked. */
function startProxy() {
  const seen: { url: string; auth: string | null }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      seen.push({
        url: request.url,
        auth: request.headers.get("proxy-authorization"),
      });
      const answer = await fetch(request.url, { redirect: "manual" });
      return new Response(answer.body, {
        status: answer.status,
        headers: answer.headers,
      });
    },
  );
  return {
    seen,
    url: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("get --proxy: through the proxy with its login, under narrow permissions; --no-proxy hosts go direct", async () => {
  await using server = await startServer({ alt: false });
  await using proxy = startProxy();
  const dir = await Deno.makeTempDir();
  const permissions = [
    "--allow-net=127.0.0.1",
    `--allow-read=${dir}`,
    `--allow-write=${dir}`,
  ];
  const via = proxy.url.replace("http://", "http://pu:pr0xy-pass@");
  const result = await runBulkget(
    [
      "get",
      `${server.url}/files/2k/p.bin`,
      `${server.url}/nothing/q.bin`,
      "-o",
      "out",
      "-v",
      "--proxy",
      via,
    ],
    { cwd: dir, permissions },
  );
  assert.equal(result.code, 1, result.stderr); // q.bin: 404
  assert.equal((await Deno.stat(`${dir}/out/p.bin`)).size, 2048);
  assert.deepEqual(proxy.seen.map((s) => s.url).sort(), [
    `${server.url}/files/2k/p.bin`,
    `${server.url}/nothing/q.bin`,
  ]);
  assert.equal(proxy.seen[0].auth, `Basic ${btoa("pu:pr0xy-pass")}`);
  assert.ok(!(result.stdout + result.stderr).includes("pr0xy-pass"));

  const direct = await runBulkget(
    [
      "get",
      `${server.url}/files/2k/d.bin`,
      "-o",
      "out",
      "--proxy",
      proxy.url,
      "--no-proxy",
      "localhost,127.0.0.1",
    ],
    { cwd: dir, permissions },
  );
  assert.equal(direct.code, 0, direct.stderr);
  assert.equal(proxy.seen.length, 2); // nothing more went through it
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --no-proxy without --proxy, or a --proxy that is not http(s): usage errors", async () => {
  const lonely = await runBulkget([
    "get",
    "http://127.0.0.1:9/x",
    "--no-proxy",
    "h",
  ]);
  assert.equal(lonely.code, 2);
  assert.match(lonely.stderr, /--no-proxy needs --proxy URL/);
  const socks = await runBulkget([
    "get",
    "http://127.0.0.1:9/x",
    "--proxy",
    "socks5://h:1",
  ]);
  assert.equal(socks.code, 2);
  assert.match(socks.stderr, /--proxy must be an http\(s\) URL/);
});

Deno.test("get --proxy to a host --allow-net does not grant: one line naming it, exit 2, before any request or file", async () => {
  await using server = await startServer({ alt: false });
  await using proxy = startProxy();
  const dir = await Deno.makeTempDir();
  const port = new URL(server.url).port;
  const proxyHost = new URL(proxy.url).host;
  // The target's host:port is granted; the proxy's (same address, another
  // port) is not: every byte would go through it.
  const result = await runBulkget(
    ["get", `${server.url}/files/2k/p.bin`, "-o", "out", "--proxy", proxy.url]
      .concat(["--report", "r.json"]),
    {
      cwd: dir,
      permissions: [
        `--allow-net=127.0.0.1:${port}`,
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
      ],
    },
  );
  assert.equal(result.code, 2, result.stderr);
  assert.equal(
    result.stderr.trim(),
    `bulkget get: missing permission: run again with --allow-net=${proxyHost}`,
  );
  assert.equal(result.stdout, "");
  assert.deepEqual(proxy.seen, []);
  assert.equal(server.stats().requests, 0);
  assert.deepEqual([...Deno.readDirSync(dir)], []);
});
