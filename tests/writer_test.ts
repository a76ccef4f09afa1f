import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { openWriter } from "../lib/writer/client.ts";

const sha = (bytes: Uint8Array) =>
  createHash("sha256").update(bytes).digest("hex");
const bytesOf = (text: string) => new TextEncoder().encode(text);

Deno.test("writer puts whole bodies via .part and renames them into place", async () => {
  const dir = await Deno.makeTempDir();
  const writer = openWriter({ outDir: dir });
  try {
    const results = await Promise.all(
      [...Array(200)].map((_, i) =>
        writer.put(`sub/f${i}.txt`, bytesOf(`file ${i}`), {})
      ),
    );
    assert.equal(results.length, 200);
    assert.equal(results[7].sha256, sha(bytesOf("file 7")));
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

Deno.test("writer streams chunks, resumes a kept .part and verifies the whole file", async () => {
  const dir = await Deno.makeTempDir();
  const all = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  let writer = openWriter({ outDir: dir, maxInFlightBytes: 64 * 1024 });
  try {
    const file = await writer.open("big.bin", 0, {
      url: "http://x/big",
      etag: '"v1"',
    });
    for (let i = 0; i < 100_000; i += 10_000) {
      await writer.write(file, all.slice(i, i + 10_000));
    }
    await writer.abort(file, true);
    const probe = await writer.probe("big.bin");
    assert.equal(probe.finalSize, undefined);
    assert.equal(probe.part?.size, 100_000);
    assert.equal(probe.part?.meta?.etag, '"v1"');
    await writer.close();

    writer = openWriter({ outDir: dir });
    const resumed = await writer.open("big.bin", 100_000);
    await writer.write(resumed, all.slice(100_000));
    const done = await writer.commit(resumed, {
      size: all.length,
      sha256: sha(all),
    });
    assert.equal(done.bytes, all.length);
    assert.deepEqual(await Deno.readFile(`${dir}/big.bin`), all);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      "big.bin",
    ]);
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
