import { equal } from "node:assert/strict";
import type { Outcome } from "../core/job.ts";
import { emptyTotals } from "./tally.ts";
import {
  failureLine,
  githubAnnotation,
  githubSummary,
  statusLine,
} from "./ci_log.ts";

Deno.test("statusLine: a total still growing is shown with '+', an unknown remaining time not at all", () => {
  const line = statusLine({
    elapsed: 2,
    done: 3,
    failed: 1,
    notFound: 0,
    received: 3072,
    retries: 2,
    total: 7,
    growing: true,
    fileRate: 1.5,
    byteRate: 1536,
    share: undefined,
    eta: NaN,
  });
  equal(
    line,
    "[bulkget] 3/7+ done (1 failed), 3.0 KiB at 1.5 KiB/s, 2 retries, 2.0 s",
  );
  equal(
    statusLine({
      elapsed: 0,
      done: 0,
      failed: 0,
      notFound: 0,
      received: 0,
      retries: 0,
      growing: false,
      fileRate: 0,
      byteRate: 0,
      eta: NaN,
    }),
    "[bulkget] 0 done, 0 B, 0.0 s",
  );
});

Deno.test("statusLine: the share and the remaining time once they can be known", () => {
  const line = statusLine({
    elapsed: 12,
    done: 120,
    failed: 0,
    notFound: 0,
    received: 3.4 * 1024 * 1024,
    retries: 1,
    total: 3000,
    growing: false,
    fileRate: 10,
    byteRate: 1.1 * 1024 * 1024,
    share: 0.0499,
    eta: 271,
  });
  equal(
    line,
    "[bulkget] 120/3000 done, 4%, 3.4 MiB at 1.1 MiB/s, 1 retry, 12.0 s, ETA 04:31",
  );
});

function failed(extra: Partial<Outcome> = {}): Outcome {
  return {
    job: { url: "https://u:pw@127.0.0.1/a.bin?sig=s3", dest: "d/a.bin" },
    status: "error",
    bytes: 0,
    attempts: 3,
    reason: "HTTP error 503 - Service Unavailable",
    elapsedMs: 1,
    ...extra,
  };
}

Deno.test("failureLine: dest, label, redacted URL and why; 'not found' for a 404", () => {
  equal(
    failureLine(failed()),
    "FAILED d/a.bin <- https://***@127.0.0.1/a.bin?sig=***: HTTP error 503 - Service Unavailable",
  );
  const labelled = failed({
    status: "not_found",
    reason: "HTTP error 404",
    job: { url: "http://127.0.0.1/b", dest: "b", label: "run\n7" },
  });
  equal(
    failureLine(labelled),
    "FAILED b [run\\x0a7] <- http://127.0.0.1/b: not found",
  );
  // A C1 control (U+009B is CSI to some terminals) is shown, not sent.
  const csi = failed({
    job: { url: "http://127.0.0.1/c", dest: "c", label: "x\u009b2Jy" },
  });
  equal(
    failureLine(csi),
    "FAILED c [x\\x9b2Jy] <- http://127.0.0.1/c: HTTP error 503 - Service Unavailable",
  );
  // A reason the caller names a secret of is masked; no reason: the status.
  equal(
    failureLine(failed({ reason: "token tk-123 refused" }), ["tk-123"]),
    "FAILED d/a.bin <- https://***@127.0.0.1/a.bin?sig=***: token *** refused",
  );
  equal(
    failureLine(failed({ reason: undefined, status: "cancelled" })),
    "FAILED d/a.bin <- https://***@127.0.0.1/a.bin?sig=***: cancelled",
  );
});

Deno.test("githubAnnotation: an ::error:: line with its title and message escaped as GitHub requires", () => {
  const outcome = failed({
    reason: "100% broken\r\nsecond line",
    job: { url: "http://127.0.0.1/x", dest: "a,b:c.txt", label: "L" },
  });
  equal(
    githubAnnotation(outcome),
    "::error title=bulkget%3A a%2Cb%3Ac.txt [L]::http://127.0.0.1/x: 100%25 broken%0D%0Asecond line",
  );
});

Deno.test("githubSummary: the totals row, jobs never read, and a row per failure with its cells escaped", () => {
  const totals = {
    ...emptyTotals(),
    ok: 5,
    skipped: 2,
    not_modified: 1,
    not_found: 1,
    error: 1,
    cancelled: 2,
    transferred: 2048,
    retries: 4,
    not_started: 7,
  };
  const failures = [
    failed({
      reason: "bad | worse\nlast",
      job: { url: "http://127.0.0.1/p?token=t", dest: "p" },
    }),
    failed({
      status: "not_found",
      job: { url: "http://127.0.0.1/q", dest: "q" },
    }),
  ];
  equal(
    githubSummary(totals, failures, 1500),
    [
      "### bulkget",
      "",
      // Interrupted jobs did not fail: a column of their own.
      "| ok | skipped | not found | failed | interrupted | received | retries | time |",
      "|---:|---:|---:|---:|---:|---:|---:|---:|",
      "| 5 | 3 | 1 | 1 | 2 | 2.0 KiB | 4 | 1.5 s |",
      "",
      "7 jobs not started (the run was stopped before reading them)",
      "",
      "| failed | URL | reason |",
      "|---|---|---|",
      "| p | http://127.0.0.1/p?token=*** | bad \\| worse last |",
      "| q | http://127.0.0.1/q | not found |",
      "",
    ].join("\n"),
  );
  equal(
    githubSummary(emptyTotals(), [], 0).split("\n").length,
    6, // the heading, a blank line, the table's three lines and the end
  );
});

Deno.test("githubSummary: a carriage return or another control character in a cell cannot end its row; one job not started is singular", () => {
  const summary = githubSummary(
    { ...emptyTotals(), error: 1, not_started: 1 },
    [failed({
      reason: "first\r| forged | row |\r\nnext\x1b[2J",
      job: { url: "http://127.0.0.1/r", dest: "r" },
    })],
    0,
  );
  const lines = summary.split(/\r\n|\r|\n/);
  equal(
    lines.at(-2),
    "| r | http://127.0.0.1/r | first \\| forged \\| row \\| next\\x1b[2J |",
  );
  equal(lines.length, summary.split("\n").length);
  equal(
    lines[6],
    "1 job not started (the run was stopped before reading it)",
  );
});
