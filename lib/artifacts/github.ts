/**
 * `githubArtifacts`: the GitHub Actions artifacts REST API, as bulkget uses
 * it: list a repository's or a run's artifacts (pagination by `Link`) and
 * resolve an artifact's download to its signed blob URL (the 302's
 * `Location`).
 *
 * API calls are made one at a time (GitHub asks for serial calls): every
 * request of one client waits for the previous one. The token goes to the
 * API only; the blob URL it resolves is fetched without it. Rate limits:
 * the primary limit exhausted (403 or 429 with `x-ratelimit-remaining: 0`)
 * waits until `x-ratelimit-reset`; a secondary limit honours `retry-after`,
 * or with neither header waits a minute, then twice as long each time. 5xx
 * and network errors are retried with backoff; 401 and 404 are not, nor a
 * host Deno was not granted (its `NotCapable` is thrown at once).
 *
 * @module
 */

import { sleep as defaultSleep } from "../core/sleep.ts";
import { escapeControls } from "../core/printable.ts";
import type { Artifact, ArtifactApi } from "./artifact.ts";
import { ArtifactApiError } from "../core/errors.ts";

/** Options of {@linkcode githubArtifacts}. */
export interface GithubOptions {
  /** `owner/name`. */
  repository: string;
  /** The API base; GitHub Enterprise Server's is `https://HOST/api/v3`. @default "https://api.github.com" */
  apiUrl?: string;
  /** Sent as `Authorization: Bearer TOKEN` to the API only. @default none */
  token?: string;
  /** Most waits for rate limits or retries of one API call. @default 5 */
  maxRetries?: number;
  /** Called before each wait, e.g. to log it. @default none */
  onWait?: (ms: number, reason: string) => void;
  /** Waits; replaceable so tests need not wait. @default the engine's sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Cancels API calls and waits. */
  signal?: AbortSignal;
}

/** Which artifacts {@linkcode ArtifactApi.list} returns. */
export interface GithubListOptions {
  /** Only this workflow run's. @default the repository's */
  run?: string;
  /** Only artifacts with this exact name (the API's `name`). @default all */
  name?: string;
}

const PER_PAGE = 100;
const SECONDARY_WAIT_MS = 60_000;

/**
 * Makes a client of GitHub's artifacts API.
 *
 * @param options See {@linkcode GithubOptions}.
 * @returns The client.
 * @throws {TypeError} For a repository not of the form `owner/name`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { githubArtifacts } from "./github.ts";
 * import { startGithubDouble } from "../server/github_api.ts";
 * import { makeZip } from "../server/zip_maker.ts";
 *
 * // A local double of the API; against GitHub itself, leave out `apiUrl`.
 * await using github = await startGithubDouble({
 *   token: "s3cret",
 *   artifacts: [
 *     { name: "logs", runId: 42, body: makeZip([{ name: "a.txt", data: "hi" }]) },
 *     { name: "coverage", runId: 7, body: makeZip([{ name: "c.txt", data: "1" }]) },
 *   ],
 * });
 * const api = githubArtifacts({ repository: "octo/demo", token: "s3cret", apiUrl: github.apiUrl });
 * const [logs, ...others] = await api.list({ run: "42" });
 * assert.equal(logs.name, "logs");
 * assert.equal(others.length, 0);
 * ```
 */
export function githubArtifacts(
  options: GithubOptions,
): ArtifactApi<GithubListOptions> {
  if (!/^[\w.-]+\/[\w.-]+$/.test(options.repository ?? "")) {
    throw new TypeError(
      `Cannot use repository "${options.repository}": expected OWNER/NAME`,
    );
  }
  const base = (options.apiUrl ?? "https://api.github.com").replace(/\/+$/, "");
  const call = serialCalls(options);
  return {
    list: (filter = {}) =>
      listArtifacts(call, base, options.repository, filter),
    async resolve(artifact) {
      const response = await call(artifact.downloadUrl);
      if (response.status === 410) {
        await response.body?.cancel();
        throw new ArtifactApiError("expired", { status: 410, expired: true });
      }
      const location = response.headers.get("location");
      if (
        response.status >= 300 && response.status < 400 && location !== null
      ) {
        await response.body?.cancel();
        return new URL(location, artifact.downloadUrl).href;
      }
      throw await failed(response, `downloading artifact ${artifact.id}`);
    },
  };
}

/** One API call: made after the previous one, with its waits. */
type Call = (url: string) => Promise<Response>;

/**
 * The client's calls: one at a time, each retried after the waits rate
 * limits ask for, 5xx and network errors.
 */
