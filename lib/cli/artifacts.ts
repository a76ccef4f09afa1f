/**
 * `bulkget artifacts github`: list, download, verify and extract a GitHub
 * Actions run's (or repository's) artifacts. See {@linkcode HELP}.
 *
 * @module
 */

import { githubArtifacts } from "../artifacts/github.ts";
import { gitlabArtifacts, type GitlabTokenKind } from "../artifacts/gitlab.ts";
import { selectArtifacts } from "../artifacts/select.ts";
import {
  type ArtifactResult,
  fetchArtifacts,
} from "../artifacts/fetch_artifacts.ts";
import type { Artifact, ArtifactApi } from "../artifacts/artifact.ts";
import { ArtifactApiError } from "../artifacts/artifact.ts";
import { DEFAULT_CONCURRENCY } from "../engine/download.ts";
import { DEFAULT_RETRIES } from "../engine/fetch_one.ts";
import { formatBytes } from "../report/format.ts";
import { redactText } from "../core/redact.ts";
import { escapeControls } from "../core/printable.ts";
import { parseCommandLine, parseWholeNumber, UsageError } from "./usage.ts";
import { INTERRUPT_EXIT_CODES, listenForInterrupts } from "./interrupt.ts";
import { optionalEnv, USAGE_EXIT_CODE } from "./permissions.ts";

const USAGE =
  "usage: bulkget artifacts github [OWNER/REPO] [--run ID] [--name NAME]... [options]\n" +
  "       bulkget artifacts gitlab [PROJECT] (--job ID... | --ref REF --job-name NAME) [options]";

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

output:
  -q, --quiet           only failures and the summary
  --report FILE         write a JSON report (one entry per artifact)

