/**
 * bulkget as a library: download many files at once from a Deno program,
 * with the same engine as the `bulkget` command (pooled concurrency, retries
 * with backoff, deadlines, resume, verified atomic writes by a writer
 * Worker).
 *
 * @example Download a list of URLs
 * ```ts
 * import assert from "node:assert/strict";
 * import { download, jobsFromUrls } from "./mod.ts";
 * import { startServer } from "./lib/server/server.ts"; // the built-in test server
 *
 * await using server = await startServer();
 * const outDir = await Deno.makeTempDir();
 * const urls = ["br", "cn"].map((cc) => `${server.url}/flags/${cc}/${cc}.gif`);
 * const done: string[] = [];
 * for await (const outcome of download(jobsFromUrls(urls), { outDir, concurrency: 8 })) {
 *   assert.equal(outcome.status, "ok", outcome.reason);
 *   done.push(outcome.job.dest);
 * }
 * assert.deepEqual(done.sort(), ["br.gif", "cn.gif"]);
 * assert.equal(Deno.statSync(`${outDir}/br.gif`).isFile, true);
 * await Deno.remove(outDir, { recursive: true });
 * ```
 *
 * @example Download a GitHub Actions run's artifacts, verified and extracted
 * ```ts
 * import assert from "node:assert/strict";
 * import { fetchArtifacts, githubArtifacts } from "./mod.ts";
 * import { startGithubDouble } from "./lib/server/github_api.ts";
 * import { makeZip } from "./lib/server/zip_maker.ts";
 *
 * // A local double of GitHub's API; in CI, leave out `apiUrl` and pass
 * // `token: Deno.env.get("GITHUB_TOKEN")`.
 * await using github = await startGithubDouble({
 *   artifacts: [{ name: "logs", runId: 1234, body: makeZip([{ name: "a.txt", data: "hi" }]) }],
 * });
 * const api = githubArtifacts({ repository: "octo/demo", apiUrl: github.apiUrl });
 * const artifacts = await api.list({ run: "1234" });
 * const outDir = await Deno.makeTempDir();
 * const [logs] = await fetchArtifacts(api, artifacts, { outDir });
 * assert.deepEqual([logs.name, logs.status, logs.files], ["logs", "ok", 1]);
 * assert.equal(await Deno.readTextFile(`${outDir}/logs/a.txt`), "hi");
 * await Deno.remove(outDir, { recursive: true });
 * ```
 *
 * @module
 */

export { download, type DownloadOptions } from "./lib/engine/download.ts";
export type { FetchPolicy } from "./lib/engine/fetch_one.ts";
export type {
  Checksum,
  ChecksumAlgorithm,
  Job,
  Outcome,
  OutcomeStatus,
} from "./lib/core/job.ts";
export {
  ArtifactApiError,
  AttemptError,
  CALLER_CODES,
  type CallerCode,
  ERROR_CODES,
  type ErrorCode,
  RetryError,
  SourceError,
  UnsafeNameError,
} from "./lib/core/errors.ts";
export type { DestinationClaims } from "./lib/engine/claims.ts";
export type { RateLimit } from "./lib/engine/rate_limit.ts";
export type { SplitPolicy } from "./lib/engine/segmented.ts";
export type {
  BytesEvent,
  DoneEvent,
  EngineEvent,
  EventListener,
  RetryingEvent,
  StartedEvent,
} from "./lib/core/events.ts";
export { pool, type PoolOptions } from "./lib/engine/pool.ts";
export {
  backoffDelay,
  type BackoffOptions,
  parseRetryAfter,
  retry,
  type RetryOptions,
} from "./lib/engine/retry.ts";
export { classifyStatus } from "./lib/engine/classify.ts";
export type { Verdict } from "./lib/core/verdict.ts";
export { type Deadlines } from "./lib/engine/deadline.ts";
export { jobsFromUrls, type UrlArgsOptions } from "./lib/source/args.ts";
export { jobsFromList, type ListOptions } from "./lib/source/url_list.ts";
export { type Aria2Options, jobsFromAria2 } from "./lib/source/aria2.ts";
export {
  jobsFromManifest,
  type ManifestOptions,
} from "./lib/source/manifest.ts";
export { dedupeDestinations, type DedupeOptions } from "./lib/source/dedupe.ts";
export {
  destFromUrl,
  type DestFromUrlOptions,
  safeDest,
  type SafeNameOptions,
} from "./lib/writer/safe_name.ts";
export type { LineInput } from "./lib/source/lines.ts";
export type { ValidatorStore } from "./lib/writer/validators.ts";
export type { Durability } from "./lib/writer/client.ts";
export type { Validators } from "./lib/writer/protocol.ts";

export { redactUrl } from "./lib/core/redact.ts";
export { type Shard, shardJobs, shardOf } from "./lib/source/shard.ts";

// CI artifacts: list, download, verify and extract (see the README's
// "Download CI artifacts").
export {
  githubArtifacts,
  type GithubListOptions,
  type GithubOptions,
} from "./lib/artifacts/github.ts";
export {
  gitlabArtifacts,
  type GitlabListOptions,
  type GitlabOptions,
  type GitlabTokenKind,
} from "./lib/artifacts/gitlab.ts";
export {
  type ArtifactResult,
  fetchArtifacts,
  type FetchArtifactsOptions,
} from "./lib/artifacts/fetch_artifacts.ts";
export { selectArtifacts, type SelectOptions } from "./lib/artifacts/select.ts";
export {
  type Artifact,
  type ArtifactApi,
  type ResolvedDownload,
} from "./lib/artifacts/artifact.ts";
export type { ExtractConflict } from "./lib/writer/unzip.ts";
