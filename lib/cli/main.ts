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
  bulkget URL ...                      the same as bulkget get URL ...
  bulkget flags [options] [CC ...]     the Fluent Python flags downloader (see: bulkget flags -h)
  bulkget serve [options]              the built-in fault-injecting test server (see: bulkget serve -h)
  bulkget report merge REPORT ...      merge the JSON reports of sharded runs (see: bulkget report -h)
  bulkget -h | --help | --version`;

type Command = (args: string[]) => Promise<number>;

/** Commands by name, loaded on first use so start-up stays fast. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  get: async () => (await import("./get.ts")).getCommand,
  flags: async () => (await import("./flags.ts")).flagsCommand,
  serve: async () => (await import("./serve.ts")).serveCommand,
  report: async () => (await import("./report.ts")).reportCommand,
};

/**
 * Runs bulkget with the given arguments.
 *
 * @param args The command line, without the program name.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  if (/^https?:\/\//i.test(args[0] ?? "")) args = ["get", ...args];
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
