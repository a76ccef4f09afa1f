import assert from "node:assert/strict";
import {
  ExtractError,
  extractZip,
  extractZipInWorker,
  ZipExtractor,
} from "../lib/writer/unzip.ts";
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
