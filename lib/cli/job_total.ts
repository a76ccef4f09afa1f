/**
 * The total of jobs a run shows: counted up front from the regular input
 * files (one cheap pass, `lib/source/count.ts`), and growing with each job
 * read while standard input is still open (`57+`); final once every input
 * has been read.
 *
 * @module
 */

import type { Job } from "../core/job.ts";

/** Options for {@linkcode trackJobTotal}. */
export interface JobTotalOptions {
  /** Whether an input is standard input (read once, never counted up front). */
  fromStdin: boolean;
  /** Counts the jobs up front, when wanted; stopped by the signal. */
  countUpfront?: (signal: AbortSignal) => Promise<number>;
  /** Hears the total as it becomes known or grows. */
  onTotal(total: number, growing: boolean): void;
  /** Hears each job as it is read. */
  onRead(job: Job): void;
}

/** The total being followed. */
export interface JobTotal {
  /** Passes the jobs through, counting them. */
  counted(source: AsyncIterable<Job>): AsyncGenerator<Job>;
  /** Whether every input was read to its end. */
  readonly listingDone: boolean;
  /** Stops the up-front count, if still running. */
  stop(): void;
}

/**
 * Follows the total of a run's jobs.
 *
 * @param options The inputs' kind, the up-front count, the listeners.
 * @returns The tracker; pass the jobs through {@linkcode JobTotal.counted}.
 */
export function trackJobTotal(options: JobTotalOptions): JobTotal {
  let listed = 0;
  let upfront: number | undefined;
  let listingDone = false;
  const stopCounting = new AbortController();
  const show = () => {
    if (listingDone) return options.onTotal(listed, false);
    if (upfront === undefined) return options.onTotal(listed, true);
    options.onTotal(Math.max(upfront, listed), options.fromStdin);
  };
  options.countUpfront?.(stopCounting.signal).then((count) => {
    upfront = count;
    show();
  }, () => {}); // unreadable: the source will say so
  return {
    async *counted(source) {
      for await (const job of source) {
        listed++;
        options.onRead(job);
        show();
        yield job;
      }
      listingDone = true;
      stopCounting.abort();
      show();
    },
    get listingDone() {
      return listingDone;
    },
    stop: () => stopCounting.abort(),
  };
}
