/**
 * `bulkget get --dry-run`: what a run would download and where, after
 * sharding, dedupe and the checks that skip complete files, without a
 * request or a write.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Job } from "../core/job.ts";
import { destPaths } from "../writer/paths.ts";
import { redactText, redactUrl } from "../core/redact.ts";
import { formatBytes } from "../report/format.ts";

/** Options for {@linkcode dryRun}. */
export interface DryRunOptions {
  /** The output directory. */
  outDir: string;
  /** As the run would treat existing files (`--force`: overwrite, `--update`: ask the server). */
  existing: "skip" | "overwrite" | "update";
  /** Header values to keep out of the lines. */
  secrets: string[];
  /** Where lines go. @default console.log */
  write?: (line: string) => void;
}

/** What a dry run found. */
export interface DryRunCounts {
  /** Jobs a run would download (or resume). */
  download: number;
  /** Jobs a run would skip as complete. */
  skip: number;
  /** Jobs a run would ask the server about (`--update`). */
  check: number;
}

/**
 * Prints one line per job — `download URL -> DEST`, `resume …`,
 * `skip DEST (complete, SIZE)`, `check …` with `--update` — and returns the
 * counts. A final file counts as complete as a run would judge it: its size
 * matches the job's `size`, and its digests the job's `sha256` and
 * `checksum`, when given.
 *
 * @param jobs The jobs, after sharding and dedupe.
 * @param options Output directory, policy and output.
 * @returns The counts.
 */
export async function dryRun(
  jobs: AsyncIterable<Job>,
  options: DryRunOptions,
): Promise<DryRunCounts> {
  const write = options.write ?? ((line: string) => console.log(line));
  const counts: DryRunCounts = { download: 0, skip: 0, check: 0 };
  const say = (line: string) => write(redactText(line, options.secrets));
  for await (const job of jobs) {
    const paths = destPaths(options.outDir, job.dest);
    const target = `${redactUrl(job.url)} -> ${job.dest}`;
    const final = sizeOf(paths.final);
    if (final !== undefined && options.existing === "update") {
      counts.check++;
      say(`check ${target} (exists; a conditional GET)`);
      continue;
    }
    if (
      final !== undefined && options.existing === "skip" &&
      await complete(paths.final, final, job)
    ) {
      counts.skip++;
      say(`skip ${job.dest} (complete, ${formatBytes(final)})`);
      continue;
    }
    counts.download++;
    const part = sizeOf(paths.part);
    say(
      part
        ? `resume ${target} (a .part of ${
          formatBytes(part)
        }, if the server agrees)`
        : `download ${target}`,
    );
  }
  return counts;
}

function sizeOf(path: string): number | undefined {
  try {
    const info = Deno.statSync(path);
    return info.isFile ? info.size : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the file matches what the job says of it (size, digests): one read feeds every digest. */
async function complete(path: string, size: number, job: Job) {
  if (job.size !== undefined && job.size !== size) return false;
  const wanted = [
    ["sha256", job.sha256],
    [job.checksum?.algorithm.replace("-", ""), job.checksum?.hex],
  ].flatMap(([algorithm, hex]) =>
    algorithm === undefined || hex === undefined
      ? []
      : [{ hash: createHash(algorithm), hex }]
  );
  if (wanted.length === 0) return true;
  const file = await Deno.open(path); // closed by its stream's end
  for await (const piece of file.readable) {
    for (const { hash } of wanted) hash.update(piece);
  }
  return wanted.every(({ hash, hex }) => hash.digest("hex") === hex);
}
