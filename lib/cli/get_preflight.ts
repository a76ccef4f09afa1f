/**
 * What `bulkget get` checks before its first request: the URL arguments,
 * permissions, the variables and files the options name, the credentials,
 * the shard, and
 * the `--report` and `--log` files (opened now, so a bad path costs one
 * line and exit 2, not a download's worth of work).
 *
 * @module
 */

import { resolveShard, shardVariable } from "../source/shard.ts";
import { openReport, type ReportWriter } from "../report/json_report.ts";
import { requireFile } from "./usage.ts";
import { missingNetPermission, missingPermission } from "./permissions.ts";
import { VERSION } from "./version.ts";
import { type AuthChoice, resolveAuth } from "./auth_options.ts";
import { openLogFile } from "./log_file.ts";
import { type GetOptions, secretsOf } from "./get_options.ts";
import { SourceError, UsageError } from "../core/errors.ts";
import { jobsFromUrls } from "../source/args.ts";

/**
 * Resolves what the options name in the environment (token, credentials,
 * shard, CA files) into `options`, after checking the permissions they need.
 *
 * @param options The parsed options; completed in place.
 * @returns A line for people when a permission is missing, else undefined.
 * @throws {UsageError} For a variable, file or combination that does not work.
 */
export async function resolveEnvironment(
  options: GetOptions,
): Promise<string | undefined> {
  const urls = await checkUrlArguments(options);
  const denied = missingPermission(neededPermissions(options)) ??
    // A dry run sends no request. Every byte goes through the proxy: Deno
    // refuses its client without net access to it.
    (options.dryRun ? undefined : missingNetPermission(
      options.proxy === undefined ? urls : [options.proxy, ...urls],
    ));
  if (denied) return denied;
  if (options.tokenEnv) {
    const token = Deno.env.get(options.tokenEnv);
    if (!token) {
      throw new UsageError(
        `--token-env ${options.tokenEnv}: the variable is not set or empty`,
      );
    }
    options.headers.Authorization = `Bearer ${token}`;
  }
  const auth = await resolveAuth(options.auth, (name) => Deno.env.get(name));
  if (auth.authorization) {
    if (options.tokenEnv) {
      throw new UsageError("--user and --token-env both set Authorization");
    }
    options.headers.Authorization = auth.authorization;
  }
  options.credentials = auth.credentials;
  options.secrets = [...options.secrets ?? [], ...auth.secrets];
  try {
    options.shard = resolveShard(options.shardChoice, Deno.env.get);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new UsageError(error.message);
  }
  for (const path of [...options.lists, ...options.manifests]) {
    if (path !== "-") await requireFile(path);
  }
  options.caCerts = await Promise.all(options.caCertFiles.map(readCaCert));
  return undefined;
}

/**
 * Every URL argument is one (the lines of lists are checked as they are
 * read): a typo is a usage error before any request, not after the
 * arguments before it were fetched.
 *
 * @returns The URLs.
 */
async function checkUrlArguments(options: GetOptions): Promise<string[]> {
  try {
    const urls: string[] = [];
    const jobs = jobsFromUrls(options.urls, { keepPaths: options.keepPaths });
    for await (const job of jobs) urls.push(job.url);
    return urls;
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    throw new UsageError(error.message);
  }
}

/** The permissions a run with these options needs. */
function neededPermissions(options: GetOptions) {
  return [
    ...[...options.lists, ...options.manifests, ...options.caCertFiles]
      .filter((p) => p !== "-").map((
        path,
      ) => ({ name: "read" as const, path })),
    // A dry run only looks.
    ...(options.dryRun
      ? []
      : [{ name: "write" as const, path: options.outDir }]),
    // Renaming .part files into place needs read access too.
    { name: "read" as const, path: options.outDir },
    ...(options.report
      ? [{ name: "write" as const, path: options.report }]
      : []),
    ...(options.log ? [{ name: "write" as const, path: options.log }] : []),
    ...authPermissions(options.auth),
    ...(options.tokenEnv
      ? [{ name: "env" as const, variable: options.tokenEnv }]
      : []),
    ...[shardVariable(options.shardChoice)].filter((v) => v !== undefined)
      .map((variable) => ({ name: "env" as const, variable })),
  ];
}

/** The permissions the credential options need: their files, their variables. */
function authPermissions(auth: AuthChoice) {
  return [
    ...[auth.netrcFile, auth.cookieFile].filter((p) => p !== undefined)
      .map((path) => ({ name: "read" as const, path })),
    ...[auth.passwordEnv, auth.netrc && !auth.netrcFile ? "HOME" : undefined]
      .filter((v) => v !== undefined)
      .map((variable) => ({ name: "env" as const, variable })),
  ];
}

/** The PEM text of a `--ca-cert` file; a file that holds no certificate is a usage error. */
async function readCaCert(path: string): Promise<string> {
  await requireFile(path);
  const pem = await Deno.readTextFile(path);
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new UsageError(`--ca-cert ${path}: no PEM certificate in the file`);
  }
  return pem;
}

/**
 * Checks the output directory, and opens `--report` and `--log` (when
 * given), before the first request.
 *
 * @param options The resolved options; `logFile` is set in place.
 * @returns The report writer, if asked for.
 * @throws {UsageError} When the directory cannot be one or a file cannot
 *   be written (nothing is left behind).
 */
