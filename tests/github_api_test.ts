import assert from "node:assert/strict";
import { startGithubDouble } from "../lib/server/github_api.ts";
import { crc32, makeZip } from "../lib/server/zip_maker.ts";

const zip = (text: string) => makeZip([{ name: "a.txt", data: text }]);

Deno.test("github double: lists 250 artifacts in pages with Link and total_count", async () => {
  await using gh = await startGithubDouble({
    artifacts: Array.from({ length: 250 }, (_, i) => ({
      name: `a${i}`,
      body: zip(String(i)),
    })),
  });
  const base = `${gh.apiUrl}/repos/octo/demo/actions/artifacts?per_page=100`;
  let next: string | undefined = base;
  const names: string[] = [];
  let pages = 0;
  while (next) {
    const response: Response = await fetch(next);
    const body = await response.json();
    assert.equal(body.total_count, 250);
    names.push(...body.artifacts.map((a: { name: string }) => a.name));
    next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "")
      ?.[1];
    pages++;
  }
  assert.equal(pages, 3);
  assert.equal(new Set(names).size, 250);
  const one = await fetch(`${gh.apiUrl}/repos/octo/demo/actions/artifacts`);
  assert.equal((await one.json()).artifacts.length, 30);
  assert.match(one.headers.get("link") ?? "", /page=9>; rel="last"/);
});

Deno.test("github double: name filter, run listing, digest shapes, 410", async () => {
  await using gh = await startGithubDouble({
    artifacts: [
      { name: "logs", body: zip("1"), runId: 7 },
      { name: "logs", body: zip("2"), runId: 8, digest: null },
      { name: "old", body: zip("3"), expired: true, digest: "wrong" },
    ],
  });
  const r = await fetch(
    `${gh.apiUrl}/repos/octo/demo/actions/artifacts?name=logs`,
  );
  const body = await r.json();
  assert.equal(r.headers.get("link"), null);
  assert.deepEqual(body.artifacts.map((a: { id: number }) => a.id), [2, 1]);
  assert.equal(body.artifacts[0].digest, null);
  assert.match(body.artifacts[1].digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(body.artifacts[1].workflow_run.id, 7);
  const run = await (await fetch(
    `${gh.apiUrl}/repos/octo/demo/actions/runs/8/artifacts`,
  )).json();
  assert.equal(run.total_count, 1);
  const gone = await fetch(
    `${gh.apiUrl}/repos/octo/demo/actions/artifacts/3/zip`,
    {
      redirect: "manual",
    },
  );
  assert.equal(gone.status, 410);
  await gone.body?.cancel();
});

Deno.test("github double: 302 to a signed blob URL that expires after its uses, token required at the API", async () => {
  const body = zip("hello");
  await using gh = await startGithubDouble({
    artifacts: [{ name: "logs", body }],
    token: "s3cret",
    urlUses: 1,
  });
  const zipUrl = `${gh.apiUrl}/repos/octo/demo/actions/artifacts/1/zip`;
  const denied = await fetch(zipUrl, { redirect: "manual" });
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
  const r = await fetch(zipUrl, {
    redirect: "manual",
    headers: { authorization: "Bearer s3cret" },
  });
  assert.equal(r.status, 302);
  const location = r.headers.get("location")!;
  assert.ok(location.startsWith(gh.blobUrl));
  const blob = await fetch(location);
  assert.equal(blob.headers.get("content-type"), "application/zip");
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), body);
  const again = await fetch(location);
  assert.equal(again.status, 403);
  await again.body?.cancel();
  assert.equal(gh.blobRequests.length, 2);
  assert.equal(gh.blobRequests[0].headers.authorization, undefined);
});

Deno.test("github double: both kinds of rate limit", async () => {
  await using gh = await startGithubDouble({
    rateLimits: {
      primary: [1],
      secondary: [2],
      resetSeconds: 30,
      retryAfterSeconds: 5,
    },
  });
  const url = `${gh.apiUrl}/repos/octo/demo/actions/artifacts`;
  const a = await fetch(url);
  await a.body?.cancel();
  assert.equal(a.status, 403);
  assert.equal(a.headers.get("x-ratelimit-remaining"), "0");
  assert.ok(Number(a.headers.get("x-ratelimit-reset")) * 1000 > Date.now());
  const b = await fetch(url);
  await b.body?.cancel();
  assert.equal(b.status, 429);
  assert.equal(b.headers.get("retry-after"), "5");
  const c = await fetch(url);
  assert.equal(c.status, 200);
  assert.equal((await c.json()).total_count, 0);
});

Deno.test("zip maker: CRC-32 of a known string", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});
