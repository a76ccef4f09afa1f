/**
 * Command-line parsing with the rules of `node:util`'s `parseArgs` (strict
 * mode) for what bulkget's commands use: string and boolean options, short
 * names and groups (`-al 100`), `--name=value`, repeatable options,
 * positionals and `--`.
 *
 * Ours rather than Node's because importing `node:util` loads Deno's Node
 * compatibility layer, about 30 ms of start-up on every run; the types still
 * come from `node:util` (a type-only import costs nothing at run time).
 *
 * @module
 */

import type { parseArgs as NodeParseArgs, ParseArgsConfig } from "node:util";

/** The options a command takes, as `node:util` describes them. */
export type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/** What {@linkcode parseArgs} returns for `options`: values by long name, and positionals. */
export type ParsedArgs<T extends OptionsConfig> = ReturnType<
  typeof NodeParseArgs<{ args: string[]; options: T; allowPositionals: true }>
>;

/**
 * Parses `args` as `node:util`'s `parseArgs({ args, options, strict: true,
 * allowPositionals: true })` does, with its error messages.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseArgs } from "./parse_args.ts";
 * const { values, positionals } = parseArgs(["-al", "100", "x", "--", "-y"], {
 *   all: { type: "boolean", short: "a" },
 *   limit: { type: "string", short: "l" },
 * });
 * deepEqual({ ...values }, { all: true, limit: "100" });
 * deepEqual(positionals, ["x", "-y"]);
 * ```
 *
 * @param args The arguments.
 * @param options The options taken (`default` is not supported).
 * @returns The values (only of options given) and the positionals.
 * @throws {TypeError} For an unknown option, a missing or ambiguous value,
 *   or a value given to a boolean option.
 */
export function parseArgs<T extends OptionsConfig>(
  args: string[],
  options: T,
): ParsedArgs<T> {
  const values: Record<string, string | boolean | (string | boolean)[]> = {
    __proto__: null,
  } as unknown as Record<string, string>;
  const positionals: string[] = [];
  const longOf = new Map<string, string>();
  for (const [name, option] of Object.entries(options)) {
    if (option.short !== undefined) longOf.set(option.short, name);
  }
  const isString = (name: string | undefined) =>
    name !== undefined && options[name]?.type === "string";
  const store = (name: string, value: string | boolean) => {
    if (options[name].multiple) {
      const list = (values[name] ?? []) as (string | boolean)[];
      list.push(value);
      values[name] = list;
    } else values[name] = value;
  };
  const queue = [...args];
  while (queue.length > 0) {
    const arg = queue.shift()!;
    if (arg === "--") {
      positionals.push(...queue.splice(0));
      break;
    }
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      const name = equals < 0 ? arg.slice(2) : arg.slice(2, equals);
      const inline = equals < 0 ? undefined : arg.slice(equals + 1);
      if (!Object.hasOwn(options, name)) throw unknown(`--${name}`);
      if (!isString(name)) {
        if (inline !== undefined) {
          throw new TypeError(
            `Option '${describe(name, options)}' does not take an argument`,
          );
        }
        store(name, true);
        continue;
      }
      store(name, inline ?? takeValue(queue, `--${name}`, name, options));
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      const name = longOf.get(arg[1]);
      if (name === undefined) throw unknown(`-${arg[1]}`);
      if (arg.length === 2) {
        if (isString(name)) {
          store(name, takeValue(queue, `-${arg[1]}`, name, options));
        } else store(name, true);
        continue;
      }
      if (isString(name)) {
        store(name, arg.slice(2)); // -xVALUE
        continue;
      }
      // A group such as -al: each letter an option; a string option inside
      // takes the rest of the group as its value, or the next argument.
      const expanded: string[] = [];
      for (let index = 1; index < arg.length; index++) {
        const letter = arg[index];
        if (!isString(longOf.get(letter)) || index === arg.length - 1) {
          expanded.push(`-${letter}`);
        } else {
          expanded.push(`-${letter}${arg.slice(index + 1)}`);
          break;
        }
      }
      queue.unshift(...expanded);
      continue;
    }
    positionals.push(arg);
  }
  return { values, positionals } as unknown as ParsedArgs<T>;
}

/** The next argument as the value of option `name` (typed as `typed`). */
function takeValue(
  queue: string[],
  typed: string,
  name: string,
  options: OptionsConfig,
): string {
  const short = options[name].short;
  const value = queue[0];
  if (value === undefined) {
    throw new TypeError(
      `Option '${describe(name, options)} <value>' argument missing`,
    );
  }
  if (value.startsWith("-") && value.length > 1) {
    const example = `'--${name}=-XYZ'${
      short && !typed.startsWith("--") ? ` or '-${short}-XYZ'` : ""
    }`;
    throw new TypeError(
      `Option '${typed}' argument is ambiguous.\nDid you forget to specify the option argument for '${typed}'?\nTo specify an option argument starting with a dash use ${example}.`,
    );
  }
  return queue.shift()!;
}

/** An option as Node's messages name it: `-m, --max-concurrent`. */
function describe(name: string, options: OptionsConfig): string {
  const short = options[name].short;
  return `${short ? `-${short}, ` : ""}--${name}`;
}

function unknown(option: string): TypeError {
  return new TypeError(
    `Unknown option '${option}'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "${option}"`, // sic: Node's message has no closing quote
  );
}
