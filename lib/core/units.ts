/**
 * Sizes and durations as people type them, for every command and the test
 * server: the one parser of each.
 *
 * @module
 */

/** Binary multipliers of the size units. */
const SIZE_UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/**
 * Parses a size: a whole number of bytes with an optional binary unit (`K`,
 * `M`, `G`, `T`, with or without `iB`/`B`, any case), e.g. `10M` = 10 MiB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSize } from "./units.ts";
 * assert.equal(parseSize("64k"), 65536);
 * assert.equal(parseSize("1GiB"), 1024 ** 3);
 * ```
 *
 * @param text For example `"2048"`, `"64k"`, `"10M"`.
 * @returns Bytes.
 * @throws {RangeError} When the text is not a size.
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) {
    throw new RangeError(
      `Cannot parse size: expected bytes such as "2048" or "64k", got "${text}"`,
    );
  }
  return Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()];
}

/**
 * Parses a duration: a number with `ms`, `s` or `m`, or a bare number in
 * `bareUnit`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./units.ts";
 * assert.equal(parseDuration("1.5s"), 1500);
 * assert.equal(parseDuration("250"), 250);
 * assert.equal(parseDuration("2.5", "s"), 2500);
 * ```
 *
 * @param text For example `"500ms"`, `"2s"`, `"1.5s"`, `"500"`.
 * @param bareUnit The unit of a number without one. @default "ms"
 * @returns Milliseconds.
 * @throws {RangeError} When the text is not a duration.
 */
export function parseDuration(
  text: string,
  bareUnit: "ms" | "s" = "ms",
): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m)?$/i.exec(text.trim());
  if (!m) {
    throw new RangeError(
      `Cannot parse duration: expected e.g. "500ms" or "2s", got "${text}"`,
    );
  }
  const unit = (m[2] ?? bareUnit).toLowerCase();
  const factor = unit === "ms" ? 1 : unit === "s" ? 1000 : 60_000;
  return Math.round(Number(m[1]) * factor);
}
