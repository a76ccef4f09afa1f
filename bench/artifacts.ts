/**
 * The CI artifacts benchmark: 20 artifacts of 1-100 MiB (about 1 GiB in all)
 * from the GitHub API double, fetched and extracted by `bulkget artifacts
 * github`, by a sequential download-then-`unzip` loop (the way `gh run
 * download` works: one artifact at a time), and by curl downloading all at
 * once then `unzip` extracting all at once. Every run's tree is checked (the
 * SHA-256 of every extracted file) before its time counts. Wall time and peak
 * RSS come from `/usr/bin/time`.
 *
 * ```sh
 * deno task bench --only ARTIFACTS        # writes bench/results-artifacts.md
 * deno run --allow-all bench/artifacts.ts [--count 20] [--max-mib 100] [--reps 1]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { startGithubDouble } from "../lib/server/github_api.ts";
import { makeZip } from "../lib/server/zip_maker.ts";
import { V8_FLAGS } from "../lib/cli/v8_flags.ts";

/** How large a run is. */
export interface ArtifactsBenchOptions {
  /** How many artifacts (default 20). */
  count: number;
  /** The largest artifact in MiB; sizes spread evenly from 1 (default 100). */
  maxMiB: number;
  /** Repetitions per tool; medians are reported (default 1). */
  reps: number;
  /** Where the output trees are made (default /tmp). */
  dir: string;
}

