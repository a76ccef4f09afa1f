/**
 * `bulkget artifacts gitlab`: GitLab job artifacts archives, downloaded at
 * once and extracted safely. See {@linkcode GITLAB_HELP}.
 *
 * @module
 */

import { gitlabArtifacts, type GitlabTokenKind } from "../artifacts/gitlab.ts";
import { parseCommandLine, parseWholeNumber } from "./usage.ts";
import { optionalEnv } from "./permissions.ts";
import {
  COMMON_OPTIONS,
  type CommonOptions,
  commonOptions,
  runArtifacts,
} from "./artifacts_run.ts";
import { UsageError } from "../core/errors.ts";

/** The usage line of `bulkget artifacts gitlab`. */
export const GITLAB_USAGE =
  "usage: bulkget artifacts gitlab [PROJECT] (--job ID... | --ref REF --job-name NAME) [options]";

/** The help of `bulkget artifacts gitlab`. */
export const GITLAB_HELP = `${GITLAB_USAGE}

Download GitLab job artifacts archives at once and extract each safely into
DIR/JOB_NAME/ (into DIR/ itself for one job, or with --merge for all).

which:
  PROJECT               the project's id or path group/project (default: $CI_PROJECT_ID)
  --job ID              this job's artifacts archive; repeatable
  --ref REF             with --job-name: the job of that name in the latest
  --job-name NAME       successful pipeline for the branch or tag REF
  --list, --json        print the jobs' archives (name, id, size, expired), download nothing

where and how:
  -o, --output DIR      output directory (default: .)
  --no-extract          keep each archive as DIR/JOB_NAME.zip
  --merge               extract every archive into DIR/; a path two archives
                        hold with different bytes is a reported conflict
  --api-url URL         API base (default: $CI_API_V4_URL or https://gitlab.com/api/v4)
  --token-env NAME      read the token from $NAME (default: GITLAB_TOKEN, else
                        CI_JOB_TOKEN sent as JOB-TOKEN)
  --token-kind KIND     private (PRIVATE-TOKEN), job (JOB-TOKEN) or bearer
                        (default: job for CI_JOB_TOKEN, else private)
  -m, --max-concurrent N, --retries N, --durability full|none, -q,
  --report FILE         as for github

GitLab gives no digest of an archive: each entry's CRC-32 and size are checked.
exit codes: 0 all downloaded, 1 some failed, 2 usage or permission error, 130 interrupted (143 on SIGTERM)`;

/** Parsed options of `bulkget artifacts gitlab`. */
interface GitlabOptions extends CommonOptions {
  project: string;
  jobs: number[];
  ref?: string;
  jobName?: string;
  apiUrl: string;
  token?: string;
  tokenKind?: GitlabTokenKind;
}

/**
 * Parses `bulkget artifacts gitlab`'s arguments (after `gitlab`).
 *
 * @param args The arguments.
 * @returns The options, or "help".
 * @throws {UsageError} For a bad or missing argument.
 */
export function parseArtifactsGitlabArgs(
  args: string[],
): GitlabOptions | "help" {
  const { values, positionals } = parseCommandLine(args, {
    ...COMMON_OPTIONS,
    job: { type: "string", multiple: true },
    ref: { type: "string" },
    "job-name": { type: "string" },
    "token-kind": { type: "string" },
  });
  if (values.help) return "help";
  if (positionals.length > 1) {
    throw new UsageError(
      `expected at most one PROJECT, got ${positionals.length}`,
    );
  }
  const project = positionals[0] ?? optionalEnv("CI_PROJECT_ID");
  if (!project) {
    throw new UsageError("no project: give PROJECT or set CI_PROJECT_ID");
  }
  const jobs = (values.job ?? []).map((id) => parseWholeNumber(id, "--job", 1));
  if ((values.ref === undefined) !== (values["job-name"] === undefined)) {
    throw new UsageError("--ref and --job-name go together");
  }
  if (jobs.length === 0 && values.ref === undefined) {
    throw new UsageError("give --job ID or --ref REF --job-name NAME");
  }
  const apiUrl = values["api-url"] ?? optionalEnv("CI_API_V4_URL") ??
    "https://gitlab.com/api/v4";
  if (!/^https?:\/\//i.test(apiUrl)) {
    throw new UsageError(`--api-url must be an http(s) URL, got "${apiUrl}"`);
  }
  return {
    ...commonOptions(values),
    project,
    jobs,
    ref: values.ref,
    jobName: values["job-name"],
    apiUrl,
    ...gitlabToken(values["token-env"], values["token-kind"]),
  };
}

/** The token and how it is sent: `--token-env`, else GITLAB_TOKEN, else CI_JOB_TOKEN. */
function gitlabToken(
  tokenEnv: string | undefined,
  kindText: string | undefined,
): { token?: string; tokenKind?: GitlabTokenKind } {
  if (
    kindText !== undefined && !["private", "job", "bearer"].includes(kindText)
  ) {
    throw new UsageError(
      `--token-kind must be private, job or bearer, got "${kindText}"`,
    );
  }
  const kind = kindText as GitlabTokenKind | undefined;
  if (tokenEnv) {
    return { token: optionalEnv(tokenEnv) || undefined, tokenKind: kind };
  }
  const token = optionalEnv("GITLAB_TOKEN") || undefined;
  if (token) return { token, tokenKind: kind };
  const jobToken = optionalEnv("CI_JOB_TOKEN") || undefined;
  return {
    token: jobToken,
    tokenKind: kind ?? (jobToken ? "job" : undefined),
  };
}

/**
 * Runs `bulkget artifacts gitlab` with parsed options.
 *
 * @param options The options.
 * @returns The exit code.
 */
export function runGitlab(options: GitlabOptions): Promise<number> {
  const { project, jobs, ref, jobName, apiUrl, token, tokenKind } = options;
  return runArtifacts({
    vendor: "gitlab",
    options,
    token,
    apiUrl,
    makeApi: (signal) =>
      gitlabArtifacts({ project, apiUrl, token, tokenKind, signal }),
    list: (api) => api.list({ jobs, ref, jobName }),
    select: (artifacts) => artifacts,
    flat: jobs.length + (ref === undefined ? 0 : 1) === 1,
    // The token goes to the API's own URL: it must follow no redirect.
    maxRedirects: 0,
    meta: { project, jobs, ref: ref ?? null, jobName: jobName ?? null },
  });
}
