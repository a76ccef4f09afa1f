/**
 * `nameOfRawFile`: the name an artifact uploaded unzipped is kept under by
 * `bulkget artifacts --no-extract` (the engine's `nameFromResponse`), and
 * `rawPartsByUrl`: the `.part`s such files left, so a rerun resumes them.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { nameFromContentDisposition } from "../writer/safe_name.ts";
import { reservedName } from "../writer/entry_names.ts";
import { META_SUFFIX, PART_SUFFIX } from "../writer/paths.ts";
import { RESERVED } from "./extract_download.ts";

/**
 * Kept without extraction, an artifact uploaded unzipped is no `NAME.zip`:
 * it is named as its blob's `Content-Disposition` says (made safe), beside
 * where its zip would go. A name ending `.zip`, or none, keeps the job's;
 * one of bulkget's own names gives the artifact's name (`NAME.zip` less
 * `.zip`), checked when the artifact was admitted. A job whose destination
 * is no `NAME.zip` continues a raw file's `.part` ({@linkcode rawPartsByUrl})
 * and keeps that name.
 *
 * @param job The download's job (its `dest` is `NAME.zip`, or the name of
 *   the raw file whose `.part` it continues).
 * @param headers The answer's headers.
 * @returns The file's name, or `undefined` to keep the job's.
 */
export function nameOfRawFile(job: Job, headers: Headers): string | undefined {
  if (!job.dest.endsWith(".zip")) return undefined;
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

/**
 * The raw files an interrupted `--no-extract` run left half downloaded in
 * `outDir`: each `NAME.part` whose resume facts (`NAME.part.json`) name the
 * download URL it was for. Its name came from the answer, so the rerun's
 * job must be given it to resume it (the engine continues a `.part` under
 * the job's own name only).
 *
 * @param outDir The output directory.
 * @returns Download URL → the name of its `.part` (without `.part`).
 */
export async function rawPartsByUrl(
  outDir: string,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const entry of Deno.readDir(outDir)) {
    if (!entry.isFile || !entry.name.endsWith(META_SUFFIX)) continue;
    const name = entry.name.slice(0, -META_SUFFIX.length);
    if (name.toLowerCase().endsWith(".zip")) continue;
    try {
      const { url } = JSON.parse(
        await Deno.readTextFile(`${outDir}/${entry.name}`),
      );
      const part = await Deno.stat(`${outDir}/${name}${PART_SUFFIX}`);
      if (typeof url === "string" && part.isFile) found.set(url, name);
    } catch {
      // Unreadable facts or no .part: nothing to resume.
    }
  }
  return found;
}
