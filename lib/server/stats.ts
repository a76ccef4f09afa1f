/**
 * What the test server saw: request counts, concurrency, injected faults by
 * kind, and the most recent requests with their headers, so that a test can
 * assert what a client sent. Served as JSON at `GET /stats`.
 *
 * @module
 */

/** Which listener of a server received a request. */
export type Listener = "main" | "alt";

/** One request as the server received it. */
export interface RecentRequest {
  /** The method. */
  method: string;
  /** The path and query. */
  path: string;
  /** The request headers, names in lower case. */
  headers: Record<string, string>;
  /** The status answered, once the handler chose one. */
  status?: number;
  /** The listener that received it. */
  listener: Listener;
  /** The faults injected into it, by kind (`"503"`, `"delay"`, `"reset"`…). */
  faults?: string[];
}

/** A snapshot of a server's statistics. */
export interface ServerStats {
  /** Requests received (not counting `/stats`). */
  requests: number;
  /** Requests in progress now (from arrival until the body is sent or aborted). */
  inFlight: number;
  /** The most requests in progress at once since start or reset. */
  maxInFlight: number;
  /** Faults injected, by kind: a status (`"503"`), `"delay"`, `"reset"`, `"truncate"`, `"stall"`, `"slow"`, `"corrupt"`. */
  faults: Record<string, number>;
  /** Requests by path (without query; at most 10,000 paths, then `"(other)"`). */
  byPath: Record<string, number>;
  /** Responses by status. */
  byStatus: Record<string, number>;
  /** The latest requests, oldest first. */
  recent: RecentRequest[];
}

/** Records statistics; one per server, shared by its listeners. */
export interface StatsRecorder {
  /** Counts a request's arrival and returns its entry for `recent`. */
  begin(
    method: string,
    path: string,
    headers: Headers,
    listener: Listener,
  ): RecentRequest;
  /** Records the status answered to a request. */
  answer(entry: RecentRequest, status: number): void;
  /** Counts an injected fault. */
  fault(entry: RecentRequest, kind: string): void;
  /** Marks a request as finished (body sent or aborted). */
  end(): void;
  /** A copy of the current statistics. */
  snapshot(): ServerStats;
  /** Zeroes the counts; `maxInFlight` restarts from the requests in progress. */
  reset(): void;
}

const PATH_LIMIT = 10_000;

/**
 * Creates a statistics recorder.
 *
 * @param recentLimit How many recent requests to keep.
 * @returns The recorder.
 * @throws {RangeError} When `recentLimit` is not a non-negative integer.
 */
export function createStats(recentLimit: number): StatsRecorder {
  if (!Number.isInteger(recentLimit) || recentLimit < 0) {
    throw new RangeError(
      `Cannot use recentLimit: expected a non-negative integer, got ${recentLimit}`,
    );
  }
  let requests = 0, inFlight = 0, maxInFlight = 0;
  let faults: Record<string, number> = {};
  let byPath = new Map<string, number>();
  let byStatus: Record<string, number> = {};
  let recent: RecentRequest[] = [];
  return {
    begin(method, path, headers, listener) {
      requests++;
      inFlight++;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      const q = path.indexOf("?");
      let key = q < 0 ? path : path.slice(0, q);
      if (!byPath.has(key) && byPath.size >= PATH_LIMIT) key = "(other)";
      byPath.set(key, (byPath.get(key) ?? 0) + 1);
      const entry: RecentRequest = { method, path, headers: {}, listener };
      if (recentLimit > 0) {
        for (const [name, value] of headers) entry.headers[name] = value;
        recent.push(entry);
        if (recent.length > recentLimit * 2) {
          recent = recent.slice(-recentLimit);
        }
      }
      return entry;
    },
    answer(entry, status) {
      entry.status = status;
      byStatus[status] = (byStatus[status] ?? 0) + 1;
    },
    fault(entry, kind) {
      faults[kind] = (faults[kind] ?? 0) + 1;
      (entry.faults ??= []).push(kind);
    },
    end() {
      inFlight--;
    },
    snapshot() {
      return structuredClone({
        requests,
        inFlight,
        maxInFlight,
        faults,
        byPath: Object.fromEntries(byPath),
        byStatus,
        recent: recent.slice(-recentLimit),
      });
    },
    reset() {
      requests = 0;
      maxInFlight = inFlight;
      faults = {};
      byPath = new Map();
      byStatus = {};
      recent = [];
    },
  };
}

/**
 * Answers the statistics routes: `GET /stats` (the snapshot as JSON) and
 * `POST /stats/reset` (or `GET`: zeroes them, 204); anything else under
 * `/stats` is a 404.
 *
 * @param stats The server's recorder.
 * @param method The request's method.
 * @param pathname The request's path, without the query.
 * @returns The response.
 */
export function statsResponse(
  stats: StatsRecorder,
  method: string,
  pathname: string,
): Response {
  if (pathname === "/stats" && (method === "GET" || method === "HEAD")) {
    return Response.json(stats.snapshot(), {
      headers: { "cache-control": "no-store" },
    });
  }
  if (pathname === "/stats/reset" && (method === "POST" || method === "GET")) {
    stats.reset();
    return new Response(null, { status: 204 });
  }
  return new Response("404 Not Found\n", { status: 404 });
}
