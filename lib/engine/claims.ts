/**
 * Destination claims: which job of this run writes which file, so that a
 * name a server chooses (`Content-Disposition`) can never make two jobs
 * write one file, or one job overwrite another's.
 *
 * Every job's destination is claimed when it starts; a name from a response
 * is claimed before any byte of it is written. A name claimed by another
 * URL is refused, whoever came first.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { AttemptError, ERROR_CODES } from "../core/errors.ts";
import { asHeaders, type HttpResponse } from "./http_response.ts";
import type { Writer } from "../writer/client.ts";
import { redactUrl } from "../core/redact.ts";

/** Destination → the URL of the job that writes it. */
export type DestinationClaims = Map<string, string>;

/**
 * Claims `dest` for `url`, unless another URL holds it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { claimDestination } from "./claims.ts";
 * const claims = new Map<string, string>();
 * assert.equal(claimDestination(claims, "a.txt", "http://h/a"), undefined);
 * assert.equal(claimDestination(claims, "a.txt", "http://h/a"), undefined);
 * assert.equal(claimDestination(claims, "a.txt", "http://h/b"), "http://h/a");
 * ```
 *
 * @param claims The run's claims.
 * @param dest A destination, relative to the output directory.
 * @param url The job's URL.
 * @returns The URL that holds `dest` already, or undefined when the claim is `url`'s.
 */
export function claimDestination(
  claims: DestinationClaims,
  dest: string,
  url: string,
): string | undefined {
  const owner = claims.get(dest);
  if (owner !== undefined && owner !== url) return owner;
  claims.set(dest, url);
  return undefined;
}

/**
 * The file an answer goes to: the job's, or the name its server gives
 * (`nameFromResponse`), claimed before a byte is written; a name that
 * another job of the run writes, or a file that exists (without
 * `existing: "overwrite"`), is refused.
 *
 * @param job The job.
 * @param response Its answer.
 * @param options The namer, the run's claims, the writer, the policy for existing files.
 * @returns The destination.
 * @throws {AttemptError} (fatal) When the name is refused.
 */
export async function destinationFromResponse(
  job: Job,
  response: HttpResponse,
  options: {
    nameFromResponse?: (job: Job, headers: Headers) => string | undefined;
    claims?: DestinationClaims;
    writer: Writer;
    existing?: string;
  },
): Promise<string> {
  const named = options.nameFromResponse?.(job, asHeaders(response.headers));
  if (named === undefined || named === job.dest) return job.dest;
  const refuse = async (why: string) => {
    await response.body?.cancel();
    throw new AttemptError(
      `Content-Disposition name ${JSON.stringify(named)} ${why}`,
      "fatal",
      { code: ERROR_CODES.nameTaken },
    );
  };
  const claims = options.claims ?? new Map();
  const owner = claimDestination(claims, named, job.url);
  if (owner) {
    return await refuse(`is already used by ${redactUrl(owner)}`);
  }
  const probe = await options.writer.probe(named);
  if (probe.finalSize !== undefined && options.existing !== "overwrite") {
    claims.delete(named);
    return await refuse("exists; not overwritten without --force");
  }
  return named;
}
