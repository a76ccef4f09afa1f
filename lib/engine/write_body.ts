/**
 * An accepted answer's body, to the writer: a small whole body read in one
 * go and put in one message; any other (larger, of unknown length, or the
 * rest of a resumed `.part`) streamed into the `.part` (`body_sink.ts`) and
 * sealed. A body that ends at another length than its framing announced is
 * a retryable failure; whether a failed stream keeps its `.part` is
 * `resume.ts`'s rule.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import type { EventListener } from "../core/events.ts";
import { AttemptError, ERROR_CODES } from "../core/errors.ts";
import { bodyFailure, verifyFailure } from "./classify.ts";
import type { AttemptDeadline } from "./deadline.ts";
import { type HttpResponse, placedUntilFailure } from "./http_response.ts";
import { pace, type RateLimit } from "./rate_limit.ts";
import { readSmallBody, streamToFile } from "./body_sink.ts";
import { type BodyPlace, keepsPart, partMeta } from "./resume.ts";
import type { Writer } from "../writer/client.ts";
import { newCrc } from "../writer/worker_hash.ts";
import type {
  Expectation,
  PartMeta,
  Validators,
  WrittenFile,
} from "../writer/protocol.ts";

/** Which body goes where, and what it must match. */
export interface BodyWrite {
  /** The job (its URL, and the events' subject). */
  job: Job;
  /** Where the file goes. */
  dest: string;
  /** Where the body goes in the file, and the lengths announced. */
  place: BodyPlace;
  /** What the complete file must match. */
  expect: Expectation;
  /** Validators to record with the file (`--update`), if any. */
  record?: Validators;
  /** The resume facts of the `.part` this body continues, if it is a resume. */
  resumed?: PartMeta;
}

/** The writer, the attempt's limits and where progress goes. */
export interface BodyWriteOptions {
  /** Where bodies go. */
  writer: Writer;
  /** The attempt's deadline. */
  deadline: AttemptDeadline;
  /** Rate limits to pace reads by. */
  limits: readonly RateLimit[];
  /** Largest file accepted, in bytes (`--max-size`). */
  maxSize: number;
  /** Bodies of at most this many bytes are read whole. */
  smallBodyLimit: number;
  /** Receives the `bytes` events. */
  onEvent?: EventListener;
  /** Whether a whole body's checksum mismatch is retryable (a resumed one's always is). @default true */
  retryMismatch?: boolean;
  /** Hears each piece of a streamed body as it is handed to the file (see `FetchPolicy`). */
  onBodyPiece?: (job: Job, piece: Uint8Array, at: number) => void;
}

/**
 * Writes the body: whole when it is small and starts the file, else
 * streamed (see the module).
 *
 * @param response The accepted answer.
 * @param body Which body goes where.
 * @param options The writer, limits and events.
 * @returns The file as written.
 * @throws {AttemptError} When the body fails or does not verify.
 */
export function writeBody(
  response: HttpResponse,
  body: BodyWrite,
  options: BodyWriteOptions,
): Promise<WrittenFile> {
  const { start, length } = body.place;
  return start === 0 && length !== undefined &&
      length <= options.smallBodyLimit
    ? writeWhole(response, body, length, options)
    : writeStreamed(response, body, options);
}

/** Reads a small body whole and puts it in one message. */
async function writeWhole(
  response: HttpResponse,
  body: BodyWrite,
  length: number,
  options: BodyWriteOptions,
): Promise<WrittenFile> {
  const { deadline } = options;
  const bytes = await readSmallBody(response, length, deadline);
  const whole = bytes.byteLength === length;
  // Counted now, as they have arrived: a Ctrl-C while the rate holds them
  // back below must not call them not received.
  if (whole) {
    options.onEvent?.({
      type: "bytes",
      job: body.job,
      bytes: bytes.byteLength,
      total: body.place.total,
      offset: 0,
    });
  }
  // Read whole already: the next read of the run (or retry) waits instead.
  if (options.limits.length > 0) {
    await pace(options.limits, bytes.byteLength, { signal: deadline.signal })
      .catch((error) => {
        throw bodyFailure(error, deadline.signal);
      });
  }
  if (!whole) {
    throw new AttemptError(
      `truncated body: got ${bytes.byteLength} of ${length} bytes`,
      "retryable",
      { code: ERROR_CODES.length },
    );
  }
  // Returned, not awaited: this step's frame is let go while the Worker
  // writes (a hundred files wait for it at once, and what they hold is
  // what each young-generation collection copies).
  return options.writer.put(body.dest, bytes, body.expect, body.record)
    .catch((error) => verifyFailure(error, options.retryMismatch ?? true));
}

