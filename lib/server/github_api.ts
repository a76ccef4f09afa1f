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
 * otherwise). The blob host answers `GET /blob/{id}?se=EXPIRY&sig=SIG` with
 * the zip (`Content-Type: application/zip`, `Accept-Ranges: bytes`, one
 * `Range`), or the raw file with `Content-Disposition` for an artifact
 * uploaded unzipped; a URL past its lifetime or its allowed uses answers 403
 * `AuthenticationFailed`, as the storage service does. Both ports record the
 * headers of every request received.
 *
 * @module
 */

import { createHash, createHmac, randomBytes } from "node:crypto";

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

interface Stored {
  spec: SeededArtifact;
  id: number;
  runId: number;
  sha256: string;
  createdAt: string;
  blobRequests: number;
}

/**
 * Starts the GitHub Actions artifacts API double.
 *
 * @param options See {@linkcode GithubDoubleOptions}.
 * @returns The running double.
 *
 * @example
 * ```ts
 * import { startGithubDouble } from "./github_api.ts";
 * import { makeZip } from "./zip_maker.ts";
 * await using gh = await startGithubDouble({
 *   artifacts: [{ name: "logs", body: makeZip([{ name: "a.txt", data: "hi" }]) }],
 * });
 * const r = await fetch(`${gh.apiUrl}/repos/octo/demo/actions/artifacts`);
 * console.assert((await r.json()).total_count === 1);
 * ```
 */
