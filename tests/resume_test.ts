/**
 * Interrupted runs: SIGKILL and SIGINT mid-body leave a `.part` (never a
 * final name with wrong bytes), and a rerun asks only for the missing range.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import { bulkgetCommand, listDir } from "./_helpers.ts";
import { scriptedServer } from "./_scripted_server.ts";

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
  // No Ctrl-C came: nothing to press "again".
  assert.match(
    new TextDecoder().decode(result.stderr),
    /^bulkget: SIGTERM: stopping; press Ctrl-C to quit at once$/m,
  );
  assert.deepEqual(listDir(dir), ["big.bin.part", "big.bin.part.json"]);
});

Deno.test("a .part restarted by an answer that cannot be resumed loses its old resume facts: after SIGKILL the rerun never stitches it to the old version", async () => {
  // Version A (resumable) is cut; the resume is answered with the whole of
  // version B without a validator (another backend, say), killed mid-body;
  // the .part now holds B's first bytes. The rerun meets version A again:
  // resumed with A's validator, it would append A's rest to B's start.
  const size = 3 << 20;
  const a = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
  const b = new Uint8Array(size).map((_, i) => (i * 13 + 5) & 0xff);
  const head = (status: string, fields: string) =>
    new TextEncoder().encode(`HTTP/1.1 ${status}\r\n${fields}\r\n`);
  const concat = (x: Uint8Array, y: Uint8Array) => {
    const all = new Uint8Array(x.length + y.length);
    all.set(x);
    all.set(y, x.length);
    return all;
  };
  const resumable = `etag: "A"\r\naccept-ranges: bytes\r\n`;
  await using server = scriptedServer((n) => {
    const range = /range: bytes=(\d+)-/i.exec(server.requests[n]);
    if (n === 0) {
      return {
        send: concat(
          head("200 OK", `${resumable}content-length: ${size}\r\n`),
          a.subarray(0, 1 << 20),
        ),
        close: true,
      };
    }
    if (n === 1) {
      return {
        send: concat(
          head("200 OK", `content-length: ${size}\r\n`),
          b.subarray(0, 2 << 20),
        ),
        stall: true,
      };
    }
    const from = range ? Number(range[1]) : 0;
    return concat(
      range
        ? head(
          "206 Partial Content",
          `${resumable}content-range: bytes ${from}-${
            size - 1
          }/${size}\r\ncontent-length: ${size - from}\r\n`,
        )
        : head("200 OK", `${resumable}content-length: ${size}\r\n`),
      a.subarray(from),
    );
  });
  const dir = await Deno.makeTempDir();
  const url = `${server.url}/v.bin`;
  const first = await bulkgetCommand([
    "get",
    "-q",
    "--retries",
    "0",
    url,
    "-o",
    dir,
  ])
    .output();
  assert.equal(first.code, 1);
  assert.deepEqual(listDir(dir), ["v.bin.part", "v.bin.part.json"]);
  const child = spawnGet(url, dir);
  await waitForPart(`${dir}/v.bin.part`, 2 << 20);
  child.kill("SIGKILL");
  await child.output();
  assert.match(server.requests[1], /range: bytes=1048576-/i);
  const rerun = await spawnGet(url, dir).output();
  assert.equal(rerun.code, 0, new TextDecoder().decode(rerun.stderr));
  assert.ok(
    Deno.readFileSync(`${dir}/v.bin`).every((byte, i) => byte === a[i]),
    "version A exactly, not B's start and A's rest",
  );
});
