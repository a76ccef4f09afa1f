/**
 * `bulkget artifacts github|gitlab`: list, download, verify and extract a
 * GitHub Actions run's (or repository's) artifacts, or GitLab job archives
 * (`artifacts_gitlab.ts`); the run itself is `artifacts_run.ts`.
 *
 * @module
 */

import { githubArtifacts } from "../artifacts/github.ts";
import { selectArtifacts } from "../artifacts/select.ts";
import { DEFAULT_CONCURRENCY } from "../engine/download.ts";
import { DEFAULT_RETRIES } from "../engine/fetch_one.ts";
import { parseCommandLine, parseWholeNumber } from "./usage.ts";
import { optionalEnv, USAGE_EXIT_CODE } from "./permissions.ts";
import {
  COMMON_OPTIONS,
  type CommonOptions,
  commonOptions,
  runArtifacts,
} from "./artifacts_run.ts";
import {
  GITLAB_HELP,
  GITLAB_USAGE,
  parseArtifactsGitlabArgs,
  runGitlab,
} from "./artifacts_gitlab.ts";
import { UsageError } from "../core/errors.ts";

const USAGE =
  "usage: bulkget artifacts github [OWNER/REPO] [--run ID] [--name NAME]... [options]\n" +
  `       ${GITLAB_USAGE.slice("usage: ".length)}`;

const HELP = `${USAGE}

Download a GitHub Actions run's artifacts at once, verify each zip against
its digest, and extract it safely: every artifact into DIR/NAME/ (into DIR/
itself with one --name, or with --merge for all).

which:
  OWNER/REPO            the repository (default: $GITHUB_REPOSITORY)
  --run ID              this workflow run's artifacts (default: $GITHUB_RUN_ID
                        inside a workflow; without one, the newest non-expired
                        artifact of each name in the repository)
  --name NAME           artifacts with this exact name; repeatable
  --pattern GLOB        artifacts whose name matches (* and ?); repeatable
  --id ID               the artifact with this id; repeatable
  --list                print the matching artifacts (name, id, size, digest,
                        expired), download nothing
  --json                with --list: print them as JSON

where and how:
  -o, --output DIR      output directory (default: .)
  --no-extract          keep each artifact as DIR/NAME.zip
  --merge               extract every artifact into DIR/; a path two artifacts
                        hold with different bytes is a reported conflict
  --api-url URL         API base (default: $GITHUB_API_URL or
                        https://api.github.com; GHES: https://HOST/api/v3)
  --token-env NAME      read the token from $NAME (default: GITHUB_TOKEN); it
                        is sent to the API only, never to the blob host
  -m, --max-concurrent N  downloads at once (default: ${DEFAULT_CONCURRENCY})
  --retries N           retries per download (default: ${DEFAULT_RETRIES})
  --durability full|none  full: an artifact is reported ok only once its
                        files, their directories and the done list are on
                        stable storage (fdatasync, directory fsync); the zip,
                        removed after, is not flushed; none: no flushes
                        (default: full)

output:
  -q, --quiet           only failures and the summary
  --report FILE         write a JSON report (one entry per artifact)

exit codes: 0 all downloaded, 1 some failed, 2 usage or permission error, 130 interrupted (143 on SIGTERM)`;

/** Parsed options of `bulkget artifacts github`. */
export interface ArtifactsGithubOptions extends CommonOptions {
  /** `owner/name`. */
  repository: string;
  /** The workflow run, when one was given. */
  run?: string;
  /** `--name`s. */
  names: string[];
  /** `--pattern`s. */
  patterns: string[];
  /** `--id`s. */
  ids: number[];
  /** The API base. */
  apiUrl: string;
  /** Where the token is read from. */
  tokenEnv: string;
}

/**
 * Parses `bulkget artifacts github`'s arguments (after `github`).
 *
 * @param args The arguments.
 * @returns The options, or "help".
 * @throws {UsageError} For a bad or missing argument.
 */
