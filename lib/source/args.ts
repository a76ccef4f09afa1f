/**
 * Jobs from URLs given as command-line arguments.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { parseHttpUrl, urlDest } from "./_util.ts";

/** Options for {@linkcode jobsFromUrls}. */
export interface UrlArgsOptions {
  /**
   * Mirror each URL's path under the output directory instead of keeping
   * only its last segment (see `destFromUrl`).
   *
   * @default {false}
   */
  keepPaths?: boolean;
}

/**
 * Makes one job per URL argument. Each job's `origin` is `argument N`,
 * counting the URLs given from 1; its `dest` comes from the URL.
 *
 * @example Usage
 * ```ts
 * import { jobsFromUrls } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const jobs = await Array.fromAsync(
 *   jobsFromUrls(["https://example.com/a/b.gif"]),
 * );
 * deepEqual(jobs, [{
 *   url: "https://example.com/a/b.gif",
 *   dest: "b.gif",
 *   origin: "argument 1",
 * }]);
 * ```
 *
 * @param urls The URLs, as typed.
 * @param options `keepPaths`.
 * @returns The jobs, in order.
 * @throws {SourceError} (while iterating) When an argument is not an
 * absolute http(s) URL, or no safe name can be made from it:
 * `argument 2: not an http(s) URL: "ftp://x"`.
 * @throws {TypeError} When `urls` is not iterable.
 */
export function jobsFromUrls(
  urls: Iterable<string>,
  options: UrlArgsOptions = {},
): AsyncGenerator<Job, void, undefined> {
  if (urls == null || typeof urls[Symbol.iterator] !== "function") {
    throw new TypeError(
      `Cannot read URL arguments: expected an array of strings, got ${typeof urls}`,
    );
  }
  return generate(urls, options.keepPaths ?? false);
}

async function* generate(
  urls: Iterable<string>,
  keepPaths: boolean,
): AsyncGenerator<Job, void, undefined> {
  let index = 0;
  for (const text of urls) {
    const origin = `argument ${++index}`;
    const url = parseHttpUrl(String(text).trim(), origin);
    yield { url: url.href, dest: urlDest(url, keepPaths, origin), origin };
  }
}
