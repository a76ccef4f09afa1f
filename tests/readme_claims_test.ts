/**
 * README sentences about behaviour that no other test covered: the demo's
 * counts, `-v` lines, the report's write permission, and the default status
 * interval's wording in the help.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { drawFaults } from "../lib/server/faults.ts";
import { createRandom } from "../lib/server/random.ts";
import { runBulkget } from "./_helpers.ts";

Deno.test("README: the demo's counts are the same on every run (the built-in server's seed is fixed)", async () => {
  // The server `flags -s ERROR` starts for itself: the ERROR preset, seed 1.
  const counts: string[] = [];
  for (const _ of [1, 2]) {
    await using server = await startServer({ preset: "ERROR", alt: false });
    const result = await runBulkget([
      "flags",
      "-s",
      "ERROR",
      "-al",
      "100",
      "-m",
      "100",
      "--base-url",
      `${server.url}/flags`,
    ]);
    assert.equal(result.code, 1, result.stderr);
    counts.push(
      result.stdout.split("\n").filter((l) => /flags downloaded|errors/.test(l))
        .join("\n"),
    );
  }
  assert.equal(counts[0], " 79 flags downloaded.\n 21 errors.");
  assert.equal(counts[1], counts[0]);
});

Deno.test("README: -v prints one line per file and one per retry", async () => {
  const faults = { statuses: [{ status: 503, rate: 0.5 }] };
  let seed = 1;
  for (;; seed++) { // a seed whose first request fails and second does not
    const random = createRandom(seed);
    if (
      drawFaults(faults, random).status && !drawFaults(faults, random).status
    ) {
      break;
    }
  }
  await using server = await startServer({ faults, seed, alt: false });
  const result = await runBulkget([
    "get",
    "-v",
    `${server.url}/files/10/a.bin`,
    "-o",
    "out",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /^retry 1 a\.bin: HTTP error 503 - Service Unavailable \(waiting [\d.]+ s\)$/m,
  );
  assert.match(result.stderr, /^OK a\.bin \(10 B\)$/m);
});

Deno.test("README: under narrow permissions --report R needs R in --allow-write, named in one line", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const narrow = [
    `--allow-net=127.0.0.1:${server.port}`,
    "--allow-read=./out",
    "--allow-write=./out",
  ];
  const args = ["get", `${server.url}/files/10/a`, "-o", "out"];
  const missing = await runBulkget([...args, "--report", "r.json"], {
    cwd,
    permissions: narrow,
  });
  assert.equal(missing.code, 2);
  assert.equal(
    missing.stderr.trim(),
    "bulkget get: missing permission: run again with --allow-write=r.json",
  );
  assert.equal(server.stats().requests, 0);
  const granted = await runBulkget([...args, "--report", "r.json"], {
    cwd,
    permissions: [...narrow, "--allow-write=./out,./r.json"],
  });
  assert.equal(granted.code, 0, granted.stderr);
  assert.equal(
    JSON.parse(await Deno.readTextFile(`${cwd}/r.json`)).totals.ok,
    1,
  );
});

Deno.test("README: every export of mod.ts has JSDoc; `deno doc --lint mod.ts` passes", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", new URL("../mod.ts", import.meta.url).pathname],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
});

Deno.test("README quick start: the Deno version is pinned in .deno-version and in both npx commands", async () => {
  const root = new URL("../", import.meta.url);
  const version = (await Deno.readTextFile(new URL(".deno-version", root)))
    .trim();
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const pinned = [...readme.matchAll(/npx --yes deno@(\S+) task (\w+)/g)];
  assert.deepEqual(
    pinned.map((m) => [m[1], m[2]]),
    [[version, "demo"], [version, "test"]],
  );
  assert.match(
    readme,
    new RegExp(`\`deno@${version.replaceAll(".", "\\.")}\``),
  );
  const ci = await Deno.readTextFile(new URL(".ci/run", root));
  assert.match(ci, /cat \.deno-version/);
});

Deno.test("README development: `deno task check` runs fmt --check, lint and check; `deno task test` the suite", async () => {
  const tasks = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  ).tasks;
  assert.match(tasks.check, /deno fmt --check && deno lint && deno check /);
  assert.match(tasks.test, /^(DENO_NO_UPDATE_CHECK=1 )?deno test /);
  assert.match(
    await Deno.readTextFile(new URL("../.ci/run", import.meta.url)),
    /task test/,
  );
});

Deno.test("README development: every file the 'Where things are' map names exists", async () => {
  const root = new URL("../", import.meta.url);
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const start = readme.indexOf("### Where things are");
  const section = readme.slice(start, readme.indexOf("\n### ", start + 1));
  const rows = section.split("\n").filter((line) => /^\| `/.test(line));
  assert.ok(rows.length >= 8, "the map has its rows");
  const missing: string[] = [];
  let named = 0;
  for (const row of rows) {
    const [folder, ...rest] = row.split("|").slice(1, -1).map((c) => c.trim());
    const base = folder.replaceAll("`", "");
    const exists = (path: string) =>
      Deno.stat(new URL(path, root)).then(() => true, () => false);
    if (!await exists(base)) missing.push(base);
    for (
      const [, name] of rest.join(" ").matchAll(
        /`([\w./-]+\.(?:ts|md|svg|json))`/g,
      )
    ) {
      named++;
      const path = name.includes("/")
        ? name
        : `${base.endsWith("/") ? base : ""}${name}`;
      if (!await exists(path)) missing.push(`${path} (row ${base})`);
    }
  }
  assert.ok(named >= 30, `only ${named} files named`);
  assert.deepEqual(missing, []);
});

Deno.test("tests/CLAIMS.md: every test file it names exists", async () => {
  const root = new URL("../", import.meta.url);
  const claims = await Deno.readTextFile(new URL("tests/CLAIMS.md", root));
  const named = new Set(
    [...claims.matchAll(/`([\w/]+_test\.ts)`/g)].map((m) => m[1]),
  );
  assert.ok(named.size >= 40, `only ${named.size} test files named`);
  const missing: string[] = [];
  for (const name of named) {
    const path = name.includes("/") ? name : `tests/${name}`;
    const found = await Deno.stat(new URL(path, root)).then(
      () => true,
      () => false,
    );
    if (!found) missing.push(path);
  }
  assert.deepEqual(missing, []);
});