/**
 * Streams a body into the `.part` from its start, then seals it; a failure
 * releases the `.part`, kept for a resume when `resume.ts` says so.
 */
async function writeStreamed(
  response: HttpResponse,
  body: BodyWrite,
  options: BodyWriteOptions,
): Promise<WrittenFile> {
  const { job, dest, place } = body;
  const { start, length: expected, total } = place;
  const meta = partMeta(job.resumeKey ?? job.url, response.headers, total) ??
    body.resumed;
  if (response.body === null) {
    throw new AttemptError("response has no body", "retryable", {
      code: ERROR_CODES.length,
    });
  }
  const prepared = options.writer.prepare(dest, start, meta);
  prepared.catch(() => {}); // awaited below, after the CRC-32's module
  // node:zlib (loaded by the first such body, holding this thread ~15 ms)
  // loads while the Worker prepares the .part.
  const crc = await runningCrc(body, start);
  const partPath = await prepared;
  let offset = start;
  let received: number;
  try {
    received = await streamToFile(response, partPath, {
      deadline: options.deadline,
      maxSize: options.maxSize - start,
      limits: options.limits,
      onBytes: (bytes) => {
        options.onEvent?.({ type: "bytes", job, bytes, total, offset });
        offset += bytes;
      },
      onWritten: piecesTo(crc?.update, options.onBodyPiece, job, start),
    });
    // The body ended by its framing with another length than announced:
    // the server's word on where its bytes belong cannot be trusted.
    if (expected !== undefined && received !== expected) {
      throw new AttemptError(
        `${
          received < expected ? "truncated body" : "body longer than announced"
        }: got ${received} of ${expected} bytes`,
        "retryable",
        { code: ERROR_CODES.length },
      );
    }
  } catch (error) {
    // Bytes past the announced length (a chunked body's) make even a cut
    // a length mismatch: the .part is no place to resume from.
    const failure = expected !== undefined && offset - start > expected
      ? new AttemptError(
        `body longer than announced: over ${expected} bytes`,
        "retryable",
        { code: ERROR_CODES.length },
      )
      : bodyFailure(error, options.deadline.signal);
    await options.writer.release(
      dest,
      keepsPart(meta, failure, placedUntilFailure(response)),
    );
    throw failure;
  }
  // The CRC-32 stands for the file only when it saw every byte of it.
  const crc32 = crc?.seen === received ? crc.hex() : undefined;
  // A resumed file's mismatch may be its kept bytes': worth a whole download.
  const retried = start > 0 || (options.retryMismatch ?? true);
  return await options.writer.seal(dest, body.expect, body.record, crc32)
    .catch((error) => verifyFailure(error, retried));
}

/**
 * Who hears a streamed body's pieces: its running CRC-32 and the run's
 * `onBodyPiece` (told where in the file each piece goes), if any.
 */
function piecesTo(
  crc: ((piece: Uint8Array) => void) | undefined,
  onBodyPiece: BodyWriteOptions["onBodyPiece"],
  job: Job,
  start: number,
): ((piece: Uint8Array) => void) | undefined {
  if (onBodyPiece === undefined) return crc;
  let at = start;
  return (piece) => {
    crc?.(piece);
    onBodyPiece(job, piece, at);
    at += piece.length;
  };
}

/**
 * The CRC-32 of a streamed body, taken as its pieces are written, when the
 * file's record is to take a CRC-32 and the body starts the file (the
 * Worker then need not read the `.part` back); undefined otherwise.
 * `node:zlib` is loaded on the first such body.
 */
async function runningCrc(body: BodyWrite, start: number) {
  const { expect } = body;
  if (
    start !== 0 || expect.digest !== "crc32" || expect.sha256 !== undefined
  ) return undefined;
  return newCrc((await import("node:zlib")).crc32);
}