export async function openOutputFiles(
  options: GetOptions,
): Promise<ReportWriter | undefined> {
  await checkOutputDir(options.outDir, !options.dryRun);
  const report = options.report === undefined
    ? undefined
    : await openReportFile(options);
  if (options.log !== undefined) {
    try {
      options.logFile = openLogFile(options.log, {
        secrets: secretsOf(options),
        statusIntervalMs: options.statusIntervalMs,
      });
    } catch (error) {
      report?.discard(); // a report of a run that never began would mislead
      throw new UsageError(
        `--log ${options.log}: cannot write: ${
          whyNotWritable(error, dirOf(options.log))
        }`,
      );
    }
  }
  return report;
}

/**
 * Checks `-o DIR` before the first request, leaving nothing: the directory,
 * or the nearest of its parents that exists, must be a directory. A path
 * through a file is one line, not a write failure of every job after its
 * download; so is one bulkget cannot write (a read-only mount, no write
 * permission), when it is to write.
 *
 * @throws {UsageError} When it is not.
 */
async function checkOutputDir(dir: string, writes: boolean): Promise<void> {
  let path = dir.replace(/(.)\/+$/, "$1");
  for (;;) {
    let info: Deno.FileInfo | undefined;
    try {
      info = await Deno.stat(path);
    } catch (error) {
      if (
        !(error instanceof Deno.errors.NotFound ||
          error instanceof Deno.errors.NotADirectory)
      ) return; // the writer says what else is wrong, naming the file
    }
    if (info !== undefined) {
      if (info.isDirectory) {
        if (writes) await checkWritable(dir, path);
        return;
      }
      throw new UsageError(
        `-o ${dir}: ${path === dir ? "it" : path} is not a directory`,
      );
    }
    const slash = path.lastIndexOf("/");
    if (slash < 0) return; // made in the working directory
    path = path.slice(0, slash) || "/";
  }
}

/**
 * Whether a file can be made in `path`: one is made and removed (Deno's
 * `access` looks only at the mode bits, blind to a read-only mount, and
 * root passes those anyway).
 */
async function checkWritable(dir: string, path: string): Promise<void> {
  let probe: string;
  try {
    probe = await Deno.makeTempFile({ dir: path, prefix: ".bulkget-probe-" });
  } catch (error) {
    const why = (error as { code?: string }).code === "EROFS"
      ? "read-only file system"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : undefined;
    if (why === undefined) return; // the writer says what else is wrong
    throw new UsageError(`-o ${dir}: cannot write: ${why}`);
  }
  await Deno.remove(probe);
}

/**
 * Opens `--report FILE` before the first request, so a path that cannot be
 * written stops the run at once with one line. Its directory is created
 * when it lies inside the output directory (which is created anyway).
 *
 * @throws {UsageError} When the file cannot be written.
 */
async function openReportFile(options: GetOptions): Promise<ReportWriter> {
  const path = options.report!;
  const what = `--report ${path}`;
  const dir = dirOf(path);
  const open = () => openReport(path, `bulkget ${VERSION}`, secretsOf(options));
  // Opening is the check: it needs no more permission than writing does.
  try {
    try {
      return open();
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      if (!isInside(dir, options.outDir)) {
        throw new UsageError(`${what}: the directory ${dir} does not exist`);
      }
      await Deno.mkdir(dir, { recursive: true });
      return open();
    }
  } catch (error) {
    if (
      error instanceof UsageError || error instanceof Deno.errors.NotCapable
    ) {
      throw error;
    }
    throw new UsageError(
      `${what}: cannot write: ${whyNotWritable(error, dir)}`,
    );
  }
}

/** The directory of a file's path as given (`.` for a bare name). */
function dirOf(path: string): string {
  const slash = path.replace(/\\/g, "/").lastIndexOf("/");
  return slash < 0 ? "." : path.slice(0, slash) || "/";
}

/** Why a file in `dir` could not be created, in words, from the error. */
function whyNotWritable(error: unknown, dir: string): string {
  return error instanceof Deno.errors.IsADirectory
    ? "it is a directory; give a file name"
    : error instanceof Deno.errors.NotADirectory
    ? `${dir} is not a directory`
    : error instanceof Deno.errors.NotFound
    ? `the directory ${dir} does not exist`
    : error instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : (error as { code?: string }).code === "EROFS"
    ? "read-only file system"
    : (error as Error).message;
}

/** Whether `path` is `dir` or lies under it (both absolute, or from the current directory). */
function isInside(path: string, dir: string): boolean {
  let cwd = "";
  try {
    cwd = Deno.cwd();
  } catch {
    // not allowed to know it: compare the paths as given
  }
  const parts = (p: string) => {
    const absolute = p.startsWith("/") ? p : `${cwd}/${p}`;
    const out: string[] = [];
    for (const part of absolute.replace(/\\/g, "/").split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") out.pop();
      else out.push(part);
    }
    return out;
  };
  const inner = parts(path), outer = parts(dir);
  return outer.length <= inner.length &&
    outer.every((part, i) => part === inner[i]);
}