export async function startGithubDouble(
  options: GithubDoubleOptions = {},
): Promise<GithubDouble> {
  const repository = options.repository ?? "octo/demo";
  const hostname = options.hostname ?? "127.0.0.1";
  const lifetime = options.urlLifetimeMs ?? 60_000;
  const uses = options.urlUses ?? Infinity;
  const limits = options.rateLimits ?? {};
  const secret = randomBytes(16);
  const stored: Stored[] = (options.artifacts ?? []).map((spec, i) => {
    const id = spec.id ?? i + 1;
    return {
      spec,
      id,
      runId: spec.runId ?? 1,
      sha256: createHash("sha256").update(spec.body).digest("hex"),
      createdAt: spec.createdAt ??
        new Date(BASE_TIME + id * 1000).toISOString(),
      blobRequests: 0,
    };
  }).sort((a, b) => b.id - a.id);
  const apiRequests: ReceivedRequest[] = [];
  const blobRequests: ReceivedRequest[] = [];
  const urlUsesSeen = new Map<string, number>();
  const closing = new AbortController();
  let apiUrl = "";
  let blobUrl = "";

  const sign = (id: number, expiry: number) =>
    createHmac("sha256", secret).update(`${id}:${expiry}`).digest("hex");

  const describe = (a: Stored) => {
    const url = `${apiUrl}/repos/${repository}/actions/artifacts/${a.id}`;
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
  };

  const json = (status: number, body: unknown, headers: HeadersInit = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: {
        "content-type": "application/json; charset=utf-8",
        ...headers,
      },
    });

  let used = 0;
  // Until when (epoch ms) each limit refuses every request (`enforce`).
  const blocked = { primary: 0, secondary: 0 };
  const api = (request: Request): Response => {
    const url = new URL(request.url);
    used++;
    const n = used;
    const reset = Math.ceil(Date.now() / 1000) + (limits.resetSeconds ?? 1);
    const rate: Record<string, string> = {
      "x-ratelimit-limit": "1000",
      "x-ratelimit-remaining": String(Math.max(0, 1000 - n)),
      "x-ratelimit-used": String(n),
      "x-ratelimit-reset": String(reset),
      "x-ratelimit-resource": "core",
      "x-github-api-version-selected": "2022-11-28",
    };
    const now = Date.now();
    const primaryHit = limits.primary?.includes(n) ?? false;
    if (primaryHit && limits.enforce) blocked.primary = reset * 1000;
    if (primaryHit || now < blocked.primary) {
      return json(403, {
        message: "API rate limit exceeded for installation.",
        documentation_url: "https://docs.github.com/rest/rate-limit",
      }, {
        ...rate,
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(
          primaryHit ? reset : Math.ceil(blocked.primary / 1000),
        ),
      });
    }
    const secondaryHit = limits.secondary?.includes(n) ?? false;
    if (secondaryHit || now < blocked.secondary) {
      const seconds = secondaryHit
        ? limits.retryAfterSeconds ?? 1
        : Math.ceil((blocked.secondary - now) / 1000);
      if (secondaryHit && limits.enforce) {
        // A little slack: the client's timer and our clock differ by a tick.
        blocked.secondary = now + seconds * 1000 - 50;
      }
      return json(429, {
        message: "You have exceeded a secondary rate limit.",
      }, { ...rate, "retry-after": String(seconds) });
    }
    if (limits.secondaryBare?.includes(n)) {
      return json(403, {
        message: "You have exceeded a secondary rate limit.",
      }, rate);
    }
    if (
      options.token !== undefined &&
      request.headers.get("authorization") !== `Bearer ${options.token}`
    ) {
      return json(401, { message: "Bad credentials" }, rate);
    }
    const prefix = `/repos/${repository}/actions/`;
    if (!url.pathname.startsWith(prefix)) {
      return json(404, { message: "Not Found" }, rate);
    }
    const rest = url.pathname.slice(prefix.length).split("/");
    if (
      rest[0] === "artifacts" && rest.length === 1 ||
      rest[0] === "runs" && rest.length === 3 && rest[2] === "artifacts"
    ) {
      let list = stored;
      if (rest[0] === "runs") {
        list = list.filter((a) => String(a.runId) === rest[1]);
      }
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
        return `<${apiUrl}${u.pathname}${u.search}>`;
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
        artifacts: items.map(describe),
      }, links.length ? { ...rate, link: links.join(", ") } : rate);
    }
    if (rest[0] === "artifacts" && (rest.length === 2 || rest.length === 3)) {
      const artifact = stored.find((a) => String(a.id) === rest[1]);
      if (!artifact || rest.length === 3 && rest[2] !== "zip") {
        return json(404, { message: "Not Found" }, rate);
      }
      if (rest.length === 2) return json(200, describe(artifact), rate);
      if (artifact.spec.expired) {
        return json(410, { message: "Artifact has expired" }, rate);
      }
      const expiry = Date.now() + lifetime;
      const location = `${blobUrl}/blob/${artifact.id}?se=${expiry}&sig=${
        sign(artifact.id, expiry)
      }`;
      return new Response(null, {
        status: 302,
        headers: { ...rate, location },
      });
    }
    return json(404, { message: "Not Found" }, rate);
  };

  const blob = (request: Request): Response => {
    const url = new URL(request.url);
    const match = /^\/blob\/(\d+)$/.exec(url.pathname);
    const expiry = Number(url.searchParams.get("se"));
    const sig = url.searchParams.get("sig") ?? "";
    const artifact = match && stored.find((a) => String(a.id) === match[1]);
    if (!artifact) return new Response("not found", { status: 404 });
    const seen = (urlUsesSeen.get(url.search) ?? 0) + 1;
    urlUsesSeen.set(url.search, seen);
    if (
      sig !== sign(artifact.id, expiry) || Date.now() > expiry || seen > uses
    ) {
      return new Response(
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Signed expiry time has passed.</Message></Error>',
        { status: 403, headers: { "content-type": "application/xml" } },
      );
    }
    artifact.blobRequests++;
    if (artifact.blobRequests <= (artifact.spec.blobFailures ?? 0)) {
      return new Response("busy", { status: 503 });
    }
    const body = artifact.spec.body;
    const headers: Record<string, string> = {
      "content-type": artifact.spec.rawName
        ? "application/octet-stream"
        : "application/zip",
      "accept-ranges": "bytes",
      "etag": `"0x${artifact.sha256.slice(0, 16)}"`,
      "last-modified": new Date(Date.parse(artifact.createdAt)).toUTCString(),
    };
    if (artifact.spec.rawName) {
      headers["content-disposition"] =
        `attachment; filename="${artifact.spec.rawName}"`;
    }
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(request.headers.get("range") ?? "");
    const ifRange = request.headers.get("if-range");
    if (range && (ifRange === null || ifRange === headers.etag)) {
      start = Number(range[1]);
      if (start >= body.length) {
        return new Response(null, {
          status: 416,
          headers: { "content-range": `bytes */${body.length}` },
        });
      }
      status = 206;
      headers["content-range"] = `bytes ${start}-${
        body.length - 1
      }/${body.length}`;
    }
    const part = body.subarray(start);
    headers["content-length"] = String(part.length);
    const stallAt = artifact.spec.stallAt;
    if (
      stallAt !== undefined &&
      artifact.blobRequests === (artifact.spec.blobFailures ?? 0) + 1
    ) {
      return new Response(stalled(part.subarray(0, stallAt - start)), {
        status,
        headers,
      });
    }
    const cut = artifact.spec.truncateTo;
    if (cut !== undefined && cut - start < part.length) {
      const sent = part.subarray(0, Math.max(0, cut - start));
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(sent);
          controller.error(new Error("truncated on purpose"));
        },
      });
      return new Response(stream, { status, headers });
    }
    return new Response(part, { status, headers });
  };

  /** A body that sends `bytes`, then nothing, until the double closes. */
  const stalled = (bytes: Uint8Array) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        closing.signal.addEventListener(
          "abort",
          () => controller.error(new Error("closed")),
        );
      },
    });

  const record = (
    log: ReceivedRequest[],
    handler: (request: Request) => Response,
  ) =>
  (request: Request) => {
    const url = new URL(request.url);
    const response = handler(request);
    log.push({
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
      status: response.status,
    });
    return response;
  };

  const apiServer = Deno.serve({
    hostname,
    port: options.port ?? 0,
    signal: closing.signal,
    onListen() {},
  }, record(apiRequests, api));
  const blobServer = Deno.serve({
    hostname,
    port: 0,
    signal: closing.signal,
    onListen() {},
  }, record(blobRequests, blob));
  apiUrl = `http://${hostname}:${apiServer.addr.port}`;
  blobUrl = `http://${hostname}:${blobServer.addr.port}`;
  await Promise.resolve();
  const close = async () => {
    closing.abort();
    await Promise.all([apiServer.finished, blobServer.finished]);
  };
  return {
    apiUrl,
    blobUrl,
    repository,
    apiRequests,
    blobRequests,
    close,
    [Symbol.asyncDispose]: close,
  };
}
