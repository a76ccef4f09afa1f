import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { openWriter } from "../lib/writer/client.ts";
import { destPaths, STATE_FILE } from "../lib/writer/paths.ts";
import {
  getPutAndSealed,
  listDir,
  PUT_AND_SEALED,
  runBulkget,
} from "./_helpers.ts";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";

const sha = (bytes: Uint8Array) =>
  createHash("sha256").update(bytes).digest("hex");
const bytesOf = (text: string) => new TextEncoder().encode(text);

Deno.test("writer puts whole bodies via .part and renames them into place, hashing and recording each", async () => {
  const dir = await Deno.makeTempDir();
  const writer = openWriter({ outDir: dir });
  try {
    const results = await Promise.all(
      [...Array(200)].map((_, i) =>
        // The last one opts out of hashing.
        writer.put(`sub/f${i}.txt`, bytesOf(`file ${i}`), {
          digest: i === 199 ? false : undefined,
        })
      ),
    );
    assert.equal(results.length, 200);
    assert.equal(results[8].sha256, sha(bytesOf("file 8")));
    assert.equal(results[7].sha256, sha(bytesOf("file 7")));
    assert.equal(results[7].bytes, 6);
    assert.deepEqual(results[199], { bytes: 8 }); // no digest taken: none given
    // The state file records the size and SHA-256 of every file (the size
    // alone of the one not hashed).
    const records = new Map(
      (await Deno.readTextFile(`${dir}/${STATE_FILE}`)).trim().split("\n")
        .map((line) => JSON.parse(line)).map((r) => [r.dest, r]),
    );
    assert.equal(records.size, 200);
    const info = Deno.statSync(`${dir}/sub/f7.txt`);
    assert.deepEqual(records.get("sub/f7.txt"), {
      dest: "sub/f7.txt",
      size: 6,
      sha256: sha(bytesOf("file 7")),
      mtime: info.mtime?.getTime(),
      ctime: info.ctime?.getTime(),
    });
    assert.equal(records.get("sub/f199.txt").sha256, undefined);
    assert.equal(records.get("sub/f199.txt").size, 8);
    assert.equal(await Deno.readTextFile(`${dir}/sub/f199.txt`), "file 199");
    const names = [...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name);
    assert.equal(names.filter((n) => n.endsWith(".part")).length, 0);
  } finally {
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer refuses a body whose checksum or size is wrong and leaves nothing", async () => {
  const dir = await Deno.makeTempDir();
  const writer = openWriter({ outDir: dir });
  try {
    await assert.rejects(
      writer.put("a.txt", bytesOf("abc"), { sha256: "0".repeat(64) }),
      { code: "VERIFY_FAILED" },
    );
    await assert.rejects(
      writer.put("b.txt", bytesOf("abc"), { size: 4 }),
      /size mismatch/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer prepares a .part, keeps it for resume, and seals the whole file", async () => {
  const dir = await Deno.makeTempDir();
  const all = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  let writer = openWriter({ outDir: dir });
  try {
    const part = await writer.prepare("big.bin", 0, {
      url: "http://x/big",
      etag: '"v1"',
    });
    await Deno.writeFile(part, all.slice(0, 100_000), { append: true });
    await writer.release("big.bin", true);
    const probe = await writer.probe("big.bin");
    assert.equal(probe.finalSize, undefined);
    assert.equal(probe.part?.size, 100_000);
    assert.equal(probe.part?.meta?.etag, '"v1"');
    await writer.close();

    writer = openWriter({ outDir: dir });
    const resumed = await writer.prepare("big.bin", 100_000);
    assert.equal(resumed, part);
    await Deno.writeFile(resumed, all.slice(100_000), { append: true });
    const done = await writer.seal("big.bin", {
      size: all.length,
      sha256: sha(all),
    });
    assert.equal(done.bytes, all.length);
    assert.equal(done.sha256, sha(all));
    assert.deepEqual(await Deno.readFile(`${dir}/big.bin`), all);
    assert.deepEqual(listDir(dir), [
      "big.bin",
    ]);
  } finally {
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer close: a segmented .part still open is saved with every range written counted; with nothing open or unanswered the files and state lines are all there", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const writer = openWriter({ outDir: dir });
    await writer.startSplit("seg.bin", {
      url: "http://x/seg",
      total: 1000,
      split: { ranges: [[0, 500], [500, 1000]], done: [0, 0] },
    }, true);
    const queued = await writer.writeAt("seg.bin", 1, 500, new Uint8Array(200));
    await queued.written;
    // No release or seal: only the Worker's close saves the sidecar now
    // (it is otherwise saved at most once a second).
    await writer.close();
    const meta = JSON.parse(
      await Deno.readTextFile(`${dir}/seg.bin.part.json`),
    );
    assert.deepEqual(meta.split.done, [0, 200]);

    const plain = openWriter({ outDir: dir });
    const puts = await Promise.all(
      [...Array(70)].map((_, i) =>
        plain.put(`p/f${i}.txt`, bytesOf(`file ${i}`), {})
      ),
    );
    await plain.close(); // every reply in: the Worker is ended without a close
    assert.equal(puts.length, 70);
    assert.equal(await Deno.readTextFile(`${dir}/p/f69.txt`), "file 69");
    const lines = (await Deno.readTextFile(`${dir}/${STATE_FILE}`)).trim()
      .split("\n");
    assert.equal(lines.length, 70);
    const unused = openWriter({ outDir: dir });
    await unused.close(); // never started: nothing written, nothing left
    assert.equal(listDir(`${dir}/p`).length, 70);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer removes a sealed .part whose bytes are wrong, and a released one not kept; seals by size with no checksum given, hashing for the record", async () => {
  const dir = await Deno.makeTempDir();
  const writer = openWriter({ outDir: dir });
  try {
    const part = await writer.prepare("x.bin", 0, {
      url: "http://x/x",
      etag: '"1"',
    });
    await Deno.writeFile(part, bytesOf("abc"), { append: true });
    await assert.rejects(writer.seal("x.bin", { size: 4 }), {
      code: "VERIFY_FAILED",
    });
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    const again = await writer.prepare("y.bin", 0, {
      url: "http://x/y",
      etag: '"1"',
    });
    await Deno.writeFile(again, bytesOf("abc"), { append: true });
    await writer.release("y.bin", false);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // No checksum to check: the size is checked, and the digest recorded.
    const plain = await writer.prepare("z.bin", 0);
    await Deno.writeFile(plain, bytesOf("abc"), { append: true });
    assert.deepEqual(await writer.seal("z.bin", { size: 3 }), {
      bytes: 3,
      sha256: sha(bytesOf("abc")),
    });
    assert.equal(await Deno.readTextFile(`${dir}/z.bin`), "abc");
  } finally {
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer refuses a destination outside the output directory", async () => {
  const dir = await Deno.makeTempDir();
  const writer = openWriter({ outDir: dir });
  try {
    await assert.rejects(
      writer.put("../escape.txt", bytesOf("x"), {}),
      /outside the output directory/,
    );
  } finally {
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("destPaths keeps every destination inside the output directory", () => {
  assert.deepEqual(destPaths("out/", "a/b.bin"), {
    final: "out/a/b.bin",
    part: "out/a/b.bin.part",
    meta: "out/a/b.bin.part.json",
    dir: "out/a",
  });
  assert.equal(destPaths("/", "x").final, "/x");
  assert.equal(destPaths("", "x").dir, ".");
  // A plain name (the common case, which skips the split) lands the same.
  assert.deepEqual(destPaths("out//", "b.bin"), {
    final: "out/b.bin",
    part: "out/b.bin.part",
    meta: "out/b.bin.part.json",
    dir: "out",
  });
  assert.equal(destPaths("out", "..b").final, "out/..b");
  for (
    const dest of [
      "../x",
      "a/../../x",
      "/etc/x",
      "\\x",
      "C:x",
      "a//b",
      "./a",
      "a/",
      "",
      ".",
      "..",
      "c:",
    ]
  ) {
    assert.throws(() => destPaths("out", dest), RangeError, dest);
  }
});

/** What a new writer's probe says of `dest` in `dir` (each writer reads the state file afresh). */
async function probeAgain(dir: string, dest: string) {
  const writer = openWriter({ outDir: dir });
  try {
    return await writer.probe(dest);
  } finally {
    await writer.close();
  }
}

Deno.test("writer probe: a file whose stamp (mtime, ctime) is the recorded one is trusted unread; any other is hashed against the record", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const writer = openWriter({ outDir: dir });
    await writer.put("a.bin", bytesOf("first bytes"), {});
    await writer.put("b.bin", bytesOf("other bytes"), {});
    await writer.close();
    const state = `${dir}/${STATE_FILE}`;
    const line = (await Deno.readTextFile(state)).split("\n")
      .map((text) => text && JSON.parse(text))
      .find((record) => record?.dest === "b.bin");
    assert.equal(line.sha256, sha(bytesOf("other bytes")));
    assert.equal(line.mtime, Deno.statSync(`${dir}/b.bin`).mtime?.getTime());
    // A forged SHA-256 in the record goes unnoticed while the stamp matches:
    // the file is not read.
    await Deno.writeTextFile(
      state,
      JSON.stringify({ ...line, sha256: "0".repeat(64) }) + "\n",
      { append: true },
    );
    assert.equal((await probeAgain(dir, "b.bin")).recorded, true);
    // Touched (same bytes, another time): hashed, and the forged digest fails.
    const later = new Date(line.mtime + 5000);
    Deno.utimeSync(`${dir}/b.bin`, later, later);
    assert.equal((await probeAgain(dir, "b.bin")).recorded, false);
    // Touched with its digest rightly recorded: hashed, and it matches.
    Deno.utimeSync(`${dir}/a.bin`, later, later);
    assert.equal((await probeAgain(dir, "a.bin")).recorded, true);
    // Rewritten to the same size with its old mtime put back: the change
    // time (whole seconds here) still differs once the second has turned.
    const recordedA = (await Deno.readTextFile(state)).split("\n")
      .map((text) => text && JSON.parse(text))
      .find((record) => record?.dest === "a.bin");
    // The kernel stamps files from a coarse clock that can lag Date.now() by
    // a tick, so wait until well past the turn of the second.
    const deadline = Date.now() + 2000;
    const turned = (Math.floor(recordedA.ctime / 1000) + 1) * 1000 + 100;
    while (Date.now() < turned) {
      assert.ok(Date.now() < deadline, "the clock's second did not turn");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    Deno.writeFileSync(`${dir}/a.bin`, bytesOf("FIRST BYTES"));
    const before = new Date(recordedA.mtime);
    Deno.utimeSync(`${dir}/a.bin`, before, before);
    assert.equal(
      Deno.statSync(`${dir}/a.bin`).mtime?.getTime(),
      recordedA.mtime,
    );
    assert.equal((await probeAgain(dir, "a.bin")).recorded, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer with digest crc32: many puts in one batch each get their own size and CRC-32 back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const writer = openWriter({ outDir: dir });
    const texts = Array.from({ length: 40 }, (_, i) => `body ${"x".repeat(i)}`);
    // Sent together, they share a batch and its reply.
    const replies = await Promise.all(
      texts.map((text, i) =>
        writer.put(`f${i}.bin`, bytesOf(text), { digest: "crc32" })
      ),
    );
    await writer.close();
    assert.deepEqual(
      replies,
      texts.map((text) => ({
        bytes: bytesOf(text).length,
        crc32: crc32(bytesOf(text)).toString(16).padStart(8, "0"),
      })),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer with digest crc32: put and seal record the CRC-32 (no SHA-256), seal the one taken as the bytes were written unless another checksum reads the file; a touched file is read and matched by it, a rewritten one is not", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const writer = openWriter({ outDir: dir });
    const put = await writer.put("a.bin", bytesOf("first bytes"), {
      digest: "crc32",
    });
    const part = await writer.prepare("b.bin", 0);
    await Deno.writeFile(part, bytesOf("other bytes"), { append: true });
    const sealed = await writer.seal("b.bin", { digest: "crc32" });
    // A CRC-32 taken as the bytes were written is trusted, not read back
    // (a wrong one shows it) ...
    const given = await writer.prepare("c.bin", 0);
    await Deno.writeFile(given, bytesOf("third"), { append: true });
    const trusted = await writer.seal(
      "c.bin",
      { digest: "crc32" },
      undefined,
      "01234567",
    );
    // ... unless another checksum must be read anyway.
    const checked = await writer.prepare("d.bin", 0);
    await Deno.writeFile(checked, bytesOf("fourth"), { append: true });
    const read = await writer.seal(
      "d.bin",
      {
        digest: "crc32",
        checksum: {
          algorithm: "md5",
          hex: createHash("md5").update(bytesOf("fourth")).digest("hex"),
        },
      },
      undefined,
      "01234567",
    );
    await writer.close();
    const crc = (text: string) =>
      crc32(bytesOf(text)).toString(16).padStart(8, "0");
    // No SHA-256 taken, so none given (not an empty placeholder).
    assert.deepEqual(put, { bytes: 11, crc32: crc("first bytes") });
    assert.deepEqual(sealed, { bytes: 11, crc32: crc("other bytes") });
    assert.deepEqual(trusted, { bytes: 5, crc32: "01234567" });
    assert.deepEqual(read, { bytes: 6, crc32: crc("fourth") });
    const records = new Map(
      (await Deno.readTextFile(`${dir}/${STATE_FILE}`)).trim().split("\n")
        .map((line) => JSON.parse(line)).map((r) => [r.dest, r]),
    );
    assert.equal(records.get("a.bin").crc32, crc("first bytes"));
    assert.equal(records.get("a.bin").sha256, undefined);
    assert.equal(records.get("b.bin").crc32, crc("other bytes"));
    // Touched: read, and its CRC-32 matches.
    const later = new Date(Date.now() + 5000);
    Deno.utimeSync(`${dir}/a.bin`, later, later);
    assert.equal((await probeAgain(dir, "a.bin")).recorded, true);
    // Rewritten to the same size: another CRC-32.
    Deno.writeFileSync(`${dir}/b.bin`, bytesOf("OTHER BYTES"));
    assert.equal((await probeAgain(dir, "b.bin")).recorded, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer: after a state file whose last line was torn (a crash mid-write), the next run's records start on a line of their own and are kept", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = openWriter({ outDir: dir });
    await first.put("a.bin", bytesOf("first bytes"), { digest: "crc32" });
    await first.close();
    const state = `${dir}/${STATE_FILE}`;
    await Deno.writeTextFile(state, '{"dest":"torn.bin","si', { append: true });
    const second = openWriter({ outDir: dir });
    await second.put("b.bin", bytesOf("other bytes"), { digest: "crc32" });
    await second.close();
    // b.bin was written by the second run: the state file vouches for it.
    assert.equal((await probeAgain(dir, "b.bin")).recorded, true);
    assert.equal((await probeAgain(dir, "a.bin")).recorded, true);
    // Rewritten to the same size since: its record says so.
    Deno.writeFileSync(`${dir}/b.bin`, bytesOf("OTHER BYTES"));
    assert.equal((await probeAgain(dir, "b.bin")).recorded, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer probe: a CRC-32 record that is wrong, or another file's of the same size, does not vouch for a touched file; a torn one vouches for nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const writer = openWriter({ outDir: dir });
    await writer.put("a.bin", bytesOf("first bytes"), { digest: "crc32" });
    await writer.put("b.bin", bytesOf("other bytes"), { digest: "crc32" });
    await writer.put("c.bin", bytesOf("third bytes"), { digest: "crc32" });
    await writer.close();
    const state = `${dir}/${STATE_FILE}`;
    const records = new Map(
      (await Deno.readTextFile(state)).trim().split("\n")
        .map((line) => JSON.parse(line)).map((r) => [r.dest, r]),
    );
    const a = records.get("a.bin"), b = records.get("b.bin");
    const c = records.get("c.bin");
    // a.bin's record now holds b.bin's CRC-32, b.bin's one off by a digit,
    // c.bin's is cut short (a torn last line: the earlier line, none here).
    const wrong = (b.crc32[0] === "0" ? "1" : "0") + b.crc32.slice(1);
    const line = JSON.stringify({ ...c, crc32: undefined });
    await Deno.writeTextFile(
      state,
      [
        JSON.stringify({ ...a, crc32: b.crc32 }),
        JSON.stringify({ ...b, crc32: wrong }),
        line.slice(0, line.length - 5),
      ].join("\n"),
      { append: true },
    );
    const later = new Date(Date.now() + 5000);
    for (const name of ["a.bin", "b.bin", "c.bin"]) {
      Deno.utimeSync(`${dir}/${name}`, later, later);
    }
    assert.equal((await probeAgain(dir, "a.bin")).recorded, false);
    assert.equal((await probeAgain(dir, "b.bin")).recorded, false);
    // c.bin's torn line is skipped: its first line, still right, matches.
    assert.equal((await probeAgain(dir, "c.bin")).recorded, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the writer Worker runs with only the output directory readable and writable: put, seal, and a rerun's probe", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const files = PUT_AND_SEALED;
  const args = getPutAndSealed(server.url, "out");
  const permissions = [
    `--allow-net=127.0.0.1:${server.port}`,
    "--allow-read=./out",
    "--allow-write=./out",
  ];
  const first = await runBulkget(args, { cwd, permissions });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^bulkget: 2 downloaded;/m);
  for (const [name, size] of files) {
    assert.deepEqual(
      Deno.readFileSync(`${cwd}/out/${name}`),
      generatedBody(name, size),
    );
  }
  // The rerun asks the Worker about both (the directory is not empty now).
  Deno.utimeSync(`${cwd}/out/large.bin`, new Date(0), new Date(0));
  const again = await runBulkget(args, { cwd, permissions });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^bulkget: 0 downloaded, 2 already complete;/m);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("a permission the Worker lacks reaches the caller as Deno's NotCapable, and a mismatch as VERIFY_FAILED", async () => {
  const dir = await Deno.makeTempDir();
  const script = `${dir}/probe.ts`;
  const client = new URL("../lib/writer/client.ts", import.meta.url).href;
  await Deno.writeTextFile(
    script,
    `import { openWriter } from ${JSON.stringify(client)};
const writer = openWriter({ outDir: ${JSON.stringify(`${dir}/out`)} });
const said = (error) => error instanceof Deno.errors.NotCapable ? "NotCapable" : error.code;
const put = await writer.put("a.txt", new TextEncoder().encode("a"), {}).then(() => "ok", said);
const size = await writer.put("b.txt", new TextEncoder().encode("b"), { size: 2 }).then(() => "ok", said);
await writer.close();
console.log(put, size);
`,
  );
  try {
    // Readable, not writable: the Worker's first write is refused.
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", `--allow-read=${dir}`, script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    assert.equal(code, 0, decode(stderr));
    assert.equal(decode(stdout).trim(), "NotCapable VERIFY_FAILED");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writer: a .part started anew loses the resume facts beside it, whether they were there before the run or written by this Worker in a directory it found empty (a put, a prepare at 0, a fresh --split)", async () => {
  const dir = await Deno.makeTempDir();
  const facts = (dest: string) => `${dir}/${dest}.part.json`;
  const has = (path: string) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  };
  const meta = { url: "http://x/f", etag: '"v1"', total: 10 };
  // Before the run: "old/" holds facts, "new/" does not exist.
  Deno.mkdirSync(`${dir}/old`);
  Deno.writeTextFileSync(facts("old/a.bin"), JSON.stringify(meta));
  Deno.writeTextFileSync(`${dir}/old/a.bin.part`, "abc");
  const writer = openWriter({ outDir: dir });
  try {
    await writer.put("old/a.bin", bytesOf("whole"), {});
    assert.equal(has(facts("old/a.bin")), false, "facts from before the run");
    // This Worker's own facts, in a directory that was empty: kept with
    // their .part after a failed body, then the file is put whole.
    await writer.put("new/first.bin", bytesOf("1"), {}); // new/ looked at
    const part = await writer.prepare("new/b.bin", 0, meta);
    await Deno.writeFile(part, bytesOf("abc"), { append: true });
    await writer.release("new/b.bin", true);
    assert.equal(has(facts("new/b.bin")), true);
    await writer.put("new/b.bin", bytesOf("whole"), {});
    assert.equal(has(facts("new/b.bin")), false, "facts of a put");
    // Restarted at 0 without facts of its own.
    const c = await writer.prepare("new/c.bin", 0, meta);
    await Deno.writeFile(c, bytesOf("abc"), { append: true });
    await writer.release("new/c.bin", true);
    await writer.prepare("new/c.bin", 0);
    assert.equal(has(facts("new/c.bin")), false, "facts of a prepare at 0");
    await writer.release("new/c.bin", false);
    // A --split .part kept (its ranges saved beside it), then put whole.
    await writer.startSplit("new/d.bin", {
      ...meta,
      split: { ranges: [[0, 5], [5, 10]], done: [0, 0] },
    }, true);
    await writer.release("new/d.bin", true);
    assert.equal(has(facts("new/d.bin")), true);
    await writer.put("new/d.bin", bytesOf("whole"), {});
    assert.equal(has(facts("new/d.bin")), false, "facts of a --split");
    assert.deepEqual(listDir(`${dir}/new`), ["b.bin", "d.bin", "first.bin"]);
  } finally {
    await writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});
