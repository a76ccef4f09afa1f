/**
 * README claims of "The JSON report" that no other test covered: the
 * example's fields are the report's, the list of failure codes is the
 * code's, the codes a run writes for failures the other tests do not reach,
 * the report written as jobs finish, and `sha256` of a skipped file. The
 * checklist is `tests/CLAIMS.md`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startServer } from "../lib/server/server.ts";
import { ERROR_CODES } from "../lib/core/errors.ts";
import type { Report } from "../lib/report/json_report.ts";
import { bulkgetCommand, ROOT, runBulkget } from "./_helpers.ts";

const README = await Deno.readTextFile(`${ROOT}README.md`);
const SECTION = README.slice(
  README.indexOf("### The JSON report"),
  README.indexOf("### In GitHub Actions"),
);

async function reportOf(cwd: string): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(`${cwd}/r.json`)) as Report;
}

Deno.test("README report: the example has exactly the fields of a real report", async () => {
  const example = JSON.parse(/```json\n([\s\S]*?)```/.exec(SECTION)![1]);
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(
    ["get", `${server.url}/files/1000/a.bin`, "--report", "r.json"],
    { cwd },
  );
  assert.equal(result.code, 0, result.stderr);
  const report = await reportOf(cwd);
  const keys = (o: object) => Object.keys(o).sort();
  assert.deepEqual(keys(example), keys(report));
  assert.deepEqual(keys(example.items[0]), keys(report.items[0]));
  assert.deepEqual(keys(example.totals), keys(report.totals));
  assert.equal(example.version, report.version);
});

Deno.test("README report: the list of failure codes is the code's list", () => {
  const listed = SECTION.slice(SECTION.indexOf("`HTTP_STATUS`"))
    .split("(`null`")[0].match(/`[A-Z_]+`/g)!.map((c) => c.slice(1, -1));
  assert.deepEqual(listed.sort(), Object.values(ERROR_CODES).sort());
});

Deno.test("README report: a refused connection, a checksum mismatch and a taken name carry their codes", async () => {
  await using plain = await startServer({ alt: false });
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refused = `http://127.0.0.1:${
    (closed.addr as Deno.NetAddr).port
  }/r.bin`;
  closed.close();
  const lines = [
    { url: refused },
    { url: `${plain.url}/files/100/v.bin`, sha256: "0".repeat(64) },
  ];
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(
    [
      "get",
      "--manifest",
      "-",
      "--retries",
      "0",
      "--report",
      "r.json",
      "-o",
      "o",
    ],
    { cwd, stdin: lines.map((l) => JSON.stringify(l)).join("\n") + "\n" },
  );
  const report = await reportOf(cwd);
  const code = (dest: string) =>
    report.items.find((i) => i.dest === dest)?.code;
  assert.equal(code("r.bin"), "NETWORK", result.stderr);
  assert.equal(code("v.bin"), "VERIFY_FAILED");
  // A server-chosen name already taken by another job of the run.
  const named = await Deno.makeTempDir();
  const taken = await runBulkget([
    "get",
    `${plain.url}/files/100/x.bin?filename=same.bin`,
    `${plain.url}/files/200/y.bin?filename=same.bin`,
    "--content-disposition",
    "-m",
    "1",
    "--report",
    "r.json",
    "-o",
    "o",
  ], { cwd: named });
  assert.equal(taken.code, 1, taken.stderr);
  assert.equal(
    (await reportOf(named)).items.find((i) => i.url.includes("y.bin"))?.code,
    "NAME_TAKEN",
  );
});

Deno.test("README report: written as jobs finish, 64 KiB at a time (items are in the file while the run goes on)", async () => {
  await using stalling = await startServer({
    faults: { stall: { rate: 1, ms: 60_000 } },
    alt: false,
  });
  await using quick = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  // The stalled job first, then 400 items of about 300 bytes: more than
  // 64 KiB of them while it stalls.
  const urls = Array.from(
    { length: 400 },
    (_, i) => `${quick.url}/files/10/q${i}.bin`,
  );
  const child = bulkgetCommand([
    "get",
    `${stalling.url}/files/2m/stalled.bin`,
    ...urls,
    "--report",
    "r.json",
    "-o",
    "o",
  ], { cwd, stderr: "null" }).spawn();
  let text = "";
  for (let i = 0; i < 400 && !text.includes("q0.bin"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    text = await Deno.readTextFile(`${cwd}/r.json`).catch(() => "");
  }
  assert.match(text, /"dest":"q0\.bin"/);
  assert.doesNotMatch(text, /"totals"/, "the run is still going");
  child.kill("SIGINT");
  const { code } = await child.output();
  assert.equal(code, 130);
  const report = await reportOf(cwd);
  assert.equal(report.interrupted, true);
  assert.ok(report.items.filter((i) => i.status === "ok").length > 200);
  assert.equal(
    report.items.find((i) => i.dest === "stalled.bin")?.status,
    "cancelled",
  );
});

Deno.test("README report: a skipped file has the digest its record or checksum gives; one with neither (judged by the server's length) has sha256 null", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const url = `${server.url}/files/1000/s.bin`;
  const args = ["get", url, "-o", "o", "--report", "r.json"];
  assert.equal((await runBulkget(args, { cwd })).code, 0);
  const digest = (await reportOf(cwd)).items[0].sha256;
  assert.match(digest!, /^[0-9a-f]{64}$/);
  // The state file recorded the digest: the skip says it.
  const again = await runBulkget(args, { cwd });
  assert.equal(again.code, 0, again.stderr);
  const [skipped] = (await reportOf(cwd)).items;
  assert.equal(skipped.status, "skipped");
  assert.equal(skipped.sha256, digest);
  // The same file changed by hand since (a new mtime), same bytes: hashed
  // again, still the recorded digest.
  const bytes = Deno.readFileSync(`${cwd}/o/s.bin`);
  Deno.writeFileSync(`${cwd}/o/s.bin`, bytes);
  const touched = await runBulkget(args, { cwd });
  assert.equal(touched.code, 0, touched.stderr);
  assert.deepEqual(
    (await reportOf(cwd)).items.map((i) => [i.status, i.sha256]),
    [["skipped", digest]],
  );
  const checked = await runBulkget(
    ["get", "--manifest", "-", "-o", "o", "--report", "r.json"],
    { cwd, stdin: JSON.stringify({ url, sha256: digest }) + "\n" },
  );
  assert.equal(checked.code, 0, checked.stderr);
  const [verified] = (await reportOf(cwd)).items;
  assert.equal(verified.status, "skipped");
  assert.equal(verified.sha256, digest);
  // No record (another directory, the file put there by hand), no checksum:
  // kept on the server's length, and no digest is known.
  Deno.mkdirSync(`${cwd}/p`);
  Deno.writeFileSync(`${cwd}/p/s.bin`, bytes);
  const byLength = await runBulkget(
    ["get", url, "-o", "p", "--report", "r.json"],
    { cwd },
  );
  assert.equal(byLength.code, 0, byLength.stderr);
  assert.deepEqual(
    (await reportOf(cwd)).items.map((i) => [i.status, i.sha256]),
    [["skipped", null]],
  );
});

Deno.test("README report: a --report rerun after a run without one skips its files unfetched with sha256 null (their records hold a CRC-32), until a run records a SHA-256", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const urls = [
    `${server.url}/files/1000/small.bin`,
    `${server.url}/files/3m/large.bin`,
  ];
  const plain = await runBulkget(["get", ...urls, "-o", "o"], { cwd });
  assert.equal(plain.code, 0, plain.stderr);
  const state = () =>
    Deno.readTextFileSync(`${cwd}/o/.bulkget-state.jsonl`).trim().split("\n")
      .map((line) => JSON.parse(line));
  for (const record of state()) {
    assert.match(record.crc32, /^[0-9a-f]{8}$/);
    assert.equal("sha256" in record, false);
  }
  const args = ["get", ...urls, "-o", "o", "--report", "r.json"];
  const sorted = async () =>
    (await reportOf(cwd)).items.map((i) => [i.dest, i.status, i.sha256])
      .sort();
  // Touched since (a new mtime, same bytes): read for its CRC-32, still kept.
  const later = new Date(Date.now() + 5000);
  Deno.utimeSync(`${cwd}/o/large.bin`, later, later);
  const rerun = await runBulkget(args, { cwd });
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(
    rerun.stdout,
    /^bulkget: 0 downloaded, 2 already complete; 0 B received/m,
  );
  assert.deepEqual(await sorted(), [
    ["large.bin", "skipped", null],
    ["small.bin", "skipped", null],
  ]);
  const forced = await runBulkget([...args, "--force"], { cwd });
  assert.equal(forced.code, 0, forced.stderr);
  const sha = (name: string) =>
    createHash("sha256").update(Deno.readFileSync(`${cwd}/o/${name}`))
      .digest("hex");
  const digests = [
    ["large.bin", "ok", sha("large.bin")],
    ["small.bin", "ok", sha("small.bin")],
  ];
  assert.deepEqual(await sorted(), digests);
  const recorded = await runBulkget(args, { cwd });
  assert.equal(recorded.code, 0, recorded.stderr);
  assert.deepEqual(
    await sorted(),
    digests.map(([dest, , digest]) => [dest, "skipped", digest]),
  );
});

Deno.test("README artifacts: --report writes one entry per artifact with exactly the listed fields", async () => {
  const { startGithubDouble } = await import("../lib/server/github_api.ts");
  const { makeZip } = await import("../lib/server/zip_maker.ts");
  const section = README.slice(
    README.indexOf("### Download CI artifacts"),
    README.indexOf("### From aria2c"),
  );
  const line = /`--report FILE` writes one entry per artifact: ([\s\S]*?)\n- /
    .exec(section)![1];
  const [fields, statuses] = line.split("`status`");
  const names = (text: string) =>
    [...text.matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1]);
  await using gh = await startGithubDouble({
    token: "t",
    artifacts: [
      { name: "one", body: makeZip([{ name: "a.txt", data: "A" }]), runId: 5 },
    ],
  });
  const cwd = await Deno.makeTempDir();
  const result = await runBulkget(
    [
      "artifacts",
      "github",
      "--api-url",
      gh.apiUrl,
      "-o",
      "out",
      "--report",
      "r.json",
    ],
    {
      cwd,
      env: {
        GITHUB_TOKEN: "t",
        GITHUB_REPOSITORY: gh.repository,
        GITHUB_RUN_ID: "5",
      },
    },
  );
  assert.equal(result.code, 0, result.stderr);
  const [entry] =
    JSON.parse(await Deno.readTextFile(`${cwd}/r.json`)).artifacts;
  assert.deepEqual(
    Object.keys(entry).sort(),
    [
      ...names(fields),
      "status",
      ...names(statuses).filter((n) =>
        !/^(ok|skipped|expired|error|cancelled)$/.test(n)
      ),
    ].sort(),
  );
  assert.equal(entry.status, "ok");
});
