/**
 * README claims of "How requests are sent" that no other test covered: the
 * own client offers only HTTP/1.1 over TLS, `DENO_CERT` and
 * `--unsafely-ignore-certificate-errors` work for either client, a proxy
 * variable bulkget may not read is not used, and `-H` replaces the
 * `User-Agent`. The checklist is `tests/CLAIMS.md`.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { flagFile, runBulkget, sameBytes } from "./_helpers.ts";
import { scriptedServer, TLS_DIR, tlsFile } from "./_scripted_server.ts";

const CA = new URL("ca.pem", TLS_DIR).pathname;

function okAnswer(body: string): string {
  return `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
}

Deno.test("README requests: over TLS the own client offers only HTTP/1.1 (ALPN), even to a server that prefers h2", async () => {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: tlsFile("cert.pem"),
    key: tlsFile("key.pem"),
    alpnProtocols: ["h2", "http/1.1"],
  });
  const port = listener.addr.port;
  const served = (async () => {
    const conn = await listener.accept();
    const { alpnProtocol } = await conn.handshake();
    const buffer = new Uint8Array(4096);
    await conn.read(buffer); // the request head
    await conn.write(new TextEncoder().encode(okAnswer("hello")));
    conn.close();
    return alpnProtocol;
  })();
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(
    ["get", `https://localhost:${port}/a.txt`, "--ca-cert", CA, "-o", "o"],
    { cwd },
  );
  const alpn = await served;
  listener.close();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(alpn, "http/1.1");
  assert.equal(Deno.readTextFileSync(`${cwd}/o/a.txt`), "hello");
});

Deno.test("README requests: DENO_CERT and --unsafely-ignore-certificate-errors work for either client", async () => {
  await using server = scriptedServer(() => okAnswer("tls"), { tls: true });
  const cwd = await Deno.makeTempDir();
  const ways: [
    string,
    { env?: Record<string, string>; permissions?: string[] },
  ][] = [
    ["env", { env: { DENO_CERT: CA } }],
    ["ignore", {
      permissions: [
        "--allow-all",
        "--unsafely-ignore-certificate-errors=localhost",
      ],
    }],
  ];
  for (const [name, how] of ways) {
    for (const client of [[], ["--use-fetch"]]) {
      const dir = `${name}${client.length ? "-fetch" : ""}`;
      const result = await runBulkget(
        ["get", `${server.url}/x.txt`, ...client, "--retries", "0", "-o", dir],
        { cwd, ...how },
      );
      assert.equal(result.code, 0, `${dir}: ${result.stderr}`);
      assert.equal(Deno.readTextFileSync(`${cwd}/${dir}/x.txt`), "tls");
    }
  }
  // And without either, the same server is refused: the two ways are what made it work.
  const refused = await runBulkget(
    ["get", `${server.url}/x.txt`, "--retries", "0", "-o", "none"],
    { cwd },
  );
  assert.equal(refused.code, 1);
});

Deno.test("README requests: a proxy variable bulkget may not read is not used (the own client goes direct)", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(
    ["get", `${server.url}/flags/br/br.gif`, "-o", "out"],
    {
      cwd,
      env: { HTTP_PROXY: "http://127.0.0.1:9", NO_PROXY: "" },
      permissions: [
        `--allow-net=127.0.0.1:${server.port}`,
        "--allow-read=./out",
        "--allow-write=./out",
      ],
    },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.ok(sameBytes(`${cwd}/out/br.gif`, flagFile("br")));
  assert.equal(server.stats().recent[0].headers["user-agent"], "bulkget");
});

Deno.test("README requests: the own client's User-Agent is bulkget, and -H replaces it", async () => {
  await using server = await startServer({ alt: false });
  const result = await runBulkget([
    "get",
    `${server.url}/files/10/a.bin`,
    "-H",
    "User-Agent: mine/2",
    "-o",
    "out",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(server.stats().recent[0].headers["user-agent"], "mine/2");
});
