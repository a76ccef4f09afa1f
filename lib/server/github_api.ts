/**
 * `startGithubDouble`: a local double of GitHub's Actions artifacts REST API
 * (the parts `bulkget artifacts github` uses), on two loopback ports: the
 * API, and a blob host serving the zips behind signed, expiring URLs.
 *
 * | route (API port) | answer |
 * |---|---|
 * | `GET /repos/{o}/{r}/actions/artifacts` | every artifact, newest first |
 * | `GET /repos/{o}/{r}/actions/runs/{run}/artifacts` | the run's artifacts |
 * | `GET /repos/{o}/{r}/actions/artifacts/{id}` | one artifact |
 * | `GET /repos/{o}/{r}/actions/artifacts/{id}/zip` | 302 to a signed blob URL, or 410 when expired |
 *
 * Lists take `per_page` (default 30, at most 100), `page` (from 1) and
 * `name` (exact); the body is `{"total_count", "artifacts"}` and a `Link`
 * header names the `next`, `last` (and `prev`, `first`) pages when there is
 * more than one. Every API answer carries the `x-ratelimit-*` headers. A
 * token, when configured, is required as `Authorization: Bearer TOKEN` (401
 * otherwise). Rate limits: `github_rate_limit.ts`. The blob host
 * (`github_blob.ts`) answers the signed URLs with the zip, or the raw file
 * for an artifact uploaded unzipped; a URL past its lifetime or its allowed
 * uses answers 403 `AuthenticationFailed`, as the storage service does. Both
 * ports record the headers of every request received.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { blobHost, type StoredArtifact } from "./github_blob.ts";
import { rateLimiter } from "./github_rate_limit.ts";

/** One artifact seeded into the double. */
export interface SeededArtifact {
  /** The artifact's name (names may repeat across runs). */
  name: string;
  /** The bytes served by the blob host (a zip, or the raw file). */
  body: Uint8Array<ArrayBuffer>;
  /** The workflow run it belongs to. @default 1 */
  runId?: number;
  /** Its id. @default its position in the list plus 1 */
  id?: number;
  /** `expired: true`: listed as expired, its download answers 410. @default false */
  expired?: boolean;
  /** `"sha256"`: the right digest; `null`: none (before upload-artifact v4); `"wrong"`: a wrong one. @default "sha256" */
  digest?: "sha256" | "wrong" | null;
  /** For an artifact uploaded unzipped: the file name of `Content-Disposition` (the body is served as is). @default undefined (a zip) */
  rawName?: string;
  /** Serve only this many bytes of the body while announcing the full length (a truncated download). @default undefined */
  truncateTo?: number;
  /** Answer the first N blob requests for it with 503. @default 0 */
  blobFailures?: number;
  /** The first body served stops after this many bytes and stays open, sending nothing more (a stalled transfer, to interrupt). @default undefined */
  stallAt?: number;
  /** ISO date of creation. @default a fixed date, later for later ids */
  createdAt?: string;
}

/** Rate-limit answers the API gives, by the 1-based index of the API request. */
export interface RateLimitPlan {
  /** Requests answered 403 with `x-ratelimit-remaining: 0` and a reset `resetSeconds` ahead. @default [] */
  primary?: number[];
  /** Requests answered 429 with `retry-after: retryAfterSeconds` (secondary limit). @default [] */
  secondary?: number[];
  /** Requests answered 403 "secondary rate limit" with neither header. @default [] */
  secondaryBare?: number[];
  /** Seconds from now to the primary limit's reset. @default 1 */
  resetSeconds?: number;
  /** The secondary limit's `retry-after`, in seconds. @default 1 */
  retryAfterSeconds?: number;
  /**
   * Refuse, the same way, every request that comes before the reset (primary)
   * or the `retry-after` (secondary) ends, as GitHub does: a client that
   * does not wait meets the limit again. @default false
   */
  enforce?: boolean;
}

/** Options of {@linkcode startGithubDouble}. */
export interface GithubDoubleOptions {
  /** The repository, `owner/name`. @default "octo/demo" */
  repository?: string;
  /** The artifacts, listed newest (highest id) first. @default [] */
  artifacts?: SeededArtifact[];
  /** When set, the API requires `Authorization: Bearer TOKEN`. @default undefined (no check) */
  token?: string;
  /** How long a signed blob URL is valid, in milliseconds. @default 60000 */
  urlLifetimeMs?: number;
  /** How many requests a signed blob URL allows before it counts as expired. @default Infinity */
  urlUses?: number;
  /** Rate-limit answers. @default none */
  rateLimits?: RateLimitPlan;
  /** The address to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** The API's port; 0 picks a free one. @default 0 */
  port?: number;
}

