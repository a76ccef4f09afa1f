/**
 * A/B of two bulkget trees on one case, runs interleaved (A B, B A, …) so
 * the machine's drift hits both alike: whole-process wall, CPU (user + sys)
 * and peak RSS under `/usr/bin/time`, medians, B ÷ A. Every run's files are
 * checked. bulkget runs as the bench runs it (narrow permissions, the V8
 * flag), against nginx on 127.0.0.1 (the Deno server when nginx is missing),
 * into a private tmpfs when root can mount one.
 *
 * Cases: `HELP` (`get --help`), `ONE` (one 1 KiB file; also the time from
 * spawn to the server's first request, from nginx's access log), `SMALL`
 * (2,000 × 4 KiB, -m 100), `MANY` (20,000 × 1 KiB, -m 100), `LARGE`
 * (4 × 256 MiB, -m 4), `DELAY` (the 100 flags of `data/` from the Deno server's
 * DELAY preset, 500 ms per response, -m 100; wall also timed to the
 * millisecond from spawn to exit, since GNU time's 10 ms tick is DELAY's
 * whole margin). A tree named `bare` is bench/bare.ts, the bench's bare
 * fetch loop, run with the same narrow permissions. `HUGE` (the bench's
 * HUGE-LIST: a 1,000,000-line list of 1 KiB files from the Deno LOCAL
 * server, stopped by SIGTERM at 10 s) gives the peak of VmRSS sampled every
 * 500 ms beside GNU time's, and the files done instead of a check.
 *
 * ```sh
 * git -C /work/main archive main | tar -x -C /tmp/tree-a    # the "before"
 * deno run -A bench/ab.ts --a /tmp/tree-a --b . --case SMALL --pairs 7 [-- EXTRA ARGS]
 * deno run -A bench/ab.ts --a . --b . --b-v8=--max-semi-space-size=4 --case HUGE   # V8 flags A/B
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { V8_FLAGS } from "../lib/cli/v8_flags.ts";
import { writeGeneratedFile } from "./generated_files.ts";
import { median, type RunResult, timedRun, verifyDir } from "./measure.ts";
import {
  type BenchServer,
  killServers,
  startDenoServer,
  startNginx,
} from "./servers.ts";
import { which } from "./tools.ts";

interface Case {
  count: number;
  sizeSpec: string;
  size: number;
  m: number;
  /** The flags of `data/` from the Deno DELAY server, not generated files from nginx. */
  flags?: boolean;
  /** HUGE-LIST: generated files from the Deno LOCAL server, stopped at this many seconds. */
  stopSec?: number;
}

const CASES: Record<string, Case | undefined> = {
  HELP: undefined,
  ONE: { count: 1, sizeSpec: "1k", size: 1024, m: 1 },
  SMALL: { count: 2000, sizeSpec: "4k", size: 4096, m: 100 },
  MANY: { count: 20000, sizeSpec: "1k", size: 1024, m: 100 },
  LARGE: { count: 4, sizeSpec: "256m", size: 256 << 20, m: 4 },
  DELAY: { count: 100, sizeSpec: "", size: 0, m: 100, flags: true },
  HUGE: { count: 1_000_000, sizeSpec: "1k", size: 1024, m: 100, stopSec: 10 },
};

/** This tree, for bench/bare.ts and the flags. */
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    a: { type: "string" },
    b: { type: "string" },
    case: { type: "string", default: "SMALL" },
    pairs: { type: "string", default: "5" },
    "a-v8": { type: "string" },
    "b-v8": { type: "string" },
  },
});
const name = values.case!.toUpperCase();
if (!values.a || !values.b || !(name in CASES)) {
  console.error(
    `usage: ab.ts --a TREE --b TREE --case ${
      Object.keys(CASES).join("|")
    } [--pairs N] [-- EXTRA GET ARGS]`,
  );
  Deno.exit(2);
}
const trees = { A: values.a, B: values.b };
/** Each side's V8 flags: bulkget's own unless `--a-v8` / `--b-v8` say others. */
const v8Flags = {
  A: values["a-v8"] ?? V8_FLAGS,
  B: values["b-v8"] ?? V8_FLAGS,
};
// No update check in the runs: see bench/run.ts.
Deno.env.set("DENO_NO_UPDATE_CHECK", "1");
const spec = CASES[name];
const pairs = Number(values.pairs);

