/**
 * The size limit (`--max-size`): a body whose complete length is announced
 * over the limit is refused before a byte of it is read; one that grows
 * past it while streaming is cut there (`body_sink.ts`). Either is fatal:
 * every attempt, and every mirror, would send the same file. Memory is
 * bounded by the limit and fixed buffers, never by what a header claims.
 *
 * @module
 */

import { AttemptError, ERROR_CODES } from "../core/errors.ts";
import type { HttpResponse } from "./http_response.ts";

/**
 * The failure of a body over the limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tooBig } from "./size_limit.ts";
 * assert.equal(tooBig(100, 150).message, "too big: 150 bytes is over --max-size 100");
 * assert.equal(tooBig(100).message, "too big: over --max-size 100 bytes");
 * assert.equal(tooBig(100).verdict, "fatal");
 * ```
 *
 * @param maxSize The limit, in bytes.
 * @param size The body's complete length, when announced.
 * @returns The attempt error (fatal, `TOO_BIG`).
 */
export function tooBig(maxSize: number, size?: number): AttemptError {
  return new AttemptError(
    size === undefined
      ? `too big: over --max-size ${maxSize} bytes`
      : `too big: ${size} bytes is over --max-size ${maxSize}`,
    "fatal",
    { code: ERROR_CODES.tooBig },
  );
}

/**
 * Refuses a response whose announced complete length is over the limit,
 * cancelling its body unread.
 *
 * @param response The answer.
 * @param total The complete length of the file, when announced.
 * @param maxSize The limit, in bytes.
 * @throws {AttemptError} (fatal) When `total` is over `maxSize`.
 */
export async function refuseTooBig(
  response: HttpResponse,
  total: number | undefined,
  maxSize: number,
): Promise<void> {
  if (total === undefined || total <= maxSize) return;
  await response.body?.cancel();
  throw tooBig(maxSize, total);
}
