/**
 * Shared test helpers: run bulkget as a child process, compare files with the
 * data set, and make temporary directories.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { STATE_FILE } from "../lib/writer/paths.ts";

/** The project's root directory. */
export const ROOT: string = fromFileUrl(new URL("../", import.meta.url));
/** `main.ts`'s path. */
export const MAIN: string = `${ROOT}main.ts`;
/** The flag data set. */
export const DATA: string = `${ROOT}data`;

/** What a finished child process printed. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode runBulkget}. */
export interface RunOptions {
  /** Working directory. @default a new temporary directory */
  cwd?: string;
  /** Deno permission flags. @default ["--allow-all"] */
  permissions?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Text for standard input. */
  stdin?: string;
  /** The program to run instead of `deno run main.ts` (e.g. the compiled binary). */
  binary?: string;
}

/** Options for {@linkcode bulkgetCommand}. */
export interface CommandOptions {
  /** Working directory. @default the test's */
  cwd?: string;
  /** Deno permission flags. @default ["--allow-all"] */
  permissions?: string[];
  /** Extra environment variables (`NO_COLOR=1` is always set). */
  env?: Record<string, string>;
  /** Standard input. @default "null" */
  stdin?: "piped" | "null";
  /** Standard error. @default "piped" */
  stderr?: "piped" | "null";
}

/**
 * `deno run --quiet PERMISSIONS main.ts ARGS` with stdout piped, for tests
 * that start bulkget and signal or watch it while it runs.
 *
 * @param args bulkget's arguments.
 * @param options Where, with which permissions, and the standard streams.
 * @returns The command, not yet spawned.
 */
export function bulkgetCommand(
  args: string[],
  options: CommandOptions = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...(options.permissions ?? ["--allow-all"]),
      MAIN,
      ...args,
    ],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: options.stderr ?? "piped",
  });
}

/**
 * Runs `bulkget ARGS` as a child process (`deno run main.ts`) and waits for it.
 *
 * @param args bulkget's arguments.
 * @param options Where and with which permissions.
 * @returns Exit code and output.
 */
export async function runBulkget(
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const cwd = options.cwd ??
    await Deno.makeTempDir({ prefix: "bulkget-test-" });
  const command = options.binary
    ? new Deno.Command(options.binary, {
      args,
      cwd,
      env: { NO_COLOR: "1", ...options.env },
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    })
    : bulkgetCommand(args, {
      cwd,
      permissions: options.permissions,
      env: options.env,
      stdin: options.stdin === undefined ? "null" : "piped",
    });
  const child = command.spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/**
 * The start of a `bulkget artifacts github` command line for one run of the
 * GitHub API double: the command, its repository, the run and the API URL,
 * before the options a test adds.
 */
export function githubRunArgs(
  gh: { repository: string; apiUrl: string },
  runId: number,
): string[] {
  return [
    "artifacts",
    "github",
    gh.repository,
    "--run",
    String(runId),
    "--api-url",
    gh.apiUrl,
  ];
}

/**
 * Names in a directory (sorted), or [] when it does not exist; the state
 * file bulkget keeps in every output directory (`.bulkget-state.jsonl`, see
 * `lib/writer/validators.ts`) is left out unless `withState` is set.
 */
export function listDir(dir: string, withState = false): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((entry) => entry.name)
      .filter((name) => withState || name !== STATE_FILE).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** Whether two files hold the same bytes. */
export function sameBytes(a: string, b: string): boolean {
  const x = Deno.readFileSync(a);
  const y = Deno.readFileSync(b);
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

/** The served flag file for a country code. */
export function flagFile(cc: string): string {
  const lower = cc.toLowerCase();
  return `${DATA}/flags/${lower}/${lower}.gif`;
}

/**
 * Two of `bulkget serve`'s generated files, one for each way a body reaches
 * the writer Worker: 1,000 bytes are put whole, 2 MiB are streamed into a
 * `.part` and sealed.
 */
export const PUT_AND_SEALED: readonly (readonly [string, number])[] = [
  ["small.bin", 1000],
  ["large.bin", 2 << 20],
];

/**
 * `get` arguments that download {@linkcode PUT_AND_SEALED} into `outDir`.
 *
 * @param serverUrl The server's base URL.
 * @param outDir The output directory (`-o`).
 * @returns The arguments.
 */
export function getPutAndSealed(serverUrl: string, outDir: string): string[] {
  return [
    "get",
    ...PUT_AND_SEALED.map(([name, size]) =>
      `${serverUrl}/files/${size}/${name}`
    ),
    "-o",
    outDir,
  ];
}

/** Whether `/proc/self/status` can be read (Linux): the peak-memory tests need it. */
export const HAS_PROC = (() => {
  try {
    Deno.statSync("/proc/self/status");
    return true;
  } catch {
    return false;
  }
})();

/**
 * Runs `bulkget ARGS` in a child (stderr dropped) and samples its peak RSS
 * (`VmHWM`) every `everyMs` until it exits, at most `maxSamples` times.
 *
 * @param args bulkget's arguments.
 * @param sampling How often, and the bound on how many samples.
 * @returns The peak in KiB, the exit code and stdout.
 */
export async function peakRssOfBulkget(
  args: string[],
  sampling: { everyMs: number; maxSamples: number },
): Promise<{ kib: number; code: number; stdout: string }> {
  const child = bulkgetCommand(args, { stderr: "null" }).spawn();
  let kib = 0;
  let running = true;
  const output = child.output().finally(() => running = false);
  for (let i = 0; running && i < sampling.maxSamples; i++) {
    try {
      const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
      const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
      if (match) kib = Math.max(kib, Number(match[1]));
    } catch {
      break; // the process is gone
    }
    await new Promise((r) => setTimeout(r, sampling.everyMs));
  }
  const { code, stdout } = await output;
  return { kib, code, stdout: new TextDecoder().decode(stdout) };
}

let scriptHere: Promise<boolean> | undefined;

/**
 * Whether `script` (util-linux) is here to give a child a pseudo-terminal;
 * asked once.
 */
export function hasScript(): Promise<boolean> {
  scriptHere ??= new Deno.Command("script", { args: ["--version"] })
    .output().then((o) => o.success, () => false);
  return scriptHere;
}

/**
 * Runs a shell command under a pseudo-terminal 160 columns wide (`script`),
 * for at most 60 s (a run that waits for a terminal's answer is ended).
 *
 * @param shell The command line.
 * @param cwd Its working directory.
 * @returns Its exit code and all it printed.
 */
export async function underTerminal(
  shell: string,
  cwd: string,
): Promise<{ code: number; text: string }> {
  const output = await new Deno.Command("script", {
    args: ["-qec", `stty cols 160; ${shell}`, "/dev/null"],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return { code: output.code, text: new TextDecoder().decode(output.stdout) };
}

/**
 * The text a child's standard output gave up to and with its first line
 * (all of it when it ends first), its reader released so the rest can be
 * read or cancelled.
 *
 * @param stdout The child's `stdout`.
 * @returns The text read.
 */
export async function firstLine(
  stdout: ReadableStream<Uint8Array>,
): Promise<string> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text;
}