/** A private tmpfs (root), else a temporary directory. */
async function workDir(): Promise<{ dir: string; done(): Promise<void> }> {
  const dir = `/tmp/bulkget-ab-${Deno.pid}`;
  await Deno.mkdir(dir, { recursive: true });
  const mounted = Deno.uid?.() === 0 &&
    (await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=4g", "tmpfs", dir],
      stderr: "null",
    }).output().catch(() => undefined))?.success;
  return {
    dir,
    async done() {
      if (mounted) {
        await new Deno.Command("umount", { args: [dir] }).output();
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

const work = await workDir();
let server: BenchServer | undefined;
try {
  const names: string[] = [];
  let list = "";
  const accessLog = `${work.dir}/access.log`;
  const sha256s = new Map<string, string>();
  const sizes = new Map<string, number>();
  if (spec?.flags) {
    // The Deno server of a tree that is not `bare`.
    const serverTree = trees.B === "bare" ? trees.A : trees.B;
    server = await startDenoServer(serverTree, "DELAY");
    const codes = (await Deno.readTextFile(`${ROOT}/data/country_codes.txt`))
      .split(/\s+/).filter((c) => /^[A-Z]{2}$/i.test(c)).slice(0, spec.count)
      .map((c) => c.toLowerCase());
    for (const cc of codes) {
      names.push(`${cc}.gif`);
      const body = await Deno.readFile(`${ROOT}/data/flags/${cc}/${cc}.gif`);
      sizes.set(`${cc}.gif`, body.byteLength);
      sha256s.set(`${cc}.gif`, createHash("sha256").update(body).digest("hex"));
    }
    list = `${work.dir}/list.txt`;
    await Deno.writeTextFile(
      list,
      codes.map((cc) => `${server!.base}/flags/${cc}/${cc}.gif\n`).join(""),
    );
  } else if (spec?.stopSec) {
    server = await startDenoServer(
      trees.B === "bare" ? trees.A : trees.B,
      "LOCAL",
    );
    list = `${work.dir}/list.txt`;
    const file = await Deno.open(list, { write: true, create: true });
    const digits = String(spec.count).length;
    for (let i = 0; i < spec.count; i += 50_000) {
      const lines = [];
      for (let j = i; j < Math.min(i + 50_000, spec.count); j++) {
        lines.push(
          `${server.base}/files/1k/h${
            String(j + 1).padStart(digits, "0")
          }.bin\n`,
        );
      }
      await file.write(new TextEncoder().encode(lines.join("")));
    }
    file.close();
  } else if (spec) {
    for (let i = 0; i < spec.count; i++) names.push(`ab${i}.bin`);
    // Written (and hashed) piece by piece: LARGE's files are over the
    // 64 MiB that generatedBody holds.
    const dir = `${work.dir}/www/files/${spec.sizeSpec}`;
    await Deno.mkdir(dir, { recursive: true });
    for (const n of names) {
      sha256s.set(n, writeGeneratedFile(`${dir}/${n}`, n, spec.size));
    }
    if (which("nginx")) {
      server = await startNginx(`${work.dir}/nginx`, `${work.dir}/www`, {
        accessLog: name === "ONE" ? accessLog : undefined,
      });
    } else {
      server = await startDenoServer(values.b!, "LOCAL");
    }
    list = `${work.dir}/list.txt`;
    await Deno.writeTextFile(
      list,
      names.map((n) => `${server!.base}/files/${spec.sizeSpec}/${n}\n`).join(
        "",
      ),
    );
  }
  const expected = new Map(
    names.map((
      n,
    ) => [n, { size: sizes.get(n) ?? spec!.size, sha256: sha256s.get(n)! }]),
  );
  const command = (side: "A" | "B", out: string): string[] =>
    commandOf(trees[side], out, v8Flags[side]);
  const commandOf = (tree: string, out: string, flags: string): string[] =>
    tree === "bare"
      ? [
        "deno",
        "run",
        `--allow-net=127.0.0.1:${server!.port}`,
        `--allow-read=${list},${out}`,
        `--allow-write=${out}`,
        `${ROOT}/bench/bare.ts`,
        list,
        out,
        String(spec!.m),
      ]
      : spec
      ? [
        "deno",
        "run",
        `--v8-flags=${flags}`,
        `--allow-net=127.0.0.1:${server!.port}`,
        `--allow-read=${list},${out}`,
        `--allow-write=${out}`,
        `${tree}/main.ts`,
        "get",
        "-i",
        list,
        "-o",
        out,
        "-m",
        String(spec.m),
        "-q",
        ...positionals,
      ]
      : [
        "deno",
        "run",
        `--v8-flags=${flags}`,
        `${tree}/main.ts`,
        "get",
        "--help",
      ];
  type Timed = RunResult & {
    first?: number;
    ms: number;
    peak?: number;
    done?: number;
  };
  const capSec = spec?.stopSec ?? 120;
  const sampleMs = spec?.stopSec ? 500 : 0;
  const results: Record<"A" | "B", Timed[]> = {
    A: [],
    B: [],
  };
  // one untimed run of each: Deno's caches, tmpfs pages
  for (const side of ["A", "B", "A", "B"] as const) {
    const out = `${work.dir}/out-${side}`;
    await Deno.remove(out, { recursive: true }).catch(() => {});
    await Deno.mkdir(out, { recursive: true });
    await timedRun(command(side, out), { capSec, sampleMs });
  }
  for (let p = 0; p < pairs; p++) {
    const order = p % 2 ? ["B", "A"] as const : ["A", "B"] as const;
    for (const side of order) {
      const out = `${work.dir}/out-${side}`;
      await Deno.remove(out, { recursive: true }).catch(() => {});
      await Deno.mkdir(out, { recursive: true });
      if (name === "ONE") await Deno.truncate(accessLog, 0).catch(() => {});
      const t0 = Date.now();
      const began = performance.now();
      const r: Timed = {
        ...await timedRun(command(side, out), { capSec, sampleMs }),
        ms: 0,
      };
      r.ms = performance.now() - began;
      if (spec?.stopSec) {
        r.peak = Math.max(...r.rssSamples) / 1024;
        r.done = 0;
        for await (const e of Deno.readDir(out)) {
          if (e.name.endsWith(".bin")) r.done++;
        }
      }
      if (name === "ONE") {
        // nginx writes the line as it answers: the log's mtime
        const stat = await Deno.stat(accessLog).catch(() => undefined);
        if (stat?.size && stat.mtime) {
          r.first = (stat.mtime.getTime() - t0) / 1000;
        }
      }
      if (spec && !spec.stopSec) {
        const v = await verifyDir(out, (n) => expected.get(n), spec.count);
        if (v.correct !== spec.count || r.exit !== 0) {
          console.error(
            `${side} run ${
              p + 1
            }: exit ${r.exit}, ${v.correct}/${spec.count} correct: ${
              r.stderr.slice(-300)
            }`,
          );
        }
      }
      results[side].push(r);
      console.log(
        `pair ${p + 1} ${side}: wall ${r.wall.toFixed(3)} s (${
          r.ms.toFixed(1)
        } ms), cpu ${(r.user + r.sys).toFixed(3)} s, rss ${
          (r.maxRssKiB / 1024).toFixed(0)
        } MiB${
          r.first === undefined ? "" : `, first request ${r.first.toFixed(3)} s`
        }${
          r.peak === undefined
            ? ""
            : `, VmRSS peak ${r.peak.toFixed(0)} MiB, ${r.done} files done`
        }`,
      );
    }
  }
  const stat = (side: "A" | "B") => ({
    wall: median(results[side].map((r) => r.wall)),
    ms: median(results[side].map((r) => r.ms)),
    cpu: median(results[side].map((r) => r.user + r.sys)),
    rss: median(results[side].map((r) => r.maxRssKiB)) / 1024,
    first: median(results[side].map((r) => r.first ?? NaN)),
    peak: median(results[side].map((r) => r.peak ?? NaN)),
    done: median(results[side].map((r) => r.done ?? NaN)),
  });
  const a = stat("A"), b = stat("B");
  const row = (k: keyof typeof a, digits: number) =>
    `${k.padEnd(6)} A ${a[k].toFixed(digits)}  B ${b[k].toFixed(digits)}  B/A ${
      (b[k] / a[k]).toFixed(3)
    }`;
  console.log(
    `\n${name}, medians of ${pairs} interleaved pairs (A = ${trees.A}, B = ${trees.B})`,
  );
  console.log(row("wall", 3));
  console.log(row("ms", 1));
  console.log(row("cpu", 3));
  console.log(row("rss", 0));
  if (name === "ONE") console.log(row("first", 3));
  if (spec?.stopSec) {
    console.log(row("peak", 0));
    console.log(row("done", 0));
  }
} finally {
  await server?.stop();
  killServers();
  await work.done();
}
