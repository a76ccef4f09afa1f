import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import {
  murmur3,
  parseShard,
  resolveShard,
  shardJobs,
  shardOf,
} from "../lib/source/shard.ts";
import { parseGetArgs } from "../lib/cli/get.ts";
import { parseMergeArgs } from "../lib/cli/report.ts";
import type { Report } from "../lib/report/json_report.ts";
import type { MergedReport } from "../lib/report/merge.ts";
import { startServer } from "../lib/server/server.ts";
import { listDir, ROOT, runBulkget } from "./_helpers.ts";

Deno.test("murmur3 matches the reference MurmurHash3_x86_32 vectors", () => {
  const vectors: [string, number, number][] = [
    ["", 0, 0],
    ["", 1, 0x514e28b7],
    ["", 0xffffffff, 0x81f16f39],
    ["\0\0\0\0", 0, 0x2362f9de],
    ["a", 0x9747b28c, 0x7fa09ea6],
    ["aa", 0x9747b28c, 0x5d211726],
    ["aaa", 0x9747b28c, 0x283e0130],
    ["aaaa", 0x9747b28c, 0x5a97808a],
    ["abcd", 0x9747b28c, 0xf0478627],
    ["Hello, world!", 0x9747b28c, 0x24884cba],
    ["ππππππππ", 0x9747b28c, 0xd58063c1],
    ["The quick brown fox jumps over the lazy dog", 0x9747b28c, 0x2fa826cd],
    ["hello", 0, 0x248bfa47],
  ];
  for (const [text, seed, expected] of vectors) {
    equal(murmur3(text, seed), expected, `${JSON.stringify(text)} ${seed}`);
  }
  equal(murmur3(new TextEncoder().encode("hello")), 0x248bfa47);
});

Deno.test("the shard assignment is pinned (a change here breaks mixed-version workers)", () => {
  // [destination, murmur3, shard of 2, of 3, of 8]
  const pinned: [string, number, number, number, number][] = [
    ["a.bin", 0x497a73ee, 1, 3, 7],
    ["b.bin", 0x9494ddda, 1, 1, 3],
    ["flags/br/br.gif", 0x1f5e9793, 2, 1, 4],
    ["flags/cn/cn.gif", 0x84cdcef8, 1, 3, 1],
    ["data/2024/01/part-00001.parquet", 0xf96ebea8, 1, 1, 1],
    ["ünïcödé/名前.txt", 0x48fff55f, 2, 2, 8],
    ["x", 0x3e9a9b1b, 2, 3, 4],
    ["report.json", 0xdfcc6f56, 1, 1, 7],
    ["images/cat.jpg", 0xcad593a3, 2, 3, 4],
    ["deep/a/b/c/d/e.tar.gz", 0xc1237ac2, 1, 2, 3],
    ["https://example.com/no-dest", 0x4feb4686, 1, 3, 7],
    ["f00000.bin", 0x2975388c, 1, 1, 5],
    ["f09999.bin", 0x7493b5f7, 2, 2, 8],
  ];
  for (const [dest, hash, of2, of3, of8] of pinned) {
    equal(murmur3(dest), hash, dest);
    deepEqual(
      [shardOf(dest, 1), shardOf(dest, 2), shardOf(dest, 3), shardOf(dest, 8)],
      [1, of2, of3, of8],
      dest,
    );
  }
});

Deno.test("shardJobs keeps one share, by dest (URL without one), lazily", async () => {
  let pulled = 0;
  function* endless() {
    for (let i = 0; i < 1_000_000; i++) {
      pulled++;
      yield { url: `https://example.com/${i}`, dest: `f${i}.bin` };
    }
  }
  const first: string[] = [];
  for await (const job of shardJobs(endless(), { index: 2, count: 8 })) {
    first.push(job.dest);
    if (first.length === 5) break;
  }
  ok(pulled < 200, `pulled ${pulled} jobs for 5 of shard 2/8`);
  for (const dest of first) equal(shardOf(dest, 8), 2);

  const jobs = Array.from({ length: 300 }, (_, i) => ({
    url: `https://example.com/${i}`,
    dest: i % 2 ? `d${i}` : "",
  }));
  const shares = await Promise.all(
    [1, 2, 3].map((index) =>
      Array.fromAsync(shardJobs(jobs, { index, count: 3 }))
    ),
  );
  equal(shares.flat().length, jobs.length);
  deepEqual(new Set(shares.flat()), new Set(jobs));
  for (const [i, share] of shares.entries()) {
    for (const job of share) equal(shardOf(job.dest || job.url, 3), i + 1);
  }
  throws(() => shardJobs(jobs, { index: 0, count: 3 }), RangeError);
  throws(() => shardJobs(jobs, { index: 1, count: 0 }), RangeError);
  throws(() => shardJobs(42 as never, { index: 1, count: 1 }), TypeError);
});

