import { deepEqual, equal } from "node:assert/strict";
import type { Outcome } from "../core/job.ts";
import { addOutcome, emptyTotals, type Totals } from "./tally.ts";
import { outcomeCounts, printSummary, summaryOutput } from "./summary.ts";
import { outcome } from "./_test_outcomes.ts";

/** The lines `printSummary` prints. */
function summary(
  totals: Totals,
  failures: Outcome[] = [],
  elapsedMs = 2000,
  secrets: string[] = [],
): string[] {
  const lines: string[] = [];
  printSummary(
    totals,
    failures,
    elapsedMs,
    secrets,
    (line) => lines.push(line),
  );
  return lines;
}

Deno.test("outcomeCounts: downloaded always, the other counts only when not 0, in a fixed order", () => {
  deepEqual(outcomeCounts(emptyTotals()), ["0 downloaded"]);
  deepEqual(
    outcomeCounts({
      ...emptyTotals(),
      ok: 98,
      skipped: 2,
      not_modified: 3,
      not_found: 1,
      error: 4,
      cancelled: 5,
      not_started: 6,
    }),
    [
      "98 downloaded",
      "2 already complete",
      "3 unchanged",
      "1 not found",
      "4 failed",
      "5 interrupted",
      "6 not started",
    ],
  );
});

Deno.test("printSummary: counts, bytes received, time and rate; retries only when there were some", () => {
  const totals = { ...emptyTotals(), ok: 2, jobs: 2 };
  totals.bytes = totals.transferred = 4096;
  deepEqual(summary(totals), [
    "bulkget: 2 downloaded; 4.0 KiB received in 2.00 s, 2.0 KiB/s",
  ]);
  deepEqual(summary({ ...totals, retries: 1 }), [
    "bulkget: 2 downloaded; 4.0 KiB received in 2.00 s, 2.0 KiB/s; 1 retry",
  ]);
  deepEqual(summary({ ...totals, retries: 3 }, [], 0), [
    "bulkget: 2 downloaded; 4.0 KiB received in 0.00 s; 3 retries",
  ]);
});

Deno.test("printSummary: the size of complete files is said apart only when it differs from what was received", () => {
  const rerun = { ...emptyTotals(), skipped: 3, jobs: 3, bytes: 3 << 20 };
  deepEqual(summary(rerun), [
    "bulkget: 0 downloaded, 3 already complete; 0 B received in 2.00 s, 0 B/s (3.0 MiB in complete files)",
  ]);
  // Interrupted: .part files only, no complete file: no "0 B on disk".
  const cut = { ...emptyTotals(), cancelled: 1, jobs: 1, transferred: 512 };
  deepEqual(summary(cut), [
    "bulkget: 0 downloaded, 1 interrupted; 512 B received in 2.00 s, 256 B/s",
  ]);
});

Deno.test("printSummary: lists the failures given, redacted, and how many more the report has", () => {
  const totals = emptyTotals();
  const failures = [
    outcome("a", "error", { reason: "HTTP error 503 - s3cr3t" }),
    outcome("b", "not_found", {
      job: { url: "http://127.0.0.1/b?token=t", dest: "b", label: "x" },
    }),
  ];
  for (const failed of failures) addOutcome(totals, failed);
  addOutcome(totals, outcome("c", "error"));
  addOutcome(totals, outcome("d", "cancelled")); // interrupted: not listed
  deepEqual(summary(totals, failures, 1000, ["s3cr3t"]).slice(1), [
    "failed:",
    "  a <- http://127.0.0.1/a: HTTP error 503 - ***",
    "  b [x] <- http://127.0.0.1/b?token=***: not found",
    "  … and 1 more (--report FILE lists them all)",
  ]);
  equal(summary(totals, [], 1000).length, 1);
});

Deno.test("summaryOutput: prints at the end of a run, but not for one a bad first line stopped", async () => {
  const lines: string[] = [];
  const output = summaryOutput([], (line) => lines.push(line));
  const end = { failures: [], elapsedMs: 1000, interrupted: false };
  await output.finish!({
    ...end,
    totals: emptyTotals(),
    error: "l.txt:1: bad",
  });
  deepEqual(lines, []);
  const totals = { ...emptyTotals(), ok: 1, jobs: 1, error: 0 };
  await output.finish!({ ...end, totals, error: "l.txt:2: bad" });
  equal(lines.length, 1);
  await output.finish!({ ...end, totals: emptyTotals() });
  deepEqual(
    lines.at(-1),
    "bulkget: 0 downloaded; 0 B received in 1.00 s, 0 B/s",
  );
});
