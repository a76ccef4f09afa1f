/**
 * Checks the permissions a command needs before it starts, so a missing one
 * is one clear line naming the flag to add, never a stack trace.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { SourceError } from "../core/errors.ts";
import { missingNetFlag } from "../core/net_permission.ts";

/** Exit code for a usage or permission error. */
export const USAGE_EXIT_CODE = 2;

/**
 * The `--allow-…` flag that would grant a permission.
 *
 * @param descriptor The permission.
 * @returns e.g. `--allow-write=downloads`.
 */
export function flagFor(descriptor: Deno.PermissionDescriptor): string {
  switch (descriptor.name) {
    case "read":
    case "write":
      return `--allow-${descriptor.name}${
        descriptor.path ? `=${descriptor.path}` : ""
      }`;
    case "net":
      return `--allow-net${descriptor.host ? `=${descriptor.host}` : ""}`;
    case "env":
      return `--allow-env${
        descriptor.variable ? `=${descriptor.variable}` : ""
      }`;
    case "run":
      return `--allow-run${descriptor.command ? `=${descriptor.command}` : ""}`;
    default:
      return `--allow-${descriptor.name}`;
  }
}

/**
 * The first permission of `needed` that is not granted, as a message.
 *
 * @param needed The permissions the command will use.
 * @returns `missing permission: add --allow-…`, or undefined when all are granted.
 */
export function missingPermission(
  needed: Deno.PermissionDescriptor[],
): string | undefined {
  for (const descriptor of needed) {
    if (Deno.permissions.querySync(descriptor).state !== "granted") {
      return `missing permission: run again with ${flagFor(descriptor)}`;
    }
  }
  return undefined;
}

/**
 * Turns Deno's `NotCapable` error (a permission used without its flag) into
 * the one line we print; Deno's message already names the flag.
 *
 * @param error Anything thrown.
 * @returns The line, or undefined when `error` is not a missing permission.
 */
export function permissionMessage(error: unknown): string | undefined {
  if (error instanceof Deno.errors.NotCapable) {
    return `missing permission: ${error.message.replace(/\s+/g, " ")}`;
  }
  return undefined;
}

/**
 * Reads an environment variable only when `--allow-env` grants it, so an
 * optional variable (such as `GITHUB_ACTIONS`) never costs a permission.
 *
 * @param name The variable.
 * @returns Its value, or undefined when unset or not granted.
 */
export function optionalEnv(name: string): string | undefined {
  if (
    Deno.permissions.querySync({ name: "env", variable: name }).state !==
      "granted"
  ) return undefined;
  return Deno.env.get(name);
}

/**
 * The first of `urls` whose host Deno was not given net access to, as a
 * message, so that a run stops with one line before its first request
 * instead of Deno prompting in the middle of the progress bar.
 *
 * @param urls Absolute `http:` or `https:` URLs.
 * @returns `missing permission: run again with --allow-net=HOST:PORT`, or
 *   undefined when every host is granted.
 */
export function missingNetPermission(
  urls: Iterable<string>,
): string | undefined {
  for (const url of urls) {
    const flag = missingNetFlag(url);
    if (flag !== undefined) return `missing permission: run again with ${flag}`;
  }
  return undefined;
}

/**
 * Passes the jobs on, stopping at the first whose host (or a mirror's) Deno
 * was not given net access to, as at a bad input line: the jobs before it
 * are downloaded, none after it is read.
 *
 * @param jobs The jobs, as read.
 * @returns The same jobs.
 * @throws {SourceError} Naming the job's line and the flag to add.
 */
export async function* netPermitted(
  jobs: AsyncIterable<Job>,
): AsyncGenerator<Job> {
  for await (const job of jobs) {
    const denied = missingNetPermission(
      job.mirrors ? [job.url, ...job.mirrors] : [job.url],
    );
    if (denied) throw new SourceError(job.origin ?? "input", denied);
    yield job;
  }
}
