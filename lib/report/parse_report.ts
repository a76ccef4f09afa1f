/**
 * Reads a JSON report back (`bulkget get --report`, or a merge's output),
 * checking the shape a merge relies on.
 *
 * @module
 */

import { type Report, REPORT_VERSION } from "./json_report.ts";

/** The item statuses a report may hold. */
const STATUSES = new Set([
  "ok",
  "skipped",
  "not_modified",
  "not_found",
  "error",
  "cancelled",
]);

/**
 * Parses a JSON report written by `bulkget get --report` (or by a merge),
 * checking its shape.
 *
 * @example Usage
 * ```ts
 * import { parseReport } from "./parse_report.ts";
 * import { equal } from "node:assert/strict";
 *
 * const text = JSON.stringify({
 *   version: 1, tool: "bulkget 0.1.0", startedAt: "2026-01-01T00:00:00.000Z",
 *   items: [], totals: {}, elapsedMs: 1, interrupted: false,
 * });
 * equal(parseReport(text, "r.json").items.length, 0);
 * ```
 *
 * @param text The file's text.
 * @param name How the error names it.
 * @returns The report.
 * @throws {TypeError} When it is not JSON or not a version 1 report:
 * `r.json: not a bulkget report: …`.
 */
export function parseReport(text: string, name: string): Report {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TypeError(
      `${name}: not a complete JSON report (${(error as Error).message})`,
      { cause: error },
    );
  }
  const fail = (why: string) =>
    new TypeError(`${name}: not a bulkget report: ${why}`);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail("expected a JSON object");
  }
  const report = value as Report;
  if (report.version !== REPORT_VERSION) {
    throw fail(
      `expected "version": ${REPORT_VERSION}, got ${
        JSON.stringify(report.version)
      }`,
    );
  }
  if (!Array.isArray(report.items)) throw fail(`"items" must be an array`);
  report.items.forEach((item, i) => {
    if (
      typeof item !== "object" || item === null ||
      typeof item.dest !== "string" || typeof item.url !== "string" ||
      !STATUSES.has(item.status)
    ) {
      throw fail(`item ${i + 1} needs "url", "dest" and a known "status"`);
    }
  });
  const shard = report.shard;
  if (
    shard !== undefined &&
    (typeof shard !== "object" || shard === null ||
      !Number.isInteger(shard.index) || !Number.isInteger(shard.count) ||
      shard.index < 1 || shard.index > shard.count)
  ) {
    throw fail(`"shard" must be {"index": K, "count": N} with 1 <= K <= N`);
  }
  return report;
}
