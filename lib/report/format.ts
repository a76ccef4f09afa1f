/**
 * Small formatting helpers shared by progress bars, log lines and reports.
 *
 * @module
 */

/**
 * Bytes in binary units, e.g. `1.5 MiB`.
 *
 * @param bytes A byte count.
 * @returns A short human-readable size.
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
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
