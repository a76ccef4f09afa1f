/**
 * Mirrors (aria2 tab-separated URIs, manifest `urls`): the next mirror on a
 * 404, on a 5xx still there after the retries and on a connection failure;
 * never after a fatal answer; a `.part` continued from another mirror only
 * when its validator and length agree.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import { download, type DownloadOptions } from "../lib/engine/download.ts";
import type { Job, Outcome } from "../lib/core/job.ts";
import { runBulkget } from "./_helpers.ts";

/** A URL of a port nothing listens on. */
function closedPortUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

async function runJob(
  job: Job,
  dir: string,
  options: DownloadOptions = {},
): Promise<Outcome> {
  const outcomes = await Array.fromAsync(
    download([job], {
      outDir: dir,
      backoff: { minTimeout: 1, maxTimeout: 2 },
      ...options,
    }),
  );
  assert.equal(outcomes.length, 1);
  return outcomes[0];
}

Deno.test("aria2 input: a 404 on the first mirror, the file from the second (get -i)", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/in.txt`,
    `${server.url}/nothing/here.bin\t${server.url}/files/64k/here.bin\n`,
  );
  const result = await runBulkget(["get", "-i", "in.txt", "-o", "out", "-v"], {
    cwd: dir,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /mirror 1 of 2: HTTP error 404.*trying mirror 2/);
  assert.deepEqual(
    await Deno.readFile(`${dir}/out/here.bin`),
    generatedBody("here.bin", 65536),
  );
  await Deno.remove(dir, { recursive: true });
});

for (const ownHttp of [true, false]) {
  const client = ownHttp ? "own client" : "fetch";
  Deno.test(`mirrors: a 503 after the retries, then a refused connection, then the file (${client})`, async () => {
    await using failing = await startServer({
      alt: false,
      faults: { statuses: [{ status: 503, rate: 1 }] },
    });
    await using good = await startServer({ alt: false });
    const dir = await Deno.makeTempDir();
    const outcome = await runJob(
      {
        url: `${failing.url}/files/2m/f.bin`,
        mirrors: [
          `${closedPortUrl()}/files/2m/f.bin`,
          `${good.url}/files/2m/f.bin`,
        ],
        dest: "f.bin",
      },
      dir,
      { retries: 1, ownHttp },
    );
    assert.equal(outcome.status, "ok", outcome.reason);
    assert.equal(failing.stats().requests, 2); // the try and one retry
    assert.equal(outcome.attempts, 5); // 2 + 2 + 1
    assert.deepEqual(
      await Deno.readFile(`${dir}/f.bin`),
      generatedBody("f.bin", 2 << 20),
    );
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("mirrors: every mirror failing says so; the last one's verdict counts", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const outcome = await runJob({
    url: `${server.url}/nothing/a`,
    mirrors: [`${server.url}/nothing/b`],
    dest: "a",
  }, dir);
  assert.equal(outcome.status, "not_found");
  assert.match(outcome.reason!, /every mirror failed; this was the last of 2/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("mirrors: a fatal answer (403) is not taken to the next mirror", async () => {
  await using forbidden = await startServer({
    alt: false,
    faults: { statuses: [{ status: 403, rate: 1 }] },
  });
  await using good = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const outcome = await runJob({
    url: `${forbidden.url}/files/1k/x`,
    mirrors: [`${good.url}/files/1k/x`],
    dest: "x",
  }, dir);
  assert.equal(outcome.status, "error");
  assert.match(outcome.reason!, /403.*mirror 1 of 2; a fatal failure/);
  assert.equal(good.stats().requests, 0);
  await Deno.remove(dir, { recursive: true });
});

const SIZE = 4 << 20;
const CUT = 1 << 20;

Deno.test("mirrors: a .part cut on one mirror is continued on the next when its validator agrees", async () => {
  await using cutting = await startServer({
    alt: false,
    faults: { reset: { rate: 1, after: CUT } },
  });
  await using good = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  const outcome = await runJob(
    {
      url: `${cutting.url}/files/4m/same.bin`,
      mirrors: [`${good.url}/files/4m/same.bin`],
      dest: "same.bin",
    },
    dir,
    { retries: 0 },
  );
  assert.equal(outcome.status, "ok", outcome.reason);
  const asked = good.stats().recent.filter((r) => r.path.startsWith("/files"));
  assert.equal(asked.length, 1);
  assert.match(asked[0].headers.range ?? "", /^bytes=\d+-$/);
  assert.equal(asked[0].status, 206);
  assert.deepEqual(
    await Deno.readFile(`${dir}/same.bin`),
    generatedBody("same.bin", SIZE),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("mirrors: another mirror's different validator restarts the file from its first byte", async () => {
  await using cutting = await startServer({
    alt: false,
    faults: { reset: { rate: 1, after: CUT } },
  });
  await using other = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  // Another name: another ETag, other bytes.
  const outcome = await runJob(
    {
      url: `${cutting.url}/files/4m/v1.bin`,
      mirrors: [`${other.url}/files/4m/v2.bin`],
      dest: "file.bin",
    },
    dir,
    { retries: 0 },
  );
  assert.equal(outcome.status, "ok", outcome.reason);
  const asked = other.stats().recent.filter((r) => r.path.startsWith("/files"));
  assert.equal(asked.length, 1);
  assert.equal(asked[0].headers["if-range"] !== undefined, true); // it asked
  assert.equal(asked[0].status, 200); // and got the whole file
  assert.deepEqual(
    await Deno.readFile(`${dir}/file.bin`),
    generatedBody("v2.bin", SIZE),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("manifest urls: the second mirror serves the file (get --manifest)", async () => {
  await using server = await startServer({ alt: false });
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/m.jsonl`,
    JSON.stringify({
      urls: [
        `${closedPortUrl()}/files/1k/m.bin`,
        `${server.url}/files/1k/m.bin`,
      ],
    }) + "\n",
  );
  const result = await runBulkget(
    ["get", "--manifest", "m.jsonl", "-o", "out", "--retries", "0"],
    { cwd: dir },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal((await Deno.stat(`${dir}/out/m.bin`)).size, 1024);
  await Deno.remove(dir, { recursive: true });
});
