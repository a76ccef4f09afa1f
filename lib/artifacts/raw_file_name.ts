/**
 * `nameOfRawFile`: the name an artifact uploaded unzipped is kept under by
 * `bulkget artifacts --no-extract` (the engine's `nameFromResponse`).
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { nameFromContentDisposition } from "../writer/safe_name.ts";
import { reservedName } from "../writer/entry_names.ts";
import { RESERVED } from "./extract_download.ts";

/**
 * Kept without extraction, an artifact uploaded unzipped is no `NAME.zip`:
 * it is named as its blob's `Content-Disposition` says (made safe), beside
 * where its zip would go. A name ending `.zip`, or none, keeps the job's;
 * one of bulkget's own names gives the artifact's name (`NAME.zip` less
 * `.zip`), checked when the artifact was admitted.
 *
 * @param job The download's job (its `dest` is `NAME.zip`).
 * @param headers The answer's headers.
 * @returns The file's name, or `undefined` to keep the job's.
 */
export function nameOfRawFile(job: Job, headers: Headers): string | undefined {
  const name = nameFromContentDisposition(headers.get("content-disposition"));
  if (name === undefined || name.toLowerCase().endsWith(".zip")) {
    return undefined;
  }
  if (reservedName(name, RESERVED) !== undefined) {
    return job.dest.slice(0, -".zip".length);
  }
  const slash = job.dest.lastIndexOf("/");
  return slash < 0 ? name : `${job.dest.slice(0, slash + 1)}${name}`;
}
