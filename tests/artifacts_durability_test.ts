/**
 * What an artifact reported `ok` guarantees on disk (README, "Download CI
 * artifacts"): with `--durability full` every extracted file's bytes are
 * flushed before its rename, its directories after, and the done list
 * before the `ok`; the throwaway zip is not flushed; `--durability none`
 * flushes nothing. Checked with strace, and with a power cut simulated on
 * an ext4 image (see `_durability.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { startGithubDouble } from "../lib/server/github_api.ts";
import { makeZip } from "../lib/server/zip_maker.ts";
import { generatedBody } from "../lib/server/files.ts";
import { WORK_DIR } from "../lib/artifacts/extract_download.ts";
import { ROOT, runBulkget } from "./_helpers.ts";
import {
  differs,
  findLine,
  HAS_STRACE,
  ignored,
  LOOP_MISSING,
  mountNewExt4,
  readTrace,
  sh,
  snapshotsDuring,
  straceBulkget,
} from "./_durability.ts";

/** One artifact of these tests: its zip's entries, or a raw file. */
interface Planned {
  name: string;
  /** Entry path → size (bytes from `generatedBody`). */
  files: Record<string, number>;
  /**
   * Uploaded unzipped: the name the blob host gives; the one file is kept
   * under the artifact's name.
   */
  rawName?: string;
}

const PLANNED: Planned[] = [
  {
    name: "app",
    files: { "bin/tool": 300_000, "lib/deep/x.txt": 5_000, "README": 100 },
  },
  { name: "logs", files: { "a.txt": 2_000, "b/c.txt": 70_000 } },
  // Over 1 MiB: streamed, its stored entries staged while it downloads
  // when the extraction Worker is up by then (this test's download can be
  // faster; the next test stages for sure).
  { name: "big", files: { "d/big.bin": 1_300_000, "e/small.bin": 3_000 } },
  { name: "page", files: { "page": 9_000 }, rawName: "page.html" },
];

/** The double's artifacts for `planned` (ids from 1, run 1; every other entry deflated). */
function seeded(planned: Planned[]) {
  return planned.map((p, i) => ({
    id: i + 1,
    name: p.name,
    runId: 1,
    rawName: p.rawName,
    body: p.rawName === undefined
      ? makeZip(
        Object.entries(p.files).map(([path, size], j) => ({
          name: path,
          data: generatedBody(path, size),
          deflate: j % 2 === 1,
        })),
      )
      : generatedBody(p.name, p.files[p.name]),
  }));
}

/** Every file of `planned` under `out` (its artifact's directory), with what it must hold. */
function* expectedFiles(out: string, planned: Planned[]) {
  for (const p of planned) {
    for (const [path, size] of Object.entries(p.files)) {
      yield {
        path: `${out}/${p.name}/${path}`,
        bytes: generatedBody(path, size),
      };
    }
  }
}

/** `dir` and its parents, up to and including `top`. */
function dirsUpTo(dir: string, top: string): string[] {
  const dirs = [];
  for (; dir.length >= top.length; dir = dir.slice(0, dir.lastIndexOf("/"))) {
    dirs.push(dir);
  }
  return dirs;
}

