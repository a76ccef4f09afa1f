/**
 * README claims of "In GitHub Actions", "bulkget flags", "bulkget serve",
 * "Permissions", "The single binary" and "As a library" that no other test
 * covered. The checklist is `tests/CLAIMS.md`.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { generatedBody } from "../lib/server/files.ts";
import { parseFlagsArgs } from "../lib/cli/flags.ts";
import { flagFile, MAIN, ROOT, runBulkget } from "./_helpers.ts";

const README = await Deno.readTextFile(`${ROOT}README.md`);

Deno.test("README GitHub Actions: the from-source command's permissions run the step; the token never reaches the host the API redirects to", async () => {
  const command = /`deno run (--allow-net [^`]*) main\.ts get …`/.exec(README);
  assert.ok(command, "the README shows the from-source command");
  const cwd = await Deno.makeTempDir();
  const summary = `${cwd}/summary.md`;
  await Deno.writeTextFile(summary, "");
  const permissions = command[1].replace("$GITHUB_STEP_SUMMARY", summary)
    .split(" ");
  await using server = await startServer({});
  await Deno.writeTextFile(
    `${cwd}/artifacts.txt`,
    [
      `${server.url}/redirect/cross/files/100/a.zip`,
      `${server.url}/nope/b.zip`,
    ].join("\n") + "\n",
  );
  const step = /run: \|\n\s+\.\/bulkget (get [\s\S]*?)\n\s*```/.exec(README);
  assert.ok(step, "the README shows the workflow step");
  const args = step[1].replace(/\\\n\s*/g, "").match(/"[^"]*"|\S+/g)!
    .map((a) => a.replace(/^"|"$/g, ""));
  const result = await runBulkget(args, {
    cwd,
    permissions,
    env: {
      GITHUB_TOKEN: "ghs_secret_token",
      GITHUB_ACTIONS: "true",
      GITHUB_STEP_SUMMARY: summary,
    },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^::error title=bulkget%3A b\.zip::/m);
  assert.match(await Deno.readTextFile(summary), /### bulkget/);
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/artifacts/a.zip`),
    generatedBody("a.zip", 100),
  );
  const recent = server.stats().recent;
  const api = recent.filter((r) => r.listener === "main");
  const storage = recent.filter((r) => r.listener === "alt");
  assert.ok(
    api.every((r) => r.headers.authorization === "Bearer ghs_secret_token"),
  );
  assert.equal(storage.length, 1);
  assert.equal(storage[0].headers.authorization, undefined);
  assert.equal(
    JSON.parse(await Deno.readTextFile(`${cwd}/report.json`)).totals.ok,
    1,
  );
});

Deno.test("README permissions: --token-env NAME needs --allow-env=NAME, named in one line", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const narrow = [
    `--allow-net=127.0.0.1:${server.port}`,
    "--allow-read=./out",
    "--allow-write=./out",
  ];
  const args = [
    "get",
    `${server.url}/files/10/a`,
    "-o",
    "out",
    "--token-env",
    "MY_TOKEN",
  ];
  const env = { MY_TOKEN: "t0ken" };
  const missing = await runBulkget(args, { cwd, permissions: narrow, env });
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim().split("\n").length, 1, missing.stderr);
  assert.match(missing.stderr, /--allow-env=MY_TOKEN/);
  assert.equal(server.stats().requests, 0);
  const granted = await runBulkget(args, {
    cwd,
    permissions: [...narrow, "--allow-env=MY_TOKEN"],
    env,
  });
  assert.equal(granted.code, 0, granted.stderr);
  assert.equal(server.stats().recent[0].headers.authorization, "Bearer t0ken");
});

Deno.test("README permissions: without --allow-env for GITHUB_ACTIONS bulkget simply does not produce the GitHub output", async () => {
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  const summary = `${cwd}/summary.md`;
  await Deno.writeTextFile(summary, "");
  const result = await runBulkget(
    ["get", `${server.url}/files/10/a`, `${server.url}/nope/b`, "-o", "out"],
    {
      cwd,
      permissions: [
        `--allow-net=127.0.0.1:${server.port}`,
        "--allow-read=./out",
        "--allow-write=./out",
      ],
      env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary },
    },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.doesNotMatch(
    result.stdout + result.stderr,
    /::error|NotCapable|permission/i,
  );
  assert.equal(await Deno.readTextFile(summary), "");
});

Deno.test("README permissions: serve runs under --allow-net=127.0.0.1 --allow-read=./data", async () => {
  const row = /\| `serve` +\| `([^`]+)`/.exec(README);
  assert.ok(row, "the README's permission table has a serve row");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...row[1].split(" "),
      MAIN,
      "serve",
      "--preset",
      "LOCAL",
      "--port",
      "0",
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/http:\/\/127\.0\.0\.1:\d+/.test(out)) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0];
  try {
    assert.ok(url, out);
    const response = await fetch(`${url}/flags/br/br.gif`);
    const body = new Uint8Array(await response.arrayBuffer());
    assert.equal(response.status, 200);
    assert.deepEqual(body, Deno.readFileSync(flagFile("br")));
  } finally {
    child.kill("SIGINT");
    await reader.cancel();
    const { code } = await child.status;
    assert.equal(code, 0);
    await child.stderr.cancel();
  }
});

