import assert from "node:assert/strict";
import { extractZip, placeFile } from "../lib/writer/unzip.ts";
import { ExtractError } from "../lib/core/errors.ts";
import { createHash } from "node:crypto";
import {
  extractZipInWorker,
  ZipExtractor,
} from "../lib/writer/zip_extractor.ts";
import { makeZip, type ZipEntrySpec } from "../lib/server/zip_maker.ts";

async function withZip(
  entries: ZipEntrySpec[],
  fn: (zip: string, dir: string) => Promise<void>,
  zip64 = false,
) {
  const dir = await Deno.makeTempDir();
  try {
    const zip = `${dir}/a.zip`;
    await Deno.writeFile(zip, makeZip(entries, { zip64 }));
    await fn(zip, `${dir}/out`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) {
      names.push(...await listTree(`${dir}/${e.name}`, `${prefix}${e.name}/`));
    } else names.push(prefix + e.name);
  }
  return names.sort();
}

Deno.test("unzip: extracts entries in subdirectories, in a Worker, zip64 too", async () => {
  for (const zip64 of [false, true]) {
    await withZip([{ name: "a.txt", data: "hello" }, {
      name: "d/e/b.txt",
      data: "world",
    }], async (zip, out) => {
      const result = await extractZipInWorker(zip, out);
      assert.deepEqual(result, { files: 2, bytes: 10, conflicts: [] });
      assert.equal(await Deno.readTextFile(`${out}/d/e/b.txt`), "world");
      assert.deepEqual(await listTree(out), ["a.txt", "d/e/b.txt"]);
    }, zip64);
  }
});

Deno.test("unzip: zip-slip, absolute, backslash, drive and symlink entries refuse the archive, nothing written", async () => {
  for (
    const bad of [
      { name: "../evil.txt", data: "x" },
      { name: "a/../../evil.txt", data: "x" },
      { name: "/tmp/evil.txt", data: "x" },
      { name: "..\\evil.txt", data: "x" },
      { name: "C:/evil.txt", data: "x" },
      { name: "link", data: "/etc/passwd", symlink: true },
    ]
  ) {
    await withZip([{ name: "ok.txt", data: "fine" }, bad], async (zip, out) => {
      await assert.rejects(extractZipInWorker(zip, out), ExtractError);
      await assert.rejects(Deno.lstat(out), Deno.errors.NotFound);
      await assert.rejects(
        Deno.lstat(`${out}/../evil.txt`),
        Deno.errors.NotFound,
      );
    });
  }
});

Deno.test("unzip: a wrong CRC fails the entry and leaves no file under its name", async () => {
  await withZip(
    [{ name: "a.txt", data: "hello", crc: 1234 }],
    async (zip, out) => {
      await assert.rejects(extractZip(zip, out), /CRC-32 mismatch/);
      assert.deepEqual(await listTree(out), []);
    },
  );
});

Deno.test("unzip: a truncated archive is not a valid zip", async () => {
  await withZip([{ name: "a.txt", data: "hello" }], async (zip, out) => {
    const bytes = await Deno.readFile(zip);
    await Deno.writeFile(zip, bytes.subarray(0, bytes.length - 10));
    await assert.rejects(extractZip(zip, out), /not a valid zip/);
  });
});

