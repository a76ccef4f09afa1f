/**
 * `deno task bench`: bulkget against aria2c, curl, wget2 and a bare Deno
 * loop, scenario by scenario, on loopback, into tmpfs, every run's files
 * checked before its time counts. Prints the tables and writes
 * `bench/results.md`.
 *
 * ```sh
 * deno task bench                 # everything, about 8 minutes
 * deno task bench --quick         # smaller N, one repetition: a smoke run
 * deno task bench --only SMALL    # one scenario (repeatable, or SMALL,MANY)
 * deno task bench --only DURABILITY  # what --durability costs, tmpfs and disk (bench/durability.ts)
 * deno task bench --only ARTIFACTS   # CI artifacts against curl + unzip (bench/artifacts.ts)
 * deno task bench --only SPLIT       # --split 8 against one connection and aria2c -x 8 -s 8 (bench/split.ts)
 * deno task bench --only RATE        # --limit-rate / --max-download-limit: rate held, memory (bench/rate_limit.ts)
 * ```
 *
 * @module
 */

import { V8_FLAGS } from "../lib/cli/v8_flags.ts";
import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { generatedBody, generatedChunks } from "../lib/server/files.ts";
import {
  type Expected,
  killLiveRuns,
  median,
  type RunResult,
  timedRun,
  type Verdict,
  verifyDir,
} from "./measure.ts";
import {
  type BenchServer,
  killServers,
  startDenoServer,
  startNginx,
} from "./servers.ts";
import { findTools, type RunContext, type Tool, which } from "./tools.ts";
import { runDurability } from "./durability.ts";
import { runArtifactsBench } from "./artifacts.ts";
import { type ChartGroup, ratioChart } from "./chart.ts";
import { runSplitBench } from "./split.ts";
import { runRateBench } from "./rate_limit.ts";

/** The project tree. */
const TREE = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/**
 * The bulkget under test: a copy of the tree taken at start (other people
 * edit the tree while the bench runs), so every run measures one version.
 */
let ROOT = TREE;
/** The whole run stops starting new work after this. */
const BUDGET_MS = 9.3 * 60_000;
const started = performance.now();

/** One scenario of the issue's table. */
interface Scenario {
  id: string;
  what: string;
  floorText: string;
  kind: "delay" | "error" | "throughput" | "huge";
  /** Files (lines for HUGE-LIST). */
  count: number;
  /** Size of each generated file, as in the URL (`4k`), and in bytes. */
  sizeSpec: string;
  size: number;
  concurrency: number;
  reps: number;
  /** Cap of one run, seconds (HUGE-LIST: when it is stopped). */
  capSec: number;
  /** Prefix of generated names. */
  prefix: string;
  /** Report MB/s rather than files/s. */
  mbps?: boolean;
}

function scenarios(quick: boolean): Scenario[] {
  const q = <T>(full: T, small: T) => quick ? small : full;
  const reps = q(5, 1);
  return [
    {
      id: "DELAY-100",
      what: "100 flags, 500 ms per response, -m 100: concurrency",
      floorText: "0.5 s",
      kind: "delay",
      count: 100,
      sizeSpec: "",
      size: 0,
      concurrency: 100,
      reps,
      capSec: 30,
      prefix: "",
    },
    {
      id: "DELAY-20",
      what: "100 flags, 500 ms per response, -m 20: the pool's limit",
      floorText: "2.5 s",
      kind: "delay",
      count: 100,
      sizeSpec: "",
      size: 0,
      concurrency: 20,
      reps: q(3, 1), // 2.6 s a run: 3 keeps the total under 10 minutes
      capSec: 30,
      prefix: "",
    },
    {
      id: "SMALL",
      what: `${q("2,000", "500")} × 4 KiB, -m 100: request overhead`,
      floorText: "server ceiling",
      kind: "throughput",
      count: q(2000, 500),
      sizeSpec: "4k",
      size: 4096,
      concurrency: 100,
      reps,
      capSec: 60,
      prefix: "s",
    },
    {
      id: "MANY",
      what: `${q("20,000", "2,000")} × 1 KiB, -m 100: files/s, memory`,
      floorText: "server ceiling",
      kind: "throughput",
      count: q(20000, 2000),
      sizeSpec: "1k",
      size: 1024,
      concurrency: 100,
      reps: q(2, 1),
      capSec: 90,
      prefix: "m",
    },
    {
      id: "LARGE",
      what: `4 × ${q("256", "32")} MiB, -m 4: MB/s, memory`,
      floorText: "single-stream curl to /dev/null",
      kind: "throughput",
      count: 4,
      sizeSpec: q("256m", "32m"),
      size: q(256, 32) * 1024 ** 2,
      concurrency: 4,
      reps: q(2, 1), // the longest scenario
      capSec: 60,
      prefix: "l",
      mbps: true,
    },
    {
      id: "ERROR",
      what:
        "200 files, 25 % 503 (and 50 % delayed 500 ms), -m 50, retries on: recovery",
      floorText: "—",
      kind: "error",
      count: 200,
      sizeSpec: "4k",
      size: 4096,
      concurrency: 50,
      reps: q(3, 1), // each run waits on delays and retries: 3 keeps the total under 10 minutes
      capSec: 60,
      prefix: "e",
    },
    {
      id: "HUGE-LIST",
      what: `a ${
        q("1,000,000", "100,000")
      }-line list against a fast server, stopped after ${
        q(10, 5)
      } s: time to first request, peak RSS`,
      floorText: "—",
      kind: "huge",
      count: q(1_000_000, 100_000),
      sizeSpec: "1k",
      size: 1024,
      concurrency: 100,
      reps: 1,
      capSec: q(10, 5),
      prefix: "h",
    },
  ];
}

/** The measured outcome of one run. */
interface Run {
  tool: string;
  rep: number;
  result: RunResult;
  verdict: Verdict;
  ok: boolean;
  command: string[];
  /** HUGE-LIST: seconds from spawn to the server's first request. */
  firstRequestS?: number;
}

/** A scenario's outcome. */
interface ScenarioResult {
  scenario: Scenario;
  serverLine: string;
  /** Ceiling/floor rate (files/s or MB/s) when measured. */
  ceiling?: number;
  runs: Run[];
  notes: string[];
}

