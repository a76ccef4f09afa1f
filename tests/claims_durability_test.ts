/**
 * README claim of "Durability" that no other test covered: `--durability
 * none` flushes nothing (the `full` order is checked in
 * `durability_test.ts`). The checklist is `tests/CLAIMS.md`.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import { MAIN } from "./_helpers.ts";

const strace = await new Deno.Command("strace", { args: ["-V"] }).output()
  .then((o) => o.success, () => false);

Deno.test({
  name:
    "README durability: --durability none flushes nothing, and still renames each file into place",
  ignore: !strace,
  async fn() {
    await using server = await startServer({ alt: false });
    const cwd = await Deno.makeTempDir();
    const names = ["a.bin", "b.bin", "big.bin"];
    const urls = names.map((name) =>
      `${server.url}/files/${name === "big.bin" ? 2000000 : 1000}/${name}`
    );
    const trace = async (durability: string) => {
      const { code, stderr } = await new Deno.Command("strace", {
        args: [
          "-f",
          "-qq",
          "-y",
          "-o",
          `${cwd}/${durability}.txt`,
          "-e",
          "trace=rename,renameat,renameat2,fsync,fdatasync,sync_file_range",
          Deno.execPath(),
          "run",
          "--quiet",
          "--allow-all",
          MAIN,
          "get",
          ...urls,
          "--durability",
          durability,
          "-o",
          durability,
        ],
        cwd,
        env: { NO_COLOR: "1" },
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const out = await Deno.realPath(`${cwd}/${durability}`);
      // Flushes name their file descriptor's path (-y), renames the relative
      // paths they were given.
      const lines = (await Deno.readTextFile(`${cwd}/${durability}.txt`))
        .split("\n").filter((line) =>
          line.includes(out) || line.includes(`"${durability}/`)
        );
      return {
        flushes: lines.filter((l) => /\b(fsync|fdatasync)\(/.test(l)).length,
        renames: lines.filter((l) => /\brename(at2?)?\(/.test(l)).length,
      };
    };
    const full = await trace("full");
    assert.ok(full.flushes > 0, "the same trace sees full's flushes");
    const none = await trace("none");
    assert.equal(none.flushes, 0);
    assert.ok(none.renames >= names.length);
    for (const name of names) {
      assert.deepEqual(
        Deno.readFileSync(`${cwd}/none/${name}`),
        generatedBody(name, name === "big.bin" ? 2000000 : 1000),
      );
    }
  },
});
