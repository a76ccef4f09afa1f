/**
 * `bulkget serve`: runs the built-in fault-injecting test server.
 *
 * With no options it serves the book's three servers at once (LOCAL on
 * 8001, DELAY on 8002, ERROR on 8003); `--preset NAME` serves one, and fault
 * options (`--fault`, `--delay`, `--jitter`, `--slow`) add to it, or, without
 * a preset, make one custom server (port 8000 unless `--port`). See
 * {@linkcode USAGE} for the flags and `lib/server/fault_spec.ts` for the
 * `--fault` syntax.
 *
 * @module
 */

import { parseCommandLine, parseWholeNumber } from "./usage.ts";
import type { OptionsConfig, ParsedArgs } from "./parse_args.ts";
import { parseDuration, parseSize } from "../core/units.ts";
import {
  addFaults,
  type FaultConfig,
  mergeFaults,
  validateFaults,
} from "../server/faults.ts";
import { describeFaults, parseFaults } from "../server/fault_spec.ts";
import { PRESET_NAMES, presetName, PRESETS } from "../server/presets.ts";
import type { PresetName } from "../server/presets.ts";
import { type RunningServer, startServer } from "../server/server.ts";
import { UsageError } from "../core/errors.ts";

/** The `--help` text. */
export const USAGE = `usage: bulkget serve [options]

Runs the built-in test server. With no options it serves the book's three
servers at once: LOCAL (:8001, plain), DELAY (:8002, every response delayed
500 ms) and ERROR (:8003, 25 % of responses are 503, 50 % delayed 500 ms).

Options:
  --preset NAME   serve one of LOCAL, DELAY, ERROR (case-insensitive)
  --port N        its port (with --preset or fault options; 0 = any free port;
                  default: the preset's, or 8000 for a custom server)
  --host ADDR     address to listen on (default 127.0.0.1)
  --seed N        seed of the random source of every fault draw (default 1)
  --fault SPEC    inject a fault, repeatable (added to the preset's), SPEC is
                  KIND[=RATE][:PARAM]..., RATE from 0 to 1 (default 1):
                    503=0.25                   any status 400-599 (500, 502,
                                               503, 504, 408, 429, ...)
                    429=0.1:retry-after=2      Retry-After in seconds
                    429=0.1:retry-after-date=2 Retry-After as an HTTP-date
                    delay=0.5:500ms[:jitter=200ms]
                    reset=0.1:2048             close after 2048 body bytes
                                               (default: half the body)
                    truncate=0.1[:BYTES]       Content-Length is the full size,
                                               BYTES fewer sent (default 1)
                    stall=0.05:10s[:after=BYTES]  pause the body
                    slow=1:64k                 at most 64 KiB per second
                    corrupt=0.1                flip one byte, keep the length
                  durations: 500, 500ms, 2s, 1m (bare = ms);
                  sizes: 2048, 64k, 1m, 1g
  --delay MS      delay every response (same as --fault delay=1:MS); with a
                  preset, added to the preset's own delay
  --jitter MS     plus or minus this much on each delay (alone: on the preset's)
  --slow BPS      cap every body at BPS bytes per second
  --github-api    run the GitHub Actions artifacts API double instead
                  (see: bulkget serve --github-api --help)
  --gitlab-api    run the GitLab job artifacts API double instead (same
                  options)
  -h, --help      show this help

Routes: /flags/{cc}/{cc}.gif, /flags/{cc}/metadata.json,
/files/{size}/{name} (generated, e.g. /files/10m/a.bin),
/redirect/same/{n}/{path}, /redirect/cross/{path}, /redirect/loop,
/redirect/chain/{n}, GET /stats (JSON), POST /stats/reset.
Faults are drawn per request in arrival order, so the same --seed and the
same requests give the same faults.

Example:
  bulkget serve --preset ERROR --fault reset=0.1:2048 --delay 500 --jitter 200 --seed 7`;

/** Options of {@linkcode serveCommand}. */
export interface ServeCommandOptions {
  /** Stops the servers (exit 0) when aborted. @default none (SIGINT/SIGTERM only) */
  signal?: AbortSignal;
  /** Writes a line to standard output. @default console.log */
  stdout?: (line: string) => void;
  /** Writes a line to standard error. @default console.error */
  stderr?: (line: string) => void;
  /** Called once every listener is up, with the servers by label. @default none */
  onListening?: (servers: Record<string, RunningServer>) => void;
  /** The flag data directory. @default the project's `data/` */
  dataDir?: string | URL;
}

interface Plan {
  label: string;
  port: number;
  preset?: PresetName;
  faults: FaultConfig;
  description: string;
}

const CUSTOM_PORT = 8000;

