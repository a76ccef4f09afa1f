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

/** The artifacts API of a started double, with `options` on top. */
const apiOf = (
  gh: { repository: string; apiUrl: string },
  options: Omit<
    Parameters<typeof githubArtifacts>[0],
    "repository" | "apiUrl"
  > = {},
) =>
  githubArtifacts({ repository: gh.repository, apiUrl: gh.apiUrl, ...options });

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
  const api = apiOf(gh, { token: "tok" });
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
  const api = apiOf(gh);
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
    const api = apiOf(gh, { token: "tok" });
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
    const api = apiOf(gh);
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

Deno.test("artifacts github: large zips, hashed while they download: a wrong digest still fails before extraction; a body broken off on every try fails as broken, nothing extracted", async () => {
  // Over the 1 MiB whole-body limit, so each is streamed into its .part
  // and hashed as it is written.
  const big = (c: string) => zip({ "big.txt": c.repeat(3 << 20) });
  await using gh = await startGithubDouble({
    artifacts: [
      { name: "bad", body: big("B"), digest: "wrong" },
      // Every answer breaks off at 2 MiB (each retry's watch is dropped).
      { name: "broken", body: big("C"), truncateTo: 2 << 20 },
      { name: "good", body: big("D") },
    ],
  });
  await tempDir(async (dir) => {
    const api = apiOf(gh);
    const results = await fetchArtifacts(api, await api.list(), {
      outDir: dir,
      sleep: () => Promise.resolve(),
    });
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    assert.equal(byName.bad.status, "error");
    assert.match(byName.bad.reason!, /digest mismatch/);
    await assert.rejects(Deno.lstat(`${dir}/bad`), Deno.errors.NotFound);
    assert.equal(byName.broken.status, "error");
    assert.doesNotMatch(byName.broken.reason!, /digest/);
    await assert.rejects(Deno.lstat(`${dir}/broken`), Deno.errors.NotFound);
    assert.equal(
      gh.blobRequests.filter((r) =>
        r.path.startsWith(`/blob/${byName.broken.id}?`)
      ).length,
      6,
      "the first try and 5 retries",
    );
    assert.equal(byName.good.status, "ok", byName.good.reason);
    assert.equal(`sha256:${byName.good.sha256}`, byName.good.digest);
    assert.equal(
      await Deno.readTextFile(`${dir}/good/big.txt`),
      "D".repeat(3 << 20),
    );
  });
});

Deno.test("artifacts github: zip64 artifacts, small and over the 1 MiB whole-body limit, stored and deflated, are downloaded, verified and extracted", async () => {
  const bytes = (c: string, n: number) => c.repeat(n);
  await using gh = await startGithubDouble({
    artifacts: [
      {
        name: "small64",
        body: makeZip([{ name: "s.txt", data: "small" }], { zip64: true }),
      },
      {
        name: "big64",
        body: makeZip([
          { name: "a/stored.bin", data: bytes("S", 3 << 20) },
          { name: "a/deflated.txt", data: bytes("Z", 3 << 20), deflate: true },
        ], { zip64: true }),
      },
    ],
  });
  await tempDir(async (dir) => {
    const api = apiOf(gh);
    const results = await fetchArtifacts(api, await api.list(), {
      outDir: dir,
    });
    for (const r of results) {
      assert.equal(r.status, "ok", `${r.name}: ${r.reason}`);
      assert.equal(`sha256:${r.sha256}`, r.digest);
    }
    assert.equal(await Deno.readTextFile(`${dir}/small64/s.txt`), "small");
    assert.equal(
      await Deno.readTextFile(`${dir}/big64/a/stored.bin`),
      bytes("S", 3 << 20),
    );
    assert.equal(
      await Deno.readTextFile(`${dir}/big64/a/deflated.txt`),
      bytes("Z", 3 << 20),
    );
  });
});

Deno.test("artifacts github, kept as zips (extract: false): a wrong digest fails the artifact at once, as with extraction (one download, no retry), and no zip is kept", async () => {
  await using gh = await startGithubDouble({
    artifacts: [
      { name: "small", body: zip({ "a.txt": "A" }), digest: "wrong" },
      // Streamed into its .part (over the 1 MiB whole-body limit).
      {
        name: "large",
        body: zip({ "b.txt": "B".repeat(3 << 20) }),
        digest: "wrong",
      },
    ],
  });
  await tempDir(async (dir) => {
    const api = apiOf(gh);
    const results = await fetchArtifacts(api, await api.list(), {
      outDir: dir,
      extract: false,
      sleep: () => Promise.resolve(),
    });
    for (const result of results) {
      assert.equal(result.status, "error", result.name);
      assert.match(result.reason!, /^digest mismatch/, result.name);
      const blobs = gh.blobRequests.filter((r) =>
        r.path.startsWith(`/blob/${result.id}?`)
      );
      assert.equal(blobs.length, 1, `${result.name}: downloaded once`);
      await assert.rejects(
        Deno.lstat(`${dir}/${result.name}.zip`),
        Deno.errors.NotFound,
      );
    }
  });
});

