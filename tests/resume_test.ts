/**
 * Interrupted runs: SIGKILL and SIGINT mid-body leave a `.part` (never a
 * final name with wrong bytes), and a rerun asks only for the missing range.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import { bulkgetCommand, listDir } from "./_helpers.ts";

const SIZE = 8 * 1024 * 1024;
const SENT_BEFORE_STALL = 3 * 1024 * 1024;

/** Starts `bulkget get URL -o DIR` as a child process. */
function spawnGet(url: string, dir: string) {
  return bulkgetCommand(["get", url, "-o", dir]).spawn();
}

/** Waits (bounded: 20 s) until the `.part` holds at least `bytes`. */
async function waitForPart(path: string, bytes: number): Promise<number> {
  for (let i = 0; i < 400; i++) {
    try {
      const size = (await Deno.stat(path)).size;
      if (size >= bytes) return size;
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${path} never reached ${bytes} bytes`);
}

async function rerunAndCheck(
  port: number,
  url: string,
  dir: string,
  partSize: number,
) {
  await using server = await startServer({ port, alt: false });
  const child = spawnGet(url, dir);
  const result = await child.output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  assert.deepEqual(listDir(dir), ["big.bin"]);
  assert.deepEqual(
    Deno.readFileSync(`${dir}/big.bin`),
    generatedBody("big.bin", SIZE),
  );
  const requests = server.stats().recent;
  assert.equal(requests.length, 1);
  assert.equal(
    requests[0].headers.range,
    `bytes=${partSize}-`,
    "only the missing range was asked for",
  );
  assert.ok(requests[0].headers["if-range"], "the validator was sent");
  assert.equal(requests[0].status, 206);
}

Deno.test("after SIGKILL mid-body a .part remains, and a rerun fetches only the missing range", async () => {
  const dir = await Deno.makeTempDir();
  let port: number;
  let url: string;
  let partSize: number;
  {
    await using server = await startServer({
      faults: { stall: { rate: 1, ms: 60_000, after: SENT_BEFORE_STALL } },
      alt: false,
    });
    port = server.port;
    url = `${server.url}/files/${SIZE}/big.bin`;
    const child = spawnGet(url, dir);
    partSize = await waitForPart(`${dir}/big.bin.part`, SENT_BEFORE_STALL);
    child.kill("SIGKILL");
    await child.output();
    assert.ok(!listDir(dir).includes("big.bin"), "no final name after a kill");
    assert.ok(
      listDir(dir).includes("big.bin.part.json"),
      "resume facts kept beside the .part",
    );
  }
  await rerunAndCheck(port, url, dir, partSize);
});

Deno.test("SIGINT stops the run, prints the partial report, exits 130; a rerun completes", async () => {
  const dir = await Deno.makeTempDir();
  let port: number;
  let url: string;
  let partSize: number;
  {
    await using server = await startServer({
      faults: { stall: { rate: 1, ms: 60_000, after: SENT_BEFORE_STALL } },
      alt: false,
    });
    port = server.port;
    url = `${server.url}/files/${SIZE}/big.bin`;
    const child = spawnGet(url, dir);
    partSize = await waitForPart(`${dir}/big.bin.part`, SENT_BEFORE_STALL);
    child.kill("SIGINT");
    const result = await child.output();
    assert.equal(result.code, 130);
    const stdout = new TextDecoder().decode(result.stdout);
    assert.match(stdout, /^bulkget: 0 downloaded, 1 interrupted;/m);
    assert.deepEqual(listDir(dir), ["big.bin.part", "big.bin.part.json"]);
    partSize = (await Deno.stat(`${dir}/big.bin.part`)).size;
  }
  await rerunAndCheck(port, url, dir, partSize);
});

Deno.test("a changed file on the server (new validator) restarts the .part cleanly", async () => {
  const dir = await Deno.makeTempDir();
  const old = generatedBody("big.bin", SIZE).slice(0, 1000);
  Deno.writeFileSync(`${dir}/big.bin.part`, old);
  await using server = await startServer({ alt: false });
  const url = `${server.url}/files/${SIZE}/big.bin`;
  Deno.writeTextFileSync(
    `${dir}/big.bin.part.json`,
    JSON.stringify({ url, etag: '"stale"' }),
  );
  const result = await spawnGet(url, dir).output();
  assert.equal(result.code, 0);
  assert.deepEqual(
    Deno.readFileSync(`${dir}/big.bin`),
    generatedBody("big.bin", SIZE),
  );
  const request = server.stats().recent[0];
  assert.equal(request.headers["if-range"], '"stale"');
  assert.equal(
    request.status,
    200,
    "If-Range did not match: the whole file came back",
  );
  assert.deepEqual(listDir(dir), ["big.bin"]);
});

Deno.test("a .part longer than the file (416) is discarded and the file downloaded whole", async () => {
  const dir = await Deno.makeTempDir();
  await using server = await startServer({ alt: false });
  const url = `${server.url}/files/5000/small.bin`;
  // Larger than the 1 MiB whole-body limit is not needed: a .part with facts is always resumed.
  Deno.writeFileSync(`${dir}/small.bin.part`, new Uint8Array(6000));
  const etag = (await fetch(url, { method: "HEAD" })).headers.get("etag")!;
  Deno.writeTextFileSync(
    `${dir}/small.bin.part.json`,
    JSON.stringify({ url, etag }),
  );
  server.resetStats();
  const result = await spawnGet(url, dir).output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  assert.deepEqual(
    Deno.readFileSync(`${dir}/small.bin`),
    generatedBody("small.bin", 5000),
  );
  const statuses = server.stats().recent.map((r) => r.status);
  assert.deepEqual(statuses, [416, 200]);
  assert.deepEqual(listDir(dir), ["small.bin"]);
});

Deno.test("SIGTERM stops the run the same way and exits 143", async () => {
  const dir = await Deno.makeTempDir();
  await using server = await startServer({
    faults: { stall: { rate: 1, ms: 60_000, after: SENT_BEFORE_STALL } },
    alt: false,
  });
  const child = spawnGet(`${server.url}/files/${SIZE}/big.bin`, dir);
  await waitForPart(`${dir}/big.bin.part`, SENT_BEFORE_STALL);
  child.kill("SIGTERM");
  const result = await child.output();
  assert.equal(result.code, 143);
  assert.match(
    new TextDecoder().decode(result.stdout),
    /^bulkget: 0 downloaded, 1 interrupted;/m,
  );
  assert.deepEqual(listDir(dir), ["big.bin.part", "big.bin.part.json"]);
});
