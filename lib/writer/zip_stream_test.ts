import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { ZipStreamer } from "./zip_stream.ts";
import { inTempDir } from "./_test_temp_dir.ts";
import { readZipIndex } from "./zip_index.ts";
import { ZipExtractor } from "./zip_extractor.ts";
import { makeZip, type ZipEntrySpec } from "../server/zip_maker.ts";

/** Bytes of `size` that differ by name. */
function bytesOf(name: string, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + name.length * 7) & 0xff;
  return bytes;
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

/** Writes `body` to `part` in pieces while `extractor` watches it with staging. */
async function growWatched(
  extractor: ZipExtractor,
  key: string,
  part: string,
  body: Uint8Array,
  stage: string,
) {
  using file = await Deno.open(part, { write: true, create: true });
  extractor.watch(key, part, { dir: stage, durable: true });
  for (let at = 0; at < body.length; at += 700_000) {
    await file.write(body.subarray(at, at + 700_000));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("ZipStreamer: stages each stored entry's bytes from pieces of any size, at its local header's offset, with its CRC-32; passes deflated and empty entries over", async () => {
  await inTempDir(async (dir) => {
    const specs: ZipEntrySpec[] = [
      { name: "a.bin", data: bytesOf("a", 5000) },
      { name: "d/deflated.txt", data: "z".repeat(9000), deflate: true },
      { name: "empty", data: "" },
      { name: "sub/dir/b.bin", data: bytesOf("b", 70_000) },
    ];
    const zip = makeZip(specs);
    await Deno.writeFile(`${dir}/a.zip`, zip);
    using file = await Deno.open(`${dir}/a.zip`);
    const index = await readZipIndex(file, zip.length);
    for (const piece of [1, 7, 4096, 1 << 20]) {
      const streamer = new ZipStreamer(`${dir}/stage-${piece}`, false);
      for (let at = 0; at < zip.length; at += piece) {
        streamer.feed(zip.slice(at, at + piece));
      }
      const { entries } = streamer.finish();
      const stored = [index[0], index[3]];
      assert.deepEqual(
        entries.map((e) => [e.offset, e.size, e.crc32]),
        stored.map((e) => [e.offset, e.uncompressedSize, e.crc32 >>> 0]),
        `pieces of ${piece}`,
      );
      for (const [i, entry] of entries.entries()) {
        const want = specs[i === 0 ? 0 : 3].data as Uint8Array;
        assert.deepEqual(await Deno.readFile(entry.path), want);
        assert.equal(crc32(want), entry.crc32);
      }
    }
  });
});

Deno.test("ZipStreamer: what it cannot follow (zip64 sizes, not a zip) stages nothing; abandon removes what was staged, and a new streamer clears a leftover directory", async () => {
  await inTempDir(async (dir) => {
    const zip64 = makeZip([{ name: "a", data: "abc" }], { zip64: true });
    const notZip = bytesOf("raw", 10_000);
    for (const [name, body] of [["zip64", zip64], ["raw", notZip]] as const) {
      const streamer = new ZipStreamer(`${dir}/${name}`, false);
      streamer.feed(body);
      assert.deepEqual(streamer.finish().entries, [], name);
      assert.equal(await exists(`${dir}/${name}`), false, name);
    }
    const zip = makeZip([{ name: "a", data: bytesOf("a", 3000) }]);
    const streamer = new ZipStreamer(`${dir}/stage`, false);
    streamer.feed(zip.subarray(0, 2000)); // mid-entry
    streamer.feed(zip.subarray(2000));
    assert.equal(await exists(`${dir}/stage/0`), true);
    streamer.abandon();
    assert.equal(await exists(`${dir}/stage`), false);
    await Deno.mkdir(`${dir}/left/over`, { recursive: true });
    new ZipStreamer(`${dir}/left`, false).finish();
    assert.equal(await exists(`${dir}/left`), false);
  });
});

Deno.test("ZipExtractor with a staging watch: stored entries are taken from what was staged while the zip grew (the bytes hashed), the rest extracted as usual; the staging directory is removed", async () => {
  await inTempDir(async (dir) => {
    const specs: ZipEntrySpec[] = [
      { name: "big.bin", data: bytesOf("big", 1_500_000) },
      { name: "x/small.bin", data: bytesOf("small", 3000) },
      { name: "x/deflated.txt", data: "q".repeat(50_000), deflate: true },
    ];
    const body = makeZip(specs);
    const right = createHash("sha256").update(body).digest("hex");
    using extractor = new ZipExtractor();
    const part = `${dir}/z.zip.part`;
    await growWatched(extractor, "z", part, body, `${dir}/z.staged`);
    // A byte changed in place after the watch read it (which the watch's
    // contract, append only, rules out): the files hold the bytes that were
    // hashed and checked against the digest, not the changed one. (The
    // second entry's staging file shows that the watch read past it.)
    for (let i = 0; i < 250 && !await exists(`${dir}/z.staged/1`); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    {
      using file = await Deno.open(part, { write: true });
      await file.seek(1000, Deno.SeekMode.Start);
      await file.write(new Uint8Array([0x79]));
    }
    await Deno.rename(part, `${dir}/z.zip`);
    const result = await extractor.extract(`${dir}/z.zip`, `${dir}/out`, {
      sha256: right,
      hashedAs: "z",
    });
    assert.equal(result.sha256, right);
    assert.equal(result.streamed, 2);
    assert.equal(result.files, 3);
    for (const spec of specs) {
      const want = typeof spec.data === "string"
        ? new TextEncoder().encode(spec.data)
        : spec.data;
      assert.deepEqual(await Deno.readFile(`${dir}/out/${spec.name}`), want);
    }
    assert.equal(await exists(`${dir}/z.staged`), false);
  });
});

Deno.test("ZipExtractor with a staging watch: a digest mismatch, an unsafe entry or a wrong CRC-32 refuses the zip with nothing under a final name, and the staged files are removed; a dropped watch removes them too", async () => {
  await inTempDir(async (dir) => {
    const big = { name: "big.bin", data: bytesOf("big", 1_200_000) };
    const cases: [string, ZipEntrySpec[], RegExp, string?][] = [
      ["digest", [big], /digest mismatch/, "0".repeat(64)],
      ["slip", [big, { name: "../escape.bin", data: "x" }], /escape/],
      ["crc", [{ ...big, crc: 1234 }], /CRC-32 mismatch/],
    ];
    using extractor = new ZipExtractor();
    for (const [key, specs, error, digest] of cases) {
      const body = makeZip(specs);
      const sha256 = digest ??
        createHash("sha256").update(body).digest("hex");
      const part = `${dir}/${key}.zip.part`;
      await growWatched(extractor, key, part, body, `${dir}/${key}.staged`);
      await Deno.rename(part, `${dir}/${key}.zip`);
      await assert.rejects(
        extractor.extract(`${dir}/${key}.zip`, `${dir}/out-${key}`, {
          sha256,
          hashedAs: key,
        }),
        error,
        key,
      );
      assert.equal(await exists(`${dir}/out-${key}/big.bin`), false, key);
      assert.equal(await exists(`${dir}/escape.bin`), false, key);
      assert.equal(await exists(`${dir}/${key}.staged`), false, key);
    }
    const body = makeZip([big]);
    await growWatched(extractor, "d", `${dir}/d.part`, body, `${dir}/d.staged`);
    assert.equal(await exists(`${dir}/d.staged/0`), true);
    extractor.drop("d");
    // The drop is a message to the Worker: give it a moment.
    for (let i = 0; i < 100 && await exists(`${dir}/d.staged`); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await exists(`${dir}/d.staged`), false);
  });
});

Deno.test("ZipExtractor with a watch told hashedElsewhere: the digest given is the one checked (a wrong one refuses the zip, nothing placed, staged files removed); one that covers another count of bytes than the watch read is not used (the zip is hashed whole, no staged entry taken)", async () => {
  await inTempDir(async (dir) => {
    const big = { name: "big.bin", data: bytesOf("big", 1_500_000) };
    const body = makeZip([big]);
    const right = createHash("sha256").update(body).digest("hex");
    const wrong = "f".repeat(64);
    const cases: [string, { sha256: string; size: number }][] = [
      ["right", { sha256: right, size: body.length }],
      ["wrong", { sha256: wrong, size: body.length }],
      ["short", { sha256: wrong, size: body.length - 1 }],
    ];
    using extractor = new ZipExtractor();
    for (const [key, digest] of cases) {
      const part = `${dir}/${key}.zip.part`;
      const stage = `${dir}/${key}.staged`;
      {
        using file = await Deno.open(part, { write: true, create: true });
        // With its final name, as a download's watch has it: a Worker that
        // starts late finds the file renamed.
        const complete = `${dir}/${key}.zip`;
        extractor.watch(key, part, { dir: stage, durable: false }, complete);
        extractor.hashedElsewhere(key);
        for (let at = 0; at < body.length; at += 700_000) {
          await file.write(body.subarray(at, at + 700_000));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      await Deno.rename(part, `${dir}/${key}.zip`);
      const out = `${dir}/out-${key}`;
      const extracted = extractor.extract(`${dir}/${key}.zip`, out, {
        sha256: right,
        hashedAs: key,
        digest,
      });
      if (key === "wrong") {
        await assert.rejects(
          extracted,
          new RegExp(`digest mismatch: the file's SHA-256 is ${wrong}`),
        );
        assert.equal(await exists(`${out}/big.bin`), false);
      } else {
        const result = await extracted;
        assert.equal(result.sha256, right, key);
        assert.equal(result.streamed ?? 0, key === "right" ? 1 : 0, key);
        assert.deepEqual(await Deno.readFile(`${out}/big.bin`), big.data);
      }
      assert.equal(await exists(stage), false, key);
    }
  });
});