Deno.test("parseShard and resolveShard accept K/N and the environment", () => {
  deepEqual(parseShard("1/1"), { index: 1, count: 1 });
  deepEqual(parseShard(" 3 / 8 "), { index: 3, count: 8 });
  for (const bad of ["0/3", "4/3", "a/b", "1/0", "1", "1/2/3", "-1/3", ""]) {
    throws(() => parseShard(bad), RangeError, bad);
  }
  const env: Record<string, string> = {
    JOB_COMPLETION_INDEX: "2",
    CI_NODE_INDEX: "3",
    MATRIX: "2/5",
    EMPTY: "",
    WORD: "two",
  };
  const get = (name: string) => env[name];
  equal(resolveShard({}, get), undefined);
  deepEqual(resolveShard({ shard: "2/3" }, get), { index: 2, count: 3 });
  deepEqual(resolveShard({ count: "3" }, get), { index: 3, count: 3 });
  deepEqual(resolveShard({ fromEnv: "CI_NODE_INDEX", count: "4" }, get), {
    index: 3,
    count: 4,
  });
  deepEqual(resolveShard({ fromEnv: "MATRIX" }, get), { index: 2, count: 5 });
  deepEqual(resolveShard({ fromEnv: "MATRIX", count: "5" }, get), {
    index: 2,
    count: 5,
  });
  deepEqual(
    resolveShard({ fromEnv: "JOB_COMPLETION_INDEX", count: "3" }, get),
    { index: 3, count: 3 },
  );
  const errors: [Parameters<typeof resolveShard>[0], RegExp][] = [
    [{ shard: "1/2", count: "2" }, /cannot be used with/],
    [{ count: "2" }, /index must be from 0 to 1 .*counts from 0/],
    [{ count: "0" }, /shard count must be a whole number from 1/],
    [{ fromEnv: "CI_NODE_INDEX" }, /give --shard-count N/],
    [{ fromEnv: "CI_NODE_INDEX", count: "2" }, /must be from 1 to 2/],
    [{ fromEnv: "MATRIX", count: "4" }, /disagrees with --shard-count 4/],
    [{ fromEnv: "UNSET", count: "4" }, /UNSET is not set or empty/],
    [{ fromEnv: "EMPTY", count: "4" }, /EMPTY is not set or empty/],
    [{ fromEnv: "WORD", count: "4" }, /expected a whole number/],
    [
      { fromEnv: "NOT A NAME", count: "4" },
      /must name an environment variable/,
    ],
  ];
  for (const [choice, message] of errors) {
    throws(() => resolveShard(choice, get), { name: "RangeError", message });
  }
  throws(() => resolveShard({ count: "4" }, () => undefined), {
    message: /JOB_COMPLETION_INDEX is not set.*Kubernetes sets it/,
  });
});