// ---------------------------------------------------------------------------
// workspace on tmpfs

interface Workspace {
  dir: string;
  note: string;
  /** Deno needs --allow-all for paths under /dev. */
  wide: boolean;
  cleanup(): Promise<void>;
}

async function workspace(): Promise<Workspace> {
  const given = Deno.env.get("BULKGET_BENCH_DIR");
  if (given) {
    await Deno.mkdir(given, { recursive: true });
    return {
      dir: given,
      note: `BULKGET_BENCH_DIR=${given}`,
      wide: given.startsWith("/dev/"),
      cleanup: async () => {},
    };
  }
  // Deno refuses paths under /dev without --allow-all, so /dev/shm would
  // force wide permissions on bulkget. As root, mount a private tmpfs.
  const dir = `/tmp/bulkget-bench-${Deno.pid}`;
  if (Deno.uid?.() === 0) {
    await Deno.mkdir(dir, { recursive: true });
    const out = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=8g,mode=755", "tmpfs", dir],
      stdout: "null",
      stderr: "piped",
    }).output().catch(() => undefined);
    if (out?.success) {
      return {
        dir,
        note:
          `a private tmpfs mounted at ${dir} (Deno refuses /dev/shm paths without --allow-all)`,
        wide: false,
        cleanup: async () => {
          await new Deno.Command("umount", { args: [dir] }).output()
            .catch(() => {});
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        },
      };
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const shm = `/dev/shm/bulkget-bench-${Deno.pid}`;
  await Deno.mkdir(shm, { recursive: true });
  return {
    dir: shm,
    note:
      `${shm} (could not mount a tmpfs: bulkget and bare.ts run with --allow-all, since Deno refuses /dev paths otherwise)`,
    wide: true,
    cleanup: () => Deno.remove(shm, { recursive: true }).catch(() => {}),
  };
}

// ---------------------------------------------------------------------------
// files of a scenario

