import assert from "node:assert/strict";
import { startGithubDouble } from "../lib/server/github_api.ts";
import { makeZip } from "../lib/server/zip_maker.ts";
import { bulkgetCommand, githubRunArgs, runBulkget } from "./_helpers.ts";
import { formatBytes } from "../lib/outputs/format.ts";

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(n, at + 65536)));
  }
  return bytes;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return -1;
  }
}

/** Every `*.part` file under `dir`, as paths from `dir`. */
async function partsUnder(dir: string, from = ""): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(`${dir}/${from}`)) {
      const path = from ? `${from}/${entry.name}` : entry.name;
      if (entry.isDirectory) found.push(...await partsUnder(dir, path));
      else if (entry.name.endsWith(".part")) found.push(path);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found;
}

/** A 3 MiB zip whose blob stalls after this many bytes. */
const STALL_AT = 1_500_000;

/**
 * Starts a GitHub double holding one artifact "big" (run 1) whose blob
 * stalls after {@linkcode STALL_AT} bytes, runs `bulkget artifacts github`
 * with `extra` options into `out`, and interrupts it (SIGINT) once one
 * `.part` holds those bytes (bounded wait). Checks the exit code 130 and
 * that the `.part` is kept.
 *
 * @returns The double, the run's cwd and arguments, the zip and its file's
 *   bytes, the kept `.part` (from `cwd/out`), and the run's output.
 */
async function interruptedAtStall(
  extra: string[],
  upload: { raw: boolean } = { raw: false },
) {
  const data = randomBytes(3 * 1024 * 1024);
  const body = upload.raw ? data : makeZip([{ name: "big.bin", data }]);
  const rawName = upload.raw ? "big.bin" : undefined;
  const gh = await startGithubDouble({
    artifacts: [{ name: "big", body, runId: 1, stallAt: STALL_AT, rawName }],
  });
  try {
    const cwd = await Deno.makeTempDir();
    const args = [
      ...githubRunArgs(gh, 1),
      ...extra,
      "-o",
      "out",
    ];
    const child = bulkgetCommand(args, { cwd }).spawn();
    let part = "";
    for (let i = 0; i < 1000 && part === ""; i++) {
      const parts = await partsUnder(`${cwd}/out`);
      if (
        parts.length === 1 &&
        await sizeOf(`${cwd}/out/${parts[0]}`) === STALL_AT
      ) {
        part = parts[0];
      } else await new Promise((r) => setTimeout(r, 20));
    }
    assert.notEqual(part, "", "a .part holding the bytes before the stall");
    child.kill("SIGINT");
    const first = await child.output();
    assert.equal(first.code, 130, new TextDecoder().decode(first.stderr));
    assert.equal(
      await sizeOf(`${cwd}/out/${part}`),
      STALL_AT,
      "the .part is kept",
    );
    return { gh, cwd, args, body, data, part, first };
  } catch (error) {
    await gh[Symbol.asyncDispose]();
    throw error;
  }
}

Deno.test("artifacts cli: a zip half downloaded when the run is interrupted is resumed by the next run (Range/If-Range to a fresh signed URL), verified by its digest", async () => {
  const run = await interruptedAtStall([]);
  await using gh = run.gh;
  const { cwd, args, body, data } = run;
  assert.equal(run.part, ".bulkget-artifacts/1.zip.part");
  const firstBlobs = gh.blobRequests.length;
  assert.equal(firstBlobs, 1);

  const second = await runBulkget(args, { cwd });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await Deno.readFile(`${cwd}/out/big/big.bin`), data);
  const zips = gh.apiRequests.filter((r) => r.path.endsWith("/zip"));
  assert.equal(zips.length, 2, "each run asks the API for a signed URL");
  const [before, after] = gh.blobRequests;
  assert.equal(gh.blobRequests.length, 2);
  assert.notEqual(after.path, before.path, "a fresh signed URL");
  assert.equal(after.status, 206);
  assert.equal(after.headers.range, `bytes=${STALL_AT}-`);
  assert.match(after.headers["if-range"], /^"0x[0-9a-f]{16}"$/);
  assert.ok(STALL_AT < body.length);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli --no-extract: a kept zip half downloaded when the run is interrupted is resumed by the next run, and kept byte for byte", async () => {
  const run = await interruptedAtStall(["--no-extract"]);
  await using gh = run.gh;
  const { cwd, args, body } = run;

  const second = await runBulkget(args, { cwd });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await Deno.readFile(`${cwd}/out/big.zip`), body);
  assert.deepEqual(await partsUnder(`${cwd}/out`), [], "no .part left");
  assert.equal(gh.blobRequests.length, 2);
  const after = gh.blobRequests[1];
  assert.equal(after.status, 206, "the second run resumed");
  assert.equal(after.headers.range, `bytes=${STALL_AT}-`);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli: an artifact uploaded unzipped, half downloaded when the run is interrupted, is resumed by the next run (Range/If-Range to a fresh signed URL) and kept byte for byte", async () => {
  const run = await interruptedAtStall([], { raw: true });
  await using gh = run.gh;
  const { cwd, args, data } = run;

  const second = await runBulkget(args, { cwd });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await Deno.readFile(`${cwd}/out/big/big`), data);
  assert.deepEqual(await partsUnder(`${cwd}/out`), [], "no .part left");
  assert.equal(gh.blobRequests.length, 2);
  const [before, after] = gh.blobRequests;
  assert.notEqual(after.path, before.path, "a fresh signed URL");
  assert.equal(after.status, 206, "the second run resumed");
  assert.equal(after.headers.range, `bytes=${STALL_AT}-`);
  assert.match(after.headers["if-range"], /^"0x[0-9a-f]{16}"$/);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli --no-extract: an artifact uploaded unzipped, half downloaded when the run is interrupted, is resumed by the next run and kept under its own name byte for byte", async () => {
  const run = await interruptedAtStall(["--no-extract"], { raw: true });
  await using gh = run.gh;
  const { cwd, args, data } = run;

  const second = await runBulkget(args, { cwd });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await Deno.readFile(`${cwd}/out/big.bin`), data);
  assert.deepEqual(await partsUnder(`${cwd}/out`), [], "no .part left");
  assert.equal(gh.blobRequests.length, 2);
  const after = gh.blobRequests[1];
  assert.equal(after.status, 206, "the second run resumed");
  assert.equal(after.headers.range, `bytes=${STALL_AT}-`);
});

