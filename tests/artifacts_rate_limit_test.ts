import assert from "node:assert/strict";
import { startGithubDouble } from "../lib/server/github_api.ts";
import { makeZip } from "../lib/server/zip_maker.ts";
import { githubRunArgs, runBulkget } from "./_helpers.ts";

const zip = (files: Record<string, string>) =>
  makeZip(Object.entries(files).map(([name, data]) => ({ name, data })));

Deno.test("artifacts cli: a primary rate limit on the listing and a secondary one on a download's URL are waited out, then every artifact is fetched", async () => {
  // enforce: a request that comes before the wait ends meets the limit again.
  await using gh = await startGithubDouble({
    token: "tok",
    artifacts: [
      { name: "one", body: zip({ "a.txt": "A" }), runId: 2 },
      { name: "two", body: zip({ "b.txt": "B" }), runId: 2 },
    ],
    rateLimits: {
      primary: [1],
      secondary: [3],
      resetSeconds: 1,
      retryAfterSeconds: 1,
      enforce: true,
    },
  });
  const cwd = await Deno.makeTempDir();
  const run = await runBulkget([
    ...githubRunArgs(gh, 2),
    "-o",
    "out",
  ], { cwd, env: { GITHUB_TOKEN: "tok" } });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(await Deno.readTextFile(`${cwd}/out/one/a.txt`), "A");
  assert.equal(await Deno.readTextFile(`${cwd}/out/two/b.txt`), "B");
  // One refusal of each kind, each followed by the same request once.
  assert.deepEqual(
    gh.apiRequests.map((r) => [r.status, r.path.replace(/\?.*/, "")]),
    [
      [403, `/repos/${gh.repository}/actions/runs/2/artifacts`],
      [200, `/repos/${gh.repository}/actions/runs/2/artifacts`],
      [429, `/repos/${gh.repository}/actions/artifacts/2/zip`],
      [302, `/repos/${gh.repository}/actions/artifacts/2/zip`],
      [302, `/repos/${gh.repository}/actions/artifacts/1/zip`],
    ].map(([status, path]) => [status, path]),
  );
  const waits = run.stderr.split("\n").filter((l) => l.startsWith("waiting"));
  assert.equal(waits.length, 2, run.stderr);
  assert.match(waits[0], /^waiting [1-3] s: primary rate limit/);
  assert.equal(waits[1], "waiting 1 s: secondary rate limit (retry-after)");
  assert.ok(!run.stderr.includes("tok\n") && !run.stderr.includes("Bearer"));
  await Deno.remove(cwd, { recursive: true });
});
