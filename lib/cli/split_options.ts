/**
 * `get --split N` and `--min-split-size SIZE`: segmented downloads of large
 * files (see `lib/engine/segmented.ts`), with aria2c's bounds.
 *
 * @module
 */

import {
  DEFAULT_MIN_SPLIT_SIZE,
  type SplitPolicy,
} from "../engine/segmented.ts";
import { parseByteSize, parseWholeNumber } from "./usage.ts";
import { UsageError } from "../core/errors.ts";

/** Most connections per file, as aria2c's `-x`. */
export const MAX_SPLIT = 16;
/** Smallest `--min-split-size`, as aria2c's. */
const MIN_SPLIT_SIZE_FLOOR = 1 << 20;

/** The options' lines of `get --help`. */
export const SPLIT_USAGE =
  `  --split N                  fetch a file as up to N ranges over N connections at once when its
                             server takes ranges (Accept-Ranges: bytes, an ETag or Last-Modified),
                             e.g. 8 (default 1)
  --min-split-size SIZE      each range at least SIZE: smaller files are not split, e.g. 5M (default 20M)`;

/**
 * The split policy of `--split` and `--min-split-size`.
 *
 * @param split `--split` as typed.
 * @param minSize `--min-split-size` as typed.
 * @returns The policy, or undefined for one connection per file.
 * @throws {UsageError} For a value out of bounds.
 */
export function splitOption(
  split: string | undefined,
  minSize: string | undefined,
): SplitPolicy | undefined {
  const size = minSize === undefined
    ? DEFAULT_MIN_SPLIT_SIZE
    : parseByteSize(minSize, "--min-split-size");
  if (size < MIN_SPLIT_SIZE_FLOOR) {
    throw new UsageError(
      `--min-split-size must be at least 1M, got "${minSize}"`,
    );
  }
  if (split === undefined) return undefined;
  const connections = parseWholeNumber(split, "--split", 1, MAX_SPLIT);
  return connections > 1 ? { connections, minSize: size } : undefined;
}
