/**
 * `startGitlabDouble`: a local double of GitLab's job artifacts API (v4),
 * the parts `bulkget artifacts gitlab` uses.
 *
 * | route | answer |
 * |---|---|
 * | `GET /api/v4/projects/:id/jobs/:job_id` | the job (`name`, `artifacts_file`, `artifacts_expire_at`, `pipeline`, ...) |
 * | `GET, HEAD /api/v4/projects/:id/jobs/:job_id/artifacts` | the job's artifacts archive (zip), or 404 |
 * | `GET, HEAD /api/v4/projects/:id/jobs/artifacts/:ref/download?job=NAME` | the archive of job NAME in the ref's latest successful pipeline, or 404 |
 *
 * `:id` is the project's numeric id or its URL-encoded path
 * (`group%2Fproject`). A token, when configured, is accepted as
 * `PRIVATE-TOKEN`, `JOB-TOKEN` or `Authorization: Bearer`; otherwise 401.
 * Archives come as `application/zip` with `Content-Disposition: attachment;
 * filename="artifacts.zip"`, or, with `redirect`, as a 302 to a second port
 * (object storage behind a CDN), which must not receive the token.
 *
 * @module
 */

/** One job seeded into the double. */
export interface SeededJob {
  /** The job's id. */
  id: number;
  /** Its name. */
  name: string;
  /** Its artifacts archive, or undefined for a job without one. */
  archive?: Uint8Array<ArrayBuffer>;
  /** The ref (branch or tag) its pipeline ran for. @default "main" */
  ref?: string;
  /** Its pipeline's id. @default 1 */
  pipelineId?: number;
  /** Whether its artifacts expired (listed with a past `artifacts_expire_at`; downloads 404). @default false */
  expired?: boolean;
}

/** Options of {@linkcode startGitlabDouble}. */
export interface GitlabDoubleOptions {
  /** The project's path. @default "group/project" */
  project?: string;
  /** The project's numeric id. @default 42 */
  projectId?: number;
  /** The jobs. @default [] */
  jobs?: SeededJob[];
  /** When set, required as `PRIVATE-TOKEN`, `JOB-TOKEN` or Bearer. @default undefined */
  token?: string;
  /** Answer archive downloads with a 302 to the second port. @default false */
  redirect?: boolean;
  /** The address to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** The API's port (the storage port is any free one). @default 0 (any free port) */
  port?: number;
}

/** One request the double received. */
export interface GitlabRequest {
  /** The method. */
  method: string;
  /** The path and query. */
  path: string;
  /** The headers, lower-case names. */
  headers: Record<string, string>;
  /** The status answered. */
  status: number;
}

