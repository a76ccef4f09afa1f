import assert from "node:assert/strict";
import { startGithubDouble } from "../lib/server/github_api.ts";
import { makeZip } from "../lib/server/zip_maker.ts";
import { githubArtifacts } from "../lib/artifacts/github.ts";
import { fetchArtifacts } from "../lib/artifacts/fetch_artifacts.ts";
import { selectArtifacts } from "../lib/artifacts/select.ts";

const zip = (files: Record<string, string>) =>
  makeZip(Object.entries(files).map(([name, data]) => ({ name, data })));

async function tempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const noWait = (waits: [number, string][]) => ({
  sleep: (ms: number) => {
    waits.push([ms, "sleep"]);
    return Promise.resolve();
  },
  onWait: (ms: number, reason: string) => waits.push([ms, reason]),
});

Deno.test("artifacts github: lists 230 artifacts over three pages, serially, with the token", async () => {
  await using gh = await startGithubDouble({
    token: "tok",
    artifacts: Array.from({ length: 230 }, (_, i) => ({
      name: `a${i}`,
      body: zip({ "x.txt": String(i) }),
    })),
  });
  const api = githubArtifacts({
    repository: gh.repository,
    apiUrl: gh.apiUrl,
    token: "tok",
  });
  const list = await api.list();
  assert.equal(list.length, 230);
  assert.equal(new Set(list.map((a) => a.id)).size, 230);
  assert.equal(gh.apiRequests.length, 3);
  for (const r of gh.apiRequests) {
    assert.equal(r.headers.authorization, "Bearer tok");
    assert.equal(r.headers.accept, "application/vnd.github+json");
    assert.equal(r.headers["x-github-api-version"], "2022-11-28");
  }
});

Deno.test("artifacts github: name, pattern and id filters; newest of each name without a run", async () => {
  await using gh = await startGithubDouble({
    artifacts: [
      { name: "logs", body: zip({ a: "1" }), runId: 1 },
      { name: "logs", body: zip({ a: "2" }), runId: 2 },
      { name: "dist-linux", body: zip({ a: "3" }) },
      { name: "dist-mac", body: zip({ a: "4" }) },
      { name: "cov", body: zip({ a: "5" }), expired: true },
    ],
  });
  const api = githubArtifacts({ repository: gh.repository, apiUrl: gh.apiUrl });
  const all = await api.list();
  const names = (l: { name: string; id: number }[]) =>
    l.map((a) => `${a.name}#${a.id}`).sort();
  assert.deepEqual(names(selectArtifacts(all, { newestPerName: true })), [
    "dist-linux#3",
    "dist-mac#4",
    "logs#2",
  ]);
  assert.deepEqual(names(selectArtifacts(all, { patterns: ["dist-*"] })), [
    "dist-linux#3",
    "dist-mac#4",
  ]);
  assert.deepEqual(names(selectArtifacts(all, { ids: [1], names: ["cov"] })), [
    "cov#5",
    "logs#1",
  ]);
  assert.deepEqual(names(await api.list({ name: "logs" })), [
    "logs#1",
    "logs#2",
  ]);
  assert.deepEqual(names(await api.list({ run: "2" })), ["logs#2"]);
});

Deno.test("artifacts github: downloads in parallel, token never at the blob host, digest verified, extracted per artifact", async () => {
  await using gh = await startGithubDouble({
    token: "tok",
    artifacts: [
      { name: "one", body: zip({ "a.txt": "A", "d/b.txt": "B" }) },
      { name: "two", body: zip({ "c.txt": "C" }), digest: null },
    ],
  });
  await tempDir(async (dir) => {
    const api = githubArtifacts({
      repository: gh.repository,
      apiUrl: gh.apiUrl,
      token: "tok",
    });
    const results = await fetchArtifacts(api, await api.list(), {
      outDir: dir,
    });
    assert.deepEqual(results.map((r) => [r.name, r.status, r.files]), [[
      "two",
      "ok",
      1,
    ], ["one", "ok", 2]]);
    assert.equal(results[0].digest, null);
    assert.match(results[1].digest!, /^sha256:/);
    assert.equal(`sha256:${results[1].sha256}`, results[1].digest);
    assert.equal(await Deno.readTextFile(`${dir}/one/d/b.txt`), "B");
    assert.equal(await Deno.readTextFile(`${dir}/two/c.txt`), "C");
    assert.ok(gh.blobRequests.length >= 2);
    for (const r of gh.blobRequests) {
      assert.equal(r.headers.authorization, undefined);
    }
    assert.ok(
      gh.apiRequests.every((r) => r.headers.authorization === "Bearer tok"),
    );
  });
});

