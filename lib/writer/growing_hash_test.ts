import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { GrowingHashes, isDigestOf, withDigest } from "./growing_hash.ts";
import { inTempDir } from "./_test_temp_dir.ts";

const sha256 = (bytes: Uint8Array) =>
  createHash("sha256").update(bytes).digest("hex");

/** Random bytes of `size` (getRandomValues takes at most 64 KiB at once). */
function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65536)));
  }
  return bytes;
}

/** Lets the watches' timer run a few times. */
const turns = () => new Promise((resolve) => setTimeout(resolve, 40));

Deno.test("GrowingHashes: a file appended to while watched, then renamed, gets the digest of all its bytes with its identity", async () => {
  await inTempDir(async (dir) => {
    const hashes = new GrowingHashes();
    const bytes = randomBytes(20 << 20);
    const part = `${dir}/a.zip.part`;
    using file = await Deno.open(part, { write: true, create: true });
    hashes.watch("a", part);
    // Pieces that cross the read size, with turns in between for the watch.
    for (let at = 0; at < bytes.length; at += 3 << 20) {
      await file.write(
        bytes.subarray(at, Math.min(bytes.length, at + (3 << 20))),
      );
      await turns();
    }
    await Deno.rename(part, `${dir}/a.zip`);
    const known = hashes.finish("a");
    const info = await Deno.stat(`${dir}/a.zip`);
    assert.deepEqual(known, {
      dev: info.dev,
      ino: info.ino,
      size: bytes.length,
      sha256: sha256(bytes),
    });
    // A watch is used once.
    assert.equal(hashes.finish("a"), undefined);
  });
});

Deno.test("GrowingHashes: a dropped watch, an unknown key and a missing file give no digest; a new watch of a key starts over", async () => {
  await inTempDir(async (dir) => {
    const hashes = new GrowingHashes();
    const path = `${dir}/b.part`;
    await Deno.writeFile(path, new TextEncoder().encode("first bytes"));
    hashes.watch("b", path);
    await turns();
    hashes.drop("b");
    assert.equal(hashes.finish("b"), undefined);
    assert.equal(hashes.finish("never"), undefined);
    hashes.watch("gone", `${dir}/missing.part`);
    await turns();
    assert.equal(hashes.finish("gone"), undefined);
    // Rewritten from its start (as a retry that restarts does): a new
    // watch hashes the new bytes only.
    hashes.watch("b", path);
    await turns();
    const second = new TextEncoder().encode("other");
    await Deno.writeFile(path, second);
    hashes.watch("b", path);
    assert.equal(hashes.finish("b")?.sha256, sha256(second));
  });
});

Deno.test("GrowingHashes: a file renamed to its final name right after its watch began (a small download that ended before the watch's first look) still gets its digest, and the staged entries", async () => {
  await inTempDir(async (dir) => {
    const { makeZip } = await import("../server/zip_maker.ts");
    const hashes = new GrowingHashes();
    const data = randomBytes(2 << 20);
    const zip = makeZip([{ name: "a.bin", data }]);
    const part = `${dir}/a.zip.part`;
    await Deno.writeFile(part, zip);
    hashes.watch("a", part, { dir: `${dir}/a.zip.staged`, durable: false });
    Deno.renameSync(part, `${dir}/a.zip`);
    await turns();
    const known = hashes.finish("a");
    assert.equal(known?.sha256, sha256(zip));
    assert.equal(known?.ino, (await Deno.stat(`${dir}/a.zip`)).ino);
    assert.equal(known?.staged?.entries.length, 1);
    assert.deepEqual(await Deno.readFile(known!.staged!.entries[0].path), data);
  });
});

Deno.test("GrowingHashes: a watch asked for after its file was renamed to its final name (given as complete) reads that file; without one, a missing file gives no digest", async () => {
  await inTempDir(async (dir) => {
    const hashes = new GrowingHashes();
    const bytes = randomBytes(3 << 20);
    await Deno.writeFile(`${dir}/b.zip`, bytes);
    hashes.watch("b", `${dir}/b.zip.part`, undefined, `${dir}/b.zip`);
    await turns();
    const known = hashes.finish("b");
    assert.equal(known?.sha256, sha256(bytes));
    assert.equal(known?.size, bytes.length);
    hashes.watch("c", `${dir}/c.zip.part`);
    assert.equal(hashes.finish("c"), undefined);
  });
});

Deno.test("GrowingHashes: a watch told hashedElsewhere reads on but gives no digest of its own; withDigest adds one that covers exactly the bytes it read, and only then is it the file's", async () => {
  await inTempDir(async (dir) => {
    const hashes = new GrowingHashes();
    const bytes = randomBytes(3 << 20);
    const path = `${dir}/c.part`;
    await Deno.writeFile(path, bytes.subarray(0, 1 << 20));
    hashes.watch("c", path);
    hashes.hashedElsewhere("c");
    await Deno.writeFile(path, bytes.subarray(1 << 20), { append: true });
    const known = hashes.finish("c")!;
    const info = await Deno.stat(path);
    assert.equal(known.size, bytes.length);
    assert.equal(known.sha256, undefined);
    assert.equal(isDigestOf(known, info), false);
    const digest = { sha256: sha256(bytes), size: bytes.length };
    const whole = withDigest(known, digest)!;
    assert.equal(whole.sha256, digest.sha256);
    assert.equal(isDigestOf(whole, info), true);
    const short = withDigest(known, { ...digest, size: bytes.length - 1 });
    assert.equal(isDigestOf(short, info), false);
    // A watch that hashed keeps its own digest.
    hashes.watch("d", path);
    const own = hashes.finish("d")!;
    assert.equal(own.sha256, digest.sha256);
    assert.equal(withDigest(own, { sha256: "0", size: own.size }), own);
  });
});
