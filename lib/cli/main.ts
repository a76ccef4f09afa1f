/**
 * The command dispatcher: argv → one command of `lib/cli/`.
 *
 * @module
 */

import { permissionMessage, USAGE_EXIT_CODE } from "./permissions.ts";
import { VERSION } from "./version.ts";

const USAGE = `bulkget ${VERSION}: a fast, fault-tolerant bulk downloader

usage:
  bulkget get [options] [URL ...]      download URLs, lists, aria2 input files, manifests (see: bulkget get -h)
  bulkget [options] URL ...            the same as bulkget get [options] URL ...
  bulkget flags [options] [CC ...]     the Fluent Python flags downloader (see: bulkget flags -h)
  bulkget artifacts github|gitlab …    download, verify, extract CI artifacts (see: bulkget artifacts -h)
  bulkget serve [options]              the built-in fault-injecting test server (see: bulkget serve -h)
  bulkget report merge REPORT ...      merge the JSON reports of sharded runs (see: bulkget report -h)
  bulkget -h | --help | --version`;

type Command = (args: string[]) => Promise<number>;

/** Commands by name, loaded on first use so start-up stays fast. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  get: async () => (await import("./get.ts")).getCommand,
  flags: async () => (await import("./flags.ts")).flagsCommand,
  serve: async () => (await import("./serve.ts")).serveCommand,
  artifacts: async () => (await import("./artifacts.ts")).artifactsCommand,
  report: async () => (await import("./report.ts")).reportCommand,
};

/** Options of bulkget itself, which never mean `get`. */
const OWN_OPTIONS = new Set(["-h", "--help", "--version", "-V"]);

/**
 * Whether the command line is `get` without its name: it starts with a URL,
 * or with options of `get` and holds a URL somewhere (`bulkget -o d URL`).
 */
function isShorthand(args: string[]): boolean {
  const first = args[0] ?? "";
  if (/^https?:\/\//i.test(first)) return true;
  return first.startsWith("-") && !OWN_OPTIONS.has(first) &&
    args.some((arg) => /^https?:\/\//i.test(arg));
}

/**
 * Runs bulkget with the given arguments.
 *
 * @param args The command line, without the program name.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  if (isShorthand(args)) args = ["get", ...args];
  const [name, ...rest] = args;
  if (
    name === undefined || name === "-h" || name === "--help" || name === "help"
  ) {
    console.log(USAGE);
    return name === undefined ? USAGE_EXIT_CODE : 0;
  }
  if (name === "--version" || name === "-V") {
    console.log(`bulkget ${VERSION}`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`bulkget: unknown command "${name}"\n\n${USAGE}`);
    return USAGE_EXIT_CODE;
  }
  try {
    return await (await load())(rest);
  } catch (error) {
    const message = permissionMessage(error);
    if (message === undefined) throw error;
    console.error(`bulkget ${name}: ${message}`);
    return USAGE_EXIT_CODE;
  }
}