/** A running double. */
export interface GitlabDouble {
  /** The API base, e.g. `http://127.0.0.1:4100/api/v4` (as `CI_API_V4_URL`). */
  apiUrl: string;
  /** The project's path. */
  project: string;
  /** Every request to the API, in order. */
  apiRequests: GitlabRequest[];
  /** Every request to the storage port, in order. */
  storageRequests: GitlabRequest[];
  /** Stops both listeners. */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const BASE_TIME = Date.UTC(2026, 0, 1);

/**
 * Starts the GitLab job artifacts API double.
 *
 * @param options See {@linkcode GitlabDoubleOptions}.
 * @returns The running double.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startGitlabDouble } from "./gitlab_api.ts";
 * await using gl = await startGitlabDouble({ jobs: [{ id: 7, name: "build" }] });
 * const r = await fetch(`${gl.apiUrl}/projects/42/jobs/7`);
 * assert.equal((await r.json()).name, "build");
 * ```
 */
export async function startGitlabDouble(
  options: GitlabDoubleOptions = {},
): Promise<GitlabDouble> {
  const hostname = options.hostname ?? "127.0.0.1";
  const apiRequests: GitlabRequest[] = [];
  const storageRequests: GitlabRequest[] = [];
  const closing = new AbortController();
  const site: GitlabSite = {
    options,
    project: options.project ?? "group/project",
    jobs: options.jobs ?? [],
    origin: "",
    storageOrigin: "",
  };
  const apiServer = Deno.serve(
    {
      hostname,
      port: options.port ?? 0,
      signal: closing.signal,
      onListen() {},
    },
    record(apiRequests, (request) => apiAnswer(site, request)),
  );
  const storageServer = Deno.serve(
    { hostname, port: 0, signal: closing.signal, onListen() {} },
    record(storageRequests, (request) => storageAnswer(site, request)),
  );
  site.origin = `http://${hostname}:${apiServer.addr.port}`;
  site.storageOrigin = `http://${hostname}:${storageServer.addr.port}`;
  await Promise.resolve();
  const close = async () => {
    closing.abort();
    await Promise.all([apiServer.finished, storageServer.finished]);
  };
  return {
    apiUrl: `${site.origin}/api/v4`,
    project: site.project,
    apiRequests,
    storageRequests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** What the double's answers are made from. */
interface GitlabSite {
  options: GitlabDoubleOptions;
  project: string;
  jobs: SeededJob[];
  origin: string;
  storageOrigin: string;
}

/** Records each request and its status in `log`. */
function record(log: GitlabRequest[], handler: (r: Request) => Response) {
  return (request: Request) => {
    const url = new URL(request.url);
    const response = handler(request);
    log.push({
      method: request.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
      status: response.status,
    });
    return response;
  };
}

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** One API request: the project, the token, then the route. */
function apiAnswer(site: GitlabSite, request: Request): Response {
  const url = new URL(request.url);
  const head = request.method === "HEAD";
  if (request.method !== "GET" && !head) {
    return json(405, { message: "405 Method Not Allowed" });
  }
  const m = /^\/api\/v4\/projects\/([^/]+)\/jobs\/(.*)$/.exec(url.pathname);
  if (!m) return json(404, { message: "404 Not found" });
  const id = decodeURIComponent(m[1]);
  if (id !== site.project && id !== String(site.options.projectId ?? 42)) {
    return json(404, { message: "404 Project Not Found" });
  }
  const token = site.options.token;
  const h = request.headers;
  if (
    token !== undefined && h.get("private-token") !== token &&
    h.get("job-token") !== token && h.get("authorization") !== `Bearer ${token}`
  ) {
    return json(401, { message: "401 Unauthorized" });
  }
  const rest = m[2];
  const byId = (text: string) => site.jobs.find((j) => String(j.id) === text);
  let match: RegExpExecArray | null;
  if ((match = /^(\d+)$/.exec(rest))) {
    const job = byId(match[1]);
    return job
      ? json(200, describe(site, job))
      : json(404, { message: "404 Not found" });
  }
  if ((match = /^(\d+)\/artifacts$/.exec(rest))) {
    return download(site, byId(match[1]), head);
  }
  if ((match = /^artifacts\/(.+)\/download$/.exec(rest))) {
    const ref = decodeURIComponent(match[1]);
    const name = url.searchParams.get("job");
    const latest = site.jobs.filter((j) =>
      (j.ref ?? "main") === ref && j.name === name
    ).sort((a, b) => (b.pipelineId ?? 1) - (a.pipelineId ?? 1))[0];
    return download(site, latest, head);
  }
  return json(404, { message: "404 Not found" });
}

/** A job's archive, or with `redirect` a 302 to the storage host. */
function download(
  site: GitlabSite,
  job: SeededJob | undefined,
  head: boolean,
): Response {
  if (!job || !job.archive || job.expired) {
    return json(404, { message: "404 Not found" });
  }
  if (site.options.redirect) {
    return new Response(null, {
      status: 302,
      headers: { location: `${site.storageOrigin}/artifacts/${job.id}.zip` },
    });
  }
  return archive(job, head);
}

/** The storage host: `GET /artifacts/{id}.zip`, no credentials asked. */
function storageAnswer(site: GitlabSite, request: Request): Response {
  const m = /^\/artifacts\/(\d+)\.zip$/.exec(new URL(request.url).pathname);
  const job = m && site.jobs.find((j) => String(j.id) === m[1]);
  if (!job || !job.archive) return new Response("not found", { status: 404 });
  return archive(job, request.method === "HEAD");
}

function archive(job: SeededJob, head: boolean): Response {
  return new Response(head ? null : job.archive!, {
    status: 200,
    headers: {
      "content-type": "application/zip",
      "content-length": String(job.archive!.length),
      "content-disposition": 'attachment; filename="artifacts.zip"',
    },
  });
}

/** A job as `GET /projects/:id/jobs/:job_id` describes it. */
function describe(site: GitlabSite, job: SeededJob) {
  const created = new Date(BASE_TIME + job.id * 1000).toISOString();
  return {
    id: job.id,
    name: job.name,
    status: "success",
    ref: job.ref ?? "main",
    created_at: created,
    finished_at: created,
    pipeline: { id: job.pipelineId ?? 1, ref: job.ref ?? "main" },
    artifacts_file: job.archive
      ? { filename: "artifacts.zip", size: job.archive.length }
      : null,
    artifacts: job.archive
      ? [{
        file_type: "archive",
        size: job.archive.length,
        filename: "artifacts.zip",
        file_format: "zip",
      }]
      : [],
    artifacts_expire_at: new Date(
      job.expired ? BASE_TIME : Date.now() + 30 * 86_400_000,
    ).toISOString(),
    web_url: `${site.origin}/${site.project}/-/jobs/${job.id}`,
  };
}
