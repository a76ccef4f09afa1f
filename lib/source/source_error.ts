/**
 * The error every job source throws for a bad input: it names where the
 * input went wrong (`list.txt:12`), so the CLI can print it as a usage error
 * (exit 2).
 *
 * @module
 */

/**
 * A bad input line, an unreadable input file or a refused destination.
 *
 * The message is `ORIGIN: DETAIL`, e.g.
 * `list.txt:12: not an http(s) URL: "ftp://x"`.
 *
 * @example Usage
 * ```ts
 * import { SourceError } from "./source_error.ts";
 * import { equal } from "node:assert/strict";
 *
 * const error = new SourceError("list.txt:12", 'not an http(s) URL: "ftp://x"');
 * equal(error.message, 'list.txt:12: not an http(s) URL: "ftp://x"');
 * equal(error.origin, "list.txt:12");
 * ```
 */
export class SourceError extends Error {
  /** Where: `FILE:LINE`, `argument N`, or a file name alone. */
  readonly origin: string;
  /** What was wrong, without the origin. */
  readonly detail: string;

  /**
   * Makes the error.
   *
   * @param origin Where: `FILE:LINE`, `argument N`, or a file name.
   * @param detail What was wrong, starting in lower case.
   * @param options `cause`, when another error is behind this one.
   */
  constructor(origin: string, detail: string, options?: ErrorOptions) {
    super(`${origin}: ${detail}`, options);
    this.name = "SourceError";
    this.origin = origin;
    this.detail = detail;
  }
}
