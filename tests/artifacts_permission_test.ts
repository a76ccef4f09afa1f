/**
 * `bulkget artifacts` under narrow Deno permissions: an API host that
 * `--allow-net` does not grant, or extraction code that `--allow-read` does
 * not cover (the extraction Worker loads bulkget's own modules), is one line
 * naming the flag to add, exit 2, before any request, with nothing made.
 */
import assert from "node:assert/strict";
import { startGithubDouble } from "../lib/server/github_api.ts";
import { startGitlabDouble } from "../lib/server/gitlab_api.ts";
import { makeZip } from "../lib/server/zip_maker.ts";
import { githubRunArgs, listDir, ROOT, runBulkget } from "./_helpers.ts";

const zip = makeZip([{ name: "a.txt", data: "hi" }]);

/** `host:port` of a URL, as `--allow-net` names it. */
const hostOf = (url: string) => new URL(url).host;

Deno.test("artifacts github: an API host --allow-net does not grant is one line naming it, exit 2, no request, nothing made (with --list too)", async () => {
  await using gh = await startGithubDouble({
    artifacts: [{ name: "logs", runId: 5, body: zip }],
  });
  const cwd = await Deno.makeTempDir();
  // The blob host is granted, the API's port is not.
  const permissions = [
    "--allow-read",
    "--allow-write",
    "--allow-env",
    `--allow-net=${hostOf(gh.blobUrl)}`,
  ];
  for (const extra of [[], ["--list"]]) {
    const started = performance.now();
    const r = await runBulkget(
      [...githubRunArgs(gh, 5), "-o", "out", ...extra],
      { cwd, permissions },
    );
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr.trim(),
      `bulkget artifacts github: missing permission: run again with --allow-net=${
        hostOf(gh.apiUrl)
      }`,
    );
    assert.equal(r.stdout, "");
    // Not retried as a network error (it waited 1+2+4+8+16 s before).
    assert.ok(performance.now() - started < 20_000);
  }
  assert.deepEqual(listDir(cwd), []);
  assert.equal(gh.apiRequests.length + gh.blobRequests.length, 0);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts gitlab: an API host --allow-net does not grant is one line naming it, exit 2, no request, nothing made", async () => {
  await using gl = await startGitlabDouble({
    jobs: [{ id: 7, name: "build", archive: zip }],
  });
  const cwd = await Deno.makeTempDir();
  const r = await runBulkget(
    ["artifacts", "gitlab", "42", "--job", "7", "--api-url", gl.apiUrl].concat(
      ["-o", "out"],
    ),
    {
      cwd,
      permissions: [
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-net=127.0.0.1:1",
      ],
      env: { GITLAB_TOKEN: "", CI_JOB_TOKEN: "" },
    },
  );
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr.trim(),
    `bulkget artifacts gitlab: missing permission: run again with --allow-net=${
      hostOf(gl.apiUrl)
    }`,
  );
  assert.deepEqual(listDir(cwd), []);
  assert.equal(gl.apiRequests.length + gl.storageRequests.length, 0);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("artifacts github: without read access to bulkget's code (the extraction Worker's modules) one line names --allow-read=…/lib, exit 2, no request; --list and --no-extract need none", async () => {
  await using gh = await startGithubDouble({
    artifacts: [{ name: "logs", runId: 5, body: zip }],
  });
  const cwd = await Deno.makeTempDir();
  const lib = `${ROOT}lib`;
  const permissions = (read: string) => [
    `--allow-read=${read}`,
    `--allow-write=${cwd}`,
    "--allow-env",
    "--allow-net=127.0.0.1",
  ];
  const args = [...githubRunArgs(gh, 5), "-o", "out"];
  const refused = await runBulkget(args, {
    cwd,
    permissions: permissions(cwd),
  });
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal(
    refused.stderr.trim(),
    `bulkget artifacts github: missing permission: run again with --allow-read=${lib}`,
  );
  assert.deepEqual(listDir(cwd), []);
  assert.equal(gh.apiRequests.length + gh.blobRequests.length, 0);

  const listed = await runBulkget([...args, "--list"], {
    cwd,
    permissions: permissions(cwd),
  });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^logs\s/m);
  const kept = await runBulkget([...args, "--no-extract"], {
    cwd,
    permissions: permissions(cwd),
  });
  assert.equal(kept.code, 0, kept.stderr);
  assert.deepEqual(listDir(`${cwd}/out`), [".bulkget-artifacts", "logs.zip"]);

  // With the flag it names, the artifact is extracted: the README's row for
  // `artifacts github`, exactly.
  const out = `${cwd}/out2`;
  const granted = await runBulkget([...args, "-o", out], {
    cwd,
    permissions: [
      `--allow-net=${hostOf(gh.apiUrl)},${hostOf(gh.blobUrl)}`,
      "--allow-env=GITHUB_TOKEN,GITHUB_REPOSITORY,GITHUB_RUN_ID,GITHUB_API_URL",
      `--allow-read=${out},${lib}`,
      `--allow-write=${out}`,
    ],
  });
  assert.equal(granted.code, 0, granted.stderr);
  assert.equal(await Deno.readTextFile(`${out}/logs/a.txt`), "hi");
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("mod.ts githubArtifacts and gitlabArtifacts: a call to an API host not granted throws Deno's NotCapable at once, not retried as a network error", async () => {
  await using gh = await startGithubDouble({
    artifacts: [{ name: "logs", runId: 5, body: zip }],
  });
  await using gl = await startGitlabDouble({
    jobs: [{ id: 7, name: "build", archive: zip }],
  });
  const dir = await Deno.makeTempDir();
  const script = `${dir}/list.ts`;
  await Deno.writeTextFile(
    script,
    `import { githubArtifacts, gitlabArtifacts } from ${
      JSON.stringify(`${ROOT}mod.ts`)
    };
for (const list of [
  () => githubArtifacts({ repository: "octo/demo", apiUrl: ${
      JSON.stringify(gh.apiUrl)
    } }).list({ run: "5" }),
  () => gitlabArtifacts({ project: "42", apiUrl: ${
      JSON.stringify(gl.apiUrl)
    } }).list({ jobs: [7] }),
]) {
  try {
    await list();
    console.log("listed");
  } catch (error) {
    console.log(error instanceof Deno.errors.NotCapable ? "NotCapable" : String(error));
  }
}
`,
  );
  const started = performance.now();
  const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-net=127.0.0.1:1", script],
  }).output();
  const text = new TextDecoder();
  assert.equal(
    text.decode(stdout),
    "NotCapable\nNotCapable\n",
    text.decode(stderr),
  );
  assert.ok(performance.now() - started < 20_000);
  assert.equal(gh.apiRequests.length + gl.apiRequests.length, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("artifacts github: a blob host --allow-net does not grant is one line naming it, exit 2, before any blob request, nothing extracted", async () => {
  await using gh = await startGithubDouble({
    artifacts: [{ name: "logs", runId: 5, body: zip }],
  });
  const cwd = await Deno.makeTempDir();
  const r = await runBulkget([...githubRunArgs(gh, 5), "-o", "out"], {
    cwd,
    permissions: [
      "--allow-read",
      "--allow-write",
      "--allow-env",
      `--allow-net=${hostOf(gh.apiUrl)}`,
    ],
  });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr.trim(),
    `bulkget artifacts: missing permission: run again with --allow-net=${
      hostOf(gh.blobUrl)
    }`,
  );
  assert.equal(gh.blobRequests.length, 0);
  assert.deepEqual(listDir(`${cwd}/out`), [".bulkget-artifacts"]);
  await Deno.remove(cwd, { recursive: true });
});
