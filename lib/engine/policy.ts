/**
 * How a job is fetched: the options of {@linkcode FetchPolicy} (retries,
 * deadlines, headers, limits, what to do with existing files, events) and
 * of `fetchOne` (where bodies go, which client sends).
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import type { EventListener } from "../core/events.ts";
import type { BackoffOptions } from "./retry.ts";
import type { Deadlines } from "./deadline.ts";
import type { Writer } from "../writer/client.ts";
import type { Http1Client } from "./http1.ts";
import type { RateLimit } from "./rate_limit.ts";
import type { ProxyRoute } from "./proxy.ts";
import type { DestinationClaims } from "./claims.ts";
import type { ValidatorStore } from "../writer/validators.ts";
import type { SplitPolicy } from "./segmented.ts";

/** How a job is fetched: retries, deadlines, headers, limits, events. */
export interface FetchPolicy {
  /** Attempts after the first, for retryable failures. @default 5 */
  retries?: number;
  /**
   * Retry a download whose complete file does not match its checksum (the
   * bytes may have been damaged on the way). Off: such a mismatch fails the
   * job at once (`bulkget artifacts`, where the digest is the API's and a
   * second download brings the same bytes). A resumed download's mismatch
   * is retried, from the start, either way: the kept bytes may be what is
   * wrong. @default true
   */
  retryMismatch?: boolean;
  /** Backoff between attempts. @default BACKOFF_DEFAULTS */
  backoff?: BackoffOptions;
  /** Connect, idle and total deadlines per attempt. @default DEADLINE_DEFAULTS */
  deadlines?: Partial<Deadlines>;
  /** Headers sent with every request (a job's own headers win). */
  headers?: Record<string, string>;
  /**
   * Credential headers for a request's URL (`.netrc`, cookies; see
   * `credentials.ts`); `headers` and the job's headers win over them. Like
   * every credential, dropped on a redirect to another origin.
   * @default undefined
   */
  credentials?: (url: URL) => Record<string, string>;
  /** Most redirect hops per request. @default 10 */
  maxRedirects?: number;
  /** Largest body accepted, in bytes; larger is a fatal error. @default Infinity */
  maxSize?: number;
  /**
   * What to do when the final file already exists: `"skip"` it when it is
   * complete (the state file's record, the job's size and checksums, or the
   * server's length; see `existing.ts`), `"update"` it by a conditional GET,
   * or `"overwrite"` it.
   * @default "skip"
   */
  existing?: "skip" | "overwrite" | "update";
  /**
   * ETag / Last-Modified remembered from earlier runs, by destination, for
   * `existing: "update"` (a conditional GET: 304 means unchanged). When
   * given, the validators of every file written are recorded for the next
   * run (the writer appends them to the output directory's state file).
   * @default undefined
   */
  validators?: ValidatorStore;
  /**
   * Names the file from the response (e.g. its `Content-Disposition`);
   * returns a safe destination, or undefined to keep the job's. Turns resume
   * off, since the name is only known once the response arrives.
   * @default undefined
   */
  nameFromResponse?: (job: Job, headers: Headers) => string | undefined;
  /** Continue a `.part` left by an earlier run with `Range` / `If-Range`. @default true */
  resume?: boolean;
  /**
   * With `nameFromResponse`: still continue a `.part` under the job's own
   * name, for a namer that never renames the answer such a `.part` was for
   * (a resumed answer keeps the job's name).
   * @default false
   */
  resumeOwnName?: boolean;
  /**
   * Hash every written file (SHA-256), for its outcome and the state file's
   * record, even when the job has no checksum to check. `"crc32"` takes
   * only its CRC-32, for the state file's record (about 30 times cheaper:
   * SHA-256 is most of the CPU a large file costs); an outcome's `sha256` is
   * then `""` unless the job gave one. Off (only for files checked
   * elsewhere that no rerun skips, e.g. artifact zips the extraction Worker
   * hashes), the state file records the size alone. Checksums given are
   * always checked (a SHA-256 given is taken and recorded whatever this
   * says).
   * @default true
   */
  digest?: boolean | "crc32";
  /**
   * Give each written file the server's `Last-Modified` as its modification
   * time (see `remote_time.ts`). @default true
   */
  remoteTime?: boolean;
  /** Bodies of at most this many bytes (by `Content-Length`) are read whole and written in one go. @default 1048576 */
  smallBodyLimit?: number;
  /**
   * Hears every piece of a streamed body as it is handed to its `.part`, in
   * order, with the offset in the file its first byte goes to (a body that
   * starts the file starts at 0): e.g. to hash the file while it is written
   * instead of reading it back. The piece is valid only during the call.
   * Bodies read whole, `fetch`'s piped bodies and `--split` ranges give
   * none. @default undefined
   */
  onBodyPiece?: (job: Job, piece: Uint8Array, at: number) => void;
  /**
   * Which job writes which file, shared by the jobs of a run; used with
   * `nameFromResponse`, so a server-chosen name never takes another job's
   * file. @default undefined
   */
  claims?: DestinationClaims;
  /**
   * A rate limit shared by every download of the run (`--limit-rate`);
   * see `rateLimit` in `rate_limit.ts`. @default undefined (no limit)
   */
  rateLimit?: RateLimit;
  /** Bytes per second for each download on its own (`--max-download-limit`). @default undefined (no limit) */
  limitRatePerDownload?: number;
  /**
   * Fetch large files as ranges over several connections (`--split`; see
   * `segmented.ts`). @default undefined (one connection per file)
   */
  split?: SplitPolicy;
  /** Receives started, bytes, retrying and done events. */
  onEvent?: EventListener;
  /** Cancels the job: it ends as "cancelled", keeping a resumable `.part`. */
  signal?: AbortSignal;
  /** HTTP client for `fetch` (connection pool settings). */
  client?: Deno.HttpClient;
  /** Waits between attempts; replaceable so tests need not wait. @default sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Options for {@linkcode fetchOne}: the policy and where bodies go. */
export interface FetchOneOptions extends FetchPolicy {
  /** Where bodies go. */
  writer: Writer;
  /** Sends `http:` and `https:` requests instead of `fetch` (unless `client` is given). */
  http1?: Http1Client;
  /** Sends through a proxy, except the hosts it lets go direct (`--proxy`). */
  proxy?: ProxyRoute;
}

/** Default attempts after the first for general downloads. */
export const DEFAULT_RETRIES = 5;