Deno.test("unzip: merge keeps identical bytes and reports different ones as a conflict, naming both", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(
      `${dir}/1.zip`,
      makeZip([{ name: "same.txt", data: "x" }, {
        name: "c.txt",
        data: "one",
      }]),
    );
    await Deno.writeFile(
      `${dir}/2.zip`,
      makeZip([{ name: "same.txt", data: "x" }, {
        name: "c.txt",
        data: "two",
      }]),
    );
    const owners = new Map<string, string>();
    await extractZipInWorker(`${dir}/1.zip`, `${dir}/out`, {
      merge: true,
      label: "first",
      owners,
    });
    const second = await extractZipInWorker(`${dir}/2.zip`, `${dir}/out`, {
      merge: true,
      label: "second",
      owners,
    });
    assert.deepEqual(second.conflicts, [{
      path: "c.txt",
      existing: "first",
      incoming: "second",
    }]);
    assert.equal(second.files, 1);
    assert.equal(await Deno.readTextFile(`${dir}/out/c.txt`), "one");
    assert.deepEqual(await listTree(`${dir}/out`), ["c.txt", "same.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unzip: one ZipExtractor takes many archives in order, and a refused archive does not stop the next", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const zips = ["ok1", "bad", "ok2", "ok3"];
    for (const name of zips) {
      await Deno.writeFile(
        `${dir}/${name}.zip`,
        makeZip(
          name === "bad"
            ? [{ name: "../evil.txt", data: "x" }]
            : [{ name: "shared.txt", data: name }, {
              name: `${name}.txt`,
              data: name,
            }],
        ),
      );
    }
    using extractor = new ZipExtractor();
    const owners = new Map<string, string>();
    // Asked all at once: they still run one after another, so the merge of
    // ok2 and ok3 sees ok1's shared.txt (a conflict each, in that order).
    const runs = zips.map((name) =>
      extractor.extract(`${dir}/${name}.zip`, `${dir}/out`, {
        merge: true,
        label: name,
        owners,
      })
    );
    const [first, bad, second, third] = await Promise.allSettled(runs);
    assert.equal(first.status, "fulfilled");
    assert.equal(bad.status, "rejected");
    assert.ok(bad.reason instanceof ExtractError);
    assert.equal(second.status, "fulfilled");
    assert.equal(third.status, "fulfilled");
    assert.deepEqual(second.value.conflicts, [{
      path: "shared.txt",
      existing: "ok1",
      incoming: "ok2",
    }]);
    assert.deepEqual(third.value.conflicts, [{
      path: "shared.txt",
      existing: "ok1",
      incoming: "ok3",
    }]);
    assert.equal(await Deno.readTextFile(`${dir}/out/shared.txt`), "ok1");
    assert.deepEqual(await listTree(`${dir}/out`), [
      "ok1.txt",
      "ok2.txt",
      "ok3.txt",
      "shared.txt",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unzip: deflated entries are inflated and checked, large and small, zip64 too", async () => {
  const text = "line of a build log, quite repetitive\n".repeat(200_000);
  const random = new Uint8Array(3 << 20);
  for (let at = 0; at < random.length; at += 65536) {
    crypto.getRandomValues(random.subarray(at, at + 65536));
  }
  for (const zip64 of [false, true]) {
    await withZip([
      { name: "log.txt", data: text, deflate: true },
      { name: "bin/r.bin", data: random, deflate: true },
      { name: "empty.txt", data: "", deflate: true },
      { name: "stored.txt", data: "as is" },
    ], async (zip, out) => {
      const result = await extractZipInWorker(zip, out);
      assert.equal(result.files, 4);
      assert.equal(await Deno.readTextFile(`${out}/log.txt`), text);
      assert.deepEqual(await Deno.readFile(`${out}/bin/r.bin`), random);
      assert.equal(await Deno.readTextFile(`${out}/empty.txt`), "");
      assert.equal(await Deno.readTextFile(`${out}/stored.txt`), "as is");
    }, zip64);
  }
});

Deno.test("unzip: a deflated entry with a wrong CRC, corrupt data, or more bytes than its size says is refused, no file left under its name", async () => {
  const text = "x".repeat(100_000);
  for (
    const [entry, reason] of [
      [{ name: "a.txt", data: text, deflate: true, crc: 7 }, /CRC-32 mismatch/],
      [
        { name: "a.txt", data: text, deflate: true, size: 1000 },
        /more bytes than the archive says \(1000\)/,
      ],
      [
        { name: "a.txt", data: text, deflate: true, size: 200_000 },
        /100000 bytes, the archive says 200000/,
      ],
    ] as const
  ) {
    await withZip([entry], async (zip, out) => {
      await assert.rejects(extractZipInWorker(zip, out), reason);
      assert.deepEqual(await listTree(out), []);
    });
  }
  const dir = await Deno.makeTempDir();
  try {
    // Deflate data with its middle overwritten: not valid any more.
    const bytes = makeZip([{
      name: "a.txt",
      data: "abc".repeat(50_000) + crypto.randomUUID().repeat(500),
      deflate: true,
    }]);
    bytes.fill(0xff, 100, 400);
    await Deno.writeFile(`${dir}/a.zip`, bytes);
    await assert.rejects(
      extractZip(`${dir}/a.zip`, `${dir}/out`),
      /entry "a\.txt": (not valid deflate data|CRC-32 mismatch)/,
    );
    assert.deepEqual(await listTree(`${dir}/out`), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unzip: an unsupported compression method or an encrypted entry refuses the archive before anything is written", async () => {
  for (
    const [bad, reason] of [
      [
        { name: "b.bz2", data: "not really bzip2", method: 12 },
        /entry "b\.bz2": compression method 12 is not supported/,
      ],
      [
        { name: "s.txt", data: "secret", encrypted: true },
        /"s\.txt": encrypted/,
      ],
    ] as const
  ) {
    await withZip(
      [{ name: "first.txt", data: "fine" }, bad],
      async (zip, out) => {
        await assert.rejects(extractZip(zip, out), reason);
        await assert.rejects(Deno.lstat(out), Deno.errors.NotFound);
      },
    );
  }
});

Deno.test("unzip: a ZipExtractor with concurrency 2 extracts every archive whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const names = ["a", "b", "c", "d"];
    for (const name of names) {
      await Deno.writeFile(
        `${dir}/${name}.zip`,
        makeZip([{
          name: `${name}.txt`,
          data: name.repeat(300_000),
          deflate: name < "c",
        }]),
      );
    }
    using extractor = new ZipExtractor({ concurrency: 2 });
    const results = await Promise.all(
      names.map((name) =>
        extractor.extract(`${dir}/${name}.zip`, `${dir}/out/${name}`)
      ),
    );
    assert.deepEqual(results.map((r) => r.files), [1, 1, 1, 1]);
    for (const name of names) {
      assert.equal(
        await Deno.readTextFile(`${dir}/out/${name}/${name}.txt`),
        name.repeat(300_000),
      );
    }
    assert.throws(() => new ZipExtractor({ concurrency: 0 }), RangeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unzip: with sha256 the whole file is checked first: another digest refuses it before anything is written, the right one is given back", async () => {
  await withZip([{ name: "a.txt", data: "hello" }], async (zip, out) => {
    const right = createHash("sha256").update(await Deno.readFile(zip))
      .digest("hex");
    const wrong = "0".repeat(64);
    await assert.rejects(
      extractZipInWorker(zip, out, { sha256: wrong }),
      new RegExp(
        `digest mismatch: the file's SHA-256 is ${right}, expected ${wrong}`,
      ),
    );
    await assert.rejects(Deno.lstat(out), Deno.errors.NotFound);
    const result = await extractZipInWorker(zip, out, { sha256: right });
    assert.equal(result.sha256, right);
    assert.equal(await Deno.readTextFile(`${out}/a.txt`), "hello");
    assert.equal(
      (await extractZip(zip, `${out}2`, { hash: true })).sha256,
      right,
    );
    assert.equal((await extractZip(zip, `${out}3`)).sha256, undefined);
  });
});

Deno.test("unzip: placeFile checks the digest before it moves the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/raw`, "report");
    const right = createHash("sha256").update("report").digest("hex");
    await assert.rejects(
      placeFile(`${dir}/raw`, `${dir}/out`, "r.html", {
        sha256: "1".repeat(64),
      }),
      /digest mismatch/,
    );
    await assert.rejects(Deno.lstat(`${dir}/out`), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(`${dir}/raw`), "report");
    const placed = await placeFile(`${dir}/raw`, `${dir}/out`, "r.html", {
      sha256: right,
    });
    assert.deepEqual(placed, {
      files: 1,
      bytes: 6,
      conflicts: [],
      sha256: right,
    });
    assert.equal(await Deno.readTextFile(`${dir}/out/r.html`), "report");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unzip: with concurrency 2 a second archive is extracted while the first is still being opened", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The first "archive" is a FIFO: opening it waits until a writer opens it.
    const fifo = `${dir}/slow.zip`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(made.success, "mkfifo");
    await Deno.writeFile(
      `${dir}/b.zip`,
      makeZip([{ name: "b.txt", data: "B" }]),
    );
    using extractor = new ZipExtractor({ concurrency: 2 });
    const first = extractor.extract(fifo, `${dir}/out/a`);
    first.catch(() => {});
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      (await Deno.open(fifo, { write: true })).close();
    };
    // Bounded: an extractor that takes one at a time fails here, not hangs.
    const timer = setTimeout(release, 10_000);
    const second = await extractor.extract(`${dir}/b.zip`, `${dir}/out/b`);
    const beforeRelease = !released;
    clearTimeout(timer);
    await release();
    await assert.rejects(first, /not a valid zip/);
    assert.equal(second.files, 1);
    assert.ok(beforeRelease, "the second archive waited for the first");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unzip: a known digest is taken for the very file it names (device, inode, size) and for no other", async () => {
  await withZip([{ name: "a.txt", data: "hello" }], async (zip, out) => {
    const right = createHash("sha256").update(await Deno.readFile(zip))
      .digest("hex");
    const info = await Deno.stat(zip);
    const told = "1".repeat(64);
    const known = { dev: info.dev, ino: info.ino!, size: info.size };
    // Its own identity: the told digest is believed (the file is not read
    // for it), so a told digest other than the expected one refuses it.
    await assert.rejects(
      extractZip(zip, out, {
        sha256: right,
        known: { ...known, sha256: told },
      }),
      new RegExp(`digest mismatch: the file's SHA-256 is ${told}`),
    );
    await assert.rejects(Deno.lstat(out), Deno.errors.NotFound);
    // Another file of the same size, or another size: the file is hashed.
    const copy = `${zip}.copy`;
    await Deno.copyFile(zip, copy);
    for (
      const [path, other] of [
        [copy, { ...known, sha256: told }],
        [zip, { ...known, size: known.size + 1, sha256: told }],
      ] as const
    ) {
      const result = await extractZip(path, out, {
        sha256: right,
        known: other,
      });
      assert.equal(result.sha256, right);
    }
    assert.equal(await Deno.readTextFile(`${out}/a.txt`), "hello");
  });
});

Deno.test("unzip: a ZipExtractor hashes a zip while it is written (watch) and checks the digest from that; a dropped watch means a full read; the entry CRC-32 still stands behind it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const body = makeZip([{ name: "big.bin", data: "x".repeat(3 << 20) }]);
    const right = createHash("sha256").update(body).digest("hex");
    using extractor = new ZipExtractor();
    for (const dropped of [false, true]) {
      const part = `${dir}/z.zip.part`;
      {
        using file = await Deno.open(part, { write: true, create: true });
        extractor.watch("z", part);
        for (let at = 0; at < body.length; at += 1 << 20) {
          await file.write(body.subarray(at, at + (1 << 20)));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      if (dropped) extractor.drop("z");
      await Deno.rename(part, `${dir}/z.zip`);
      const out = `${dir}/out-${dropped}`;
      const result = await extractor.extract(`${dir}/z.zip`, out, {
        sha256: right,
        hashedAs: "z",
      });
      assert.equal(result.sha256, right);
      assert.equal((await Deno.stat(`${out}/big.bin`)).size, 3 << 20);
    }
    // The digest checked is the watch's, not a second read's: a byte
    // changed in place after the watch read it (which the watch's contract,
    // append only, rules out) passes the digest check and is then caught
    // by the entry's CRC-32; a full read would have said "digest mismatch".
    const part = `${dir}/y.zip.part`;
    await Deno.writeFile(part, body);
    extractor.watch("y", part);
    await new Promise((resolve) => setTimeout(resolve, 60));
    {
      using file = await Deno.open(part, { write: true });
      await file.seek(body.length >> 1, Deno.SeekMode.Start);
      await file.write(new Uint8Array([0x79]));
    }
    await Deno.rename(part, `${dir}/y.zip`);
    await assert.rejects(
      extractor.extract(`${dir}/y.zip`, `${dir}/out-y`, {
        sha256: right,
        hashedAs: "y",
      }),
      /CRC-32 mismatch/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