Deno.test("artifacts github: an expired artifact (410) ends as expired after one API call", async () => {
  await using gh = await startGithubDouble({
    artifacts: [{ name: "old", body: zip({ a: "1" }), expired: true }],
  });
  await tempDir(async (dir) => {
    const api = apiOf(gh);
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
    const api = apiOf(gh);
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
  const api = apiOf(gh, { ...noWait(waits) });
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
  const api = apiOf(gh, { token: "wrong" });
  await assert.rejects(api.list(), /HTTP 401: Bad credentials/);
  const other = githubArtifacts({
    repository: "no/such",
    apiUrl: gh.apiUrl,
    token: "right",
  });
  await assert.rejects(other.list(), /HTTP 404/);
  assert.equal(gh.apiRequests.length, 2);
});

Deno.test("artifacts github: with --merge, entries under the work directory or named as the state file, and an artifact named like the work directory, are refused and nothing of them is written", async () => {
  const forged = JSON.stringify({
    "1": { sha256: "", digest: null, files: 0, bytes: 0, path: "." },
  });
  await using gh = await startGithubDouble({
    artifacts: [
      { name: "good", body: zip({ "g.txt": "G" }), id: 1 },
      {
        name: "done-list",
        body: zip({ "d.txt": "D", ".bulkget-artifacts/done.json": forged }),
        id: 2,
      },
      {
        name: "in-progress",
        body: zip({ "p.txt": "P", ".bulkget-artifacts/1.zip": "not a zip" }),
        id: 3,
      },
      {
        name: "other-case",
        body: zip({ "c.txt": "C", ".BULKGET-Artifacts/x": "x" }),
        id: 4,
      },
      {
        name: "state",
        body: zip({ "s.txt": "S", ".bulkget-state.jsonl": "{}\n" }),
        id: 5,
      },
    ],
  });
  await tempDir(async (dir) => {
    const api = apiOf(gh);
    const results = await fetchArtifacts(api, await api.list(), {
      outDir: dir,
      merge: true,
      concurrency: 1,
    });
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    assert.equal(byName.good.status, "ok", byName.good.reason);
    for (const name of ["done-list", "in-progress", "other-case"]) {
      assert.equal(byName[name].status, "error", name);
      assert.match(byName[name].reason!, /bulkget's own work directory/, name);
    }
    assert.equal(byName.state.status, "error");
    assert.match(byName.state.reason!, /bulkget's own state file/);
    for (const file of ["d.txt", "p.txt", "c.txt", "s.txt"]) {
      await assert.rejects(Deno.lstat(`${dir}/${file}`), Deno.errors.NotFound);
    }
    await assert.rejects(
      Deno.lstat(`${dir}/.BULKGET-Artifacts`),
      Deno.errors.NotFound,
    );
    const done = JSON.parse(
      await Deno.readTextFile(`${dir}/.bulkget-artifacts/done.json`),
    );
    assert.deepEqual(Object.keys(done), ["1"]);
    assert.equal(done["1"].files, 1);
    assert.equal(await Deno.readTextFile(`${dir}/g.txt`), "G");
  });
});

Deno.test("artifacts github: an artifact named like the work directory is refused before its download, with and without extraction", async () => {
  for (
    const name of [
      ".bulkget-artifacts",
      ".bulkget-artifacts/7",
      ".Bulkget-Artifacts",
    ]
  ) {
    await using gh = await startGithubDouble({
      artifacts: [
        { name, body: zip({ "done.json": "{}" }), id: 7 },
        { name: "fine", body: zip({ "f.txt": "F" }), id: 8 },
      ],
    });
    for (const extract of [true, false]) {
      await tempDir(async (dir) => {
        const api = apiOf(gh);
        const blobsBefore = gh.blobRequests.length;
        const results = await fetchArtifacts(api, await api.list(), {
          outDir: dir,
          extract,
        });
        const bad = results.find((r) => r.id === 7)!;
        assert.equal(bad.status, "error", `${name} extract=${extract}`);
        assert.match(bad.reason!, /bulkget's own work directory/);
        assert.equal(results.find((r) => r.id === 8)!.status, "ok");
        assert.equal(gh.blobRequests.length, blobsBefore + 1);
        const work = [];
        for await (const e of Deno.readDir(`${dir}/.bulkget-artifacts`)) {
          work.push(e.name);
        }
        assert.deepEqual(work, ["done.json"]);
      });
    }
  }
});
