/**
 * Small formatting helpers shared by progress bars, log lines and reports.
 *
 * @module
 */

/**
 * Bytes in binary units, e.g. `1.5 MiB`; below 1 KiB, whole bytes.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { formatBytes } from "./format.ts";
 * equal(formatBytes(1536), "1.5 KiB");
 * equal(formatBytes(33.047), "33 B"); // e.g. a rate of 5 B in 0.15 s
 * ```
 *
 * @param bytes A byte count.
 * @returns A short human-readable size.
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  // A rate below 1 KiB/s is a fraction of bytes: whole bytes say enough.
  const shown = (value: number, unit: number) =>
    unit === 0 ? Math.round(value) : Number(value.toFixed(1));
  let value = bytes;
  let unit = 0;
  // Judged as shown, so 1023.6 B is "1.0 KiB", not "1024 B".
  while (shown(value, unit) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${Math.round(value)} B`
    : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A duration as `MM:SS` (or `H:MM:SS` past an hour), like tqdm.
 *
 * @param seconds A duration; negative or not finite gives `--:--`.
 * @returns The clock form.
 */
export function formatClock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * `n` and the noun, plural unless `n` is 1: `1 flag`, `3 flags`.
 *
 * @param n The count.
 * @param singular The noun for one.
 * @param plural The noun for many. @default singular + "s"
 * @returns The count and the noun.
 */
export function plural(
  n: number,
  singular: string,
  plural = singular + "s",
): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