exit codes: 0 all downloaded, 1 some failed, 2 usage or permission error, 130 interrupted (143 on SIGTERM)`;

/** Parsed options of `bulkget artifacts github`. */
export interface ArtifactsGithubOptions {
  repository: string;
  run?: string;
  names: string[];
  patterns: string[];
  ids: number[];
  list: boolean;
  json: boolean;
  outDir: string;
  extract: boolean;
  merge: boolean;
  apiUrl: string;
  tokenEnv: string;
  concurrency: number;
  retries: number;
  quiet: boolean;
  report?: string;
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
    help: { type: "boolean", short: "h" },
    run: { type: "string" },
    name: { type: "string", multiple: true },
    pattern: { type: "string", multiple: true },
    id: { type: "string", multiple: true },
    list: { type: "boolean" },
    json: { type: "boolean" },
    output: { type: "string", short: "o" },
    "no-extract": { type: "boolean" },
    merge: { type: "boolean" },
    "api-url": { type: "string" },
    "token-env": { type: "string" },
    "max-concurrent": { type: "string", short: "m" },
    retries: { type: "string" },
    quiet: { type: "boolean", short: "q" },
    report: { type: "string" },
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
  const ids = (values.id ?? []).map((id) => parseWholeNumber(id, "--id", 1));
  const apiUrl = values["api-url"] ?? optionalEnv("GITHUB_API_URL") ??
    "https://api.github.com";
  try {
    const url = new URL(apiUrl);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw 0;
  } catch {
    throw new UsageError(`--api-url must be an http(s) URL, got "${apiUrl}"`);
  }
  if (values.json && !values.list) {
    throw new UsageError(
      "--json goes with --list (use --report FILE for a download's JSON)",
    );
  }
  if (values.merge && values["no-extract"]) {
    throw new UsageError("--merge and --no-extract exclude each other");
  }
  return {
    repository,
    run,
    names: values.name ?? [],
    patterns: values.pattern ?? [],
    ids,
    list: values.list ?? false,
    json: values.json ?? false,
    outDir: values.output ?? ".",
    extract: !values["no-extract"],
    merge: values.merge ?? false,
    apiUrl,
    tokenEnv: values["token-env"] ?? "GITHUB_TOKEN",
    concurrency: values["max-concurrent"] === undefined
      ? DEFAULT_CONCURRENCY
      : parseWholeNumber(values["max-concurrent"], "-m", 1),
    retries: values.retries === undefined
      ? DEFAULT_RETRIES
      : parseWholeNumber(values.retries, "--retries", 0),
    quiet: values.quiet ?? false,
    report: values.report,
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
  if (vendor === "gitlab") return await gitlabCommand(rest);
  if (vendor !== "github") {
    console.error(
      `bulkget artifacts: unknown CI "${vendor}" (expected github or gitlab)\n${USAGE}`,
    );
    return USAGE_EXIT_CODE;
  }
  let options: ArtifactsGithubOptions | "help";
  try {
    options = parseArtifactsGithubArgs(rest);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof RangeError)) {
      throw error;
    }
    console.error(`bulkget artifacts github: ${error.message}\n${USAGE}`);
    return USAGE_EXIT_CODE;
  }
  if (options === "help") {
    console.log(HELP);
    return 0;
  }
  return await runGithub(options);
}

/** What one vendor's command hands to {@linkcode runArtifacts}. */
interface Run<L> {
  vendor: "github" | "gitlab";
  options: CommonOptions;
  token?: string;
  makeApi(
    signal: AbortSignal,
    say: (line: string) => void,
  ): ArtifactApi<L>;
  list(api: ArtifactApi<L>): Promise<Artifact[]>;
  select(artifacts: Artifact[]): Artifact[];
  flat: boolean;
  maxRedirects?: number;
  meta: Record<string, unknown>;
}

/** The options every vendor shares. */
interface CommonOptions {
  list: boolean;
  json: boolean;
  outDir: string;
  extract: boolean;
  merge: boolean;
  concurrency: number;
  retries: number;
  quiet: boolean;
  report?: string;
}

function runGithub(options: ArtifactsGithubOptions): Promise<number> {
  const token = optionalEnv(options.tokenEnv) || undefined;
  const single = options.names.length === 1 &&
    options.patterns.length === 0 && options.ids.length === 0;
  return runArtifacts({
    vendor: "github",
    options,
    token,
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

async function runArtifacts<L>(run: Run<L>): Promise<number> {
  const { options } = run;
  const secrets = run.token ? [run.token] : [];
  const say = (line: string) => console.error(redactText(line, secrets));
  const interrupts = listenForInterrupts();
  try {
    const api = run.makeApi(interrupts.signal, say);
    let artifacts: Artifact[];
    try {
      artifacts = await run.list(api);
    } catch (error) {
      if (interrupts.signal.aborted) return interruptCode(interrupts);
      if (!(error instanceof ArtifactApiError)) throw error;
      say(`bulkget artifacts ${run.vendor}: ${error.message}`);
      return 1;
    }
    const chosen = run.select(artifacts);
    if (options.list) {
      printList(chosen, options.json);
      return 0;
    }
    if (chosen.length === 0) {
      say(`bulkget artifacts ${run.vendor}: no artifact matches`);
      return 1;
    }
    const began = performance.now();
    const results = await fetchArtifacts(api, chosen, {
      outDir: options.outDir,
      extract: options.extract,
      merge: options.merge,
      flat: run.flat,
      concurrency: options.concurrency,
      retries: options.retries,
      maxRedirects: run.maxRedirects,
      signal: interrupts.signal,
      onResult: (r) => {
        if (r.status === "ok" && options.quiet) return;
        say(resultLine(r));
      },
    });
    const ok = results.filter((r) =>
      r.status === "ok" || r.status === "skipped"
    );
    const bytes = results.reduce((n, r) => n + r.bytes, 0);
    const seconds = (performance.now() - began) / 1000;
    say(
      `${ok.length} of ${results.length} artifacts done, ${
        formatBytes(bytes)
      } in ${seconds.toFixed(1)} s`,
    );
    if (options.report) {
      await Deno.writeTextFile(
        options.report,
        JSON.stringify(
          {
            version: 1,
            ci: run.vendor,
            ...run.meta,
            elapsedMs: Math.round(seconds * 1000),
            artifacts: results.map(reportEntry),
          },
          null,
          2,
        ) + "\n",
      );
    }
    if (interrupts.received()) return interruptCode(interrupts);
    return ok.length === results.length ? 0 : 1;
  } finally {
    interrupts.dispose();
  }
}

function interruptCode(
  interrupts: { received(): "SIGINT" | "SIGTERM" | undefined },
) {
  return INTERRUPT_EXIT_CODES[interrupts.received() ?? "SIGINT"];
}

function resultLine(r: ArtifactResult): string {
  const name = escapeControls(r.name);
  switch (r.status) {
    case "ok":
      return `ok       ${name} (${r.id}): ${
        formatBytes(r.bytes)
      }, ${r.files} files -> ${r.path}`;
    case "skipped":
      return `skipped  ${name} (${r.id}): done by an earlier run`;
    default:
      return `${r.status.padEnd(8)} ${name} (${r.id}): ${
        escapeControls(r.reason ?? r.status)
      }`;
  }
}

function reportEntry(r: ArtifactResult) {
  return {
    id: r.id,
    name: r.name,
    digest: r.digest,
    sha256: r.sha256 ?? null,
    bytes: r.bytes,
    files: r.files,
    path: r.path,
    status: r.status,
    reason: r.reason ?? null,
    conflicts: r.conflicts ?? [],
  };
}

function printList(artifacts: Artifact[], json: boolean) {
  if (json) {
    console.log(JSON.stringify(
      artifacts.map((a) => ({
        id: a.id,
        name: a.name,
        size: a.size,
        digest: a.sha256 === null ? null : `sha256:${a.sha256}`,
        expired: a.expired,
        created_at: a.createdAt,
        run_id: a.runId ?? null,
      })),
      null,
      2,
    ));
    return;
  }
  const rows = [
    ["NAME", "ID", "SIZE", "DIGEST", "EXPIRED"],
    ...artifacts.map((a) => [
      escapeControls(a.name),
      String(a.id),
      formatBytes(a.size),
      a.sha256 === null ? "-" : `sha256:${a.sha256.slice(0, 12)}…`,
      a.expired ? "yes" : "no",
    ]),
  ];
  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map((r) => r[i].length))
  );
  for (const row of rows) {
    console.log(row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
  }
}

const GITLAB_HELP =
  `usage: bulkget artifacts gitlab [PROJECT] (--job ID... | --ref REF --job-name NAME) [options]

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
  -m, --max-concurrent N, --retries N, -q, --report FILE   as for github

