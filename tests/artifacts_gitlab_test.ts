import assert from "node:assert/strict";
import { startGitlabDouble } from "../lib/server/gitlab_api.ts";
import { makeZip } from "../lib/server/zip_maker.ts";
import { gitlabArtifacts } from "../lib/artifacts/gitlab.ts";
import { fetchArtifacts } from "../lib/artifacts/fetch_artifacts.ts";
import { bulkgetCommand, firstLine, runBulkget } from "./_helpers.ts";

const zip = (files: Record<string, string>) =>
  makeZip(Object.entries(files).map(([name, data]) => ({ name, data })));

Deno.test("artifacts gitlab: jobs by id, PRIVATE-TOKEN at the API, archives extracted per job name", async () => {
  await using gl = await startGitlabDouble({
    token: "glpat",
    jobs: [
      { id: 11, name: "build", archive: zip({ "bin/app": "APP" }) },
      { id: 12, name: "test", archive: zip({ "junit.xml": "<x/>" }) },
    ],
  });
  const dir = await Deno.makeTempDir();
  const api = gitlabArtifacts({
    project: gl.project,
    apiUrl: gl.apiUrl,
    token: "glpat",
  });
  const listed = await api.list({ jobs: [11, 12] });
  assert.deepEqual(listed.map((a) => [a.id, a.name, a.sha256]), [[
    11,
    "build",
    null,
  ], [12, "test", null]]);
  const results = await fetchArtifacts(api, listed, {
    outDir: dir,
    maxRedirects: 0,
  });
  assert.deepEqual(results.map((r) => r.status), ["ok", "ok"]);
  assert.equal(await Deno.readTextFile(`${dir}/build/bin/app`), "APP");
  assert.equal(await Deno.readTextFile(`${dir}/test/junit.xml`), "<x/>");
  assert.ok(
    gl.apiRequests.some((r) =>
      r.path === "/api/v4/projects/group%2Fproject/jobs/11"
    ),
  );
  assert.ok(
    gl.apiRequests.every((r) => r.headers["private-token"] === "glpat"),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("artifacts gitlab: a redirect to object storage is followed without the token (JOB-TOKEN)", async () => {
  await using gl = await startGitlabDouble({
    token: "cijob",
    redirect: true,
    jobs: [{ id: 5, name: "pack", archive: zip({ "a.txt": "A" }) }],
  });
  const dir = await Deno.makeTempDir();
  const api = gitlabArtifacts({
    project: "42",
    apiUrl: gl.apiUrl,
    token: "cijob",
    tokenKind: "job",
  });
  const results = await fetchArtifacts(api, await api.list({ jobs: [5] }), {
    outDir: dir,
    flat: true,
    maxRedirects: 0,
  });
  assert.equal(results[0].status, "ok", results[0].reason);
  assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "A");
  assert.ok(gl.storageRequests.length >= 1);
  for (const r of gl.storageRequests) {
    assert.equal(r.headers["job-token"], undefined);
    assert.equal(r.headers["private-token"], undefined);
  }
  assert.ok(gl.apiRequests.every((r) => r.headers["job-token"] === "cijob"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("artifacts gitlab cli: --ref --job-name takes the latest pipeline's job; a missing one exits 1; usage errors exit 2", async () => {
  await using gl = await startGitlabDouble({
    jobs: [
      { id: 1, name: "build", archive: zip({ "v.txt": "old" }), pipelineId: 1 },
      { id: 2, name: "build", archive: zip({ "v.txt": "new" }), pipelineId: 2 },
      { id: 3, name: "gone", archive: zip({ "v.txt": "x" }), expired: true },
    ],
  });
  const cwd = await Deno.makeTempDir();
  const env = {
    CI_API_V4_URL: gl.apiUrl,
    CI_PROJECT_ID: "42",
    CI_JOB_TOKEN: "",
    GITLAB_TOKEN: "",
  };
  const ok = await runBulkget([
    "artifacts",
    "gitlab",
    "--ref",
    "main",
    "--job-name",
    "build",
    "-o",
    "out",
    "--report",
    "r.json",
  ], { cwd, env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(await Deno.readTextFile(`${cwd}/out/v.txt`), "new");
  const report = JSON.parse(await Deno.readTextFile(`${cwd}/r.json`));
  assert.equal(report.ci, "gitlab");
  assert.equal(report.artifacts[0].status, "ok");
  assert.equal(report.artifacts[0].digest, null);
  const missing = await runBulkget([
    "artifacts",
    "gitlab",
    "--job",
    "3",
    "-o",
    "out2",
  ], { cwd, env });
  assert.equal(missing.code, 1, missing.stderr);
  const usage = await runBulkget(["artifacts", "gitlab", "--ref", "main"], {
    cwd,
    env,
  });
  assert.equal(usage.code, 2);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("serve --gitlab-api: the double on the command line, downloaded by artifacts gitlab by job id and by --ref --job-name", async () => {
  const server = bulkgetCommand([
    "serve",
    "--gitlab-api",
    "--port",
    "0",
    "--artifacts",
    "2",
    "--size",
    "64k",
  ]).spawn();
  try {
    const first = await firstLine(server.stdout);
    const api = /GitLab API double: (http:\/\/\S+\/api\/v4) /.exec(first)?.[1];
    assert.ok(api, first);
    assert.match(first, /project group\/project, 2 jobs/);
    const cwd = await Deno.makeTempDir();
    const env = { GITLAB_TOKEN: "", CI_JOB_TOKEN: "" };
    const base = ["artifacts", "gitlab", "group/project", "--api-url", api];
    const byId = await runBulkget([...base, "--job", "2", "-o", "a"], {
      cwd,
      env,
    });
    assert.equal(byId.code, 0, byId.stderr);
    assert.equal((await Deno.stat(`${cwd}/a/job-2.bin`)).size, 65536);
    const byName = await runBulkget(
      [...base, "--ref", "main", "--job-name", "job-1", "-o", "b"],
      { cwd, env },
    );
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal((await Deno.stat(`${cwd}/b/job-1.bin`)).size, 65536);
    await Deno.remove(cwd, { recursive: true });
  } finally {
    server.kill("SIGTERM");
    await server.stdout.cancel().catch(() => {});
    await server.status;
  }
});

Deno.test("artifacts gitlab cli: GITLAB_TOKEN goes as PRIVATE-TOKEN, CI_JOB_TOKEN as JOB-TOKEN, --token-kind bearer as Authorization: Bearer, --token-env NAME from $NAME; API base and project from CI_API_V4_URL and CI_PROJECT_ID", async () => {
  await using gl = await startGitlabDouble({
    jobs: [{ id: 7, name: "build", archive: zip({ "a.txt": "A" }) }],
  });
  const cwd = await Deno.makeTempDir();
  const cases: [Record<string, string>, string[], string, string][] = [
    [{ GITLAB_TOKEN: "priv" }, [], "private-token", "priv"],
    [{ CI_JOB_TOKEN: "cijob" }, [], "job-token", "cijob"],
    [
      { GITLAB_TOKEN: "oauth" },
      ["--token-kind", "bearer"],
      "authorization",
      "Bearer oauth",
    ],
    [
      { MY_TOKEN: "mine" },
      ["--token-env", "MY_TOKEN"],
      "private-token",
      "mine",
    ],
  ];
  for (const [i, [vars, extra, header, value]] of cases.entries()) {
    const env = {
      CI_API_V4_URL: gl.apiUrl,
      CI_PROJECT_ID: "42",
      GITLAB_TOKEN: "",
      CI_JOB_TOKEN: "",
      ...vars,
    };
    const before = gl.apiRequests.length;
    const r = await runBulkget(
      ["artifacts", "gitlab", "--job", "7", "-o", `out${i}`, ...extra],
      { cwd, env },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await Deno.readTextFile(`${cwd}/out${i}/a.txt`), "A");
    const calls = gl.apiRequests.slice(before);
    assert.ok(calls.length > 0);
    for (const call of calls) {
      assert.ok(call.path.startsWith("/api/v4/projects/42/"), call.path);
      assert.equal(call.headers[header], value, `${header} of ${call.path}`);
      for (const other of ["private-token", "job-token", "authorization"]) {
        if (other !== header) assert.equal(call.headers[other], undefined);
      }
    }
  }
  await Deno.remove(cwd, { recursive: true });
});