const isFlush = (l: string) => /\b(fsync|fdatasync)\(/.test(l);
const isRename = (l: string) => /\brename(at2?)?\(/.test(l);

Deno.test({
  name:
    "artifacts --durability full: each extracted file flushed before its rename, its directories and done.json flushed before the ok line; the throwaway zip never flushed",
  ignore: ignored(
    !HAS_STRACE,
    "strace is not installed: the artifacts syscall-order test is ignored",
  ),
  async fn() {
    await using gh = await startGithubDouble({ artifacts: seeded(PLANNED) });
    const cwd = await Deno.realPath(await Deno.makeTempDir());
    const out = `${cwd}/o`;
    const work = `${out}/${WORK_DIR}`;
    const lines = await straceBulkget(
      ["artifacts", "github", gh.repository, "--run", "1"]
        .concat(["--api-url", gh.apiUrl, "-o", out]),
      cwd,
      "rename,renameat,renameat2,fsync,fdatasync,write",
    );
    const find = (test: (line: string) => boolean, from = 0) =>
      findLine(lines, test, from);
    for (const [i, p] of PLANNED.entries()) {
      const id = i + 1;
      const what = `${p.name} (${id})`;
      const dir = `${out}/${p.name}`;
      let lastRename = -1;
      for (const path of Object.keys(p.files)) {
        const dest = `${dir}/${path}`;
        // An entry is written as its .part, or staged in the work directory
        // while its zip downloads; a raw artifact is the download itself.
        const renamed = find((l) => isRename(l) && l.includes(`, "${dest}"`));
        assert.ok(renamed >= 0, `${what}: ${dest} renamed into place`);
        const from = /"([^"]+)"/.exec(lines[renamed])![1];
        const expected = p.rawName !== undefined
          ? from === `${work}/${id}.zip`
          : from === `${dest}.part` || from.startsWith(`${work}/${id}.zip.`);
        assert.ok(expected, `${what}: ${dest} renamed from ${from}`);
        const synced = find((l) =>
          /\bfdatasync\(/.test(l) && l.includes(`<${from}>`) &&
          l.includes("= 0")
        );
        assert.ok(synced >= 0, `${what}: fdatasync of ${from}`);
        assert.ok(renamed > synced, `${what}: ${dest} renamed after its flush`);
        lastRename = Math.max(lastRename, renamed);
      }
      // Its done.json: the first one written that holds it, flushed,
      // renamed, its directory flushed.
      const written = find((l) =>
        /\bwrite\(/.test(l) && l.includes(`<${work}/done.json.tmp>`) &&
        l.includes(`\\"${id}\\":{`)
      );
      const doneSynced = find(
        (l) => /\bfdatasync\(/.test(l) && l.includes(`<${work}/done.json.tmp>`),
        written,
      );
      const doneRenamed = find(
        (l) => isRename(l) && l.includes(`"${work}/done.json"`),
        doneSynced,
      );
      const workSynced = find(
        (l) => /\bfsync\(/.test(l) && l.includes(`<${work}>`),
        doneRenamed,
      );
      const ok = find((l) =>
        /\bwrite\(2</.test(l) && l.includes(`"ok       ${what}:`)
      );
      assert.ok(written >= 0, `${what}: done.json written`);
      assert.ok(doneSynced > written, `${what}: done.json.tmp flushed`);
      assert.ok(doneRenamed > doneSynced, `${what}: done.json renamed after`);
      assert.ok(workSynced > doneRenamed, `${what}: its directory flushed`);
      assert.ok(written > lastRename, `${what}: recorded after its files`);
      assert.ok(ok > workSynced, `${what}: ok after done.json is flushed`);
      // Every directory that got a name (the files', the ones made, and
      // the output directory, where the artifact's own was made) flushed
      // after the last rename and before done.json.
      const dirs = new Set(
        Object.keys(p.files).flatMap((path) =>
          dirsUpTo(`${dir}/${path}`.replace(/\/[^/]*$/, ""), out)
        ),
      );
      for (const d of dirs) {
        const flushed = find(
          (l) =>
            /\bfsync\(/.test(l) && l.includes(`<${d}>`) &&
            l.includes("= 0"),
          lastRename,
        );
        assert.ok(
          flushed > lastRename && flushed < written,
          `${what}: ${d} flushed after its files' renames, before done.json`,
        );
      }
      if (p.rawName === undefined) {
        const zipFlushed = lines.filter((l) =>
          isFlush(l) && (l.includes(`<${work}/${id}.zip>`) ||
            l.includes(`<${work}/${id}.zip.part>`))
        );
        assert.deepEqual(zipFlushed, [], `${what}: its zip is not flushed`);
      }
    }
    for (const { path, bytes } of expectedFiles(out, PLANNED)) {
      assert.equal(await differs(path, bytes), undefined, path);
    }
    // Nothing is left of the zips or of entries staged while they came.
    assert.deepEqual([...Deno.readDirSync(work)].map((e) => e.name), [
      "done.json",
    ]);
    await Deno.remove(cwd, { recursive: true });
  },
});

Deno.test({
  name:
    "entries staged while their zip downloads are flushed before their rename into place, their directories before the extraction ends",
  ignore: ignored(
    !HAS_STRACE,
    "strace is not installed: the staged-entries syscall-order test is ignored",
  ),
  async fn() {
    const cwd = await Deno.realPath(await Deno.makeTempDir());
    const lib = new URL("../lib/", import.meta.url).href;
    // The zip grows while watched, and is renamed only once the watch has
    // staged its entry, as a download would be.
    await Deno.writeTextFile(
      `${cwd}/staged.ts`,
      `import { ZipExtractor } from "${lib}writer/zip_extractor.ts";
import { makeZip } from "${lib}server/zip_maker.ts";
const body = makeZip([{ name: "d/big.bin", data: new Uint8Array(1_500_000).fill(7) }]);
using extractor = new ZipExtractor();
const part = "${cwd}/z.zip.part";
{
  using file = await Deno.open(part, { write: true, create: true });
  extractor.watch("z", part, { dir: "${cwd}/z.staged", durable: true });
  await file.write(body);
}
for (let i = 0; !(await Deno.lstat("${cwd}/z.staged/0").then(() => true, () => false)); i++) {
  if (i === 1000) throw new Error("never staged");
  await new Promise((resolve) => setTimeout(resolve, 10));
}
await Deno.rename(part, "${cwd}/z.zip");
const result = await extractor.extract("${cwd}/z.zip", "${cwd}/out", { hashedAs: "z" });
if (result.streamed !== 1) throw new Error("not staged");
`,
    );
    const { code, stderr } = await new Deno.Command("strace", {
      args: ["-f", "-qq", "-y", "-o", `${cwd}/trace.txt`]
        .concat(["-e", "trace=rename,renameat,renameat2,fsync,fdatasync"])
        .concat([Deno.execPath(), "run", "-A", "--config", `${ROOT}deno.json`])
        .concat([`${cwd}/staged.ts`]),
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const lines = readTrace(await Deno.readTextFile(`${cwd}/trace.txt`));
    const synced = findLine(
      lines,
      (l) =>
        /\bfdatasync\(/.test(l) && l.includes(`<${cwd}/z.staged/0>`) &&
        l.includes("= 0"),
    );
    const renamed = findLine(
      lines,
      (l) =>
        isRename(l) &&
        l.includes(`"${cwd}/z.staged/0", "${cwd}/out/d/big.bin"`),
    );
    assert.ok(synced >= 0 && renamed > synced, "flushed, then renamed");
    for (const dir of [`${cwd}/out/d`, `${cwd}/out`, cwd]) {
      const flushed = findLine(
        lines,
        (l) => /\bfsync\(/.test(l) && l.includes(`<${dir}>`),
        renamed,
      );
      assert.ok(flushed > renamed, `${dir} flushed after the rename`);
    }
    await Deno.remove(cwd, { recursive: true });
  },
});

Deno.test({
  name:
    "artifacts --no-extract under --durability full: each kept zip is flushed before its rename, its directory and done.json before the ok line",
  ignore: ignored(
    !HAS_STRACE,
    "strace is not installed: the artifacts --no-extract durability test is ignored",
  ),
  async fn() {
    await using gh = await startGithubDouble({ artifacts: seeded(PLANNED) });
    const cwd = await Deno.realPath(await Deno.makeTempDir());
    const out = `${cwd}/o`;
    const lines = await straceBulkget(
      ["artifacts", "github", gh.repository, "--run", "1", "--no-extract"]
        .concat(["--api-url", gh.apiUrl, "-o", out]),
      cwd,
      "rename,renameat,renameat2,fsync,fdatasync,write",
    );
    for (const [i, p] of PLANNED.entries()) {
      const what = `${p.name} (${i + 1})`;
      // A raw artifact is kept under its server's file name.
      const kept = p.rawName ?? `${p.name}.zip`;
      const zip = `${out}/${kept}`;
      const synced = findLine(
        lines,
        (l) => /\bfdatasync\(/.test(l) && l.includes(`<${zip}.part>`),
      );
      const renamed = findLine(
        lines,
        (l) =>
          isRename(l) && l.includes(`${kept}.part"`) &&
          l.includes(`${kept}"`),
      );
      const dirSynced = findLine(
        lines,
        (l) => /\bfsync\(/.test(l) && l.includes(`<${out}>`),
        renamed,
      );
      const doneSynced = findLine(
        lines,
        (l) =>
          /\bfdatasync\(/.test(l) &&
          l.includes(`<${out}/${WORK_DIR}/done.json.tmp>`),
        dirSynced,
      );
      const ok = findLine(
        lines,
        (l) => /\bwrite\(2</.test(l) && l.includes(`"ok       ${what}:`),
      );
      assert.ok(synced >= 0 && renamed > synced, `${what}: flushed, renamed`);
      assert.ok(dirSynced > renamed, `${what}: its directory flushed`);
      assert.ok(doneSynced > dirSynced && ok > doneSynced, `${what}: then ok`);
    }
    await Deno.remove(cwd, { recursive: true });
  },
});

Deno.test({
  name:
    "artifacts --durability none flushes nothing, extracted or kept, and still renames every file into place",
  ignore: ignored(
    !HAS_STRACE,
    "strace is not installed: the artifacts --durability none test is ignored",
  ),
  async fn() {
    await using gh = await startGithubDouble({ artifacts: seeded(PLANNED) });
    const cwd = await Deno.realPath(await Deno.makeTempDir());
    for (const how of [[], ["--no-extract"]]) {
      const out = `${cwd}/o${how.length}`;
      const lines = await straceBulkget(
        ["artifacts", "github", gh.repository, "--run", "1"]
          .concat(["--api-url", gh.apiUrl, "-o", out, "-q", ...how])
          .concat(["--durability", "none"]),
        cwd,
        "rename,renameat,renameat2,fsync,fdatasync",
      );
      const ours = lines.filter((l) => l.includes(out));
      assert.deepEqual(ours.filter(isFlush), [], `${how}`);
      const files = how.length === 0
        ? PLANNED.flatMap((p) => Object.keys(p.files))
        : PLANNED;
      // Every file, and each save of the done list.
      assert.ok(ours.filter(isRename).length >= files.length + PLANNED.length);
    }
    for (const { path, bytes } of expectedFiles(`${cwd}/o0`, PLANNED)) {
      assert.equal(await differs(path, bytes), undefined, path);
    }
    for (const p of PLANNED) {
      // A raw artifact kept is under its server's file name, not NAME.zip.
      const kept = p.rawName ?? `${p.name}.zip`;
      assert.ok((await Deno.stat(`${cwd}/o1/${kept}`)).size > 0);
    }
    await Deno.remove(cwd, { recursive: true });
  },
});

/** The artifacts of the power-cut run: a dozen, of many files each. */
function powerCutPlan(): Planned[] {
  return Array.from({ length: 12 }, (_, i) => {
    // Half over 1 MiB: streamed, their stored entries staged as they come.
    const big = (i % 2 === 0 ? 1_200_000 : 400_000) + i;
    const files: Record<string, number> = { [`big-${i}.bin`]: big };
    for (let j = 0; j < 15; j++) {
      files[`d${j % 3}/f${i}-${j}.bin`] = 1_000 +
        ((i * 15 + j) * 7919) % 60_000;
    }
    return { name: `art-${i}`, files };
  });
}

Deno.test({
  name:
    "artifacts power cut: every artifact reported ok is complete in a copy of the disk taken without sync, and a rerun on the copy fixes the rest (none skipped wrongly)",
  ignore: ignored(
    LOOP_MISSING !== undefined,
    `the artifacts power-cut simulation is ignored: ${LOOP_MISSING}`,
  ),
  async fn() {
    const plan = powerCutPlan();
    await using gh = await startGithubDouble({ artifacts: seeded(plan) });
    const dir = await Deno.makeTempDir({ prefix: "bulkget-art-powercut-" });
    const image = `${dir}/disk.img`;
    const mnt = `${dir}/mnt`;
    const args = ["artifacts", "github", gh.repository, "--run", "1"]
      .concat(["--api-url", gh.apiUrl, "-o", `${mnt}/o`, "-m", "4"]);
    await mountNewExt4(image, mnt, 96);
    let snapshots;
    try {
      snapshots = await snapshotsDuring({
        image,
        args,
        donePattern: /^ok +(\S+) \(/,
        moments: [3, 7],
      });
      assert.equal(snapshots.at(-1)!.done.length, plan.length);
    } finally {
      await sh("umount", mnt);
    }
    const byName = new Map(plan.map((p) => [p.name, p]));
    const lost: string[] = [];
    for (const snapshot of snapshots) {
      const copy = snapshot.image.slice(dir.length + 1);
      await sh("mount", "-o", "loop", snapshot.image, mnt); // replays the journal
      try {
        const done = snapshot.done.map((name) => byName.get(name)!);
        for (const { path, bytes } of expectedFiles(`${mnt}/o`, done)) {
          const how = await differs(path, bytes);
          if (how) lost.push(`${copy}: ${path.slice(mnt.length + 1)} (${how})`);
        }
        const rerun = await runBulkget([...args, "-q"]);
        assert.equal(rerun.code, 0, rerun.stderr);
        for (const { path, bytes } of expectedFiles(`${mnt}/o`, plan)) {
          const how = await differs(path, bytes);
          assert.equal(how, undefined, `${path} after the rerun on ${copy}`);
        }
      } finally {
        await sh("umount", mnt);
      }
    }
    assert.deepEqual(lost, [], "files of artifacts reported ok, lost");
    await Deno.remove(dir, { recursive: true });
  },
});