/**
 * Runs `bulkget serve` until SIGINT, SIGTERM or `options.signal`.
 *
 * @param args The arguments after `serve`.
 * @param options See {@linkcode ServeCommandOptions}.
 * @returns The exit code: 0 after a clean stop or `--help`, 1 when a port is
 *   taken or the server fails, 2 for a usage error or a missing permission.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveCommand } from "./serve.ts";
 * const stop = new AbortController();
 * const lines: string[] = [];
 * const code = await serveCommand(["--preset", "ERROR", "--port", "0", "--seed", "7"], {
 *   signal: stop.signal,
 *   stdout: (line) => lines.push(line),
 *   onListening: () => stop.abort(), // stop at once; a real caller serves until Ctrl-C
 * });
 * assert.equal(code, 0);
 * assert.match(lines[0], /^ERROR  http:\/\/127\.0\.0\.1:\d+\/flags/);
 * ```
 */
export async function serveCommand(
  args: string[],
  options: ServeCommandOptions = {},
): Promise<number> {
  if (args.includes("--github-api") || args.includes("--gitlab-api")) {
    return (await import("./serve_ci.ts")).serveCiCommand(args, options.signal);
  }
  const out = options.stdout ?? ((line: string) => console.log(line));
  const err = options.stderr ?? ((line: string) => console.error(line));
  let parsed: { plans: Plan[]; host: string; seed: number } | "help";
  try {
    parsed = parse(args);
  } catch (error) {
    if (
      !(error instanceof UsageError || error instanceof RangeError ||
        error instanceof TypeError)
    ) throw error;
    // Laid out as every command's: why, then the usage line.
    err(`bulkget serve: ${error.message}`);
    err(USAGE.split("\n")[0]);
    return 2;
  }
  if (parsed === "help") {
    out(USAGE);
    return 0;
  }
  const { plans, host, seed } = parsed;

  const stop = stopOnSignals(options.signal);
  const servers: Record<string, RunningServer> = {};
  try {
    const failed = await startAll(plans, { host, seed, servers, err, options });
    if (failed !== undefined) return failed;
    for (const plan of plans) {
      const server = servers[plan.label];
      out(
        `${plan.label.padEnd(6)} ${server.url}/flags  (${plan.description})`,
      );
    }
    options.onListening?.(servers);
    if (!stop.signal.aborted) {
      await new Promise((resolve) =>
        stop.signal.addEventListener("abort", resolve, { once: true })
      );
    }
    return 0;
  } catch (error) {
    err(
      `bulkget serve: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
    return 1;
  } finally {
    stop.dispose();
    await Promise.all(Object.values(servers).map((s) => s.close()));
  }
}

/** Aborts on SIGINT, SIGTERM or `signal`, until disposed. */
function stopOnSignals(signal: AbortSignal | undefined) {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) stop.abort();
  const signals: Deno.Signal[] = [];
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(name, onAbort);
      signals.push(name);
    } catch {
      // SIGTERM cannot be listened to on Windows; Ctrl-C still works.
    }
  }
  return {
    signal: stop.signal,
    dispose() {
      signal?.removeEventListener("abort", onAbort);
      for (const name of signals) Deno.removeSignalListener(name, onAbort);
    },
  };
}

/**
 * Starts every planned server into `servers`.
 *
 * @returns An exit code when one cannot listen (1, or 2 for a permission), else undefined.
 */
async function startAll(
  plans: readonly Plan[],
  context: {
    host: string;
    seed: number;
    servers: Record<string, RunningServer>;
    err: (line: string) => void;
    options: ServeCommandOptions;
  },
): Promise<number | undefined> {
  const { host, err } = context;
  for (const plan of plans) {
    try {
      context.servers[plan.label] = await startServer({
        hostname: host,
        port: plan.port,
        preset: plan.preset,
        faults: plan.faults,
        seed: context.seed,
        dataDir: context.options.dataDir,
      });
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) {
        err(
          `bulkget serve: port ${plan.port} on ${host} is already in use (another bulkget serve?)`,
        );
        return 1;
      }
      if (error instanceof Deno.errors.NotCapable) {
        err(`bulkget serve: ${permissionHint(error.message, host)}`);
        return 2;
      }
      if (error instanceof Deno.errors.AddrNotAvailable) {
        err(`bulkget serve: cannot listen on ${host}: ${error.message}`);
        return 1;
      }
      throw error;
    }
  }
  return undefined;
}

/** The options `bulkget serve` takes. */
const SERVE_OPTIONS = {
  preset: { type: "string" },
  port: { type: "string" },
  host: { type: "string", default: "127.0.0.1" },
  seed: { type: "string" },
  fault: { type: "string", multiple: true },
  delay: { type: "string" },
  jitter: { type: "string" },
  slow: { type: "string" },
  help: { type: "boolean", short: "h" },
} satisfies OptionsConfig;

/** The command line: the servers to start, where, with which seed. */
function parse(
  args: string[],
): { plans: Plan[]; host: string; seed: number } | "help" {
  const { values, positionals } = parseCommandLine(args, SERVE_OPTIONS);
  if (values.help) return "help";
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument '${
        positionals[0]
      }'. This command does not take positional arguments`,
    );
  }
  const port = values.port === undefined
    ? undefined
    : parseWholeNumber(values.port, "--port", 0, 65535);
  const seed = values.seed === undefined
    ? 1
    : parseWholeNumber(values.seed, "--seed", -(2 ** 31), 2 ** 32 - 1);
  const faults = parseFaultOptions(values);
  const host = values.host ?? "127.0.0.1";
  return { plans: planServers(values.preset, faults, port), host, seed };
}