Deno.test("bulkget get: bad shard arguments are one clear line and exit 2", async () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--shard", "0/3"], {}, /--shard 0\/3: K must be from 1 to 3/],
    [["--shard", "4/3"], {}, /--shard 4\/3: K must be from 1 to 3/],
    [["--shard", "a/b"], {}, /--shard must be K\/N .*got "a\/b"/],
    [["--shard", "1/0"], {}, /shard count must be a whole number from 1/],
    [["--shard-count", "3"], {}, /JOB_COMPLETION_INDEX is not set/],
    [["--shard-count", "3"], { JOB_COMPLETION_INDEX: "x" }, /whole number/],
    [["--shard-count", "3"], { JOB_COMPLETION_INDEX: "3" }, /from 0 to 2/],
    [
      ["--shard-from-env", "BULKGET_TEST_NODE"],
      { BULKGET_TEST_NODE: "1.5" },
      /give --shard-count/,
    ],
    [
      ["--shard-from-env", "BULKGET_TEST_NODE", "--shard-count", "2"],
      {},
      /BULKGET_TEST_NODE is not set/,
    ],
    [["--shard", "1/2", "--shard-count", "2"], {}, /cannot be used with/],
  ];
  const results = await Promise.all(
    cases.map(([args, env]) =>
      runBulkget(["get", "http://127.0.0.1:1/x", ...args], { env })
    ),
  );
  for (const [i, result] of results.entries()) {
    const [args, , message] = cases[i];
    equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    const lines = result.stderr.trimEnd().split("\n");
    equal(lines.length, 2, result.stderr);
    match(lines[0], /^bulkget get: /);
    match(lines[0], message);
    match(lines[1], /^usage: bulkget get/);
  }
});

Deno.test("bulkget get --shard-count: a missing --allow-env names the variable", async () => {
  const result = await runBulkget(
    ["get", "http://127.0.0.1:1/x", "--shard-count", "3"],
    { permissions: ["--allow-net", "--allow-read", "--allow-write"] },
  );
  equal(result.code, 2, result.stderr);
  match(result.stderr, /--allow-env=JOB_COMPLETION_INDEX/);
});

/** The test manifest's jobs: sizes skewed (1 % of the files hold 80 % of the bytes). */
const MANIFEST_JOBS = 10_000;
function sizeOf(i: number): number {
  return i % 1000 === 0 ? 256 * 1024 : i % 100 === 0 ? 16 * 1024 : 100;
}
function nameOf(i: number): string {
  return `f${String(i).padStart(5, "0")}.bin`;
}

Deno.test("the test manifest's split is pinned: counts balance, bytes do not", () => {
  const split = (count: number) => {
    const counts = new Array(count).fill(0);
    const bytes = new Array(count).fill(0);
    for (let i = 0; i < MANIFEST_JOBS; i++) {
      const shard = shardOf(nameOf(i), count) - 1;
      counts[shard]++;
      bytes[shard] += sizeOf(i);
    }
    return { counts, bytes };
  };
  deepEqual(split(3), {
    counts: [3405, 3349, 3246],
    bytes: [1696572, 1855312, 1534116],
  });
  deepEqual(split(8), {
    counts: [1265, 1255, 1257, 1269, 1224, 1208, 1244, 1278],
    bytes: [273056, 566668, 534300, 600636, 841896, 529400, 581852, 1158192],
  });
});

