/**
 * A/B of two bulkget trees on the CI artifacts case (`bench/artifacts.ts`'s
 * 20 stored zips of 1-100 MiB from the GitHub API double), runs interleaved
 * (A B, B A, …) against one double kept running, so the machine's drift
 * hits both alike. Per run: wall, user and system CPU and peak RSS of
 * `bulkget artifacts github` (`/usr/bin/time`, each run capped), the CPU
 * of each of its threads (`/proc/PID/task/*`, sampled every 20 ms, so a
 * thread's last 20 ms may be missed), and the CPU the double (this
 * process) spent serving it. Every run's tree is SHA-256-checked before it counts. Medians, B ÷ A.
 *
 * ```sh
 * git -C /work/main archive main | tar -x -C /tmp/tree-a    # the "before"
 * deno run -A bench/ab_artifacts.ts --a /tmp/tree-a --b . --pairs 6 [--gap 5] [-- EXTRA ARGS]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { startGithubDouble } from "../lib/server/github_api.ts";
import { V8_FLAGS } from "../lib/cli/v8_flags.ts";
import { makeArtifacts, verify } from "./artifacts.ts";
import { median, timedRun, treeOf } from "./measure.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    a: { type: "string" },
    b: { type: "string" },
    pairs: { type: "string", default: "5" },
    count: { type: "string", default: "20" },
    "max-mib": { type: "string", default: "100" },
    dir: { type: "string", default: "/tmp" },
    gap: { type: "string", default: "0" },
  },
});
if (!values.a || !values.b) {
  console.error(
    "usage: ab_artifacts.ts --a TREE --b TREE [--pairs N] [-- EXTRA ARGS]",
  );
  Deno.exit(2);
}

/** One run's costs. */
interface Costs {
  wall: number;
  user: number;
  sys: number;
  rssMiB: number;
  /** The double's CPU seconds (this process) during the run. */
  double: number;
  /** CPU seconds by thread name (threads of one name added up). */
  threads: Map<string, number>;
}

const TICK = 100; // clock ticks per second (USER_HZ)

/** A run's cap: far above the ~2 s a run takes, so a hung run ends. */
const CAP_SEC = 120;

/**
 * CPU seconds of every thread of `pid`'s process tree now (GNU time,
 * timeout and the bulkget under them), by thread id, with its name.
 */
function threadTimes(pid: number): Map<string, [string, number]> {
  const times = new Map<string, [string, number]>();
  for (const member of treeOf(pid)) {
    try {
      for (const task of Deno.readDirSync(`/proc/${member}/task`)) {
        try {
          const stat = Deno.readTextFileSync(
            `/proc/${member}/task/${task.name}/stat`,
          );
          const close = stat.lastIndexOf(")");
          const name = stat.slice(stat.indexOf("(") + 1, close);
          const fields = stat.slice(close + 2).split(" ");
          const cpu = (Number(fields[11]) + Number(fields[12])) / TICK;
          times.set(task.name, [name, cpu]);
        } catch { /* the thread ended */ }
      }
    } catch { /* the process ended */ }
  }
  return times;
}

async function run(
  tree: string,
  apiUrl: string,
  expected: Map<string, string>,
): Promise<Costs> {
  // An idle gap first, as in `deno task bench`, where the other tools run
  // between two bulkget runs: this VM hands memory freed for about 2 s back
  // to its host, and touching it again costs a host fault per page (1 GiB
  // of fresh page cache: ~1.3 s of system time, against ~0.16 s for pages
  // freed just before), so back-to-back runs get page cache cheaper than
  // the bench's.
  await new Promise((resolve) =>
    setTimeout(resolve, Number(values.gap) * 1000)
  );
  const out = await Deno.makeTempDir({ dir: values.dir, prefix: "abart-" });
  try {
    const before = process.cpuUsage();
    const seen = new Map<string, [string, number]>();
    let pid: number | undefined;
    const sampler = setInterval(() => {
      if (pid === undefined) return;
      for (const [tid, t] of threadTimes(pid)) seen.set(tid, t);
    }, 20);
    const result = await timedRun([
      "deno",
      "run",
      "--quiet",
      `--v8-flags=${V8_FLAGS}`,
      "--allow-all",
      `${tree}/main.ts`,
      "artifacts",
      "github",
      "octo/demo",
      "--run",
      "1",
      "--api-url",
      apiUrl,
      "-o",
      out,
      "-q",
      ...positionals,
    ], {
      capSec: CAP_SEC,
      env: { GITHUB_TOKEN: "bench-token" },
      onSpawn: (spawned) => pid = spawned,
    });
    clearInterval(sampler);
    const used = process.cpuUsage(before);
    if (result.exit !== 0) {
      throw new Error(
        result.timedOut ? `stopped after ${CAP_SEC} s` : result.stderr,
      );
    }
    await verify(out, expected);
    const threads = new Map<string, number>();
    for (const [name, cpu] of seen.values()) {
      threads.set(name, (threads.get(name) ?? 0) + cpu);
    }
    return {
      wall: result.wall,
      user: result.user,
      sys: result.sys,
      rssMiB: result.maxRssKiB / 1024,
      double: (used.user + used.system) / 1e6,
      threads,
    };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

const options = {
  count: Number(values.count),
  maxMiB: Number(values["max-mib"]),
  reps: 1,
  dir: values.dir!,
};
const { artifacts, expected } = makeArtifacts(options);
await using gh = await startGithubDouble({ artifacts, token: "bench-token" });
const trees = { A: values.a, B: values.b };
const costs: Record<"A" | "B", Costs[]> = { A: [], B: [] };
// One run of each first, not counted: the page cache and Deno's caches warm.
for (const tree of Object.values(trees)) await run(tree, gh.apiUrl, expected);
for (let pair = 0; pair < Number(values.pairs); pair++) {
  const order: ("A" | "B")[] = pair % 2 ? ["B", "A"] : ["A", "B"];
  for (const which of order) {
    const c = await run(trees[which], gh.apiUrl, expected);
    costs[which].push(c);
    console.log(
      `${which}: wall ${c.wall.toFixed(2)} s, cpu ${
        (c.user + c.sys).toFixed(2)
      } (user ${c.user.toFixed(2)}, sys ${c.sys.toFixed(2)}), double ${
        c.double.toFixed(2)
      }, RSS ${c.rssMiB.toFixed(0)} MiB; threads ${
        [...c.threads].filter(([, t]) => t >= 0.05).map(([n, t]) =>
          `${n} ${t.toFixed(2)}`
        ).join(", ")
      }`,
    );
  }
}
const row = (label: string, pick: (c: Costs) => number, digits = 2) => {
  const a = median(costs.A.map(pick));
  const b = median(costs.B.map(pick));
  console.log(
    `${label.padEnd(10)} A ${a.toFixed(digits)}  B ${b.toFixed(digits)}  B/A ${
      (b / a).toFixed(3)
    }`,
  );
};
console.log(`medians of ${values.pairs} interleaved pairs:`);
row("wall s", (c) => c.wall);
row("cpu s", (c) => c.user + c.sys);
row("user s", (c) => c.user);
row("sys s", (c) => c.sys);
row("double s", (c) => c.double);
row("RSS MiB", (c) => c.rssMiB, 0);
