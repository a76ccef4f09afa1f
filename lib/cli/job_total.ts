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
  /**
   * The jobs of the inputs not read yet: the up-front count less those read
   * (0 once every input was read, or when nothing was counted).
   */
  unread(): Promise<number>;
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
  // Jobs read from standard input: never in the up-front count.
  let fromStdin = 0;
  let upfront: number | undefined;
  let listingDone = false;
  const stopCounting = new AbortController();
  const show = () => {
    if (listingDone) return options.onTotal(listed, false);
    if (upfront === undefined) return options.onTotal(listed, true);
    options.onTotal(Math.max(upfront + fromStdin, listed), options.fromStdin);
  };
  const counting = options.countUpfront?.(stopCounting.signal).then(
    (count) => {
      upfront = count;
      show();
      return count;
    },
    () => undefined, // unreadable: the source will say so
  );
  return {
    async *counted(source) {
      for await (const job of source) {
        listed++;
        if (options.fromStdin && job.origin?.startsWith("stdin:")) fromStdin++;
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
    async unread() {
      if (listingDone) return 0;
      const count = await counting;
      return count === undefined
        ? 0
        : Math.max(0, count - (listed - fromStdin));
    },
    stop: () => stopCounting.abort(),
  };
}