interface Files {
  /** URL paths, in order. */
  paths: string[];
  /** Records a file's expectation computed elsewhere (while writing the nginx tree). */
  remember?(name: string, e: Expected): void;
  expect(name: string): Expected | undefined;
  total: number;
  bytes: number;
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function flagFiles(count: number): Promise<Files> {
  const codes = (await Deno.readTextFile(`${ROOT}/data/country_codes.txt`))
    .split(/\s+/).filter((c) => /^[A-Z]{2}$/i.test(c)).slice(0, count)
    .map((c) => c.toLowerCase());
  const map = new Map<string, Expected>();
  let bytes = 0;
  for (const cc of codes) {
    const body = await Deno.readFile(`${ROOT}/data/flags/${cc}/${cc}.gif`);
    map.set(`${cc}.gif`, { size: body.length, sha256: sha256(body) });
    bytes += body.length;
  }
  return {
    paths: codes.map((cc) => `/flags/${cc}/${cc}.gif`),
    expect: (name) => map.get(name),
    total: codes.length,
    bytes,
  };
}

function nameOf(s: Scenario, i: number): string {
  return `${s.prefix}${
    String(i + 1).padStart(String(s.count).length, "0")
  }.bin`;
}

function generatedFiles(s: Scenario): Files {
  const paths: string[] = [];
  for (let i = 0; i < s.count; i++) {
    paths.push(`/files/${s.sizeSpec}/${nameOf(s, i)}`);
  }
  const cache = new Map<string, Expected>();
  const pattern = new RegExp(
    `^${s.prefix}\\d{${String(s.count).length}}\\.bin$`,
  );
  return {
    paths,
    remember: (name, e) => cache.set(name, e),
    expect(name) {
      if (!pattern.test(name)) return undefined;
      const index = Number(name.slice(s.prefix.length, -4));
      if (index < 1 || index > s.count) return undefined;
      let e = cache.get(name);
      if (!e) {
        e = { size: s.size, sha256: generatedSha256(name, s.size) };
        if (s.kind !== "huge") cache.set(name, e);
      }
      return e;
    },
    total: s.count,
    bytes: s.count * s.size,
  };
}

function generatedSha256(name: string, size: number): string {
  if (size <= 64 * 1024 ** 2) return sha256(generatedBody(name, size));
  const hash = createHash("sha256");
  for (const chunk of generatedChunks(name, size, 0, size)) hash.update(chunk);
  return hash.digest("hex");
}

/** Writes the generated files once under `docRoot/files/SIZE/` for nginx. */
async function writeTree(
  s: Scenario,
  docRoot: string,
  files: Files,
): Promise<void> {
  const dir = `${docRoot}/files/${s.sizeSpec}`;
  await Deno.mkdir(dir, { recursive: true });
  for (let i = 0; i < s.count; i++) {
    const name = nameOf(s, i);
    if (s.size <= 64 * 1024 ** 2) {
      const body = generatedBody(name, s.size);
      Deno.writeFileSync(`${dir}/${name}`, body);
      files.remember?.(name, { size: s.size, sha256: sha256(body) });
      continue;
    }
    const hash = createHash("sha256");
    const file = await Deno.open(`${dir}/${name}`, {
      write: true,
      create: true,
      truncate: true,
    });
    try {
      for (const chunk of generatedChunks(name, s.size, 0, s.size)) {
        hash.update(chunk);
        let off = 0;
        while (off < chunk.length) off += file.writeSync(chunk.subarray(off));
      }
    } finally {
      file.close();
    }
    files.remember?.(name, { size: s.size, sha256: hash.digest("hex") });
  }
}

async function writeLists(
  files: Files,
  base: string,
  dir: string,
  tag: string,
): Promise<{ list: string; curlConfig: string; nullConfig: string }> {
  const list = `${dir}/list-${tag}.txt`;
  const curlConfig = `${dir}/curl-${tag}.cfg`;
  const nullConfig = `${dir}/curl-null-${tag}.cfg`;
  const enc = new TextEncoder();
  const files3 = await Promise.all(
    [list, curlConfig, nullConfig].map((p) =>
      Deno.open(p, { write: true, create: true, truncate: true })
    ),
  );
  try {
    const step = 50_000;
    for (let i = 0; i < files.paths.length; i += step) {
      const urls = files.paths.slice(i, i + step).map((p) => base + p);
      await files3[0].write(enc.encode(urls.join("\n") + "\n"));
      await files3[1].write(
        enc.encode(urls.map((u) => `url = "${u}"\n`).join("")),
      );
      await files3[2].write(
        enc.encode(
          urls.map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(""),
        ),
      );
    }
  } finally {
    for (const f of files3) f.close();
  }
  return { list, curlConfig, nullConfig };
}

// ---------------------------------------------------------------------------
// running

function remaining(): number {
  return BUDGET_MS - (performance.now() - started);
}

function fmt(x: number | undefined, digits = 2): string {
  if (x === undefined || !isFinite(x)) return "—";
  return x.toFixed(digits);
}

async function runOnce(
  tool: Tool,
  ctx: RunContext,
  files: Files,
  s: Scenario,
  rep: number,
  server: BenchServer,
): Promise<Run> {
  await Deno.remove(ctx.out, { recursive: true }).catch(() => {});
  await Deno.mkdir(ctx.out, { recursive: true });
  const command = tool.command(ctx);
  let firstRequestS: number | undefined;
  let polling: Promise<void> | undefined;
  if (s.kind === "huge") await server.resetRequests();
  const t0 = performance.now();
  const result = await timedRun(command, {
    capSec: s.capSec,
    cwd: ROOT,
    sampleMs: s.kind === "huge" ? 500 : 0,
    onSpawn: () => {
      if (s.kind !== "huge") return;
      polling = (async () => {
        for (let i = 0; i < 2000; i++) { // 10 ms apart: at most ~20 s
          if (performance.now() - t0 > (s.capSec + 1) * 1000) return;
          const n = await server.requests().catch(() => 0);
          if (n && n > 0) {
            firstRequestS = (performance.now() - t0) / 1000;
            return;
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
    },
  });
  await polling;
  const verdict = await verifyDir(ctx.out, files.expect, files.total);
  await Deno.remove(ctx.out, { recursive: true }).catch(() => {});
  // HUGE-LIST is stopped on purpose: a tool that writes in place leaves
  // truncated files under final names, reported as "wrong", not as failure.
  const ok = s.kind === "huge"
    ? !isNaN(result.wall)
    : verdict.correct === files.total && !result.timedOut;
  return { tool: tool.id, rep, result, verdict, ok, command, firstRequestS };
}

async function calibrate(
  s: Scenario,
  servers: BenchServer[],
  lists: Map<BenchServer, { nullConfig: string }>,
  files: Files,
): Promise<{ chosen: BenchServer; line: string; ceiling: number }> {
  // The ceiling: curl --parallel into /dev/null (no files written), or for
  // LARGE one stream of one file into /dev/null, against each server.
  const rates = new Map<BenchServer, { rate: number; cpu: number }>();
  for (const server of servers) {
    let best = { rate: 0, cpu: 0 };
    for (
      let i = 0;
      i < (s.count * s.size > 64 << 20 || s.count > 5000 ? 1 : 2);
      i++
    ) {
      const cmd = s.mbps
        ? [
          "curl",
          "-sS",
          "--fail",
          "-o",
          "/dev/null",
          `${server.base}${files.paths[0]}`,
        ]
        : [
          "curl",
          "-sS",
          "--fail",
          "--parallel",
          "--parallel-max",
          String(s.concurrency),
          "-K",
          lists.get(server)!.nullConfig,
        ];
      const cpu0 = server.cpuSeconds();
      const r = await timedRun(cmd, { capSec: s.capSec });
      const cpu = server.cpuSeconds() - cpu0;
      const rate = s.mbps ? s.size / 1e6 / r.wall : files.total / r.wall;
      if (r.exit === 0 && rate > best.rate) best = { rate, cpu: cpu / r.wall };
    }
    rates.set(server, best);
  }
  const unit = s.mbps ? "MB/s" : "files/s";
  const how = s.mbps
    ? "single-stream curl -o /dev/null"
    : `curl --parallel --parallel-max ${s.concurrency} into /dev/null`;
  const parts = servers.map((sv) => {
    const r = rates.get(sv)!;
    return `${sv.kind} ${fmt(r.rate, 0)} ${unit} (server CPU ${
      fmt(r.cpu * 100, 0)
    } % of a core)`;
  });
  const deno = servers.find((sv) => sv.kind === "deno")!;
  const nginx = servers.find((sv) => sv.kind === "nginx");
  let chosen = deno;
  let verdict: string;
  if (!nginx) {
    verdict = "nginx not installed: timed runs use the Deno server";
  } else if (rates.get(nginx)!.rate > 1.1 * rates.get(deno)!.rate) {
    chosen = nginx;
    verdict = `the Deno server is the bottleneck (nginx is ${
      fmt(rates.get(nginx)!.rate / rates.get(deno)!.rate)
    } × faster): timed runs use nginx`;
  } else {
    verdict =
      "the Deno server keeps up (nginx within 10 %): timed runs use the Deno server";
  }
  return {
    chosen,
    ceiling: rates.get(chosen)!.rate,
    line: `ceiling by ${how}: ${parts.join(" vs ")}; ${verdict}`,
  };
}

async function runScenario(
  s: Scenario,
  tools: Tool[],
  ws: Workspace,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const notes: string[] = [];
  const dir = `${ws.dir}/${s.id}`;
  await Deno.mkdir(dir, { recursive: true });
  const files = s.kind === "delay"
    ? await flagFiles(s.count)
    : generatedFiles(s);
  const servers: BenchServer[] = [];
  const result: ScenarioResult = {
    scenario: s,
    serverLine: "",
    runs: [],
    notes,
  };
  try {
    let server: BenchServer;
    let lists: { list: string; curlConfig: string; nullConfig: string };
    if (s.kind === "throughput") {
      const deno = await startDenoServer(ROOT, "LOCAL");
      servers.push(deno);
      const listsBy = new Map<BenchServer, typeof lists>();
      listsBy.set(deno, await writeLists(files, deno.base, dir, "deno"));
      if (which("nginx")) {
        const t = performance.now();
        await writeTree(s, `${dir}/www`, files);
        log(
          `  wrote the nginx tree (${s.count} files) in ${
            fmt((performance.now() - t) / 1000)
          } s`,
        );
        const nginx = await startNginx(`${dir}/nginx`, `${dir}/www`);
        servers.push(nginx);
        listsBy.set(nginx, await writeLists(files, nginx.base, dir, "nginx"));
      }
      const c = await calibrate(s, servers, listsBy, files);
      server = c.chosen;
      result.ceiling = c.ceiling;
      result.serverLine = c.line;
      lists = listsBy.get(server)!;
      for (const other of servers.filter((sv) => sv !== server)) {
        await other.stop();
      }
    } else {
      server = await startDenoServer(
        ROOT,
        s.kind === "delay" ? "DELAY" : s.kind === "error" ? "ERROR" : "LOCAL",
      );
      servers.push(server);
      lists = await writeLists(files, server.base, dir, "deno");
      result.serverLine = `server: bulkget serve --preset ${
        s.kind === "delay" ? "DELAY" : s.kind === "error" ? "ERROR" : "LOCAL"
      } (Deno) on ${server.base}`;
    }
    log(`  ${result.serverLine}`);
    const contextFor = (tool: Tool): RunContext => ({
      list: lists.list,
      curlConfig: lists.curlConfig,
      out: `${dir}/out-${tool.id}`,
      concurrency: s.concurrency,
      port: server.port,
      retries: s.kind === "error",
      large: !!s.mbps,
      wide: ws.wide,
    });
    if (s.kind === "throughput") {
      // One untimed pass first: whichever tool ran first used to pay for the
      // tmpfs's fresh pages and cold caches (LARGE: 2.3 s first, 0.9 s last).
      for (const tool of tools) {
        await runOnce(tool, contextFor(tool), files, s, -1, server);
      }
      notes.push("one untimed warm-up pass over every tool ran first");
    }
    for (let rep = 0; rep < s.reps; rep++) {
      if (remaining() < 0) {
        notes.push(
          `stopped after ${rep} repetitions: the 10-minute budget ran out`,
        );
        break;
      }
      // one pass over every tool per repetition, the order rotated
      const order = tools.map((_, i) => tools[(i + rep) % tools.length]);
      for (const tool of order) {
        const run = await runOnce(
          tool,
          contextFor(tool),
          files,
          s,
          rep,
          server,
        );
        result.runs.push(run);
        log(
          `  rep ${rep + 1} ${tool.id.padEnd(12)} ${
            describeRun(run, s, files)
          }`,
        );
      }
    }
  } catch (error) {
    notes.push(
      `scenario failed: ${error instanceof Error ? error.message : error}`,
    );
    log(`  scenario failed: ${error}`);
  } finally {
    for (const sv of servers) await sv.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return result;
}

function describeRun(run: Run, s: Scenario, files: Files): string {
  const r = run.result;
  const v = run.verdict;
  const status = run.ok
    ? "ok"
    : r.timedOut && s.kind !== "huge"
    ? "TIMEOUT"
    : "FAILED";
  const first = run.firstRequestS === undefined
    ? ""
    : ` first request ${fmt(run.firstRequestS)} s,`;
  return `${status} wall ${fmt(r.wall)} s,${first} cpu ${
    fmt(r.user + r.sys)
  } s, rss ${
    fmt(r.maxRssKiB / 1024, 0)
  } MiB, files ${v.correct}/${files.total}${
    v.wrong ? ` (${v.wrong} wrong)` : ""
  }${v.extra ? ` (+${v.extra} other)` : ""} exit ${r.exit}${
    !run.ok && r.stderr
      ? `: ${r.stderr.split("\n").slice(-1)[0].slice(0, 160)}`
      : ""
  }`;
}

// ---------------------------------------------------------------------------
// tables

interface Row {
  tool: string;
  kind: Tool["kind"];
  okRuns: number;
  runs: number;
  wall: number;
  cpuPerFileMs: number;
  rate: number;
  rssMiB: number;
  correct: string;
  firstRequestS?: number;
  rss?: { first: number; peak: number; last: number; at2s: number };
  filesDone?: number;
}

function rowsOf(res: ScenarioResult, tools: Tool[]): Row[] {
  const s = res.scenario;
  const rows: Row[] = [];
  for (const tool of tools) {
    const runs = res.runs.filter((r) => r.tool === tool.id);
    if (runs.length === 0) continue;
    const ok = runs.filter((r) => r.ok);
    const use = ok.length ? ok : runs;
    const wall = median(use.map((r) => r.result.wall));
    const cpu = median(use.map((r) => r.result.user + r.result.sys));
    const worst = runs.reduce((a, b) =>
      a.verdict.correct <= b.verdict.correct ? a : b
    );
    const row: Row = {
      tool: tool.id,
      kind: tool.kind,
      okRuns: ok.length,
      runs: runs.length,
      wall,
      cpuPerFileMs: NaN,
      rate: NaN,
      rssMiB: median(use.map((r) => r.result.maxRssKiB)) / 1024,
      correct: `${worst.verdict.correct}/${s.kind === "huge" ? "—" : s.count}`,
    };
    if (s.kind === "huge") {
      const run = runs[0];
      const done = run.verdict.correct;
      row.filesDone = done;
      row.rate = done / s.capSec;
      row.cpuPerFileMs = done
        ? (run.result.user + run.result.sys) / done * 1000
        : NaN;
      row.firstRequestS = run.firstRequestS;
      const smp = run.result.rssSamples.map((k) => k / 1024);
      if (smp.length) {
        row.rss = {
          first: smp[0],
          peak: Math.max(...smp),
          last: smp[smp.length - 1],
          at2s: smp[Math.min(3, smp.length - 1)],
        };
      }
      row.correct =
        `${done} ok, ${run.verdict.wrong} truncated under the final name, ${run.verdict.extra} other`;
    } else {
      row.cpuPerFileMs = cpu / s.count * 1000;
      row.rate = ok.length
        ? (s.mbps ? s.count * s.size / 1e6 / wall : s.count / wall)
        : NaN;
    }
    rows.push(row);
  }
  return rows;
}

function tableOf(res: ScenarioResult, tools: Tool[]): string[] {
  const s = res.scenario;
  const rows = rowsOf(res, tools);
  const lines: string[] = [];
  if (s.kind === "huge") {
    lines.push(
      "| tool | first request s | files in " + s.capSec +
        " s | files/s | CPU ms/file | RSS MiB first / peak / last (VmRSS, 500 ms) | peak RSS MiB (time) | wall incl. stop s | files |",
      "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    );
    for (const r of rows) {
      lines.push(
        `| ${r.tool} | ${fmt(r.firstRequestS)} | ${r.filesDone ?? "—"} | ${
          fmt(r.rate, 0)
        } | ${fmt(r.cpuPerFileMs, 3)} | ${
          r.rss
            ? `${fmt(r.rss.first, 0)} / ${fmt(r.rss.peak, 0)} / ${
              fmt(r.rss.last, 0)
            }`
            : "—"
        } | ${fmt(r.rssMiB, 0)} | ${fmt(r.wall)} | ${r.correct} |`,
      );
    }
    return lines;
  }
  const peers = rows.filter((r) => r.kind === "peer" && isFinite(r.rate));
  const best = peers.length ? Math.max(...peers.map((r) => r.rate)) : NaN;
  const bestPeer = peers.find((r) => r.rate === best)?.tool ?? "—";
  const bare = rows.find((r) => r.kind === "bare")?.rate ?? NaN;
  const unit = s.mbps ? "MB/s" : "files/s";
  const floorHead = s.kind === "delay"
    ? `wall ÷ floor ${s.floorText}`
    : s.kind === "throughput"
    ? (s.mbps ? "rate ÷ 1-stream curl" : "rate ÷ ceiling")
    : "—";
  const floor = s.kind === "delay" ? Number(s.floorText.split(" ")[0]) : NaN;
  lines.push(
    `| tool | wall s | CPU ms/file | ${unit} | peak RSS MiB | files ok (worst) | runs ok | × best peer (${bestPeer}) | × bare | ${floorHead} |`,
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const r of rows) {
    const vsFloor = s.kind === "delay"
      ? fmt(r.wall / floor)
      : s.kind === "throughput"
      ? fmt(r.rate / (res.ceiling ?? NaN))
      : "—";
    lines.push(
      `| ${r.tool} | ${fmt(r.wall)} | ${fmt(r.cpuPerFileMs, 3)} | ${
        fmt(r.rate, s.mbps ? 0 : 0)
      } | ${fmt(r.rssMiB, 0)} | ${r.correct} | ${r.okRuns}/${r.runs} | ${
        fmt(r.rate / best)
      } | ${fmt(r.rate / bare)} | ${vsFloor} |`,
    );
  }
  lines.push(
    "",
    `Speed ratios are rate ÷ rate (above 1 = faster); medians of the runs whose files all checked out. ${
      s.mbps ? "MB = 10^6 bytes." : ""
    }`,
  );
  return lines;
}

/** The best peer's row of a scenario (highest rate), if any checked out. */
function bestPeerOf(rows: Row[]): Row | undefined {
  const peers = rows.filter((r) => r.kind === "peer" && isFinite(r.rate));
  return peers.reduce<Row | undefined>(
    (a, b) => a && a.rate >= b.rate ? a : b,
    undefined,
  );
}

/** A row's headline figure in the summary, in the scenario's own unit. */
function headline(r: Row, s: Scenario): string {
  if (!isFinite(r.rate) && s.kind !== "huge") return `failed (${r.correct})`;
  const count = (x: number) => Math.round(x).toLocaleString("en-US");
  switch (s.kind) {
    case "delay":
      return `${fmt(r.wall)} s`;
    case "error":
      return `${r.correct}, ${fmt(r.wall, 1)} s`;
    case "huge":
      return `${count(r.rate)} files/s, first request ${
        fmt(r.firstRequestS)
      } s`;
    default:
      return `${count(r.rate)} ${s.mbps ? "MB/s" : "files/s"}`;
  }
}

/**
 * One line per scenario with bulkget, `--use-fetch`, the best peer, the
 * ratios, CPU per file and memory: the README's table.
 */
function summaryOf(results: ScenarioResult[], tools: Tool[]): string[] {
  const lines = [
    "| scenario | bulkget | bulkget `--use-fetch` | best peer | × best peer | × bare loop | CPU ms/file: bulkget, `--use-fetch`, best peer | bulkget peak RSS |",
    "|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const res of results) {
    if (!res.runs.length) continue;
    const s = res.scenario;
    const rows = rowsOf(res, tools);
    const bg = rows.find((r) => r.tool === "bulkget");
    if (!bg) continue;
    const viaFetch = rows.find((r) => r.tool === "bulkget-fetch");
    const peer = bestPeerOf(rows);
    const bare = rows.find((r) => r.kind === "bare");
    lines.push(
      `| ${s.id}: ${s.what.split(":")[0]} | ${headline(bg, s)} | ${
        viaFetch ? headline(viaFetch, s) : "—"
      } | ${peer ? `${peer.tool} ${headline(peer, s)}` : "—"} | ${
        fmt(bg.rate / (peer?.rate ?? NaN))
      } | ${fmt(bg.rate / (bare?.rate ?? NaN))} | ${fmt(bg.cpuPerFileMs, 3)}, ${
        fmt(viaFetch?.cpuPerFileMs, 3)
      }, ${fmt(peer?.cpuPerFileMs, 3)} | ${fmt(bg.rssMiB, 0)} MiB |`,
    );
  }
  return lines;
}

/** The chart's file name beside a results file: `results.md` → `results.svg`. */
function chartName(resultsPath: string): string {
  return resultsPath.replace(/^.*\//, "").replace(/(\.md)?$/, ".svg");
}

/** The chart's bars: every tool's rate ÷ the best peer's, per scenario. */
function chartGroupsOf(
  results: ScenarioResult[],
  tools: Tool[],
): ChartGroup[] {
  const groups: ChartGroup[] = [];
  for (const res of results) {
    if (!res.runs.length) continue;
    const rows = rowsOf(res, tools);
    const peer = bestPeerOf(rows);
    if (!peer) continue;
    groups.push({
      scenario: res.scenario.id,
      what: res.scenario.what.split(":")[0],
      peer: peer.tool,
      bars: rows.map((r) => ({
        tool: r.tool,
        ratio: isFinite(r.rate) ? r.rate / peer.rate : undefined,
        note: `no run checked out (worst ${r.correct} files)`,
      })),
    });
  }
  return groups;
}

function targetsOf(
  results: ScenarioResult[],
  tools: Tool[],
  startup: number,
): string[] {
  const out: string[] = [];
  const get = (id: string) => results.find((r) => r.scenario.id === id);
  const line = (name: string, met: boolean | undefined, text: string) =>
    out.push(
      `| ${name} | ${
        met === undefined ? "—" : met ? "met" : "**missed**"
      } | ${text} |`,
    );
  out.push("| target | status | measured |", "|---|---|---|");
  const rowsFor = (id: string) => {
    const r = get(id);
    return r ? rowsOf(r, tools) : undefined;
  };
  const bg = (rows: Row[]) => rows.find((r) => r.tool === "bulkget");
  let rows: Row[] | undefined;
  for (const [id, floor] of [["DELAY-20", 2.5]] as const) {
    rows = rowsFor(id);
    if (!rows || !bg(rows)) continue;
    const limit = 1.05 * floor + startup;
    const w = bg(rows)!.wall;
    line(
      `${id} ≤ 1.05 × ${floor} s + start-up`,
      w <= limit,
      `${fmt(w)} s vs ${fmt(limit)} s (start-up ${fmt(startup)} s); ${
        fmt(w / limit)
      } × the limit`,
    );
  }
  rows = rowsFor("DELAY-100");
  if (rows && bg(rows)) {
    const w = bg(rows)!.wall;
    const bare = rows.find((r) => r.kind === "bare")?.wall ?? NaN;
    const wget2 = rows.find((r) => r.tool === "wget2")?.wall ?? NaN;
    line(
      "DELAY-100 wall ≤ 1.02 × bare loop",
      w <= 1.02 * bare,
      `${fmt(w)} s vs bare ${fmt(bare)} s = ${fmt(w / bare)} ×`,
    );
    line(
      "DELAY-100 wall ≤ 1.05 × wget2",
      isFinite(wget2) ? w <= 1.05 * wget2 : undefined,
      `${fmt(w)} s vs wget2 ${fmt(wget2)} s = ${fmt(w / wget2)} ×`,
    );
  }
  rows = rowsFor("MANY");
  if (rows && bg(rows)) {
    const b = bg(rows)!;
    const curl = rows.find((r) => r.tool === "curl");
    if (curl) {
      line(
        "MANY files/s ≥ 0.9 × curl",
        b.rate >= 0.9 * curl.rate,
        `${fmt(b.rate, 0)} vs ${fmt(curl.rate, 0)} files/s = ${
          fmt(b.rate / curl.rate)
        } ×`,
      );
      line(
        "MANY CPU per file ≤ 1.2 × curl",
        b.cpuPerFileMs <= 1.2 * curl.cpuPerFileMs,
        `${fmt(b.cpuPerFileMs, 3)} vs ${fmt(curl.cpuPerFileMs, 3)} ms = ${
          fmt(b.cpuPerFileMs / curl.cpuPerFileMs)
        } ×`,
      );
    }
    line("MANY peak RSS ≤ 100 MiB", b.rssMiB <= 100, `${fmt(b.rssMiB, 0)} MiB`);
  }
  rows = rowsFor("SMALL");
  if (rows && bg(rows)) {
    const b = bg(rows)!;
    const curl = rows.find((r) => r.tool === "curl");
    const bare = rows.find((r) => r.kind === "bare")?.rate ?? NaN;
    if (curl) {
      line(
        "SMALL files/s ≥ 0.6 × curl",
        b.rate >= 0.6 * curl.rate,
        `${fmt(b.rate, 0)} vs ${fmt(curl.rate, 0)} files/s = ${
          fmt(b.rate / curl.rate)
        } ×`,
      );
    }
    line(
      "SMALL ahead of bare",
      b.rate > bare,
      `${fmt(b.rate / bare)} × bare (${fmt(bare, 0)} files/s)`,
    );
  }
  rows = rowsFor("LARGE");
  if (rows && bg(rows)) {
    const b = bg(rows)!;
    const wget2 = rows.find((r) => r.tool === "wget2");
    if (wget2) {
      line(
        "LARGE MB/s ≥ 1.0 × wget2",
        b.rate >= wget2.rate,
        `${fmt(b.rate, 0)} vs ${fmt(wget2.rate, 0)} MB/s = ${
          fmt(b.rate / wget2.rate)
        } ×`,
      );
    }
    line(
      "LARGE peak RSS ≤ 100 MiB",
      b.rssMiB <= 100,
      `${fmt(b.rssMiB, 0)} MiB`,
    );
  }
  const err = get("ERROR");
  if (err) {
    const runs = err.runs.filter((r) => r.tool === "bulkget");
    const all = runs.length > 0 &&
      runs.every((r) => r.verdict.correct === err.scenario.count);
    line(
      "ERROR 100 % correct with defaults",
      runs.length ? all : undefined,
      runs.map((r) => `${r.verdict.correct}/${err.scenario.count}`).join(", "),
    );
  }
  rows = rowsFor("HUGE-LIST");
  if (rows && bg(rows)) {
    const b = bg(rows)!;
    line(
      "HUGE-LIST first request ≤ 1 s",
      b.firstRequestS === undefined ? false : b.firstRequestS <= 1,
      `${fmt(b.firstRequestS)} s`,
    );
    if (b.rss) {
      const flat = b.rss.last - b.rss.at2s <= 20;
      line(
        "HUGE-LIST RSS ≤ 150 MiB and flat",
        b.rss.peak <= 150 && b.rssMiB <= 150 && flat,
        `VmRSS first ${fmt(b.rss.first, 0)}, at 2 s ${
          fmt(b.rss.at2s, 0)
        }, peak ${fmt(b.rss.peak, 0)}, last ${
          fmt(b.rss.last, 0)
        } MiB (flat = under 20 MiB growth after 2 s); GNU time peak ${
          fmt(b.rssMiB, 0)
        } MiB`,
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------------------

async function machine(versions: Record<string, string>): Promise<string[]> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => ""))
    .match(/model name\s*:\s*(.*)/)?.[1] ?? "?";
  const kernel =
    (await Deno.readTextFile("/proc/sys/kernel/osrelease").catch(() => "?"))
      .trim();
  const mem = Math.round(
    Number(
      (await Deno.readTextFile("/proc/meminfo").catch(() => "")).match(
        /MemTotal:\s+(\d+)/,
      )?.[1] ?? 0,
    ) /
      1024 / 1024,
  );
  return [
    `- cores: ${navigator.hardwareConcurrency} (${cpu}), ${mem} GiB RAM, Linux ${kernel}; shared and noisy`,
    ...Object.entries(versions).map(([k, v]) => `- ${k}: ${v}`),
  ];
}

/** Copies what bulkget needs (main.ts, mod.ts, deno.json, lib/, data/, bench/bare.ts) to `dir/tree`. */
async function snapshot(dir: string): Promise<string> {
  const dest = `${dir}/tree`;
  await Deno.mkdir(`${dest}/bench`, { recursive: true });
  const out = await new Deno.Command("cp", {
    args: [
      "-r",
      `${TREE}/main.ts`,
      `${TREE}/deno.json`,
      `${TREE}/lib`,
      `${TREE}/data`,
      dest,
    ],
  }).output();
  if (!out.success) {
    throw new Error(
      `cannot copy the tree: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  await Deno.copyFile(`${TREE}/bench/bare.ts`, `${dest}/bench/bare.ts`);
  await Deno.copyFile(`${TREE}/mod.ts`, `${dest}/mod.ts`).catch(() => {});
  await Deno.mkdir(`${dest}/dist`).catch(() => {});
  await Deno.copyFile(`${TREE}/dist/bulkget`, `${dest}/dist/bulkget`).then(
    () => Deno.chmod(`${dest}/dist/bulkget`, 0o755),
  ).catch(() => {});
  return dest;
}

/** `git describe`-like words for the tree: commit and whether it has local changes. */
async function describeTree(): Promise<string> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", {
      args,
      cwd: TREE,
      stdout: "piped",
      stderr: "null",
    })
      .output().catch(() => undefined);
    return out?.success ? new TextDecoder().decode(out.stdout).trim() : "";
  };
  const head = await git("log", "-1", "--format=%h %s");
  const dirty =
    (await git("status", "--porcelain", "--", "lib", "main.ts")).split("\n")
      .filter((l) => l).length;
  return `commit ${head.slice(0, 70) || "?"}${
    dirty ? ` plus ${dirty} uncommitted changes in lib/ and main.ts` : ""
  }`;
}

/** How the start-up time is measured, as the results say it. */
const STARTUP_COMMAND = `deno run --v8-flags=${V8_FLAGS} main.ts get --help`;

async function startupSeconds(ws: Workspace): Promise<number> {
  const walls: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await timedRun(
      [
        "deno",
        "run",
        `--v8-flags=${V8_FLAGS}`,
        ...(ws.wide ? ["--allow-all"] : []),
        `${ROOT}/main.ts`,
        "get",
        "--help",
      ],
      { capSec: 20, cwd: ROOT },
    );
    walls.push(r.wall);
  }
  return median(walls);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean" },
      only: { type: "string", multiple: true },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task bench [--quick] [--only SCENARIO[,SCENARIO]]... [--out FILE]\n" +
        "(writes bench/results.md after a full run, bench/results-partial.md otherwise)",
    );
    return 0;
  }
  const quick = values.quick ?? false;
  // Every `deno run` (bulkget, bare.ts, the Deno server) would otherwise
  // start Deno's update check: offline it never succeeds, so it runs each
  // time, costs a few ms of CPU, and sends a DNS query off the machine.
  Deno.env.set("DENO_NO_UPDATE_CHECK", "1");
  const all = scenarios(quick);
  const only = (values.only ?? []).flatMap((o) => o.split(",")).map((o) =>
    o.toUpperCase()
  );
  if (only.includes("DURABILITY")) {
    // Its own table (bench/durability.ts): each --durability policy on
    // tmpfs and on disk, beside curl and wget2 --fsync-policy.
    const { markdown } = await runDurability(TREE, (l) => console.log(l));
    console.log(markdown);
    await Deno.writeTextFile(
      values.out ?? `${TREE}/bench/results-durability.md`,
      markdown,
    );
    return 0;
  }
  if (only.includes("ARTIFACTS")) {
    // Its own table (bench/artifacts.ts): `bulkget artifacts github` against
    // curl + unzip, one artifact at a time and all at once.
    const { markdown } = await runArtifactsBench(
      {
        count: quick ? 6 : 20,
        maxMiB: quick ? 20 : 100,
        reps: quick ? 1 : 3,
        dir: "/tmp",
      },
      (l) => console.log(l),
    );
    console.log(markdown);
    await Deno.writeTextFile(
      values.out ?? `${TREE}/bench/results-artifacts.md`,
      markdown,
    );
    return 0;
  }
  if (only.includes("SPLIT")) {
    // Its own table (bench/split.ts): a server capping each connection.
    const { markdown } = await runSplitBench(TREE, {
      sizeMiB: quick ? 32 : 64,
      capMiBps: 4,
      connections: 8,
      reps: quick ? 1 : 3,
    }, (l) => console.log(l));
    console.log(markdown);
    await Deno.writeTextFile(
      values.out ?? `${TREE}/bench/results-split.md`,
      markdown,
    );
    return 0;
  }
  if (only.includes("RATE")) {
    // Its own table (bench/rate_limit.ts): the rate held, and memory.
    const { markdown } = await runRateBench(
      TREE,
      quick ? 2 : 5,
      (l) => console.log(l),
    );
    console.log(markdown);
    await Deno.writeTextFile(
      values.out ?? `${TREE}/bench/results-rate.md`,
      markdown,
    );
    return 0;
  }
  for (const o of only) {
    if (!all.some((s) => s.id === o)) {
      console.error(
        `bench: no scenario ${o}; one of ${all.map((s) => s.id).join(", ")}`,
      );
      return 2;
    }
  }
  const chosen = only.length ? all.filter((s) => only.includes(s.id)) : all;
  const path = values.out ??
    `${TREE}/bench/${quick || only.length ? "results-partial" : "results"}.md`;
  const out: string[] = [];
  const log = (line: string) => console.log(line);
  const ws = await workspace();
  const cleanup = async () => {
    killLiveRuns();
    killServers();
    await new Promise((r) => setTimeout(r, 300)); // let the killed exit
    await ws.cleanup();
  };
  const onSignal = () => {
    console.error("bench: interrupted; stopping every process");
    cleanup().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    ROOT = await snapshot(ws.dir);
    const described = await describeTree();
    log(`bulkget under test: ${described}, copied to ${ROOT}`);
    const { tools, skipped, versions } = await findTools(ROOT);
    for (const line of skipped) log(line);
    if (!which("nginx")) {
      log(
        "nginx: not installed: throughput runs use the Deno server only (apt-get install -y nginx)",
      );
    }
    log(`workspace: ${ws.note}`);
    // Warm Deno's caches so no run pays for transpiling.
    const warm = await startDenoServer(ROOT, "LOCAL");
    const warmList = `${ws.dir}/warm.txt`;
    await Deno.writeTextFile(warmList, `${warm.base}/files/1k/w.bin\n`);
    for (const tool of tools.filter((t) => t.kind !== "peer")) {
      const r = await timedRun(
        tool.command({
          list: warmList,
          curlConfig: warmList,
          out: `${ws.dir}/warm-out`,
          concurrency: 1,
          port: warm.port,
          retries: false,
          large: false,
          wide: ws.wide,
        }),
        { capSec: 30, cwd: ROOT },
      );
      if (r.exit !== 0) {
        log(
          `WARNING: ${tool.id} failed its warm-up run (exit ${r.exit}): ${
            r.stderr.slice(-300)
          }`,
        );
      }
    }
    await warm.stop();
    const startup = await startupSeconds(ws);
    log(`bulkget start-up (${STARTUP_COMMAND}): ${fmt(startup)} s`);
    const results: ScenarioResult[] = [];
    for (const s of chosen) {
      if (remaining() < 0) {
        log(`${s.id}: skipped: the 10-minute budget ran out`);
        results.push({
          scenario: s,
          serverLine: "",
          runs: [],
          notes: ["skipped: out of time"],
        });
        continue;
      }
      log(`\n## ${s.id}: ${s.what}`);
      const t = performance.now();
      const res = await runScenario(s, tools, ws, log);
      res.notes.push(
        `scenario took ${fmt((performance.now() - t) / 1000, 0)} s`,
      );
      results.push(res);
      log("");
      for (const line of tableOf(res, tools)) log(line);
    }
    // results.md
    out.push(
      "# bulkget benchmark results",
      "",
      `Generated by \`deno task bench${quick ? " --quick" : ""}${
        only.length ? ` --only ${only.join(",")}` : ""
      }\` on ${new Date().toISOString()}; took ${
        fmt((performance.now() - started) / 1000, 0)
      } s.`,
      "",
      "## Machine",
      "",
      ...(await machine(versions)),
      `- bulkget under test: ${described} (a copy of the tree taken at the start, run from tmpfs)`,
      `- output directories: ${ws.note}; fresh per run, removed after its check`,
      `- bulkget start-up (\`${STARTUP_COMMAND}\`, median of 3): ${
        fmt(startup)
      } s`,
      ...skipped.map((l) => `- ${l}`),
      "",
      'Every run: `/usr/bin/time -f "%e %U %S %M" timeout -k 3 CAP COMMAND`; its files are then counted, sized and SHA-256-checked against',
      "the server's bytes (`generatedBody`, or `data/flags`) before its time counts; a run that lost a file counts as failed.",
      "Tools run interleaved (one pass over every tool per repetition, order rotated); medians.",
      "",
      "## Targets",
      "",
      ...targetsOf(results, tools, startup),
      "",
      "## Summary (the README's table)",
      "",
      ...summaryOf(results, tools),
      "",
      `![Each tool's rate as a ratio to the best peer's, per scenario](${
        chartName(path)
      })`,
      "",
    );
    for (const res of results) {
      const s = res.scenario;
      out.push(
        `## ${s.id}`,
        "",
        `${s.what}. Floor: ${s.floorText}. Repetitions: ${s.reps}.`,
        "",
      );
      if (res.serverLine) {
        out.push(
          res.serverLine.replace(/^ceiling/, "Server ceiling") + ".",
          "",
        );
      }
      if (res.runs.length) out.push(...tableOf(res, tools), "");
      const failed = res.runs.filter((r) => !r.ok);
      for (const f of failed) {
        out.push(
          `- ${f.tool} rep ${
            f.rep + 1
          } failed: ${f.verdict.correct}/${s.count} files correct, ${f.verdict.wrong} wrong, exit ${f.result.exit}${
            f.result.timedOut ? " (timed out)" : ""
          }${
            f.result.stderr
              ? `: \`${
                f.result.stderr.split("\n").slice(-1)[0].slice(0, 200)
              }\``
              : ""
          }`,
        );
      }
      for (const n of res.notes) out.push(`- ${n}`);
      const seen = new Set<string>();
      const cmds = res.runs.filter((r) =>
        !seen.has(r.tool) && seen.add(r.tool)
      );
      if (cmds.length) {
        out.push("", "Commands:", "", "```sh");
        for (const r of cmds) out.push(r.command.join(" "));
        out.push("```");
      }
      out.push("");
    }
    const text = out.join("\n");
    await Deno.writeTextFile(path, text);
    const chart = `${path.replace(/[^/]*$/, "")}${chartName(path)}`;
    await Deno.writeTextFile(
      chart,
      ratioChart(chartGroupsOf(results, tools), {
        title: "bulkget against aria2c, curl, wget2 and a bare Deno loop",
        subtitle: `deno task bench${quick ? " --quick" : ""}, ${
          new Date().toISOString().slice(0, 10)
        }, ${navigator.hardwareConcurrency} cores, loopback, tmpfs, bulkget ${
          described.split(" ").slice(0, 2).join(" ")
        }`,
      }),
    );
    // Keep `deno fmt --check` (deno task check) clean.
    await new Deno.Command("deno", { args: ["fmt", "--quiet", path, chart] })
      .output().catch(() => {});
    log("\n" + targetsOf(results, tools, startup).join("\n"));
    log(
      `\nwrote ${path} and ${chart} in ${
        fmt((performance.now() - started) / 1000, 0)
      } s`,
    );
    return 0;
  } finally {
    await cleanup();
  }
}

if (import.meta.main) Deno.exit(await main());