export function parseArtifactsGithubArgs(
  args: string[],
): ArtifactsGithubOptions | "help" {
  const { values, positionals } = parseCommandLine(args, {
    ...COMMON_OPTIONS,
    run: { type: "string" },
    name: { type: "string", multiple: true },
    pattern: { type: "string", multiple: true },
    id: { type: "string", multiple: true },
  });
  if (values.help) return "help";
  if (positionals.length > 1) {
    throw new UsageError(
      `expected at most one OWNER/REPO, got ${positionals.length} arguments`,
    );
  }
  const repository = positionals[0] ?? optionalEnv("GITHUB_REPOSITORY");
  if (!repository) {
    throw new UsageError(
      "no repository: give OWNER/REPO or set GITHUB_REPOSITORY",
    );
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) {
    throw new UsageError(`expected OWNER/REPO, got "${repository}"`);
  }
  const run = values.run ??
    (positionals[0] === undefined ? optionalEnv("GITHUB_RUN_ID") : undefined);
  if (run !== undefined && !/^\d+$/.test(run)) {
    throw new UsageError(`--run must be a run id (digits), got "${run}"`);
  }
  const apiUrl = values["api-url"] ?? optionalEnv("GITHUB_API_URL") ??
    "https://api.github.com";
  if (!/^https?:$/.test(URL.parse(apiUrl)?.protocol ?? "")) {
    throw new UsageError(`--api-url must be an http(s) URL, got "${apiUrl}"`);
  }
  return {
    ...commonOptions(values),
    repository,
    run,
    names: values.name ?? [],
    patterns: values.pattern ?? [],
    ids: (values.id ?? []).map((id) => parseWholeNumber(id, "--id", 1)),
    apiUrl,
    tokenEnv: values["token-env"] ?? "GITHUB_TOKEN",
  };
}

/**
 * Runs `bulkget artifacts ...`.
 *
 * @param args The arguments after `artifacts`.
 * @returns The exit code.
 */
export async function artifactsCommand(args: string[]): Promise<number> {
  const [vendor, ...rest] = args;
  if (vendor === undefined || vendor === "-h" || vendor === "--help") {
    console.log(HELP);
    return vendor === undefined ? USAGE_EXIT_CODE : 0;
  }
  const parse = vendor === "github"
    ? parseArtifactsGithubArgs
    : vendor === "gitlab"
    ? parseArtifactsGitlabArgs
    : undefined;
  if (parse === undefined) {
    console.error(
      `bulkget artifacts: unknown CI "${vendor}" (expected github or gitlab)\n${USAGE}`,
    );
    return USAGE_EXIT_CODE;
  }
  let options;
  try {
    options = parse(rest);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof RangeError)) {
      throw error;
    }
    console.error(`bulkget artifacts ${vendor}: ${error.message}\n${USAGE}`);
    return USAGE_EXIT_CODE;
  }
  if (options === "help") {
    console.log(vendor === "github" ? HELP : GITLAB_HELP);
    return 0;
  }
  return "repository" in options
    ? await runGithub(options)
    : await runGitlab(options);
}

function runGithub(options: ArtifactsGithubOptions): Promise<number> {
  const token = optionalEnv(options.tokenEnv) || undefined;
  const single = options.names.length === 1 &&
    options.patterns.length === 0 && options.ids.length === 0;
  return runArtifacts({
    vendor: "github",
    options,
    token,
    apiUrl: options.apiUrl,
    makeApi: (signal, say) =>
      githubArtifacts({
        repository: options.repository,
        apiUrl: options.apiUrl,
        token,
        signal,
        onWait: (ms, reason) => {
          if (!options.quiet) {
            say(`waiting ${Math.ceil(ms / 1000)} s: ${reason}`);
          }
        },
      }),
    list: (api) =>
      api.list({
        run: options.run,
        name: single ? options.names[0] : undefined,
      }),
    select: (artifacts) =>
      selectArtifacts(artifacts, {
        names: options.names,
        patterns: options.patterns,
        ids: options.ids,
        newestPerName: options.run === undefined,
      }),
    flat: single,
    meta: { repository: options.repository, run: options.run ?? null },
  });
}
