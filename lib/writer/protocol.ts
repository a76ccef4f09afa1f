/**
 * Messages between the writer client (main thread) and the writer Worker.
 * Both sides batch: one `postMessage` carries many requests or replies.
 *
 * @module
 */

import type { Checksum } from "../core/job.ts";
import type { ErrorCode, StopCode } from "../core/errors.ts";

/** What a finished file must match before it gets its final name. */
export interface Expectation {
  /** Exact size in bytes (from `Content-Length` or the job). */
  size?: number;
  /** Lower-case hex SHA-256 (from the job). */
  sha256?: string;
  /**
   * Which digest of the file to take with no `sha256` to check, for the
   * outcome and the state file's record: `true`, its SHA-256; `"crc32"`,
   * only its CRC-32, for the record (the outcome's `sha256` is `""`), when
   * nothing needs a SHA-256 (about 30 times cheaper); `false`, none, and
   * only its size is recorded: for files checked elsewhere that no rerun
   * skips.
   * @default true
   */
  digest?: boolean | "crc32";
  /**
   * Modification time (ms since the epoch, from the response's
   * `Last-Modified`) given to the final file once it is renamed into place
   * (`put` and `seal`); not checked.
   */
  mtime?: number;
  /** Another digest to check, beside `sha256` (md5, sha-1, sha-512). */
  checksum?: Checksum;
}

/** Resume facts kept beside a `.part` file, so a later run can continue it. */
export interface PartMeta {
  /** The URL the bytes came from. */
  url: string;
  /** The response's `ETag`, used for `If-Range`. */
  etag?: string;
  /** The response's `Last-Modified`, used for `If-Range` when there is no ETag. */
  lastModified?: string;
  /** The full size of the body, when known. */
  total?: number;
  /** For a segmented download (`--split`): its ranges and how much of each is written. */
  split?: SplitState;
}

/** How a segmented download's `.part` is divided, and how much of each range is on disk. */
export interface SplitState {
  /** Each range as `[start, end)`, in file order, covering the file. */
  ranges: [number, number][];
  /** Bytes of each range written, counted from its start. */
  done: number[];
}

/** HTTP validators of a written file, recorded for `--update` runs. */
export interface Validators {
  /** The response's `ETag`. */
  etag?: string;
  /** The response's `Last-Modified`. */
  lastModified?: string;
}

/** A request from the client; `id` pairs it with its reply. */
export type WriterRequest =
  | {
    op: "put";
    id: number;
    dest: string;
    /** The body, transferred; absent when it was packed into the batch's arena. */
    data?: ArrayBuffer;
    /** Where the body lies in the batch's `arena`: offset and length. */
    packed?: [number, number];
    expect: Expectation;
    record?: Validators;
  }
  | { op: "probe"; id: number; dest: string }
  | { op: "verify"; id: number; dest: string; expect: Expectation }
  | {
    op: "prepare";
    id: number;
    dest: string;
    offset: number;
    meta?: PartMeta;
  }
  | {
    op: "seal";
    id: number;
    dest: string;
    expect: Expectation;
    record?: Validators;
    /** The CRC-32 of the whole `.part`, taken as it was written. */
    crc32?: string;
  }
  | { op: "release"; id: number; dest: string; keepPart: boolean }
  | {
    op: "startSplit";
    id: number;
    dest: string;
    /** The resume facts, with the ranges (`meta.split`). */
    meta: PartMeta;
    /** A new `.part` (else the one an earlier attempt left is continued). */
    fresh: boolean;
  }
  | {
    op: "writeAt";
    id: number;
    dest: string;
    /** Which of `meta.split.ranges`. */
    range: number;
    /** Where the bytes go in the file. */
    offset: number;
    /** The bytes, transferred. */
    data: ArrayBuffer;
  }
  | { op: "close"; id: number };

/** The request of one kind, e.g. `RequestOf<"put">`. */
export type RequestOf<K extends WriterRequest["op"]> = Extract<
  WriterRequest,
  { op: K }
>;

/** What `probe` finds on disk for a destination. */
export interface ProbeResult {
  /** Size of the complete file under the final name, if there is one. */
  finalSize?: number;
  /**
   * Whether that file still matches what the state file records for it:
   * the size, and the SHA-256, which is read and hashed only when the
   * file's modification or change time differs from the recorded one (a
   * line of an older version, without SHA-256, is matched by size); absent
   * when nothing is recorded for it.
   */
  recorded?: boolean;
  /** The SHA-256 recorded for that file, when it matches its record and the record has one. */
  sha256?: string;
  /** Size of a `.part` left by an earlier run, with its resume facts. */
  part?: { size: number; meta?: PartMeta };
}

/** A successful reply's value, by request kind. */
export interface WrittenFile {
  /** Bytes in the final file. */
  bytes: number;
  /**
   * Its lower-case hex SHA-256, when it was taken (absent when the file was
   * taken with a CRC-32 or no digest at all).
   */
  sha256?: string;
  /** Its CRC-32 (8 lower-case hex digits), when that was taken instead. */
  crc32?: string;
}

/**
 * A successful reply's value: a written file, a probe's findings, a
 * `.part`'s path, a `writeAt`'s buffer (transferred back for reuse), or
 * nothing.
 */
export type WriterValue =
  | WrittenFile
  | ProbeResult
  | string
  | ArrayBuffer
  | undefined;

/** A reply from the Worker. */
export type WriterReply =
  | { id: number; ok: true; value?: WriterValue }
  | { id: number; ok: false; error: WriterFailure };

/**
 * Why a request failed, as it crosses to the main thread: its kind as a
 * code (`VERIFY_FAILED` for bytes that are not what was expected,
 * `PERMISSION_MISSING` for a missing permission flag, `WRITE_FAILED` for
 * anything else the disk refused) and its message.
 */
export interface WriterFailure {
  code: ErrorCode | StopCode;
  message: string;
}

/** One batch in either direction. */
export interface WriterBatch<T> {
  items: T[];
  /**
   * Small bodies of this batch's `put`s, copied into one buffer: one
   * transfer per message instead of one per body.
   */
  arena?: ArrayBuffer;
}

/**
 * The Worker's replies to one batch: most in `items`; the `put`s that wrote
 * a file with a CRC-32 and no SHA-256 (most of them) packed, since an object
 * per reply cost more to pass between the threads than the rest together.
 */
export interface ReplyBatch extends WriterBatch<WriterReply> {
  /** Each packed `put`'s request id and the file's size (`bytes`), in turns. */
  written?: Float64Array;
  /** Their CRC-32s, 8 hex digits each, in the same order. */
  crc32s?: string;
}