Deno.test({
  name:
    "N = 1, 3, 8 workers split a 10,000-line manifest: each file once, merge ok",
  sanitizeResources: false,
  async fn() {
    await using server = await startServer({ alt: false });
    const dir = await Deno.makeTempDir({ prefix: "bulkget-shard-" });
    try {
      // Half the lines name a dest, half take it from the URL.
      const lines: string[] = [];
      let totalBytes = 0;
      for (let i = 0; i < MANIFEST_JOBS; i++) {
        const url = `${server.url}/files/${sizeOf(i)}/${nameOf(i)}`;
        lines.push(
          JSON.stringify(i % 2 ? { url } : { url, dest: nameOf(i) }),
        );
        totalBytes += sizeOf(i);
      }
      const manifest = `${dir}/manifest.jsonl`;
      await Deno.writeTextFile(manifest, lines.join("\n") + "\n");
      const expectedNames = Array.from(
        { length: MANIFEST_JOBS },
        (_, i) => nameOf(i),
      ).sort();

      // Three ways to name the shard: --shard, Kubernetes, --shard-from-env.
      const ways: Record<
        number,
        (k: number) => [string[], Record<string, string>]
      > = {
        1: (k) => [["--shard", `${k}/1`], {}],
        3: (
          k,
        ) => [["--shard-count", "3"], { JOB_COMPLETION_INDEX: `${k - 1}` }],
        8: (
          k,
        ) => [["--shard-from-env", "MATRIX_SHARD"], { MATRIX_SHARD: `${k}/8` }],
      };
      for (const count of [1, 3, 8]) {
        server.resetStats();
        const out = `${dir}/out-${count}`;
        const reports = `${dir}/reports-${count}`;
        await Deno.mkdir(reports);
        const results = await Promise.all(
          Array.from({ length: count }, (_, i) => {
            const [args, env] = ways[count](i + 1);
            return runBulkget([
              "get",
              "--manifest",
              manifest,
              ...args,
              "-o",
              out,
              "-m",
              "50",
              "-q",
              "--report",
              `${reports}/shard-${i + 1}.json`,
            ], { cwd: dir, env });
          }),
        );
        for (const result of results) equal(result.code, 0, result.stderr);

        // The server saw each file exactly once.
        const stats = server.stats();
        equal(stats.requests, MANIFEST_JOBS, `N=${count}`);
        equal(Object.keys(stats.byPath).length, MANIFEST_JOBS);
        ok(Object.values(stats.byPath).every((n) => n === 1));

        // The union of the downloads is the manifest.
        deepEqual(listDir(out), expectedNames);
        for (const i of [0, 1, 100, 1000, 9999]) {
          equal(Deno.statSync(`${out}/${nameOf(i)}`).size, sizeOf(i));
        }

        // Each report holds exactly its shard.
        const seen = new Set<string>();
        for (let k = 1; k <= count; k++) {
          const report: Report = JSON.parse(
            await Deno.readTextFile(`${reports}/shard-${k}.json`),
          );
          deepEqual(report.shard, { index: k, count });
          for (const item of report.items) {
            equal(item.status, "ok");
            equal(shardOf(item.dest, count), k);
            ok(!seen.has(item.dest), item.dest);
            seen.add(item.dest);
          }
        }
        equal(seen.size, MANIFEST_JOBS);

        // The merge matches.
        const merged = await runBulkget([
          "report",
          "merge",
          reports,
          "--manifest",
          manifest,
          "-o",
          `${dir}/merged-${count}.json`,
        ], { cwd: dir });
        equal(merged.code, 0, merged.stdout + merged.stderr);
        const report: MergedReport = JSON.parse(
          await Deno.readTextFile(`${dir}/merged-${count}.json`),
        );
        equal(report.items.length, MANIFEST_JOBS);
        equal(report.totals.ok, MANIFEST_JOBS);
        equal(report.totals.jobs, MANIFEST_JOBS);
        equal(report.totals.bytes, totalBytes);
        equal(report.merge.expectedJobs, MANIFEST_JOBS);
        deepEqual(report.merge.missing, []);
        deepEqual(report.merge.duplicates, []);
        deepEqual(report.merge.missingShards, []);
        deepEqual(report.merge.problems, []);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The words of a shell command line, `${{ … }}` expressions as values. */
function words(line: string, values: Record<string, string>): string[] {
  return line.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, name) => values[name])
    .trim().split(/\s+/);
}

Deno.test("the GitHub Actions recipe parses and runs each shard with the right flags", async () => {
  const text = await Deno.readTextFile(
    `${ROOT}examples/github-actions-shards.yml`,
  );
  const workflow = parseYaml(text);
  const download = workflow.jobs.download;
  const shards: number[] = download.strategy.matrix.shard;
  deepEqual(shards, Array.from({ length: shards.length }, (_, i) => i + 1));
  equal(download.strategy["fail-fast"], false);

  const step = download.steps.find((s: { run?: string }) =>
    s.run?.includes(" get ")
  );
  equal(step.env.SHARD, "${{ matrix.shard }}/${{ strategy.job-total }}");
  const line = step.run.split("\n").find((l: string) => l.includes(" get "));
  const argv = words(line, { "matrix.shard": "2" });
  const options = parseGetArgs(argv.slice(argv.indexOf("get") + 1));
  deepEqual(options.manifests, ["downloads.jsonl"]);
  equal(options.report, "reports/shard-2.json");
  deepEqual(
    resolveShard(
      options.shardChoice,
      (name) => name === "SHARD" ? `2/${shards.length}` : undefined,
    ),
    { index: 2, count: shards.length },
  );
  const uploads = download.steps.filter((s: { uses?: string }) =>
    s.uses?.startsWith("actions/upload-artifact@")
  );
  ok(
    uploads.some((s: { with: { path: string } }) =>
      s.with.path === "reports/shard-${{ matrix.shard }}.json"
    ),
  );

  const merge = workflow.jobs.merge;
  equal(merge.needs, "download");
  match(merge.if, /!cancelled\(\)/);
  ok(
    merge.steps.some((s: { uses?: string; with?: { path?: string } }) =>
      s.uses?.startsWith("actions/download-artifact@") &&
      s.with?.path === "reports"
    ),
  );
  const mergeLine: string =
    merge.steps.find((s: { run?: string }) => s.run?.includes("report merge"))
      .run;
  const mergeArgs = words(mergeLine, {});
  deepEqual(mergeArgs.slice(mergeArgs.indexOf("report")), [
    "report",
    "merge",
    "reports",
    "--manifest",
    "downloads.jsonl",
    "-o",
    "merged-report.json",
  ]);
});

Deno.test("the Kubernetes recipe is an Indexed Job whose pods pick their shard", async () => {
  const text = await Deno.readTextFile(`${ROOT}examples/k8s-indexed-job.yaml`);
  const docs = parseAllDocuments(text).map((doc) => {
    equal(doc.errors.length, 0, String(doc.errors));
    return doc.toJS();
  });
  deepEqual(docs.map((d) => d.kind), [
    "ConfigMap",
    "PersistentVolumeClaim",
    "Job",
  ]);
  const job = docs[2];
  equal(job.apiVersion, "batch/v1");
  equal(job.spec.completionMode, "Indexed");
  const n: number = job.spec.completions;
  equal(job.spec.parallelism, n);
  const pod = job.spec.template.spec;
  equal(pod.restartPolicy, "Never");
  const [container] = pod.containers;
  const options = parseGetArgs(container.args);
  equal(options.shardChoice.count, String(n));
  equal(options.shardChoice.shard, undefined);
  deepEqual(options.manifests, ["/manifest/downloads.jsonl"]);
  equal(options.report, "/reports/shard-$(JOB_COMPLETION_INDEX).json");
  for (let index = 0; index < n; index++) {
    deepEqual(
      resolveShard(
        options.shardChoice,
        (name) => name === "JOB_COMPLETION_INDEX" ? String(index) : undefined,
      ),
      { index: index + 1, count: n },
    );
  }
  const env = container.env.find((e: { name: string }) =>
    e.name === "JOB_COMPLETION_INDEX"
  );
  equal(
    env.valueFrom.fieldRef.fieldPath,
    "metadata.annotations['batch.kubernetes.io/job-completion-index']",
  );
  const mounts = new Map(
    container.volumeMounts.map((m: { mountPath: string }) => [m.mountPath, m]),
  );
  ok(
    mounts.has("/downloads") && mounts.has("/reports") &&
      mounts.has("/manifest"),
  );
  equal(options.outDir, "/downloads");
  const manifestText: string = docs[0].data["downloads.jsonl"];
  for (const line of manifestText.trim().split("\n")) ok(JSON.parse(line).url);
});

Deno.test("README.md holds the recipes verbatim, and its YAML parses", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const start = readme.indexOf(
    "### Sharding: one manifest across many machines",
  );
  ok(start >= 0, "README.md has the sharding section");
  const end = readme.indexOf("\n### ", start + 1);
  const docs = readme.slice(start, end < 0 ? undefined : end);
  for (const name of ["github-actions-shards.yml", "k8s-indexed-job.yaml"]) {
    const text = await Deno.readTextFile(`${ROOT}examples/${name}`);
    ok(docs.includes(text), `README.md lacks examples/${name}`);
  }
  const blocks = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
  equal(blocks.length, 3);
  for (const block of blocks) {
    for (const doc of parseAllDocuments(block)) equal(doc.errors.length, 0);
  }
  const mergeJob = parseYaml(blocks[2]);
  equal(mergeJob.kind, "Job");
  const [container] = mergeJob.spec.template.spec.containers;
  deepEqual(container.args.slice(0, 2), ["report", "merge"]);
  const options = parseMergeArgs(container.args.slice(2));
  deepEqual(options.reports, ["/data/reports"]);
  deepEqual(options.manifests, ["/manifest/downloads.jsonl"]);
});