GitLab gives no digest of an archive: each entry's CRC-32 and size are checked.
exit codes: 0 all downloaded, 1 some failed, 2 usage or permission error, 130 interrupted (143 on SIGTERM)`;

async function gitlabCommand(args: string[]): Promise<number> {
  let values, positionals;
  try {
    ({ values, positionals } = parseCommandLine(args, {
      help: { type: "boolean", short: "h" },
      job: { type: "string", multiple: true },
      ref: { type: "string" },
      "job-name": { type: "string" },
      list: { type: "boolean" },
      json: { type: "boolean" },
      output: { type: "string", short: "o" },
      "no-extract": { type: "boolean" },
      merge: { type: "boolean" },
      "api-url": { type: "string" },
      "token-env": { type: "string" },
      "token-kind": { type: "string" },
      "max-concurrent": { type: "string", short: "m" },
      retries: { type: "string" },
      quiet: { type: "boolean", short: "q" },
      report: { type: "string" },
    }));
    if (values.help) {
      console.log(GITLAB_HELP);
      return 0;
    }
    if (positionals.length > 1) {
      throw new UsageError(
        `expected at most one PROJECT, got ${positionals.length}`,
      );
    }
    const project = positionals[0] ?? optionalEnv("CI_PROJECT_ID");
    if (!project) {
      throw new UsageError("no project: give PROJECT or set CI_PROJECT_ID");
    }
    const jobs = (values.job ?? []).map((id) =>
      parseWholeNumber(id, "--job", 1)
    );
    if ((values.ref === undefined) !== (values["job-name"] === undefined)) {
      throw new UsageError("--ref and --job-name go together");
    }
    if (jobs.length === 0 && values.ref === undefined) {
      throw new UsageError("give --job ID or --ref REF --job-name NAME");
    }
    const kindText = values["token-kind"];
    if (
      kindText !== undefined && !["private", "job", "bearer"].includes(kindText)
    ) {
      throw new UsageError(
        `--token-kind must be private, job or bearer, got "${kindText}"`,
      );
    }
    if (values.json && !values.list) {
      throw new UsageError("--json goes with --list");
    }
    if (values.merge && values["no-extract"]) {
      throw new UsageError("--merge and --no-extract exclude each other");
    }
    const apiUrl = values["api-url"] ?? optionalEnv("CI_API_V4_URL") ??
      "https://gitlab.com/api/v4";
    if (!/^https?:\/\//i.test(apiUrl)) {
      throw new UsageError(`--api-url must be an http(s) URL, got "${apiUrl}"`);
    }
    let token: string | undefined;
    let kind = kindText as GitlabTokenKind | undefined;
    if (values["token-env"]) {
      token = optionalEnv(values["token-env"]) || undefined;
    } else {
      token = optionalEnv("GITLAB_TOKEN") || undefined;
      if (!token) {
        token = optionalEnv("CI_JOB_TOKEN") || undefined;
        if (token) kind ??= "job";
      }
    }
    const options: CommonOptions = {
      list: values.list ?? false,
      json: values.json ?? false,
      outDir: values.output ?? ".",
      extract: !values["no-extract"],
      merge: values.merge ?? false,
      concurrency: values["max-concurrent"] === undefined
        ? DEFAULT_CONCURRENCY
        : parseWholeNumber(values["max-concurrent"], "-m", 1),
      retries: values.retries === undefined
        ? DEFAULT_RETRIES
        : parseWholeNumber(values.retries, "--retries", 0),
      quiet: values.quiet ?? false,
      report: values.report,
    };
    const ref = values.ref;
    const jobName = values["job-name"];
    return await runArtifacts({
      vendor: "gitlab",
      options,
      token,
      makeApi: (signal) =>
        gitlabArtifacts({ project, apiUrl, token, tokenKind: kind, signal }),
      list: (api) => api.list({ jobs, ref, jobName }),
      select: (artifacts) => artifacts,
      flat: jobs.length + (ref === undefined ? 0 : 1) === 1,
      maxRedirects: 0,
      meta: { project, jobs, ref: ref ?? null, jobName: jobName ?? null },
    });
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof RangeError)) {
      throw error;
    }
    console.error(`bulkget artifacts gitlab: ${error.message}\n${USAGE}`);
    return USAGE_EXIT_CODE;
  }
}
