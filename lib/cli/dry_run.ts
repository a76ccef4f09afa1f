/**
 * `bulkget get --dry-run`: what a run would download and where, after
 * sharding, dedupe and the checks that skip complete files, without a
 * request or a write.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { planExisting } from "../engine/existing.ts";
import { openWriter } from "../writer/client.ts";
import { loadValidators } from "../writer/validators.ts";
import { redactText, redactUrl } from "../core/redact.ts";
import { formatBytes } from "../outputs/format.ts";
import type { PartMeta } from "../writer/protocol.ts";

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
  /** Jobs a run would ask the server about (`--update`, or a file with no record). */
  check: number;
}

/**
 * Prints one line per job — `download URL -> DEST`, `resume …`,
 * `skip DEST (complete, SIZE)`, `check …` — and returns the counts. An
 * existing file is judged as a run judges it (`lib/engine/existing.ts`),
 * from what the writer finds on disk: kept when it matches the state file's
 * record and the job's size and checksums; a file with no record and
 * nothing given to check is a `check` (a run asks the server its length);
 * with `--update`, a recorded file with validators is a `check` (a
 * conditional GET); anything else is downloaded.
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
  // Only reads: it probes and verifies, and writes nothing (no flush either).
  const writer = openWriter({ outDir: options.outDir, durability: "none" });
  const validators = options.existing === "update"
    ? await loadValidators(options.outDir)
    : undefined;
  try {
    for await (const job of jobs) {
      const target = `${redactUrl(job.url)} -> ${job.dest}`;
      const probe = await writer.probe(job.dest);
      const plan = await planExisting(
        job,
        probe,
        options.existing,
        writer,
        validators,
      );
      if (plan.kind === "kept") {
        counts.skip++;
        say(`skip ${job.dest} (complete, ${formatBytes(plan.file.bytes)})`);
      } else if (plan.conditional !== undefined) {
        counts.check++;
        say(`check ${target} (exists; a conditional GET)`);
      } else if (plan.lengthCheck !== undefined) {
        counts.check++;
        say(
          `check ${target} (exists, with no record of bulkget's: kept if the server's file is ${
            formatBytes(plan.lengthCheck)
          } long)`,
        );
      } else {
        counts.download++;
        say(
          probe.part
            ? `resume ${target} (${
              partHolds(probe.part)
            }, if the server agrees)`
            : `download ${target}`,
        );
      }
    }
  } finally {
    await writer.close();
  }
  return counts;
}

/**
 * What a `.part` holds: its size, or for a `--split` one (made at the
 * file's full size, its ranges filled in part) the bytes its ranges have.
 */
function partHolds(part: { size: number; meta?: PartMeta }): string {
  const split = part.meta?.split;
  if (split === undefined) return `a .part of ${formatBytes(part.size)}`;
  const written = split.done.reduce((sum, bytes) => sum + bytes, 0);
  return `a split .part with ${formatBytes(written)} of ${
    formatBytes(part.meta?.total ?? part.size)
  } written`;
}
