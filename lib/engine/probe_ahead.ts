/**
 * A rerun's checks of existing files, made ahead of the downloads. When the
 * output directory already holds files, each job's first probe (is the
 * file there, complete, recorded? a `.part` to resume?) is a round trip to
 * the writer Worker, and a job waiting for it held a download slot: with
 * `-m 100` at most 100 probes were in flight, and the main thread and the
 * Worker took turns. Here the probes of the next jobs are asked before the
 * downloads take them, so the Worker has a batch queued while the main
 * thread handles the replies.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import type { ProbeResult } from "../writer/protocol.ts";
import type { Writer } from "../writer/client.ts";
import { pool } from "./pool.ts";

/** A job and what its first probe found. */
export interface ProbedJob {
  job: Job;
  /** Undefined when the probe failed: the job asks again in its slot, and fails there. */
  probe?: ProbeResult;
}

/** Probes in flight, as a multiple of the downloads at once. */
const PROBES_PER_SLOT = 4;

/**
 * Passes the jobs through with their first probe made, up to
 * `PROBES_PER_SLOT × concurrency` of them at once. Jobs are taken from the
 * source only as probes finish (a URL piped on standard input is probed at
 * once, never held for the next line); a bad input line ends the stream
 * after the jobs before it, as the pool does.
 *
 * @param jobs The jobs.
 * @param writer Answers the probes.
 * @param concurrency The downloads at once.
 * @param signal Stops taking jobs.
 * @returns The jobs with their probes, in the order the probes finish.
 */
export function probeAhead(
  jobs: AsyncIterable<Job> | Iterable<Job>,
  writer: Writer,
  concurrency: number,
  signal?: AbortSignal,
): AsyncGenerator<ProbedJob> {
  return pool(
    jobs,
    async (job): Promise<ProbedJob> => ({
      job,
      probe: await writer.probe(job.dest).catch(() => undefined),
    }),
    { poolLimit: concurrency * PROBES_PER_SLOT, signal },
  );
}
