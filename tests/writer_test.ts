import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { openWriter } from "../lib/writer/client.ts";
import { destPaths } from "../lib/writer/paths.ts";
import { listDir } from "./_helpers.ts";

const sha = (bytes: Uint8Array) =>
  createHash("sha256").update(bytes).digest("hex");
const bytesOf = (text: string) => new TextEncoder().encode(text);

Deno.test("writer puts whole bodies via .part and renames them into place, hashing those asked", async () => {
  const dir = await Deno.makeTempDir();
  const writer = openWriter({ outDir: dir });
  try {
    const results = await Promise.all(
      [...Array(200)].map((_, i) =>
        writer.put(`sub/f${i}.txt`, bytesOf(`file ${i}`), {
          digest: i % 2 === 0,
        })
      ),
    );
    assert.equal(results.length, 200);
    assert.equal(results[8].sha256, sha(bytesOf("file 8")));
    assert.equal(results[7].sha256, "");
    assert.equal(results[7].bytes, 6);
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
      { name: "VerifyError" },
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

Deno.test("writer removes a sealed .part whose bytes are wrong, and a released one not kept; seals by size alone", async () => {
  const dir = await Deno.makeTempDir();
  const writer = openWriter({ outDir: dir });
  try {
    const part = await writer.prepare("x.bin", 0, {
      url: "http://x/x",
      etag: '"1"',
    });
    await Deno.writeFile(part, bytesOf("abc"), { append: true });
    await assert.rejects(writer.seal("x.bin", { size: 4 }), {
      name: "VerifyError",
    });
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    const again = await writer.prepare("y.bin", 0, {
      url: "http://x/y",
      etag: '"1"',
    });
    await Deno.writeFile(again, bytesOf("abc"), { append: true });
    await writer.release("y.bin", false);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // Nothing to hash: the size alone is checked, and the digest left empty.
    const plain = await writer.prepare("z.bin", 0);
    await Deno.writeFile(plain, bytesOf("abc"), { append: true });
    assert.deepEqual(await writer.seal("z.bin", { size: 3 }), {
      bytes: 3,
      sha256: "",
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
    ]
  ) {
    assert.throws(() => destPaths("out", dest), RangeError, dest);
  }
});
