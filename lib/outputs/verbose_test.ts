import { deepEqual } from "node:assert/strict";
import type { Outcome, OutcomeStatus } from "../core/job.ts";
import { verboseLines } from "./verbose.ts";

Deno.test("verboseLines: a line per retry (secrets masked) and per job that did not fail, interrupted ones too", () => {
  const lines: string[] = [];
  const verbose = verboseLines(["s3cr3t"], (line) => lines.push(line));
  const job = { url: "http://127.0.0.1/a", dest: "d/a.bin" };
  verbose.event!({ type: "started", job });
  verbose.event!({
    type: "retrying",
    job,
    attempt: 2,
    reason: "HTTP error 503 s3cr3t",
    delayMs: 1250,
  });
  const outcome = (status: OutcomeStatus, bytes = 0): Outcome => ({
    job,
    status,
    bytes,
    attempts: 1,
    elapsedMs: 1,
  });
  verbose.outcome!(outcome("ok", 1536), 1536);
  verbose.outcome!(outcome("skipped", 10), 0);
  verbose.outcome!(outcome("not_modified", 10), 0);
  for (const status of ["error", "not_found"] as const) {
    verbose.outcome!(outcome(status), 0); // their own lines say these
  }
  verbose.outcome!(outcome("cancelled"), 2048);
  deepEqual(lines, [
    "retry 2 d/a.bin: HTTP error 503 *** (waiting 1.3 s)",
    "OK d/a.bin (1.5 KiB)",
    "SKIPPED d/a.bin (10 B)",
    "NOT_MODIFIED d/a.bin (10 B)",
    // A file a Ctrl-C stopped has a line too.
    "INTERRUPTED d/a.bin (2.0 KiB received)",
  ]);
});