/** One tool's median over the repetitions. */
export interface ArtifactsBenchRow {
  /** The tool and how it ran. */
  label: string;
  /** Median wall time in seconds. */
  seconds: number;
  /** Median peak RSS in MiB (of the whole command, children included). */
  rssMiB: number;
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * Runs the three contenders over the same artifacts, checks every run's tree,
 * and returns the medians with a Markdown table.
 *
 * @param options See {@linkcode ArtifactsBenchOptions}.
 * @param log Where progress lines go.
 * @returns The medians and the table.
 */
export async function runArtifactsBench(
  options: ArtifactsBenchOptions,
  log: (line: string) => void,
): Promise<{ rows: ArtifactsBenchRow[]; markdown: string }> {
  const { artifacts, expected, total } = makeArtifacts(options);
  await using gh = await startGithubDouble({ artifacts, token: "bench-token" });
  const zipUrls: [string, string][] = (await (await fetch(
    `${gh.apiUrl}/repos/octo/demo/actions/runs/1/artifacts?per_page=100`,
    { headers: { authorization: "Bearer bench-token" } },
  )).json()).artifacts.map((
    a: { name: string; archive_download_url: string },
  ) => [a.name, a.archive_download_url]);
  const tools = contenders(gh.apiUrl, zipUrls);
  log(
    `${options.count} artifacts, ${
      (total / 2 ** 20).toFixed(0)
    } MiB, stored zips, loopback`,
  );
  const results: Record<string, { seconds: number; rssMiB: number }[]> = {};
  for (let rep = 0; rep < options.reps; rep++) {
    for (const [label, script] of tools) {
      const out = await Deno.makeTempDir({
        dir: options.dir,
        prefix: "artbench-",
      });
      try {
        const r = await timed(script(out), out);
        await verify(out, expected);
        (results[label] ??= []).push(r);
        log(
          `${label}: ${r.seconds.toFixed(2)} s, peak RSS ${
            r.rssMiB.toFixed(0)
          } MiB`,
        );
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    }
  }
  const med = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = tools.map(([label]) => ({
    label,
    seconds: med(results[label].map((r) => r.seconds)),
    rssMiB: med(results[label].map((r) => r.rssMiB)),
  }));
  return { rows, markdown: table(rows, options, total) };
}

/** The artifacts (one random file each, stored), with each file's SHA-256. */
export function makeArtifacts({ count, maxMiB }: ArtifactsBenchOptions) {
  // Sizes from 1 MiB to maxMiB, spread evenly (about 1 GiB for 20 × 1-100).
  const sizes = Array.from(
    { length: count },
    (_, i) =>
      Math.round((1 + (maxMiB - 1) * i / Math.max(1, count - 1)) * 2 ** 20),
  );
  const expected = new Map<string, string>();
  const artifacts = sizes.map((size, i) => {
    const data = new Uint8Array(size);
    for (let at = 0; at < size; at += 65536) {
      crypto.getRandomValues(data.subarray(at, Math.min(size, at + 65536)));
    }
    const name = `art-${String(i + 1).padStart(2, "0")}`;
    expected.set(
      `${name}/${name}.bin`,
      createHash("sha256").update(data).digest("hex"),
    );
    return { name, body: makeZip([{ name: `${name}.bin`, data }]), runId: 1 };
  });
  return { artifacts, expected, total: sizes.reduce((a, b) => a + b, 0) };
}

/** Each contender's label and shell command for an output directory. */
function contenders(
  apiUrl: string,
  zipUrls: [string, string][],
): [string, (out: string) => string][] {
  const curlAuth = `-H "Authorization: Bearer bench-token"`;
  return [
    [
      "bulkget artifacts github",
      (out) =>
        `deno run --quiet --v8-flags=${V8_FLAGS} --allow-all ${MAIN} artifacts github octo/demo --run 1 --api-url ${apiUrl} -o ${out} -q`,
    ],
    [
      "sequential: curl then unzip, one at a time",
      (out) =>
        zipUrls.map(([name, url]) =>
          `curl -sfL ${curlAuth} -o ${out}/${name}.zip ${url} && unzip -q -o ${out}/${name}.zip -d ${out}/${name} && rm ${out}/${name}.zip`
        ).join(" && "),
    ],
    [
      "parallel: curl --parallel, then unzip in parallel",
      (out) =>
        `curl -sfL --parallel --parallel-max 16 ${curlAuth} ${
          zipUrls.map(([name, url]) => `-o ${out}/${name}.zip ${url}`)
            .join(" ")
        } && ls ${out}/*.zip | xargs -P 16 -I{} sh -c 'd={}; unzip -q -o "$d" -d "\${d%.zip}" && rm "$d"'`,
    ],
  ];
}

/** Wall time and peak RSS of a shell command, from `/usr/bin/time`. */
async function timed(
  script: string,
  cwd: string,
): Promise<{ seconds: number; rssMiB: number }> {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%e %M", "bash", "-c", script],
    cwd,
    env: { GITHUB_TOKEN: "bench-token" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr).trim().split("\n");
  if (!out.success) throw new Error(`failed: ${script}\n${text.join("\n")}`);
  const [seconds, kib] = text.at(-1)!.split(" ").map(Number);
  return { seconds, rssMiB: kib / 1024 };
}

/** Checks every extracted file's SHA-256. */
export async function verify(dir: string, expected: Map<string, string>) {
  for (const [path, sha] of expected) {
    const file = await Deno.open(`${dir}/${path}`);
    const hash = createHash("sha256");
    for await (const chunk of file.readable) hash.update(chunk);
    if (hash.digest("hex") !== sha) {
      throw new Error(`${dir}/${path}: wrong bytes`);
    }
  }
}

function table(
  rows: ArtifactsBenchRow[],
  { count, maxMiB, reps }: ArtifactsBenchOptions,
  total: number,
): string {
  const ours = rows[0].seconds;
  return [
    `# CI artifacts benchmark`,
    ``,
    `Generated by \`deno task bench --only ARTIFACTS\` on ${
      new Date().toISOString()
    }: ${count} artifacts of 1-${maxMiB} MiB (${
      (total / 2 ** 20).toFixed(0)
    } MiB in all, stored zips) from the GitHub API double on loopback, ${reps} repetition(s), medians; every run's extracted tree SHA-256-checked before its time counts. Wall time and peak RSS from \`/usr/bin/time\`.`,
    ``,
    `| tool | wall | peak RSS | bulkget's speed-up |`,
    `|---|---|---|---|`,
    ...rows.map((r, i) =>
      `| ${r.label} | ${r.seconds.toFixed(2)} s | ${
        r.rssMiB.toFixed(0)
      } MiB | ${i === 0 ? "—" : `${(r.seconds / ours).toFixed(2)} ×`} |`
    ),
    ``,
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      count: { type: "string", default: "20" },
      "max-mib": { type: "string", default: "100" },
      reps: { type: "string", default: "1" },
      dir: { type: "string", default: "/tmp" },
    },
  });
  const { markdown } = await runArtifactsBench({
    count: Number(values.count),
    maxMiB: Number(values["max-mib"]),
    reps: Number(values.reps),
    dir: values.dir!,
  }, (line) => console.log(line));
  console.log(markdown);
}
