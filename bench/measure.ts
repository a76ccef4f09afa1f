/**
 * Measuring one run of a tool: GNU time for wall time, CPU seconds and peak
 * RSS, GNU timeout for the cap, `/proc` for the process tree and RSS over
 * time, and the check of every file the run wrote.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { STATE_FILE } from "../lib/writer/paths.ts";

/** What one run of a tool cost. */
export interface RunResult {
  /** The tool's exit code (124 when `timeout` stopped it). */
  exit: number;
  /** Wall seconds (GNU time `%e`). */
  wall: number;
  /** User CPU seconds of the tool and its children. */
  user: number;
  /** System CPU seconds. */
  sys: number;
  /** Peak RSS in KiB (GNU time `%M`). */
  maxRssKiB: number;
  /** Stopped by the cap. */
  timedOut: boolean;
  /** The end of its standard error. */
  stderr: string;
  /** VmRSS samples of the tool's process in KiB, when sampled. */
  rssSamples: number[];
}

/** Options of {@linkcode timedRun}. */
export interface TimedRunOptions {
  /** Seconds before `timeout` sends SIGTERM (then SIGKILL 3 s later). */
  capSec: number;
  /** Working directory. */
  cwd?: string;
  /** Variables added to the inherited environment. */
  env?: Record<string, string>;
  /** Sample the tool's VmRSS every this many ms. @default 0 (no sampling) */
  sampleMs?: number;
  /** Called once the process is spawned, with its pid. */
  onSpawn?: (pid: number) => void;
}

const live = new Set<number>();

/**
 * Runs `cmd` under `/usr/bin/time -f "%e %U %S %M"` and `timeout`.
 *
 * @param cmd The command and its arguments.
 * @param options The cap and sampling.
 * @returns What the run cost; never rejects for a failing tool.
 */
export async function timedRun(
  cmd: string[],
  options: TimedRunOptions,
): Promise<RunResult> {
  const timeFile = await Deno.makeTempFile({ prefix: "bench-time-" });
  const child = new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "%e %U %S %M",
      "-o",
      timeFile,
      "timeout",
      "-k",
      "3",
      String(options.capSec),
      ...cmd,
    ],
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  live.add(child.pid);
  options.onSpawn?.(child.pid);
  const rssSamples: number[] = [];
  let sampler: ReturnType<typeof setInterval> | undefined;
  if (options.sampleMs) {
    const sample = () => {
      const leaf = leafOf(child.pid);
      const rss = leaf === undefined ? undefined : vmRssKiB(leaf);
      if (rss !== undefined && leaf !== child.pid) rssSamples.push(rss);
    };
    sampler = setInterval(sample, options.sampleMs);
  }
  const stderrText = (async () => {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text = (text + decoder.decode(chunk, { stream: true })).slice(-4000);
    }
    return text;
  })();
  const status = await child.status;
  live.delete(child.pid);
  if (sampler !== undefined) clearInterval(sampler);
  const stderr = await stderrText;
  const lines = (await Deno.readTextFile(timeFile)).trim().split("\n");
  await Deno.remove(timeFile).catch(() => {});
  const last = lines[lines.length - 1].split(" ").map(Number);
  const [wall, user, sys, maxRssKiB] = last.length === 4 && !last.some(isNaN)
    ? last
    : [NaN, NaN, NaN, NaN];
  return {
    exit: status.code,
    wall,
    user,
    sys,
    maxRssKiB,
    timedOut: status.code === 124 || status.code === 137,
    stderr: stderr.replace(/Command exited with non-zero status \d+\n?/, "")
      .trim(),
    rssSamples,
  };
}

/** Kills every run still going and its children (for an interrupted bench). */
export function killLiveRuns(): void {
  for (const pid of live) killTree(pid);
  live.clear();
}

/**
 * The child pids of `pid`, from `/proc`.
 *
 * @param pid A process.
 * @returns Its direct children.
 */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(
        `/proc/${pid}/task/${task.name}/children`,
      );
      for (const p of text.trim().split(/\s+/)) if (p) out.push(Number(p));
    }
  } catch {
    // gone
  }
  return out;
}

/** `pid` and all its descendants. */
export function treeOf(pid: number, depth = 0): number[] {
  if (depth > 10) return [pid];
  return [pid, ...childrenOf(pid).flatMap((c) => treeOf(c, depth + 1))];
}

/** The deepest first descendant of `pid` (the tool under time and timeout). */
function leafOf(pid: number): number | undefined {
  let current = pid;
  for (let i = 0; i < 10; i++) {
    const kids = childrenOf(current);
    if (kids.length === 0) return current;
    current = kids[0];
  }
  return current;
}

/** SIGKILLs `pid` and its descendants, children first. */
export function killTree(pid: number): void {
  for (const p of treeOf(pid).reverse()) {
    try {
      Deno.kill(p, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** VmRSS of a process in KiB, or undefined when it is gone. */
export function vmRssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(
      Deno.readTextFileSync(`/proc/${pid}/status`),
    );
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + sys) used so far by `pid` and its descendants. */
export function cpuSecondsOf(pid: number): number {
  let ticks = 0;
  for (const p of treeOf(pid)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${p}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** A file a run must produce. */
export interface Expected {
  size: number;
  sha256: string;
}

/** What a run left in its output directory. */
export interface Verdict {
  /** Files with the right name, size and SHA-256. */
  correct: number;
  /** Expected files absent. */
  missing: number;
  /** Expected names with the wrong size or bytes. */
  wrong: number;
  /** Other entries (`.part`, `.aria2`, renamed copies…; not bulkget's state file). */
  extra: number;
  /** Bytes in correct files. */
  bytes: number;
}

/**
 * Checks every file of `dir` (flat) against the expectation: count, sizes,
 * SHA-256. Meant to run after the timed part.
 *
 * @param dir The run's output directory.
 * @param expect The expected file for a name, or undefined when none.
 * @param total How many files were expected.
 * @returns The verdict.
 */
export async function verifyDir(
  dir: string,
  expect: (name: string) => Expected | undefined,
  total: number,
): Promise<Verdict> {
  const v: Verdict = { correct: 0, missing: 0, wrong: 0, extra: 0, bytes: 0 };
  let seen = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name === STATE_FILE) continue; // bulkget's record of what it wrote
      const want = entry.isFile ? expect(entry.name) : undefined;
      if (!want) {
        v.extra++;
        continue;
      }
      seen++;
      const path = `${dir}/${entry.name}`;
      // Sync reads: thousands of small files check several times faster so.
      const size = want.size <= 8 << 20 ? -1 : (await Deno.stat(path)).size;
      const small = size < 0 ? Deno.readFileSync(path) : undefined;
      const actual = small ? small.byteLength : size;
      const digest = small
        ? createHash("sha256").update(small).digest("hex")
        : actual === want.size
        ? await sha256File(path)
        : "";
      if (actual !== want.size || digest !== want.sha256) {
        v.wrong++;
        continue;
      }
      v.correct++;
      v.bytes += actual;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  v.missing = total - seen;
  return v;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  try {
    const buffer = new Uint8Array(1 << 20);
    for (
      let n = await file.read(buffer);
      n !== null;
      n = await file.read(buffer)
    ) {
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

/** Median of numbers (NaN for none). */
export function median(values: number[]): number {
  const s = values.filter((x) => !isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
