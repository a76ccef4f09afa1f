/**
 * Credentials: --user (with the password inline or from --password-env),
 * --netrc-file, --cookie; each reaches its origin, none survives a
 * redirect to another origin, and none is printed or written to the report.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { runBulkget } from "./_helpers.ts";

const PASSWORD = "hunter2-secret";
const COOKIE = "c00kie-secret";

async function setup() {
  const server = await startServer();
  const dir = await Deno.makeTempDir();
  return { server, dir };
}

Deno.test("get --user USER:PASSWORD and --password-env: Basic to the origin; without it, 401", async () => {
  const { server, dir } = await setup();
  await using _ = server;
  const url = `${server.url}/auth/basic/me/${PASSWORD}/files/1k/a.bin`;
  const ok = await runBulkget([
    "get",
    url,
    "-o",
    "out",
    "--user",
    `me:${PASSWORD}`,
  ], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((await Deno.stat(`${dir}/out/a.bin`)).size, 1024);
  const fromEnv = await runBulkget(
    ["get", url, "-o", "env", "--user", "me", "--password-env", "PW"],
    {
      cwd: dir,
      env: { PW: PASSWORD },
      permissions: [
        "--allow-net",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        "--allow-env=PW",
      ],
    },
  );
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  const without = await runBulkget(["get", url, "-o", "no"], { cwd: dir });
  assert.equal(without.code, 1);
  assert.match(without.stdout, /HTTP error 401/);
  const prompt = await runBulkget(["get", url, "--user", "me"], { cwd: dir });
  assert.equal(prompt.code, 2);
  assert.match(
    prompt.stderr,
    /--user USER needs a password: USER:PASSWORD or --password-env NAME/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --netrc-file and --cookie: credentials by host and by cookie match", async () => {
  const { server, dir } = await setup();
  await using _ = server;
  await Deno.writeTextFile(
    `${dir}/netrc`,
    `machine other.example login x password y\nmachine 127.0.0.1\n  login me\n  password ${PASSWORD}\n`,
  );
  await Deno.writeTextFile(
    `${dir}/cookies.txt`,
    `# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\t${COOKIE}\nexample.org\tFALSE\t/\tFALSE\t0\tother\tnope\n`,
  );
  const result = await runBulkget([
    "get",
    `${server.url}/auth/basic/me/${PASSWORD}/files/1k/n.bin`,
    `${server.url}/auth/cookie/sid/${COOKIE}/files/1k/c.bin`,
    "-o",
    "out",
    "--netrc-file",
    "netrc",
    "--cookie",
    "cookies.txt",
  ], { cwd: dir });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const sent = server.stats().recent.filter((r) => r.path.includes("c.bin"));
  assert.equal(sent[0].headers.cookie, `sid=${COOKIE}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("credentials never cross origins and are never printed or reported", async () => {
  const { server, dir } = await setup();
  await using _ = server;
  await Deno.writeTextFile(
    `${dir}/cookies.txt`,
    `127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\t${COOKIE}\n`,
  );
  // One hop to the other listener (another origin): it asks for both.
  const result = await runBulkget([
    "get",
    `${server.url}/redirect/cross/auth/basic/me/${PASSWORD}/auth/cookie/sid/${COOKIE}/files/1k/x.bin`,
    "-o",
    "out",
    "-v",
    "--report",
    "r.json",
    "--retries",
    "0",
    "--user",
    `me:${PASSWORD}`,
    "--cookie",
    "cookies.txt",
  ], { cwd: dir });
  assert.equal(result.code, 1);
  assert.match(result.stdout + result.stderr, /401/);
  const alt = server.stats().recent.filter((r) => r.listener === "alt");
  assert.equal(alt.length, 1);
  assert.equal(alt[0].headers.authorization, undefined);
  assert.equal(alt[0].headers.cookie, undefined);
  const main = server.stats().recent.filter((r) => r.listener === "main");
  assert.ok(main[0].headers.authorization?.startsWith("Basic "));
  const everything = result.stdout + result.stderr +
    await Deno.readTextFile(`${dir}/r.json`);
  for (const secret of [PASSWORD, COOKIE, btoa(`me:${PASSWORD}`)]) {
    // The URL holds them as path segments here: printed URLs are the test's own.
    const outsideUrls = everything.replaceAll(/\/auth\/[^\s"]*/g, "");
    assert.ok(!outsideUrls.includes(secret), `${secret} printed`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("get --netrc reads $HOME/.netrc (with --allow-env=HOME); a URL's own user-info wins over it", async () => {
  const { server, dir } = await setup();
  await using _ = server;
  await Deno.writeTextFile(
    `${dir}/.netrc`,
    `default login me password ${PASSWORD}\n`,
  );
  const permissions = [
    "--allow-net=127.0.0.1",
    `--allow-read=${dir}`,
    `--allow-write=${dir}`,
    "--allow-env=HOME",
  ];
  const ok = await runBulkget(
    [
      "get",
      `${server.url}/auth/basic/me/${PASSWORD}/files/1k/h.bin`,
      "-o",
      "out",
      "--netrc",
    ],
    { cwd: dir, env: { HOME: dir }, permissions },
  );
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const own = server.url.replace("http://", "http://other:pw@");
  const wins = await runBulkget(
    [
      "get",
      `${own}/auth/basic/other/pw/files/1k/u.bin`,
      "-o",
      "out",
      "--netrc",
    ],
    { cwd: dir, env: { HOME: dir }, permissions },
  );
  assert.equal(wins.code, 0, wins.stdout + wins.stderr);
  await Deno.remove(dir, { recursive: true });
});