/** Interrupts a run on a raw artifact and flips one byte of its kept `.part`. */
async function interruptedAndSpoiled(extra: string[]) {
  const run = await interruptedAtStall(extra, { raw: true });
  const part = `${run.cwd}/out/${run.part}`;
  const bytes = await Deno.readFile(part);
  bytes[1000] ^= 0xff;
  await Deno.writeFile(part, bytes);
  return run;
}

Deno.test("artifacts cli: a resumed artifact uploaded unzipped whose kept bytes were changed fails its digest check, nothing of it placed, and is downloaded again whole, as with --no-extract", async () => {
  const run = await interruptedAndSpoiled([]);
  await using gh = run.gh;
  const { cwd, args, data } = run;

  const second = await runBulkget(args, { cwd });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await Deno.readFile(`${cwd}/out/big/big`), data);
  assert.deepEqual(
    gh.blobRequests.slice(1).map((r) => r.status),
    [206, 200],
    "resumed, then, the digest wrong, downloaded whole",
  );
  assert.deepEqual(await partsUnder(`${cwd}/out`), [], "no .part left");
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli: a zip whose digest is wrong after a whole download fails at once, after one download, and nothing of it is placed", async () => {
  const data = randomBytes(3 * 1024 * 1024);
  await using gh = await startGithubDouble({
    artifacts: [{
      name: "big",
      body: makeZip([{ name: "big.bin", data }]),
      runId: 1,
      digest: "wrong",
    }],
  });
  const cwd = await Deno.makeTempDir();
  const second = await runBulkget([...githubRunArgs(gh, 1), "-o", "out"], {
    cwd,
  });
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, /^error +big \(1\): digest mismatch/m);
  assert.equal(gh.blobRequests.length, 1);
  assert.equal(await sizeOf(`${cwd}/out/big/big.bin`), -1);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli --no-extract: a resumed artifact uploaded unzipped whose kept bytes were changed fails its digest check and is downloaded again whole", async () => {
  const run = await interruptedAndSpoiled(["--no-extract"]);
  await using gh = run.gh;
  const { cwd, args, data } = run;

  const second = await runBulkget(args, { cwd });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await Deno.readFile(`${cwd}/out/big.bin`), data);
  assert.deepEqual(
    gh.blobRequests.slice(1).map((r) => r.status),
    [206, 200],
    "resumed, then, the digest wrong, downloaded whole",
  );
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts cli: the numbers of an interrupted run and of the run that resumes it are true: bytes received in each run apart from the artifact's size (result line, closing line, JSON report)", async () => {
  const run = await interruptedAtStall([]);
  await using gh = run.gh;
  const { cwd, args, body } = run;
  const firstErr = new TextDecoder().decode(run.first.stderr);
  assert.match(
    firstErr,
    new RegExp(
      `^0 of 1 artifacts done: 0 downloaded, 1 interrupted; ${
        formatBytes(STALL_AT).replace(".", "\\.")
      } received in \\d`,
      "m",
    ),
  );

  const rest = body.length - STALL_AT;
  const second = await runBulkget([...args, "--report", "r.json"], { cwd });
  assert.equal(second.code, 0, second.stderr);
  const size = formatBytes(body.length).replace(".", "\\.");
  const received = formatBytes(rest).replace(".", "\\.");
  assert.match(
    second.stderr,
    new RegExp(
      `^ok +big \\(1\\): ${size} \\(${received} received\\), 1 file -> big$`,
      "m",
    ),
  );
  assert.match(
    second.stderr,
    new RegExp(
      `^1 of 1 artifacts done: 1 downloaded \\(${size}\\); ${received} received in \\d`,
      "m",
    ),
  );
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`));
  assert.equal(report.artifacts[0].bytes, body.length);
  assert.equal(report.artifacts[0].transferred, rest);
  assert.equal(gh.blobRequests[1].status, 206);
  await Deno.remove(cwd, { recursive: true });
});
