/**
 * The contenders of `deno task bench`: bulkget (through `deno run` with
 * narrow permissions, once with its own HTTP/1.1 client and once with
 * `--use-fetch`, and `dist/bulkget` when built), the peers found on the
 * machine (aria2c, curl, wget2) with their best options for each case, and
 * `bench/bare.ts`, the floor.
 *
 * @module
 */

import { V8_FLAGS } from "../lib/cli/v8_flags.ts";

/** What a command line needs to know about a run. */
export interface RunContext {
  /** A URL-per-line list. */
  list: string;
  /** The same URLs as a curl config (`url = "…"` lines). */
  curlConfig: string;
  /** The fresh output directory. */
  out: string;
  /** Downloads at once (`-m`). */
  concurrency: number;
  /** The server's port (for `--allow-net`). */
  port: number;
  /** The scenario has failures to retry. */
  retries: boolean;
  /** Few large files: peers may split them into ranges. */
  large: boolean;
  /** The output is under /dev, where Deno needs --allow-all. */
  wide: boolean;
}

/** A contender. */
export interface Tool {
  /** Short name in the tables. */
  id: string;
  /** Which column it counts for. */
  kind: "bulkget" | "peer" | "bare";
  /** Its command line for a run. */
  command(c: RunContext): string[];
}

/** Whether an executable `name` is on PATH; its path. */
export function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && (info.mode ?? 0o111) & 0o111) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The first line of `cmd --version`-like output, or undefined. */
export async function versionOf(cmd: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(5000),
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    return text.trim().split("\n")[0];
  } catch {
    return undefined;
  }
}

/** The permissions bulkget and bare.ts get: the server's port, the list, the output. */
function narrow(c: RunContext): string[] {
  if (c.wide) return ["--allow-all"];
  return [
    `--allow-net=127.0.0.1:${c.port}`,
    `--allow-read=${c.list},${c.out}`,
    `--allow-write=${c.out}`,
  ];
}

/**
 * `deno run main.ts get ARGS` as the side benchmarks (split, rate limit,
 * durability) run it: the loopback network, reading `reads` and `out`,
 * writing `out` only.
 *
 * @param root The project tree (holds main.ts).
 * @param out The output directory (read and written).
 * @param args What follows `get`.
 * @param reads Other paths it reads, e.g. a list.
 * @returns The command line.
 */
export function bulkgetGet(
  root: string,
  out: string,
  args: string[],
  reads: string[] = [],
): string[] {
  return [
    "deno",
    "run",
    "--allow-net=127.0.0.1",
    `--allow-read=${[...reads, out].join(",")}`,
    `--allow-write=${out}`,
    `${root}/main.ts`,
    "get",
    ...args,
  ];
}

function bulkgetArgs(c: RunContext): string[] {
  // bulkget defaults otherwise: retries (5) are always on.
  return ["get", "-i", c.list, "-o", c.out, "-m", String(c.concurrency), "-q"];
}

/**
 * Every contender this machine has, and a line for each one it lacks.
 *
 * @param root The project directory.
 * @returns The tools, the skip lines and the versions.
 */
export async function findTools(root: string): Promise<{
  tools: Tool[];
  skipped: string[];
  versions: Record<string, string>;
}> {
  const tools: Tool[] = [];
  const skipped: string[] = [];
  const versions: Record<string, string> = {};
  versions.deno = Deno.version.deno;
  tools.push({
    id: "bulkget",
    kind: "bulkget",
    command: (
      c,
    ) => [
      "deno",
      "run",
      `--v8-flags=${V8_FLAGS}`, // as the README says to run it
      ...narrow(c),
      `${root}/main.ts`,
      ...bulkgetArgs(c),
    ],
  });
  tools.push({
    id: "bulkget-fetch",
    kind: "bulkget",
    command: (c) => [
      "deno",
      "run",
      `--v8-flags=${V8_FLAGS}`,
      ...narrow(c),
      `${root}/main.ts`,
      ...bulkgetArgs(c),
      "--use-fetch", // Deno's fetch instead of the own HTTP/1.1 client
    ],
  });
  const binary = `${root}/dist/bulkget`;
  try {
    Deno.statSync(binary);
    tools.push({
      id: "bulkget-bin",
      kind: "bulkget",
      command: (c) => [binary, ...bulkgetArgs(c)],
    });
  } catch {
    skipped.push(
      "bulkget-bin: skipped: dist/bulkget not built (deno task compile needs DENORT_BIN here)",
    );
  }
  if (which("aria2c")) {
    versions.aria2c = (await versionOf(["aria2c", "--version"])) ?? "?";
    tools.push({
      id: "aria2c",
      kind: "peer",
      command: (c) => [
        "aria2c",
        "--no-conf",
        "-q",
        "-i",
        c.list,
        "-d",
        c.out,
        "-j",
        String(c.concurrency),
        ...(c.large
          ? ["-x", "4", "-s", "4", "-k", "16M"]
          : ["-x", "1", "-s", "1"]),
        "--file-allocation=none",
        "--auto-file-renaming=false",
        "--allow-overwrite=true",
        "--deferred-input=true",
        "--console-log-level=error",
        "--summary-interval=0",
        ...(c.retries ? ["--max-tries=6", "--retry-wait=1"] : []),
      ],
    });
  } else {skipped.push(
      "aria2c: skipped: not installed (apt-get install -y aria2)",
    );}
  if (which("curl")) {
    versions.curl = (await versionOf(["curl", "--version"])) ?? "?";
    tools.push({
      id: "curl",
      kind: "peer",
      command: (c) => [
        "curl",
        "-sS",
        "--fail",
        "--parallel",
        "--parallel-immediate",
        "--parallel-max",
        String(Math.min(c.concurrency, 300)),
        "--output-dir",
        c.out,
        "--remote-name-all",
        ...(c.retries ? ["--retry", "5", "--retry-delay", "1"] : []),
        "-K",
        c.curlConfig,
      ],
    });
  } else skipped.push("curl: skipped: not installed (apt-get install -y curl)");
  if (which("wget2")) {
    versions.wget2 = (await versionOf(["wget2", "--version"])) ?? "?";
    tools.push({
      id: "wget2",
      kind: "peer",
      command: (c) => [
        "wget2",
        "--no-config",
        "-q",
        "--progress=none",
        "--max-threads",
        String(c.concurrency),
        "-i",
        c.list,
        "-P",
        c.out,
        ...(c.retries ? ["--tries=6", "--waitretry=1"] : ["--tries=1"]),
      ],
    });
  } else {skipped.push(
      "wget2: skipped: not installed (apt-get install -y wget2)",
    );}
  tools.push({
    id: "bare",
    kind: "bare",
    command: (c) => [
      "deno",
      "run",
      ...narrow(c),
      `${root}/bench/bare.ts`,
      c.list,
      c.out,
      String(c.concurrency),
    ],
  });
  if (which("nginx")) {
    versions.nginx = (await versionOf(["nginx", "-v"])) ?? "?";
  }
  return { tools, skipped, versions };
}