function serialCalls(options: GithubOptions): Call {
  const sleep = options.sleep ?? defaultSleep;
  const maxRetries = options.maxRetries ?? 5;
  const headers: Record<string, string> = {
    accept: "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
    "user-agent": "bulkget",
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const wait = async (ms: number, reason: string) => {
    options.onWait?.(ms, reason);
    await sleep(ms, options.signal);
  };
  const callNow = async (url: string): Promise<Response> => {
    let secondaryWaits = 0;
    for (let attempt = 0;; attempt++) {
      options.signal?.throwIfAborted();
      let response: Response;
      try {
        response = await fetch(url, {
          headers,
          redirect: "manual",
          signal: options.signal,
        });
      } catch (error) {
        // A host not granted: waiting does not cure it (the caller says which flag).
        if (error instanceof Deno.errors.NotCapable) throw error;
        if (options.signal?.aborted || attempt >= maxRetries) {
          throw new ArtifactApiError(
            `GitHub API: ${error instanceof Error ? error.message : error}`,
            { cause: error },
          );
        }
        await wait(1000 * 2 ** attempt, "network error");
        continue;
      }
      const status = response.status;
      if (status !== 403 && status !== 429 && status < 500) return response;
      const text = await response.text();
      const next = attempt >= maxRetries
        ? undefined
        : waitFor(response, text, attempt, secondaryWaits);
      if (next === undefined) {
        throw new ArtifactApiError(
          `GitHub API: HTTP ${status}: ${messageOf(text)}`,
          { status },
        );
      }
      if (next.secondary) secondaryWaits++;
      await wait(next.ms, next.reason);
    }
  };
  let queue: Promise<unknown> = Promise.resolve();
  return (url) => {
    const run = queue.then(() => callNow(url));
    queue = run.catch(() => {});
    return run;
  };
}

/**
 * How long to wait before trying a refused call again (see the module
 * doc), or undefined for a refusal that waiting does not cure.
 */
function waitFor(
  response: Response,
  text: string,
  attempt: number,
  secondaryWaits: number,
): { ms: number; reason: string; secondary?: boolean } | undefined {
  const { status } = response;
  const limited = status === 403 || status === 429;
  const remaining = response.headers.get("x-ratelimit-remaining");
  const reset = Number(response.headers.get("x-ratelimit-reset"));
  const retryAfter = Number(response.headers.get("retry-after"));
  if (limited && remaining === "0") {
    const ms = Number.isFinite(reset) && reset > 0
      ? Math.max(0, reset * 1000 - Date.now()) + 1000
      : SECONDARY_WAIT_MS;
    return { ms, reason: "primary rate limit (x-ratelimit-remaining: 0)" };
  }
  if (
    limited && response.headers.has("retry-after") &&
    Number.isFinite(retryAfter)
  ) {
    return {
      ms: retryAfter * 1000,
      reason: "secondary rate limit (retry-after)",
    };
  }
  if (status === 429 || /secondary rate limit/i.test(text)) {
    return {
      ms: SECONDARY_WAIT_MS * 2 ** secondaryWaits,
      reason: "secondary rate limit",
      secondary: true,
    };
  }
  if (status === 403) return undefined;
  return { ms: 1000 * 2 ** attempt, reason: `HTTP ${status}` };
}

/** Every page of a list, following `Link: rel="next"` on the same origin. */
async function listArtifacts(
  call: Call,
  base: string,
  repository: string,
  filter: GithubListOptions,
): Promise<Artifact[]> {
  const path = filter.run
    ? `/repos/${repository}/actions/runs/${
      encodeURIComponent(filter.run)
    }/artifacts`
    : `/repos/${repository}/actions/artifacts`;
  const first = new URL(base + path);
  first.searchParams.set("per_page", String(PER_PAGE));
  if (filter.name !== undefined) first.searchParams.set("name", filter.name);
  const artifacts: Artifact[] = [];
  let next: string | undefined = first.href;
  for (let pages = 0; next !== undefined && pages < 10_000; pages++) {
    const response = await call(next);
    if (response.status !== 200) {
      throw await failed(response, "listing artifacts");
    }
    const body = await response.json();
    for (const a of body.artifacts ?? []) artifacts.push(fromGithub(a));
    next = nextLink(response.headers.get("link"));
    if (next !== undefined && new URL(next).origin !== first.origin) {
      throw new ArtifactApiError(
        "GitHub API: a Link header points to another origin",
      );
    }
  }
  return artifacts;
}

async function failed(response: Response, what: string) {
  const text = await response.text();
  return new ArtifactApiError(
    `GitHub API: ${what}: HTTP ${response.status}: ${messageOf(text)}`,
    { status: response.status },
  );
}

/**
 * The URL of a `Link` header's `rel="next"`, if any.
 *
 * @param link The header's value.
 * @returns The next page's URL, or undefined.
 */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(",")) {
    const match = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (match && /\brel="?([^";]*\s)?next(\s[^";]*)?"?/.test(match[2])) {
      return match[1];
    }
  }
  return undefined;
}

function messageOf(text: string): string {
  try {
    const message = JSON.parse(text).message;
    if (typeof message === "string") {
      return escapeControls(message.slice(0, 200));
    }
  } catch { /* not JSON */ }
  return escapeControls(text.slice(0, 200));
}

// deno-lint-ignore no-explicit-any -- the API's JSON
function fromGithub(a: any): Artifact {
  const digest = typeof a.digest === "string" &&
      /^sha256:[0-9a-f]{64}$/i.test(a.digest)
    ? a.digest.slice(7).toLowerCase()
    : null;
  return {
    id: Number(a.id),
    name: String(a.name),
    size: Number(a.size_in_bytes),
    sha256: digest,
    expired: a.expired === true,
    createdAt: String(a.created_at ?? ""),
    downloadUrl: String(a.archive_download_url),
    runId: a.workflow_run?.id === undefined
      ? undefined
      : Number(a.workflow_run.id),
  };
}
