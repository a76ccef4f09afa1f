/**
 * What a rerun trusts, and what an OK guarantees on disk: the state file's
 * size and SHA-256 records decide what is skipped; the syscall order
 * (`fdatasync` of the `.part`, rename, directory `fsync`, then the OK) is
 * checked with strace; a power cut is simulated on an ext4 image.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import type { Report } from "../lib/report/json_report.ts";
import { STATE_FILE } from "../lib/writer/paths.ts";
import {
  flagFile,
  getPutAndSealed,
  PUT_AND_SEALED,
  runBulkget,
} from "./_helpers.ts";
import {
  differs,
  findLine,
  HAS_STRACE,
  ignored,
  LOOP_MISSING,
  mountNewExt4,
  sh,
  snapshotsDuring,
  straceBulkget,
} from "./_durability.ts";

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

Deno.test("a file changed in place to the same size is fetched again after a plain run (no --report, --update or checksum), small and streamed bodies alike", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const files = PUT_AND_SEALED;
  const args = getPutAndSealed(server.url, "o");
  const first = await runBulkget(args, { cwd });
  assert.equal(first.code, 0, first.stderr);
  for (const [name] of files) {
    const path = `${cwd}/o/${name}`;
    const bytes = Deno.readFileSync(path);
    bytes[bytes.byteLength >> 1] ^= 0xff;
    Deno.writeFileSync(path, bytes);
  }
  const again = await runBulkget(args, { cwd });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^bulkget: 2 downloaded;/m);
  for (const [name, size] of files) {
    assert.deepEqual(
      Deno.readFileSync(`${cwd}/o/${name}`),
      generatedBody(name, size),
    );
  }
  const third = await runBulkget(args, { cwd });
  assert.match(third.stdout, /^bulkget: 0 downloaded, 2 already complete;/m);
});

Deno.test("the state file records each file's CRC-32 after a plain run, its SHA-256 when one was taken (--report), small and streamed bodies alike", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const recorded = async (dir: string) =>
    new Map(
      (await Deno.readTextFile(`${cwd}/${dir}/${STATE_FILE}`)).trim()
        .split("\n").map((line) => JSON.parse(line)).map((r) => [r.dest, r]),
    );
  const plain = await runBulkget(getPutAndSealed(server.url, "o"), { cwd });
  assert.equal(plain.code, 0, plain.stderr);
  // fetch's bodies are piped, not seen by JavaScript: the Worker reads them.
  const piped = await runBulkget(
    [...getPutAndSealed(server.url, "f"), "--use-fetch"],
    { cwd },
  );
  assert.equal(piped.code, 0, piped.stderr);
  const reported = await runBulkget(
    [...getPutAndSealed(server.url, "r"), "--report", "r.json"],
    { cwd },
  );
  assert.equal(reported.code, 0, reported.stderr);
  const reportedRecords = await recorded("r");
  for (const [name, size] of PUT_AND_SEALED) {
    const body = generatedBody(name, size);
    const crc = crc32(body).toString(16).padStart(8, "0");
    for (const records of [await recorded("o"), await recorded("f")]) {
      assert.equal(records.get(name).crc32, crc, name);
      assert.equal(records.get(name).sha256, undefined, name);
      assert.equal(records.get(name).size, size, name);
    }
    const sha = createHash("sha256").update(body).digest("hex");
    assert.equal(reportedRecords.get(name).sha256, sha, name);
    assert.equal(reportedRecords.get(name).crc32, undefined, name);
  }
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

Deno.test({
  name:
    "syscall order under --durability full: fdatasync(NAME.part), rename, fsync(dir), then the OK line",
  ignore: ignored(
    !HAS_STRACE,
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
    const lines = await straceBulkget(
      ["get", "-v", ...urls, "-o", "o"],
      cwd,
      "rename,renameat,renameat2,fsync,fdatasync,write",
    );
    const out = await Deno.realPath(`${cwd}/o`);
    const find = (test: (line: string) => boolean, from = 0) =>
      findLine(lines, test, from);
    for (const name of names) {
      const part = `${out}/${name}.part`;
      const synced = find((l) =>
        l.includes(`fdatasync(`) && l.includes(`<${part}>`)
      );
      const renamed = find((l) =>
        /\brename(at2?)?\(/.test(l) && l.includes(`${name}.part"`) &&
        l.includes(`/${name}"`)
      );
      // The directory's fsync must have returned after the rename.
      const dirSynced = find(
        (l) =>
          l.includes(`fsync(`) && l.includes(`<${out}>`) && l.includes("= 0"),
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

Deno.test({
  name:
    "under --durability full, every directory bulkget makes is flushed in its parent before the OK of a file in it",
  ignore: ignored(
    !HAS_STRACE,
    "strace is not installed (apt-get install strace): the syscall-order test is ignored",
  ),
  async fn() {
    await using server = await startServer({ alt: false });
    const cwd = await Deno.realPath(await Deno.makeTempDir());
    // o, o/x and o/x/y are all new: each is a name in its parent, lost in a
    // power cut unless the parent is flushed, and the file with it.
    const names = ["small.bin", "big.bin"];
    const urls = names.map((name) =>
      `${server.url}/files/${name === "big.bin" ? 2000000 : 1000}/${name}`
    );
    const lines = await straceBulkget(
      ["get", "-v", ...urls, "-o", "o/x/y"],
      cwd,
      "mkdir,mkdirat,rename,renameat,renameat2,fsync,fdatasync,write",
    );
    const made = (dir: string) =>
      findLine(lines, (l) => /\bmkdir(at)?\(/.test(l) && l.includes(`${dir}"`));
    const flushed = (dir: string, from: number) =>
      findLine(
        lines,
        (l) =>
          l.includes("fsync(") && l.includes(`<${dir}>`) && l.includes("= 0"),
        from,
      );
    const firstOk = findLine(
      lines,
      (l) => /\bwrite\((1|2)</.test(l) && l.includes("OK "),
    );
    assert.ok(firstOk >= 0, "an OK line");
    for (
      const [dir, parent] of [["o", cwd], ["o/x", `${cwd}/o`], [
        "o/x/y",
        `${cwd}/o/x`,
      ]]
    ) {
      const at = made(dir);
      assert.ok(at >= 0, `mkdir of ${dir}`);
      const synced = flushed(parent, at);
      assert.ok(synced > at, `fsync of ${parent} after ${dir} was made`);
      assert.ok(firstOk > synced, `the first OK after ${parent} was flushed`);
    }
  },
});

/** The files of the power-cut run: many small ones and a few streamed ones. */
function powerCutFiles(): { name: string; size: number }[] {
  const files = [];
  for (let i = 0; i < 240; i++) {
    files.push({ name: `f${i}.bin`, size: 1000 + ((i * 7919) % 60000) });
  }
  for (let i = 0; i < 4; i++) {
    files.push({ name: `big${i}.bin`, size: 1_500_000 + i });
  }
  return files;
}

