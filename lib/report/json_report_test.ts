import { deepEqual, equal, rejects } from "node:assert/strict";
import type { Outcome } from "../core/job.ts";
import { openReport, reportItem } from "./json_report.ts";
import { parseReport } from "./parse_report.ts";
import { addOutcome, emptyTotals } from "../outputs/tally.ts";

const ok: Outcome = {
  job: { url: "https://u:p@127.0.0.1/a.bin?sig=s", dest: "a.bin" },
  status: "ok",
  bytes: 1024,
  sha256: "ab".repeat(32),
  attempts: 2,
  httpStatus: 200,
  elapsedMs: 12.345,
};
const failed: Outcome = {
  job: {
    url: "http://127.0.0.1/b",
    dest: "b",
    origin: "m.jsonl:2",
    label: "nightly",
  },
  status: "error",
  bytes: 0,
  attempts: 6,
  httpStatus: 503,
  reason: "HTTP error 503 (key k-42)",
  code: "HTTP_STATUS",
  elapsedMs: 3,
};

Deno.test("reportItem: every field, URLs and secrets masked, absent ones null", () => {
  deepEqual(reportItem(ok, [], 1500), {
    url: "https://***@127.0.0.1/a.bin?sig=***",
    dest: "a.bin",
    status: "ok",
    bytes: 1024,
    transferred: 1500,
    sha256: "ab".repeat(32),
    attempts: 2,
    httpStatus: 200,
    reason: null,
    code: null,
    elapsedMs: 12.3,
    origin: null,
    label: null,
  });
  const item = reportItem(failed, ["k-42"]);
  deepEqual(
    [item.reason, item.code, item.origin, item.label, item.transferred],
    ["HTTP error 503 (key ***)", "HTTP_STATUS", "m.jsonl:2", "nightly", 0],
  );
  // No digest taken (a CRC-32 record, or kept on the server's length).
  equal(reportItem({ ...ok, sha256: undefined }).sha256, null);
});

Deno.test("openReport: the file written reads back as the run's report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/r.json`;
    const writer = openReport(path, "bulkget 0.1.0", ["k-42"]);
    const totals = emptyTotals();
    for (const outcome of [ok, failed]) {
      writer.add(outcome, 7);
      addOutcome(totals, outcome, 7);
    }
    writer.finish(totals, {
      elapsedMs: 40.06,
      interrupted: false,
      error: "list.txt:3: bad line k-42",
      shard: { index: 1, count: 2 },
    });
    const read = parseReport(await Deno.readTextFile(path), path);
    equal(read.tool, "bulkget 0.1.0");
    deepEqual(read.items, [
      reportItem(ok, [], 7),
      reportItem(failed, ["k-42"], 7),
    ]);
    deepEqual(read.totals, totals);
    deepEqual(
      [read.elapsedMs, read.interrupted, read.error, read.shard],
      [40.1, false, "list.txt:3: bad line ***", { index: 1, count: 2 }],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openReport: a run with no job is an empty report; a discarded one leaves no file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const empty = openReport(`${dir}/e.json`, "bulkget");
    empty.finish(emptyTotals(), { elapsedMs: 0, interrupted: true });
    const read = parseReport(await Deno.readTextFile(`${dir}/e.json`), "e");
    deepEqual([read.items, read.interrupted, read.error, read.shard], [
      [],
      true,
      null,
      undefined,
    ]);
    const dropped = openReport(`${dir}/d.json`, "bulkget");
    dropped.add(ok);
    dropped.discard();
    await rejects(Deno.stat(`${dir}/d.json`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
