/**
 * Made-up JSON reports for the tests of reading and merging reports (the
 * unit tests beside this file and `tests/report_merge_test.ts`).
 *
 * @module
 */

import type { Report, ReportItem } from "./json_report.ts";
import { emptyTotals } from "../outputs/tally.ts";

/**
 * A report item for `https://example.com/DEST`: 10 bytes in one attempt
 * when ok, else three attempts ending in a 503.
 *
 * @param dest The destination.
 * @param status Its status. @default "ok"
 * @returns The item.
 */
export function item(
  dest: string,
  status: ReportItem["status"] = "ok",
): ReportItem {
  return {
    url: `https://example.com/${dest}`,
    dest,
    status,
    bytes: status === "ok" ? 10 : 0,
    sha256: null,
    attempts: status === "ok" ? 1 : 3,
    httpStatus: status === "ok" ? 200 : 503,
    reason: status === "ok" ? null : "HTTP error 503",
    elapsedMs: 1,
    origin: null,
  };
}

/**
 * A version 1 report of `items`, started 2026-01-01, with zero totals.
 *
 * @param items Its items.
 * @param extra Fields to set or replace.
 * @returns The report.
 */
export function report(
  items: ReportItem[],
  extra: Partial<Report> = {},
): Report {
  return {
    version: 1,
    tool: "bulkget 0.1.0",
    startedAt: "2026-01-01T00:00:00.000Z",
    items,
    totals: emptyTotals(),
    elapsedMs: 10,
    interrupted: false,
    ...extra,
  };
}
