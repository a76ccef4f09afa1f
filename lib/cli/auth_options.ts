/**
 * The credential options of `bulkget get`: `--user USER[:PASSWORD]`,
 * `--password-env NAME`, `--netrc`, `--netrc-file FILE`, `--cookie FILE`.
 * Read before the first request; what they hold is a secret for every
 * output.
 *
 * @module
 */

import { basicAuthorization, credentialsFor } from "../engine/credentials.ts";
import { parseCookieFile } from "../engine/cookies.ts";
import { parseNetrc } from "../engine/netrc.ts";
import { requireFile } from "./usage.ts";
import { UsageError } from "../core/errors.ts";

/** The credential options as typed. */
export interface AuthChoice {
  user?: string;
  passwordEnv?: string;
  netrc: boolean;
  netrcFile?: string;
  cookieFile?: string;
}

/** What the options resolve to. */
export interface ResolvedAuth {
  /** `Authorization` for every job's origin (`--user`), if any. */
  authorization?: string;
  /** Per-URL credentials (`.netrc`, cookies), if any. */
  credentials?: (url: URL) => Record<string, string>;
  /** Strings no output may show. */
  secrets: string[];
}

/** The `.netrc` path of `--netrc`: `$NETRC`, else `$HOME/.netrc`. */
export function netrcPath(
  choice: AuthChoice,
  env: (name: string) => string | undefined,
): string | undefined {
  if (choice.netrcFile !== undefined) return choice.netrcFile;
  if (!choice.netrc) return undefined;
  const home = env("HOME");
  if (!home) {
    throw new UsageError("--netrc: $HOME is not set; give --netrc-file FILE");
  }
  return `${home}/.netrc`;
}

/**
 * Reads the files and the variable the options name.
 *
 * @throws {UsageError} For a missing password, variable or file.
 */
export async function resolveAuth(
  choice: AuthChoice,
  env: (name: string) => string | undefined,
): Promise<ResolvedAuth> {
  const secrets: string[] = [];
  let authorization: string | undefined;
  if (choice.passwordEnv !== undefined && choice.user === undefined) {
    throw new UsageError("--password-env needs --user USER");
  }
  if (choice.user !== undefined) {
    const colon = choice.user.indexOf(":");
    const user = colon < 0 ? choice.user : choice.user.slice(0, colon);
    let password = colon < 0 ? undefined : choice.user.slice(colon + 1);
    if (choice.passwordEnv !== undefined) {
      if (password !== undefined) {
        throw new UsageError(
          "--user USER:PASSWORD and --password-env: give one password",
        );
      }
      password = env(choice.passwordEnv);
      if (!password) {
        throw new UsageError(
          `--password-env ${choice.passwordEnv}: the variable is not set or empty`,
        );
      }
    }
    if (password === undefined) {
      throw new UsageError(
        "--user USER needs a password: USER:PASSWORD or --password-env NAME (bulkget never prompts)",
      );
    }
    if (user === "") throw new UsageError("--user: the user name is empty");
    authorization = basicAuthorization(user, password);
    secrets.push(password, authorization);
  }
  const netrcFile = netrcPath(choice, env);
  const netrc = netrcFile === undefined ? undefined : parseNetrc(
    await readOption(
      netrcFile,
      choice.netrcFile ? "--netrc-file" : "--netrc",
    ),
  );
  const cookies = choice.cookieFile === undefined
    ? undefined
    : parseCookieFile(await readOption(choice.cookieFile, "--cookie"));
  for (const entry of netrc ?? []) {
    if (entry.password) secrets.push(entry.password);
    if (entry.login !== undefined) {
      secrets.push(basicAuthorization(entry.login, entry.password ?? ""));
    }
  }
  for (const cookie of cookies ?? []) {
    if (cookie.value.length >= 4) secrets.push(cookie.value);
  }
  return {
    authorization,
    credentials: netrc || cookies
      ? credentialsFor({ netrc, cookies })
      : undefined,
    secrets,
  };
}

async function readOption(path: string, what: string): Promise<string> {
  try {
    await requireFile(path);
  } catch (error) {
    if (error instanceof UsageError) {
      throw new UsageError(`${what} ${path}: ${error.message}`);
    }
    throw error;
  }
  return await Deno.readTextFile(path);
}