Deno.test("README flags: --timeout defaults to 30 s", async () => {
  assert.equal((await parseFlagsArgs([])).timeoutMs, 30_000);
  assert.equal((await parseFlagsArgs(["--timeout", "2"])).timeoutMs, 2_000);
});

// It builds dist/bulkget (and removes the useless result): never over a
// binary someone built.
const hasBinary = await Deno.stat(`${ROOT}dist/bulkget`).then(
  () => true,
  () => false,
);

Deno.test({
  name:
    "README single binary: the deno CLI given as DENORT_BIN is refused with one line saying so",
  ignore: hasBinary,
}, async () => {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}scripts/compile.ts`],
    cwd: ROOT,
    env: { DENORT_BIN: Deno.execPath() },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  assert.equal(result.code, 1, stderr);
  assert.match(stderr, /DENORT_BIN must be Deno's denort, not the deno CLI/);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.ok(
    !hasBinary &&
      !(await Deno.stat(`${ROOT}dist/bulkget`).then(() => true, () => false)),
  );
});

Deno.test("README library: the example runs as written and downloads the manifest", async () => {
  const block = /## As a library\n\n```ts\n([\s\S]*?)```/.exec(README);
  assert.ok(block, "the README shows the library example");
  await using server = await startServer({ alt: false });
  const cwd = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${cwd}/artifacts.jsonl`,
    [
      { url: `${server.url}/files/1000/a.bin` },
      { url: `${server.url}/nope/b.bin` },
    ].map((l) => JSON.stringify(l)).join("\n") + "\n",
  );
  const script = `${cwd}/example.ts`;
  await Deno.writeTextFile(
    script,
    block[1].replace('"./mod.ts"', JSON.stringify(`${ROOT}mod.ts`)),
  );
  const result = await new Deno.Command(Deno.execPath(), {
    // Run from the project (its deno.json maps the npm imports), as the
    // example's "./mod.ts" assumes.
    args: [
      "run",
      "--quiet",
      "--allow-all",
      `--config=${ROOT}deno.json`,
      script,
    ],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  assert.equal(result.code, 0, stderr);
  assert.deepEqual(
    Deno.readFileSync(`${cwd}/out/a.bin`),
    generatedBody("a.bin", 1000),
  );
  assert.match(stderr, /\/nope\/b\.bin HTTP error 404 - Not Found/);
});

Deno.test("README library: mod.ts exports what the README lists", async () => {
  const mod = await import("../mod.ts");
  const listed = /`mod\.ts` exports ([\s\S]*?)\. Every export/.exec(README)![1]
    .match(/`[a-zA-Z]+`/g)!.map((name) => name.slice(1, -1));
  assert.ok(listed.length >= 8, listed.join(", "));
  for (const name of listed) {
    assert.equal(
      typeof (mod as Record<string, unknown>)[name],
      "function",
      name,
    );
  }
  for (
    const source of [
      "jobsFromUrls",
      "jobsFromList",
      "jobsFromAria2",
      "jobsFromManifest",
    ]
  ) {
    assert.equal(
      typeof (mod as Record<string, unknown>)[source],
      "function",
      source,
    );
  }
});

Deno.test("README commands: `bulkget` alone lists every command of the README's list, with the same words", async () => {
  const block = /## Commands\n\n```\n([\s\S]*?)```/.exec(README)![1];
  const run = await runBulkget([]);
  assert.equal(run.code, 2);
  for (const line of block.trim().split("\n")) {
    // "bulkget artifacts github|gitlab …" → the command's words, up to the
    // first option or argument.
    const words: string[] = [];
    for (const word of line.split(" ")) {
      if (!/^[a-z|]+$/.test(word)) break;
      words.push(word);
    }
    assert.ok(
      run.stdout.includes(words.join(" ")),
      `${words.join(" ")} is not in:\n${run.stdout}`,
    );
  }
});
