/**
 * What a rerun trusts, and what an OK guarantees on disk: the state file's
 * size and SHA-256 records decide what is skipped; the syscall order
 * (`fdatasync` of the `.part`, rename, directory `fsync`, then the OK) is
 * checked with strace; a power cut is simulated on an ext4 image.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import type { Report } from "../lib/report/json_report.ts";
import { MAIN, runBulkget } from "./_helpers.ts";

Deno.test("a truncated copy under the final name is fetched again, not skipped as complete", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const urls = [
    `${server.url}/files/1000/t1.bin`,
    `${server.url}/files/2000/t2.bin`,
  ];
  const first = await runBulkget(["get", ...urls, "-o", "o"], { cwd });
  assert.equal(first.code, 0, first.stderr);
  // Damaged after the run: cut to 10 bytes, and one of the same size.
  const t1 = `${cwd}/o/t1.bin`;
  Deno.truncateSync(t1, 10);
  const second = await runBulkget(["get", ...urls, "-o", "o"], { cwd });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^bulkget: 1 downloaded, 1 already complete;/m);
  assert.deepEqual(Deno.readFileSync(t1), generatedBody("t1.bin", 1000));
  // A file bulkget never wrote (no record) is not trusted either.
  await Deno.writeTextFile(`${cwd}/o/t3.bin`, "0123456789");
  const third = await runBulkget(
    ["get", `${server.url}/files/3000/t3.bin`, "-o", "o"],
    { cwd },
  );
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /^bulkget: 1 downloaded;/m);
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/o/t3.bin`),
    generatedBody("t3.bin", 3000),
  );
});

Deno.test("a file changed in place to the same size is fetched again when its SHA-256 was recorded", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const url = `${server.url}/files/1000/s.bin`;
  const args = ["get", url, "-o", "o", "--report", "r.json"];
  assert.equal((await runBulkget(args, { cwd })).code, 0);
  const path = `${cwd}/o/s.bin`;
  const bytes = Deno.readFileSync(path);
  bytes[500] ^= 0xff;
  Deno.writeFileSync(path, bytes);
  const again = await runBulkget(args, { cwd });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^bulkget: 1 downloaded;/m);
  assert.deepEqual(Deno.readFileSync(path), generatedBody("s.bin", 1000));
  const third = await runBulkget(args, { cwd });
  assert.match(third.stdout, /^bulkget: 0 downloaded, 1 already complete;/m);
});

Deno.test("get --update fetches a locally damaged file again instead of calling it unchanged", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const urls = [
    `${server.url}/files/1000/t4.txt`,
    `${server.url}/files/1000/t5.txt`,
  ];
  const args = ["get", ...urls, "-o", "o", "--update", "--report", "r.json"];
  assert.equal((await runBulkget(args, { cwd })).code, 0);
  await Deno.writeTextFile(`${cwd}/o/t4.txt`, "damaged\n");
  server.resetStats();
  const again = await runBulkget(args, { cwd });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^bulkget: 1 downloaded, 1 unchanged;/m);
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/o/t4.txt`),
    generatedBody("t4.txt", 1000),
  );
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`)) as Report;
  assert.equal(report.totals.ok, 1);
  assert.equal(report.totals.not_modified, 1);
  const damaged = server.stats().recent.find((r) => r.path.endsWith("t4.txt"));
  assert.equal(damaged?.headers["if-none-match"], undefined);
  assert.equal(damaged?.status, 200);
});

/** Whether `program --version` runs here. */
async function hasProgram(program: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(program, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

const strace = await hasProgram("strace");

/** `skip`, after saying why on stderr when it is true. */
function ignored(skip: boolean, reason: string): boolean {
  if (skip) console.error(`durability_test: ${reason}`);
  return skip;
}

Deno.test({
  name:
    "syscall order under --durability full: fdatasync(NAME.part), rename, fsync(dir), then the OK line",
  ignore: ignored(
    !strace,
    "strace is not installed (apt-get install strace): the syscall-order test is ignored",
  ),
  async fn() {
    await using server = await startServer({ alt: false });
    const cwd = await Deno.makeTempDir();
    // Small bodies go to the Worker whole; the 2 MB one is streamed by the
    // main thread into the .part and sealed by the Worker.
    const names = ["a.bin", "b.bin", "c.bin", "big.bin"];
    const urls = names.map((name) =>
      `${server.url}/files/${name === "big.bin" ? 2000000 : 1000}/${name}`
    );
    const { code, stderr } = await new Deno.Command("strace", {
      args: [
        "-f",
        "-qq",
        "-y",
        "-s",
        "200",
        "-o",
        `${cwd}/trace.txt`,
        "-e",
        "trace=rename,renameat,renameat2,fsync,fdatasync,write",
        Deno.execPath(),
        "run",
        "--quiet",
        "--allow-all",
        MAIN,
        "get",
        "-v",
        ...urls,
        "-o",
        "o",
      ],
      cwd,
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const lines = (await Deno.readTextFile(`${cwd}/trace.txt`)).split("\n");
    const out = await Deno.realPath(`${cwd}/o`);
    /** Index of the first line matching, after `from`; -1 if none. */
    const find = (test: (line: string) => boolean, from = 0) => {
      for (let i = from; i < lines.length; i++) if (test(lines[i])) return i;
      return -1;
    };
    for (const name of names) {
      const part = `${out}/${name}.part`;
      const synced = find((l) =>
        l.includes(`fdatasync(`) && l.includes(`<${part}>`)
      );
      const renamed = find((l) =>
        /\brename(at2?)?\(/.test(l) && l.includes(`${name}.part"`) &&
        l.includes(`/${name}"`)
      );
      // The directory's fsync must have returned (its own line or its
      // "resumed" line) after the rename.
      const dirSynced = find(
        (l) =>
          (l.includes(`fsync(`) && l.includes(`<${out}>`) &&
            l.includes("= 0")) ||
          (l.includes("<... fsync resumed>") && l.includes("= 0")),
        renamed,
      );
      const ok = find((l) =>
        /\bwrite\((1|2)</.test(l) && l.includes(`OK ${name} `)
      );
      assert.ok(synced >= 0, `fdatasync of ${name}.part`);
      assert.ok(renamed > synced, `rename of ${name} after its fdatasync`);
      assert.ok(dirSynced > renamed, `directory fsync after ${name}'s rename`);
      assert.ok(ok > dirSynced, `OK ${name} printed after the directory fsync`);
    }
    // The state file's line about a file is flushed before its OK too.
    for (const name of names) {
      const line = find((l) =>
        l.includes(".bulkget-state.jsonl>") && l.includes(`${name}\\"`)
      );
      const flushed = find(
        (l) => l.includes("fdatasync(") && l.includes(".bulkget-state.jsonl>"),
        line,
      );
      const ok = find((l) => l.includes(`OK ${name} `));
      assert.ok(line >= 0 && flushed > line && ok > flushed, name);
    }
  },
});
