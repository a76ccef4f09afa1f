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
