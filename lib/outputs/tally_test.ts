import { deepEqual, equal } from "node:assert/strict";
import type { Outcome, OutcomeStatus } from "../core/job.ts";
import { addOutcome, emptyTotals, exitCodeFor } from "./tally.ts";

function outcome(status: OutcomeStatus, bytes = 0, attempts = 1): Outcome {
  return {
    job: { url: "http://127.0.0.1/a", dest: "a" },
    status,
    bytes,
    attempts,
    elapsedMs: 1,
  };
}

Deno.test("emptyTotals: every count 0, a new object each time", () => {
  const totals = emptyTotals();
  for (const value of Object.values(totals)) equal(value, 0);
  deepEqual(Object.keys(totals).sort(), [
    "bytes",
    "cancelled",
    "error",
    "jobs",
    "not_found",
    "not_modified",
    "not_started",
    "ok",
    "retries",
    "skipped",
    "transferred",
  ]);
  totals.ok++;
  equal(emptyTotals().ok, 0);
});

Deno.test("addOutcome: counts the status and the job, adds bytes on disk, bytes received and retries", () => {
  const totals = emptyTotals();
  addOutcome(totals, outcome("ok", 100, 3), 150); // two retries, 150 B received
  addOutcome(totals, outcome("skipped", 40)); // nothing received
  addOutcome(totals, outcome("error", 0, 6), 70);
  addOutcome(totals, outcome("cancelled", 0, 0)); // never started: no retry
  deepEqual(totals, {
    ...emptyTotals(),
    ok: 1,
    skipped: 1,
    error: 1,
    cancelled: 1,
    jobs: 4,
    bytes: 140,
    transferred: 220,
    retries: 7,
  });
});

Deno.test("exitCodeFor: 0 when every job ended ok, skipped or not modified; 1 for any other", () => {
  const exitAfter = (status: OutcomeStatus) => {
    const totals = emptyTotals();
    addOutcome(totals, outcome("ok"));
    addOutcome(totals, outcome(status));
    return exitCodeFor(totals);
  };
  equal(exitCodeFor(emptyTotals()), 0);
  equal(exitAfter("ok"), 0);
  equal(exitAfter("skipped"), 0);
  equal(exitAfter("not_modified"), 0);
  equal(exitAfter("not_found"), 1);
  equal(exitAfter("error"), 1);
  equal(exitAfter("cancelled"), 1);
});
