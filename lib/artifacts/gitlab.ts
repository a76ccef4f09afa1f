/**
 * `gitlabArtifacts`: GitLab's job artifacts API (v4), as bulkget uses it: a
 * job's artifacts archive by job id (`GET /projects/:id/jobs/:job_id`, then
 * `/artifacts`), or the archive of a named job in a ref's latest successful
 * pipeline (`/projects/:id/jobs/artifacts/:ref/download?job=NAME`).
 *
 * The token goes as `PRIVATE-TOKEN` (a personal, project or group access
 * token), `JOB-TOKEN` (`CI_JOB_TOKEN`) or `Authorization: Bearer` (OAuth),
 * to the API's origin only: {@linkcode ArtifactApi.resolve} asks with
 * `HEAD` where the archive is, and a redirect (object storage, a CDN) is
 * followed without the token. GitLab gives no digest of the archive, so
 * artifacts from it have `sha256: null` (each entry's CRC is still checked).
 * API calls are made one at a time.
 *
 * @module
 */

import { escapeControls } from "../core/printable.ts";
import type { Artifact, ArtifactApi } from "./artifact.ts";
import { ArtifactApiError } from "../core/errors.ts";

/** How the token is sent. */
export type GitlabTokenKind = "private" | "job" | "bearer";

/** Options of {@linkcode gitlabArtifacts}. */
export interface GitlabOptions {
  /** The project: its numeric id or its path (`group/project`). */
  project: string;
  /** The API base (`CI_API_V4_URL`). @default "https://gitlab.com/api/v4" */
  apiUrl?: string;
  /** The token. @default none */
  token?: string;
  /** How the token is sent. @default "private" */
  tokenKind?: GitlabTokenKind;
  /** Cancels API calls. */
  signal?: AbortSignal;
}

/** Which artifacts {@linkcode ArtifactApi.list} returns. */
export interface GitlabListOptions {
  /** These jobs' archives. @default [] */
  jobs?: number[];
  /** With `jobName`: the ref (branch or tag) whose latest successful pipeline to take. */
  ref?: string;
  /** With `ref`: the job's name. */
  jobName?: string;
}

/**
 * Makes a client of GitLab's job artifacts API.
 *
 * @param options See {@linkcode GitlabOptions}.
 * @returns The client.
 * @throws {TypeError} For an empty project.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gitlabArtifacts } from "./gitlab.ts";
 * import { startGitlabDouble } from "../server/gitlab_api.ts";
 * import { makeZip } from "../server/zip_maker.ts";
 *
 * // A local double of the API; in a GitLab job, `apiUrl` is `CI_API_V4_URL`.
 * await using gitlab = await startGitlabDouble({
 *   token: "s3cret",
 *   jobs: [{ id: 42, name: "build", archive: makeZip([{ name: "a.txt", data: "hi" }]) }],
 * });
 * const api = gitlabArtifacts({ project: "group/project", token: "s3cret", apiUrl: gitlab.apiUrl });
 * const [build] = await api.list({ jobs: [42] });
 * assert.equal(build.name, "build");
 * assert.equal(build.id, 42);
 * ```
 */
export function gitlabArtifacts(
  options: GitlabOptions,
): ArtifactApi<GitlabListOptions> {
  if (!options.project) {
    throw new TypeError("Cannot use project: expected an id or a path");
  }
  const base = (options.apiUrl ?? "https://gitlab.com/api/v4").replace(
    /\/+$/,
    "",
  );
  const projectPath = `${base}/projects/${encodeURIComponent(options.project)}`;
  const auth: Record<string, string> = {};
  if (options.token) {
    const kind = options.tokenKind ?? "private";
    if (kind === "private") auth["private-token"] = options.token;
    else if (kind === "job") auth["job-token"] = options.token;
    else auth.authorization = `Bearer ${options.token}`;
  }
  const call = serialCalls(auth, options.signal);
  return {
    async list(filter = {}) {
      const artifacts: Artifact[] = [];
      for (const id of filter.jobs ?? []) {
        artifacts.push(await jobArtifact(call, projectPath, id));
      }
      if (filter.ref !== undefined || filter.jobName !== undefined) {
        if (!filter.ref || !filter.jobName) {
          throw new TypeError("Cannot list: ref and jobName go together");
        }
        artifacts.push({
          id: 0,
          name: filter.jobName,
          size: 0,
          sha256: null,
          expired: false,
          createdAt: "",
          downloadUrl: `${projectPath}/jobs/artifacts/${
            encodeURIComponent(filter.ref)
          }/download?job=${encodeURIComponent(filter.jobName)}`,
        });
      }
      return artifacts;
    },
    async resolve(artifact) {
      const response = await call(artifact.downloadUrl, "HEAD");
      await response.body?.cancel();
      const location = response.headers.get("location");
      if (
        response.status >= 300 && response.status < 400 && location !== null
      ) {
        return new URL(location, artifact.downloadUrl).href;
      }
      if (response.status === 200) {
        return { url: artifact.downloadUrl, headers: { ...auth } };
      }
      throw await failed(
        response,
        `artifacts of ${artifact.id ? `job ${artifact.id}` : artifact.name}${
          response.status === 404 ? " (none, expired or erased)" : ""
        }`,
      );
    },
  };
}

/** One API call, made after the previous one. */
type Call = (url: string, method?: string) => Promise<Response>;

function serialCalls(
  auth: Record<string, string>,
  signal: AbortSignal | undefined,
): Call {
  let queue: Promise<unknown> = Promise.resolve();
  return (url, method = "GET") => {
    const run = queue.then(async () => {
      try {
        return await fetch(url, {
          method,
          headers: { ...auth, "user-agent": "bulkget" },
          redirect: "manual",
          signal,
        });
      } catch (error) {
        // A host not granted: the caller says which flag.
        if (error instanceof Deno.errors.NotCapable) throw error;
        throw new ArtifactApiError(
          `GitLab API: ${error instanceof Error ? error.message : error}`,
          { cause: error },
        );
      }
    });
    queue = run.catch(() => {});
    return run;
  };
}

/** A job's artifacts archive, as the job's API answer describes it. */
async function jobArtifact(
  call: Call,
  projectPath: string,
  id: number,
): Promise<Artifact> {
  const response = await call(`${projectPath}/jobs/${id}`);
  if (response.status !== 200) throw await failed(response, `job ${id}`);
  const job = await response.json();
  if (!job.artifacts_file) {
    throw new ArtifactApiError(
      `GitLab API: job ${id} has no artifacts archive`,
      { status: 404 },
    );
  }
  return {
    id: Number(job.id),
    name: String(job.name),
    size: Number(job.artifacts_file.size ?? 0),
    sha256: null,
    expired: typeof job.artifacts_expire_at === "string" &&
      Date.parse(job.artifacts_expire_at) < Date.now(),
    createdAt: String(job.created_at ?? ""),
    downloadUrl: `${projectPath}/jobs/${id}/artifacts`,
    runId: job.pipeline?.id === undefined ? undefined : Number(job.pipeline.id),
  };
}

async function failed(response: Response, what: string) {
  const text = response.body ? await response.text() : "";
  let message = text.slice(0, 200);
  try {
    const m = JSON.parse(text).message;
    if (typeof m === "string") message = m;
  } catch { /* not JSON */ }
  return new ArtifactApiError(
    `GitLab API: ${what}: HTTP ${response.status}${
      message ? `: ${escapeControls(message)}` : ""
    }`,
    { status: response.status },
  );
}