Deno.test({
  name:
    "power cut: every file reported OK is complete in a copy of the disk taken without sync, and a rerun on the copy fixes the rest",
  ignore: ignored(
    LOOP_MISSING !== undefined,
    `the power-cut simulation is ignored: ${LOOP_MISSING}`,
  ),
  async fn() {
    // POWERCUT_DURABILITY=none runs the same check without flushes (it
    // finds lost files: see the README); the suite runs the default.
    const durability = Deno.env.get("POWERCUT_DURABILITY") ?? "full";
    await using server = await startServer({ alt: false });
    const dir = await Deno.makeTempDir({ prefix: "bulkget-powercut-" });
    const image = `${dir}/disk.img`;
    const mnt = `${dir}/mnt`;
    const files = powerCutFiles();
    await Deno.writeTextFile(
      `${dir}/list.txt`,
      files.map((f) => `${server.url}/files/${f.size}/${f.name}\n`).join(""),
    );
    const sizes = new Map(files.map((f) => [f.name, f.size]));
    await mountNewExt4(image, mnt, 96);
    let snapshots;
    try {
      snapshots = await snapshotsDuring({
        image,
        args: [
          "get",
          "-v",
          "-m",
          "8",
          "-i",
          `${dir}/list.txt`,
          "-o",
          `${mnt}/o`,
          "--durability",
          durability,
        ],
        donePattern: /^OK (\S+) /,
        moments: [30, 110, 200],
      });
      assert.equal(snapshots.at(-1)!.done.length, files.length);
    } finally {
      await sh("umount", mnt);
    }
    const lost: string[] = [];
    for (const snapshot of snapshots) {
      await sh("mount", "-o", "loop", snapshot.image, mnt); // replays the journal
      try {
        for (const name of snapshot.done) {
          const how = await differs(
            `${mnt}/o/${name}`,
            generatedBody(name, sizes.get(name)!),
          );
          if (how) {
            lost.push(
              `${snapshot.image.slice(dir.length + 1)}: ${name} (${how})`,
            );
          }
        }
        // The rerun on the copy fixes everything else.
        const rerun = await runBulkget([
          "get",
          "-q",
          "-i",
          `${dir}/list.txt`,
          "-o",
          `${mnt}/o`,
        ]);
        assert.equal(rerun.code, 0, rerun.stderr);
        for (const { name, size } of files) {
          assert.equal(
            await differs(`${mnt}/o/${name}`, generatedBody(name, size)),
            undefined,
            `${name} after the rerun on ${snapshot.image}`,
          );
        }
      } finally {
        await sh("umount", mnt);
      }
    }
    if (lost.length > 0) {
      const counts = snapshots.map(({ image, done }) => {
        const name = image.slice(dir.length + 1);
        const here = lost.filter((line) => line.startsWith(`${name}:`));
        const missing = here.filter((line) => line.endsWith("(missing)"));
        return `${name}: ${here.length} of ${done.length} OK files lost (${missing.length} missing, ${
          here.length - missing.length
        } empty or wrong)`;
      });
      console.error(
        `power cut (--durability ${durability}):\n  ${counts.join("\n  ")}`,
      );
    }
    assert.equal(
      lost.length,
      0,
      `files reported OK but lost in the copy: ${lost.slice(0, 10).join(", ")}`,
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "a .part whose resume is answered with the whole (another version), or not resumed (--no-resume, with or without --force, --content-disposition, flags), loses its old resume facts, durably, before a byte of it changes: small, streamed and --split bodies",
  ignore: ignored(
    !HAS_STRACE,
    "strace is not installed (apt-get install strace): the syscall-order test is ignored",
  ),
  async fn() {
    await using server = await startServer({ alt: false });
    const cases = [
      { size: 500_000, args: [] }, // read whole: written by the Worker
      { size: 3_000_000, args: [] }, // streamed into the .part
      { size: 3_000_000, args: ["--split", "2", "--min-split-size", "1M"] },
      // Not resumed at all: asked whole, the old .part is no less stale.
      { size: 500_000, args: ["--no-resume"] },
      {
        size: 3_000_000,
        args: ["--no-resume", "--split", "2", "--min-split-size", "1M"],
      },
      // --force with no resume asks the Worker nothing before the first
      // request (no probe): the Worker itself drops the stale facts.
      { size: 500_000, args: ["--force", "--no-resume"] },
      { size: 3_000_000, args: ["--force", "--no-resume"] },
      {
        size: 3_000_000,
        args: [
          "--force",
          "--no-resume",
          "--split",
          "2",
          "--min-split-size",
          "1M",
        ],
      },
      { size: 500_000, args: ["--force", "--content-disposition"] },
      { size: 3_000_000, args: ["--force", "--content-disposition"] },
      { size: 3_000_000, args: ["--no-resume", "--use-fetch"] },
      // `flags` neither resumes nor looks before it writes.
      { size: 0, args: [], flags: true },
    ];
    for (const { size, args, flags } of cases) {
      const cwd = await Deno.realPath(await Deno.makeTempDir());
      const name = flags ? "br.gif" : "v.bin";
      const dir = flags ? "downloads" : "o";
      const url = `${server.url}/files/${size}/v.bin`;
      // What a cut run of another version ("A") left: its first MiB and
      // its facts. The server's ETag is not "A": the resume is answered 200.
      await Deno.mkdir(`${cwd}/${dir}`);
      await Deno.writeFile(
        `${cwd}/${dir}/${name}.part`,
        new Uint8Array(1 << 20),
      );
      await Deno.writeTextFile(
        `${cwd}/${dir}/${name}.part.json`,
        JSON.stringify({ url, etag: '"A"', total: 4 << 20 }),
      );
      const command = flags
        ? ["flags", "-s", "LOCAL", "--base-url", `${server.url}/flags`, "BR"]
        : ["get", url, "-o", "o", ...args];
      const lines = await straceBulkget(
        command,
        cwd,
        "openat,unlink,unlinkat,ftruncate,write,pwrite64,fsync,fdatasync",
      );
      const part = `${cwd}/${dir}/${name}.part`;
      const what = flags ? "flags" : `${size} bytes ${args.join(" ")}`;
      const removed = findLine(
        lines,
        (l) => /\bunlink(at)?\(/.test(l) && l.includes(`${name}.part.json"`),
      );
      assert.ok(removed >= 0, `${what}: the old facts are removed`);
      const flushed = findLine(
        lines,
        (l) =>
          /\bfsync\(/.test(l) && l.includes(`<${cwd}/${dir}>`) &&
          l.includes("= 0"),
        removed,
      );
      // The first change to the .part's bytes: emptied, cut or written.
      const changed = findLine(
        lines,
        (l) =>
          (/\bopenat\(/.test(l) && l.includes(`${part}"`) &&
            l.includes("O_TRUNC")) ||
          (/\b(ftruncate|write|pwrite64)\(/.test(l) && l.includes(`<${part}>`)),
      );
      assert.ok(changed >= 0, `${what}: the .part is written`);
      assert.ok(
        flushed >= 0 && flushed < changed,
        `${what}: the removal is flushed (directory fsync) before the .part changes: ${
          lines[changed].slice(0, 160)
        }`,
      );
      assert.equal(
        await differs(
          `${cwd}/${dir}/${name}`,
          flags
            ? await Deno.readFile(flagFile("BR"))
            : generatedBody("v.bin", size),
        ),
        undefined,
      );
      assert.deepEqual(
        [...Deno.readDirSync(`${cwd}/${dir}`)].map((e) => e.name).filter((
          n,
        ) => n.startsWith(name)),
        [name],
        `${what}: nothing stale beside the file`,
      );
    }
  },
});
