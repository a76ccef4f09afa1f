/**
 * README claims of "Retries, deadlines, resume, interruption" that no other
 * test covered: the backoff's numbers, which failures are retried and which
 * are fatal (counted by attempts through the command line), when a `.part`
 * is kept and when it is removed. The checklist is `tests/CLAIMS.md`.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import { BACKOFF_DEFAULTS, backoffDelay } from "../lib/engine/retry.ts";
import type { Report } from "../lib/report/json_report.ts";
import { listDir, runBulkget } from "./_helpers.ts";
import { scriptedServer } from "./_scripted_server.ts";

async function reportOf(cwd: string): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(`${cwd}/r.json`)) as Report;
}

Deno.test("README retries: before retry n a wait in [0, min(30 s, 0.5 s × 2^(n-1))]; Retry-After as it is, up to 60 s, no jitter", () => {
  const top = (n: number) => backoffDelay(n, undefined, { random: () => 1 });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8].map(top),
    [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000],
  );
  assert.equal(backoffDelay(4, undefined, { random: () => 0 }), 0);
  assert.equal(backoffDelay(9, 45_000, { random: () => 0 }), 45_000);
  assert.equal(backoffDelay(1, 61_000, { random: () => 0.5 }), 60_000);
  assert.equal(BACKOFF_DEFAULTS.maxRetryAfter, 60_000);
});

Deno.test("README retries: connect, idle and total timeouts and a size mismatch are retried", async () => {
  await using late = await startServer({
    faults: { latency: { rate: 1, ms: 2000 } },
    alt: false,
  });
  await using stalling = await startServer({
    faults: { stall: { rate: 1, ms: 3000, after: 1000 } },
    alt: false,
  });
  await using slow = await startServer({
    faults: { slow: { rate: 1, bytesPerSecond: 50_000 } },
    alt: false,
  });
  await using plain = await startServer({ alt: false });
  const cases: [string, string[], string[], RegExp][] = [
    [
      "connect",
      [`${late.url}/files/10/c.bin`],
      ["--connect-timeout", "0.2"],
      /connect timeout/,
    ],
    [
      "idle",
      [`${stalling.url}/files/2m/i.bin`],
      ["--idle-timeout", "0.3"],
      /idle timeout/,
    ],
    [
      "total",
      [`${slow.url}/files/2m/t.bin`],
      ["--timeout", "0.3"],
      /total timeout/,
    ],
  ];
  for (const [what, urls, flags, reason] of cases) {
    const cwd = await Deno.makeTempDir();
    const result = await runBulkget(
      [
        "get",
        ...urls,
        ...flags,
        "--retries",
        "1",
        "--report",
        "r.json",
        "-o",
        "o",
      ],
      { cwd },
    );
    assert.equal(result.code, 1, `${what}: ${result.stderr}`);
    const [item] = (await reportOf(cwd)).items;
    assert.match(item.reason!, reason, what);
    assert.equal(item.attempts, 2, `${what} is retried`);
  }
  const cwd = await Deno.makeTempDir();
  const line = JSON.stringify({
    url: `${plain.url}/files/1000/s.bin`,
    size: 999,
  });
  const result = await runBulkget(
    [
      "get",
      "--manifest",
      "-",
      "--retries",
      "1",
      "--report",
      "r.json",
      "-o",
      "o",
    ],
    { cwd, stdin: line + "\n" },
  );
  assert.equal(result.code, 1, result.stderr);
  const [item] = (await reportOf(cwd)).items;
  assert.match(item.reason!, /size/);
  assert.equal(item.attempts, 2, "a size mismatch is retried");
  assert.deepEqual(listDir(`${cwd}/o`), []);
});

Deno.test("README retries: other 4xx and 5xx, redirect loops, more than 10 redirects and an invalid Location are fatal at once", async () => {
  await using server = await startServer({ alt: false });
  await using moved = scriptedServer(() =>
    "HTTP/1.1 302 Found\r\nlocation: http://[::1\r\ncontent-length: 0\r\n\r\n"
  );
  const cwd = await Deno.makeTempDir();
  const urls = [
    `${server.url}/redirect/chain/10`,
    `${server.url}/redirect/chain/11?x`,
    `${server.url}/redirect/loop`,
    `${server.url}/auth/basic/u/p/files/10/f.bin`,
    `${moved.url}/moved`,
  ];
  const result = await runBulkget(
    ["get", ...urls, "--retries", "3", "--report", "r.json", "-o", "o"],
    { cwd },
  );
  assert.equal(result.code, 1, result.stderr);
  const items = (await reportOf(cwd)).items;
  const by = (part: string) => items.find((i) => i.url.includes(part))!;
  assert.equal(by("chain/10").status, "ok", "ten redirects are followed");
  for (
    const [part, reason] of [
      ["chain/11", /too many redirects/],
      ["loop", /redirect loop/],
      ["auth/basic", /401/],
      ["moved", /invalid Location/],
    ] as const
  ) {
    assert.equal(by(part).status, "error", part);
    assert.match(by(part).reason!, reason, part);
    assert.equal(by(part).attempts, 1, `${part} is not retried`);
  }
});

/** Runs one `get` of /files/SIZE/p.bin into `cwd/o` with extra arguments. */
function getPart(cwd: string, url: string, ...more: string[]) {
  return runBulkget(
    ["get", `${url}/files/3000000/p.bin`, "-o", "o", ...more],
    { cwd },
  );
}

