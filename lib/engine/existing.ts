/**
 * A file already under its final name: keep it, ask the server about it, or
 * fetch it again (`FetchPolicy.existing`: `"skip"`, `"update"`,
 * `"overwrite"`).
 *
 * With `"skip"` a file is kept only when it matches what bulkget knows of
 * it: the state file's record of what it wrote (size, and SHA-256 when
 * recorded), the job's size and checksums when given, or, when neither is
 * known, the server's length. That last check asks for the bytes past the
 * file's end (`Range: bytes=SIZE-`, as `wget -c` does): a `416` with
 * `Content-Range: bytes *\/SIZE` says the server's file has exactly that
 * length, and no body is sent. Any other answer means the file is fetched
 * again whole: a `206` (the server has more bytes) is never appended, since
 * nothing says the local bytes are the same version's, and a `200` (a
 * server that ignores `Range`) is the whole file already.
 *
 * With `"update"` a file whose record still matches is asked about with the
 * validators recorded for it (a conditional GET); a file damaged since it
 * was written is fetched whole.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import type { HeaderPairs } from "../core/headers.ts";
import type { Writer } from "../writer/client.ts";
import type { ValidatorStore } from "../writer/validators.ts";
import type {
  ProbeResult,
  Validators,
  WrittenFile,
} from "../writer/protocol.ts";
import type { HeaderLookup, HttpResponse } from "./http_response.ts";

/** What to do about the final file before the first request. */
export type ExistingPlan =
  /** Complete: the job is skipped with this file. */
  | { kind: "kept"; file: WrittenFile }
  /**
   * Fetch it: with `conditional`, a conditional GET (`--update`); with
   * `lengthCheck`, first ask whether the server's file has that length.
   */
  | { kind: "fetch"; conditional?: Validators; lengthCheck?: number };

/**
 * Decides what to do about an existing final file (see the module's rules).
 *
 * @param job The job.
 * @param probe What the writer found under the job's name.
 * @param existing The policy for existing files.
 * @param writer Verifies a file against the job's checksums.
 * @param validators Validators recorded by earlier runs (`--update`).
 * @returns Keep the file, or fetch it (and how).
 */
export async function planExisting(
  job: Job,
  probe: ProbeResult,
  existing: "skip" | "overwrite" | "update",
  writer: Writer,
  validators?: ValidatorStore,
): Promise<ExistingPlan> {
  const size = probe.finalSize;
  if (size === undefined || existing === "overwrite") return { kind: "fetch" };
  if (existing === "update") {
    // Damaged since it was written: fetched whole, not asked "changed?".
    return probe.recorded === false
      ? { kind: "fetch" }
      : { kind: "fetch", conditional: validators?.get(job.dest) };
  }
  if (probe.recorded === false) return { kind: "fetch" };
  const given = job.size !== undefined || job.sha256 !== undefined ||
    job.checksum !== undefined;
  if (!given && !probe.recorded) return { kind: "fetch", lengthCheck: size };
  const file = await matchesJob(job, size, writer, probe.sha256);
  return file ? { kind: "kept", file } : { kind: "fetch" };
}

/**
 * The file when it matches the job's size and checksums, else undefined;
 * its digest is the recorded one when no checksum was given to check.
 */
async function matchesJob(
  job: Job,
  size: number,
  writer: Writer,
  recordedSha256: string | undefined,
): Promise<WrittenFile | undefined> {
  if (job.size !== undefined && size !== job.size) return undefined;
  if (job.sha256 === undefined && job.checksum === undefined) {
    return recordedSha256 === undefined
      ? { bytes: size }
      : { bytes: size, sha256: recordedSha256 };
  }
  try {
    return await writer.verify(job.dest, {
      size: job.size,
      sha256: job.sha256,
      checksum: job.checksum,
    });
  } catch {
    return undefined; // wrong bytes: download again
  }
}

/**
 * The request header that asks whether the server's file is `size` bytes
 * long: the bytes past its end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lengthCheckHeaders } from "./existing.ts";
 * assert.deepEqual(lengthCheckHeaders(3000), [["range", "bytes=3000-"]]);
 * ```
 *
 * @param size The local file's size.
 * @returns Headers to add to the request.
 */
export function lengthCheckHeaders(size: number): HeaderPairs {
  return [["range", `bytes=${size}-`]];
}

/**
 * What the answer to a length check says: `"same"` (a 416 whose
 * `Content-Range` gives exactly `size` as the complete length), `"differs"`
 * (another 416, or a 206: fetch the whole file with a new request), or
 * `"answer"` (any other status: the response is the answer to a plain GET,
 * judged as one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeLengthCheck } from "./existing.ts";
 * const unsatisfiable = (range: string) => new Headers({ "content-range": range });
 * assert.equal(judgeLengthCheck(416, unsatisfiable("bytes *\/3000"), 3000), "same");
 * assert.equal(judgeLengthCheck(416, unsatisfiable("bytes *\/2999"), 3000), "differs");
 * assert.equal(judgeLengthCheck(206, new Headers(), 3000), "differs");
 * assert.equal(judgeLengthCheck(200, new Headers(), 3000), "answer");
 * ```
 *
 * @param status The answer's status.
 * @param headers Its headers.
 * @param size The local file's size.
 * @returns The verdict.
 */
export function judgeLengthCheck(
  status: number,
  headers: HeaderLookup,
  size: number,
): "same" | "differs" | "answer" {
  if (status === 206) return "differs";
  if (status !== 416) return "answer";
  const range = /^bytes \*\/(\d{1,16})$/.exec(
    (headers.get("content-range") ?? "").trim(),
  );
  return range && Number(range[1]) === size ? "same" : "differs";
}

/** What an answer says about the existing final file, when it says anything. */
export type ExistingAnswer =
  /** A conditional GET found it unchanged (304). */
  | "unchanged"
  /** The server's file has its length: it is complete. */
  | "same_length"
  /** The server's file has another length: fetch it whole, anew. */
  | "length_differs";

/**
 * Reads an answer for what it says about the existing final file (a 304 to
 * a conditional GET, or the answer to a length check), cancelling its body
 * when it does; otherwise the answer is a download's, judged as one.
 *
 * @param response The answer.
 * @param asked What the request asked: `conditional` when it was a
 *   conditional GET, `lengthCheck` the size when it was a length check.
 * @returns What it says, or undefined.
 */
export async function answerAboutExisting(
  response: HttpResponse,
  asked: { conditional?: Validators; lengthCheck?: number },
): Promise<ExistingAnswer | undefined> {
  let answer: ExistingAnswer | undefined;
  if (response.status === 304 && asked.conditional) answer = "unchanged";
  else if (asked.lengthCheck !== undefined) {
    const verdict = judgeLengthCheck(
      response.status,
      response.headers,
      asked.lengthCheck,
    );
    if (verdict !== "answer") {
      answer = verdict === "same" ? "same_length" : "length_differs";
    }
  }
  if (answer !== undefined) await response.body?.cancel();
  return answer;
}

/**
 * The validators to record with a written file, for later `--update` runs:
 * the answer's ETag and Last-Modified, when the policy records them.
 *
 * @param headers The answer's headers.
 * @param validators The store of the policy; none means nothing is recorded.
 * @returns The validators, or undefined.
 */
export function validatorsToRecord(
  headers: HeaderLookup,
  validators: ValidatorStore | undefined,
): Validators | undefined {
  const etag = headers.get("etag") ?? undefined;
  const lastModified = headers.get("last-modified") ?? undefined;
  return validators && (etag || lastModified)
    ? { etag, lastModified }
    : undefined;
}