/** `--fault`, `--delay`, `--jitter` and `--slow`, as one fault set. */
function parseFaultOptions(
  values: ParsedArgs<typeof SERVE_OPTIONS>["values"],
): FaultConfig {
  const flagValue = <T>(flag: string, text: string, fn: (t: string) => T) => {
    try {
      return fn(text);
    } catch {
      throw new UsageError(
        `Cannot parse "--${flag}": expected ${
          flag === "slow"
            ? "bytes per second such as 65536 or 64k"
            : "milliseconds such as 500 or 2s"
        }, got "${text}"`,
      );
    }
  };
  let faults: FaultConfig = parseFaults(values.fault ?? []);
  if (values.delay !== undefined || values.jitter !== undefined) {
    const latency: FaultConfig["latency"] = {};
    if (values.delay !== undefined) {
      latency.ms = flagValue("delay", values.delay, parseDuration);
    }
    if (values.jitter !== undefined) {
      latency.jitter = flagValue("jitter", values.jitter, parseDuration);
    }
    faults = mergeFaults(faults, { latency });
  }
  if (values.slow !== undefined) {
    const bytesPerSecond = flagValue("slow", values.slow, parseSize);
    if (bytesPerSecond < 1) {
      throw new UsageError(
        `Cannot parse "--slow": expected at least 1 byte per second`,
      );
    }
    faults = mergeFaults(faults, { slow: { bytesPerSecond } });
  }
  validateFaults(faults);
  return faults;
}

/**
 * The servers to start: one preset (with the faults added), one custom
 * server, or the book's three.
 */
function planServers(
  presetText: string | undefined,
  faults: FaultConfig,
  port: number | undefined,
): Plan[] {
  const custom = Object.keys(faults).length > 0;
  if (presetText !== undefined) {
    let name: PresetName;
    try {
      name = presetName(presetText);
    } catch {
      throw new UsageError(
        `Cannot parse "--preset": expected one of ${
          PRESET_NAMES.join(", ")
        }, got "${presetText}"`,
      );
    }
    const preset = PRESETS[name];
    return [{
      label: name,
      port: port ?? preset.port,
      preset: name,
      faults,
      description: custom
        ? describeFaults(addFaults(preset.faults, faults))
        : preset.description,
    }];
  }
  if (custom) {
    return [{
      label: "CUSTOM",
      port: port ?? CUSTOM_PORT,
      faults,
      description: describeFaults(faults),
    }];
  }
  if (port !== undefined) {
    throw new UsageError(
      `"--port" needs "--preset" or a fault option (without them, LOCAL, DELAY and ERROR run on 8001 to 8003)`,
    );
  }
  return PRESET_NAMES.map((name) => ({
    label: name,
    port: PRESETS[name].port,
    preset: name,
    faults: {},
    description: PRESETS[name].description,
  }));
}

/**
 * Turns Deno's `NotCapable` message into one line naming the flag to add.
 * `--allow-net` is suggested for the whole host, because the alternate
 * listener takes a random port.
 */
function permissionHint(message: string, host: string): string {
  const m = /Requires (\w+) access to "?([^",]*)"?/.exec(message);
  if (!m) return `missing permission: ${message}`;
  const [, kind, resource] = m;
  if (kind === "net") {
    return `missing permission to listen on ${resource}: add --allow-net=${host}`;
  }
  if (kind === "read") {
    const dir = resource.replace(/\/(country_codes\.txt|flags\/.*)$/, "");
    return `missing permission to read the flag data: add --allow-read=${dir}`;
  }
  return `missing permission: add --allow-${kind} (${message})`;
}

if (import.meta.main) Deno.exit(await serveCommand(Deno.args));