/** Leaves `cwd/o/p.bin.part` (half of a 3,000,000-byte file) from a reset body. */
async function leavePart(cwd: string): Promise<number> {
  await using resetting = await startServer({
    faults: { reset: { rate: 1, after: 1_500_000 } },
    alt: false,
  });
  const kept = await getPart(cwd, resetting.url, "--retries", "0");
  assert.equal(kept.code, 1, kept.stderr);
  assert.ok(listDir(`${cwd}/o`).includes("p.bin.part"), "a reset keeps it");
  return resetting.port;
}

Deno.test("README retries: a fatal answer before the body (403) leaves the .part for a later run, which resumes it", async () => {
  const cwd = await Deno.makeTempDir();
  const port = await leavePart(cwd);
  {
    await using forbidding = await startServer({
      port,
      faults: { statuses: [{ status: 403, rate: 1 }] },
      alt: false,
    });
    const fatal = await getPart(cwd, forbidding.url);
    assert.equal(fatal.code, 1, fatal.stderr);
    assert.match(fatal.stdout, /403/);
    assert.ok(listDir(`${cwd}/o`).includes("p.bin.part"), "403 keeps it");
    assert.ok(!listDir(`${cwd}/o`).includes("p.bin"));
  }
  await using healthy = await startServer({ port, alt: false });
  const resumed = await getPart(cwd, healthy.url, "--report", "r.json");
  assert.equal(resumed.code, 0, resumed.stderr);
  const report = await reportOf(cwd);
  assert.ok(
    report.totals.transferred < 3_000_000,
    `resumed, not refetched: ${report.totals.transferred} bytes`,
  );
  assert.deepEqual(
    await Deno.readFile(`${cwd}/o/p.bin`),
    generatedBody("p.bin", 3_000_000),
  );
});

Deno.test("README retries: a fatal failure of the body (checksum mismatch) removes the .part a retryable one kept", async () => {
  const cwd = await Deno.makeTempDir();
  const port = await leavePart(cwd);
  await using healthy = await startServer({ port, alt: false });
  await Deno.writeTextFile(
    `${cwd}/in.txt`,
    `${healthy.url}/files/3000000/p.bin\n  checksum=sha-256=${
      "0".repeat(64)
    }\n`,
  );
  const fatal = await runBulkget(["get", "-i", "in.txt", "-o", "o"], { cwd });
  assert.equal(fatal.code, 1, fatal.stderr);
  assert.match(fatal.stdout, /checksum mismatch/);
  assert.deepEqual(listDir(`${cwd}/o`), [], "the mismatch removed the .part");
});

Deno.test("README retries: a body of up to 1 MiB is read whole, so a failed attempt leaves no .part", async () => {
  await using server = await startServer({
    faults: { reset: { rate: 1, after: 500_000 } },
    alt: false,
  });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(
    ["get", `${server.url}/files/1m/small.bin`, "--retries", "0", "-o", "o"],
    { cwd },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(listDir(`${cwd}/o`), []);
});