/** One request a double received. */
export interface ReceivedRequest {
  /** The path and query. */
  path: string;
  /** The headers received, lower-case names. */
  headers: Record<string, string>;
  /** The status answered. */
  status: number;
}

/** A running double. */
export interface GithubDouble {
  /** The API base, e.g. `http://127.0.0.1:4100` (use as `--api-url`). */
  apiUrl: string;
  /** The blob host's origin (another port). */
  blobUrl: string;
  /** The repository served. */
  repository: string;
  /** Every API request, in arrival order. */
  apiRequests: ReceivedRequest[];
  /** Every blob request, in arrival order. */
  blobRequests: ReceivedRequest[];
  /** Stops both listeners. */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const BASE_TIME = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

/**
 * Starts the GitHub Actions artifacts API double.
 *
 * @param options See {@linkcode GithubDoubleOptions}.
 * @returns The running double.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startGithubDouble } from "./github_api.ts";
 * import { makeZip } from "./zip_maker.ts";
 * await using gh = await startGithubDouble({
 *   artifacts: [{ name: "logs", body: makeZip([{ name: "a.txt", data: "hi" }]) }],
 * });
 * const r = await fetch(`${gh.apiUrl}/repos/octo/demo/actions/artifacts`);
 * const listed = await r.json();
 * assert.equal(listed.total_count, 1);
 * assert.equal(listed.artifacts[0].name, "logs");
 * ```
 */
export async function startGithubDouble(
  options: GithubDoubleOptions = {},
): Promise<GithubDouble> {
  const hostname = options.hostname ?? "127.0.0.1";
  const stored = (options.artifacts ?? []).map(storedArtifact)
    .sort((a, b) => b.id - a.id);
  const apiRequests: ReceivedRequest[] = [];
  const blobRequests: ReceivedRequest[] = [];
  const closing = new AbortController();
  const blob = blobHost({
    stored,
    urlUses: options.urlUses ?? Infinity,
    closing: closing.signal,
  });
  const blobServer = Deno.serve({
    hostname,
    port: 0,
    signal: closing.signal,
    onListen() {},
  }, record(blobRequests, blob.handle));
  const blobUrl = `http://${hostname}:${blobServer.addr.port}`;
  const site: ApiSite = {
    apiUrl: "",
    repository: options.repository ?? "octo/demo",
    stored,
    token: options.token,
    lifetime: options.urlLifetimeMs ?? 60_000,
    limit: rateLimiter(options.rateLimits ?? {}),
    blobLocation: (id, expiry) => blobUrl + blob.signedPath(id, expiry),
  };
  const apiServer = Deno.serve({
    hostname,
    port: options.port ?? 0,
    signal: closing.signal,
    onListen() {},
  }, record(apiRequests, (request) => apiAnswer(site, request)));
  site.apiUrl = `http://${hostname}:${apiServer.addr.port}`;
  await Promise.resolve();
  const close = async () => {
    closing.abort();
    await Promise.all([apiServer.finished, blobServer.finished]);
  };
  return {
    apiUrl: site.apiUrl,
    blobUrl,
    repository: site.repository,
    apiRequests,
    blobRequests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function storedArtifact(spec: SeededArtifact, i: number): StoredArtifact {
  const id = spec.id ?? i + 1;
  return {
    spec,
    id,
    runId: spec.runId ?? 1,
    sha256: createHash("sha256").update(spec.body).digest("hex"),
    createdAt: spec.createdAt ?? new Date(BASE_TIME + id * 1000).toISOString(),
    blobRequests: 0,
  };
}

/** What the API's answers are made from. */
interface ApiSite {
  apiUrl: string;
  repository: string;
  stored: StoredArtifact[];
  token?: string;
  /** A signed URL's lifetime, in milliseconds. */
  lifetime: number;
  limit: ReturnType<typeof rateLimiter>;
  blobLocation(id: number, expiry: number): string;
}

/** Records each request and its status in `log`. */
function record(log: ReceivedRequest[], handler: (r: Request) => Response) {
  return (request: Request) => {
    const url = new URL(request.url);
    const response = handler(request);
    log.push({
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
      status: response.status,
    });
    return response;
  };
}

function json(status: number, body: unknown, headers: HeadersInit = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** One API request: rate limits, the token, then the route. */
function apiAnswer(site: ApiSite, request: Request): Response {
  const url = new URL(request.url);
  const { headers: rate, refusal } = site.limit();
  if (refusal) {
    return json(refusal.status, {
      message: refusal.message,
      documentation_url: "https://docs.github.com/rest/rate-limit",
    }, refusal.headers);
  }
  if (
    site.token !== undefined &&
    request.headers.get("authorization") !== `Bearer ${site.token}`
  ) {
    return json(401, { message: "Bad credentials" }, rate);
  }
  const prefix = `/repos/${site.repository}/actions/`;
  const rest = url.pathname.startsWith(prefix)
    ? url.pathname.slice(prefix.length).split("/")
    : [];
  if (
    rest[0] === "artifacts" && rest.length === 1 ||
    rest[0] === "runs" && rest.length === 3 && rest[2] === "artifacts"
  ) {
    const run = rest[0] === "runs" ? rest[1] : undefined;
    return listAnswer(site, url, run, rate);
  }
  const artifact = rest[0] === "artifacts" &&
    site.stored.find((a) => String(a.id) === rest[1]);
  if (artifact && rest.length === 2) {
    return json(200, describe(site, artifact), rate);
  }
  if (artifact && rest.length === 3 && rest[2] === "zip") {
    if (artifact.spec.expired) {
      return json(410, { message: "Artifact has expired" }, rate);
    }
    const location = site.blobLocation(artifact.id, Date.now() + site.lifetime);
    return new Response(null, { status: 302, headers: { ...rate, location } });
  }
  return json(404, { message: "Not Found" }, rate);
}

/** A page of a list: `per_page`, `page`, `name`, with its `Link` header. */
function listAnswer(
  site: ApiSite,
  url: URL,
  run: string | undefined,
  rate: Record<string, string>,
): Response {
  let list = site.stored;
  if (run !== undefined) list = list.filter((a) => String(a.runId) === run);
  const name = url.searchParams.get("name");
  if (name !== null) list = list.filter((a) => a.spec.name === name);
  const perPage = Math.min(
    100,
    Math.max(1, Number(url.searchParams.get("per_page") ?? 30) || 30),
  );
  const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
  const last = Math.max(1, Math.ceil(list.length / perPage));
  const pageUrl = (p: number) => {
    const u = new URL(url);
    u.searchParams.set("per_page", String(perPage));
    u.searchParams.set("page", String(p));
    return `<${site.apiUrl}${u.pathname}${u.search}>`;
  };
  const links: string[] = [];
  if (page < last) {
    links.push(`${pageUrl(page + 1)}; rel="next"`);
    links.push(`${pageUrl(last)}; rel="last"`);
  }
  if (page > 1) {
    links.push(`${pageUrl(page - 1)}; rel="prev"`);
    links.push(`${pageUrl(1)}; rel="first"`);
  }
  const items = list.slice((page - 1) * perPage, page * perPage);
  return json(200, {
    total_count: list.length,
    artifacts: items.map((a) => describe(site, a)),
  }, links.length ? { ...rate, link: links.join(", ") } : rate);
}

/** An artifact as the API describes it. */
function describe(site: ApiSite, a: StoredArtifact) {
  const url =
    `${site.apiUrl}/repos/${site.repository}/actions/artifacts/${a.id}`;
  return {
    id: a.id,
    node_id: btoa(`MDg6QXJ0aWZhY3Q${a.id}`),
    name: a.spec.name,
    size_in_bytes: a.spec.body.length,
    url,
    archive_download_url: `${url}/zip`,
    expired: a.spec.expired ?? false,
    created_at: a.createdAt,
    expires_at: new Date(Date.parse(a.createdAt) + 90 * DAY).toISOString(),
    updated_at: a.createdAt,
    digest: a.spec.digest === null
      ? null
      : a.spec.digest === "wrong"
      ? `sha256:${"0".repeat(64)}`
      : `sha256:${a.sha256}`,
    workflow_run: {
      id: a.runId,
      repository_id: 1296269,
      head_repository_id: 1296269,
      head_branch: "main",
      head_sha: "009b8a3a9ccbb128af87f9b1c0f4c62e8a304f6d",
    },
  };
}
