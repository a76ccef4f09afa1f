/**
 * The total of jobs a run shows: counted up front from the regular input
 * files (one cheap pass, `lib/source/count.ts`), and growing with each job
 * read while standard input is still open (`57+`); final once every input
 * has been read. A run that shows no total (`-q` without a log) counts only
 * when a Ctrl-C asks how many jobs were never read: a second read of a
 * million-line list (a second parse with `--shard`) is not paid otherwise.
 *
 * @module
 */

import type { Job } from "../core/job.ts";

/** Options for {@linkcode trackJobTotal}. */
export interface JobTotalOptions {
  /** Whether an input is standard input (read once, never counted up front). */
  fromStdin: boolean;
  /** Counts the jobs of the regular inputs; stopped by the signal. */
  count?: (signal: AbortSignal) => Promise<number>;
  /**
   * Whether to count at once (something shows the total) or only when
   * {@linkcode JobTotal.unread} asks.
   *
   * @default {true}
   */
  upfront?: boolean;
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
   * The jobs of the inputs not read yet: the count less those read (0 once
   * every input was read, or when nothing can be counted). Starts the count
   * if it was not made up front.
   */
  unread(): Promise<number>;
  /** Stops the up-front count, if still running. */
  stop(): void;
}

/**
 * Follows the total of a run's jobs.
 *
 * @param options The inputs' kind, the count and when to make it, the listeners.
 * @returns The tracker; pass the jobs through {@linkcode JobTotal.counted}.
 */
export function trackJobTotal(options: JobTotalOptions): JobTotal {
  let listed = 0;
  // Jobs read from standard input: never in the up-front count.
  let fromStdin = 0;
  let inputJobs: number | undefined;
  let listingDone = false;
  const stopCounting = new AbortController();
  const upfront = options.upfront ?? true;
  const show = () => {
    if (!upfront) return; // nothing shows it
    if (listingDone) return options.onTotal(listed, false);
    if (inputJobs === undefined) return options.onTotal(listed, true);
    options.onTotal(Math.max(inputJobs + fromStdin, listed), options.fromStdin);
  };
  let counting: Promise<number | undefined> | undefined;
  const startCounting = () =>
    counting ??= options.count?.(stopCounting.signal).then(
      (count) => {
        inputJobs = count;
        show();
        return count;
      },
      () => undefined, // unreadable: the source will say so
    );
  if (upfront) startCounting();
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
      const count = await startCounting();
      return count === undefined
        ? 0
        : Math.max(0, count - (listed - fromStdin));
    },
    stop: () => stopCounting.abort(),
  };
}