Deno.test("artifacts github: a wrong digest fails the artifact before extraction", async () => {
  await using gh = await startGithubDouble({
    artifacts: [{ name: "bad", body: zip({ "a.txt": "A" }), digest: "wrong" }],
  });
  await tempDir(async (dir) => {
    const api = githubArtifacts({
      repository: gh.repository,
      apiUrl: gh.apiUrl,
    });
    const results = await fetchArtifacts(api, await api.list(), {
      outDir: dir,
      retries: 1,
      sleep: () => Promise.resolve(),
    });
    assert.equal(results[0].status, "error");
    assert.match(results[0].reason!, /digest mismatch/);
    await assert.rejects(Deno.lstat(`${dir}/bad`), Deno.errors.NotFound);
  });
});

Deno.test("artifacts github: an expired artifact (410) ends as expired after one API call", async () => {
  await using gh = await startGithubDouble({
    artifacts: [{ name: "old", body: zip({ a: "1" }), expired: true }],
  });
  await tempDir(async (dir) => {
    const api = githubArtifacts({
      repository: gh.repository,
      apiUrl: gh.apiUrl,
    });
    const [artifact] = await api.list();
    const results = await fetchArtifacts(
      api,
      [{ ...artifact, expired: false }],
      { outDir: dir },
    );
    assert.equal(results[0].status, "expired");
    assert.equal(
      gh.apiRequests.filter((r) => r.path.endsWith("/zip")).length,
      1,
    );
    assert.equal(gh.blobRequests.length, 0);
  });
});

Deno.test("artifacts github: a signed URL that expires between attempts is asked for again", async () => {
  const body = zip({ "a.txt": "A".repeat(5000) });
  await using gh = await startGithubDouble({
    artifacts: [{ name: "flaky", body, blobFailures: 1 }],
    urlUses: 1,
  });
  await tempDir(async (dir) => {
    const api = githubArtifacts({
      repository: gh.repository,
      apiUrl: gh.apiUrl,
    });
    const results = await fetchArtifacts(api, await api.list(), {
      outDir: dir,
      sleep: () => Promise.resolve(),
    });
    assert.equal(results[0].status, "ok", results[0].reason);
    assert.equal(
      await Deno.readTextFile(`${dir}/flaky/a.txt`),
      "A".repeat(5000),
    );
    const zips = gh.apiRequests.filter((r) => r.path.endsWith("/zip"));
    assert.equal(zips.length, 2);
    assert.deepEqual(gh.blobRequests.map((r) => r.status), [503, 403, 200]);
  });
});

Deno.test("artifacts github: primary and secondary rate limits wait as the headers say", async () => {
  await using gh = await startGithubDouble({
    artifacts: [{ name: "x", body: zip({ a: "1" }) }],
    rateLimits: {
      primary: [1],
      secondary: [2],
      secondaryBare: [3, 4],
      resetSeconds: 30,
      retryAfterSeconds: 7,
    },
  });
  const waits: [number, string][] = [];
  const api = githubArtifacts({
    repository: gh.repository,
    apiUrl: gh.apiUrl,
    ...noWait(waits),
  });
  const list = await api.list();
  assert.equal(list.length, 1);
  const reasons = waits.filter(([, r]) => r !== "sleep");
  assert.equal(reasons.length, 4);
  assert.match(reasons[0][1], /primary/);
  assert.ok(
    reasons[0][0] >= 28_000 && reasons[0][0] <= 32_000,
    String(reasons[0][0]),
  );
  assert.deepEqual(reasons[1], [7000, "secondary rate limit (retry-after)"]);
  assert.deepEqual(reasons.slice(2).map(([ms]) => ms), [60_000, 120_000]);
});

Deno.test("artifacts github: 401 and 404 are not retried", async () => {
  await using gh = await startGithubDouble({ token: "right" });
  const api = githubArtifacts({
    repository: gh.repository,
    apiUrl: gh.apiUrl,
    token: "wrong",
  });
  await assert.rejects(api.list(), /HTTP 401: Bad credentials/);
  const other = githubArtifacts({
    repository: "no/such",
    apiUrl: gh.apiUrl,
    token: "right",
  });
  await assert.rejects(other.list(), /HTTP 404/);
  assert.equal(gh.apiRequests.length, 2);
});
