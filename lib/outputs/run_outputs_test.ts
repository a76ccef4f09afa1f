import { deepEqual, equal } from "node:assert/strict";
import type { EngineEvent } from "../core/events.ts";
import type { Job, Outcome } from "../core/job.ts";
import type { RunEnd, RunListener } from "./listener.ts";
import { MAX_LISTED_FAILURES, runOutputs } from "./run_outputs.ts";

function job(name: string, origin?: string): Job {
  return { url: `http://127.0.0.1/${name}`, dest: name, origin };
}

function outcome(
  of: Job,
  status: Outcome["status"],
  extra: Partial<Outcome> = {},
): Outcome {
  return { job: of, status, bytes: 0, attempts: 1, elapsedMs: 1, ...extra };
}

/** A listener that writes down what it hears, tagged with its name. */
function recorder(name: string, heard: string[]): RunListener {
  return {
    event: (event) => heard.push(`${name} event ${event.type}`),
    outcome: (o, transferred) =>
      heard.push(`${name} outcome ${o.job.dest} ${transferred}`),
    total: (total, growing) => heard.push(`${name} total ${total} ${growing}`),
    stop: () => heard.push(`${name} stop`),
    finish: async (end) => {
      await Promise.resolve();
      heard.push(`${name} finish ${end.totals.jobs}`);
    },
  };
}

Deno.test("runOutputs: each job's bytes events are its transferred bytes, told to every listener in order and added to the totals", async () => {
  const heard: string[] = [];
  const outputs = runOutputs([recorder("A", heard), recorder("B", heard)]);
  const a = job("a");
  const b = job("b");
  const events: EngineEvent[] = [
    { type: "started", job: a },
    { type: "bytes", job: a, bytes: 100 },
    { type: "bytes", job: b, bytes: 7 },
    { type: "bytes", job: a, bytes: 23 },
  ];
  for (const event of events) outputs.event(event);
  outputs.total(2, false);
  outputs.outcome(outcome(a, "ok", { bytes: 123 }));
  outputs.outcome(outcome(b, "error", { reason: "cut" }));
  outputs.stop();
  const totals = await outputs.finish({ elapsedMs: 5, interrupted: false });
  equal(totals.transferred, 130);
  equal(totals.bytes, 123);
  equal(totals.ok, 1);
  equal(totals.error, 1);
  deepEqual(heard, [
    "A event started",
    "B event started",
    "A event bytes",
    "B event bytes",
    "A event bytes",
    "B event bytes",
    "A event bytes",
    "B event bytes",
    "A total 2 false",
    "B total 2 false",
    "A outcome a 123",
    "B outcome a 123",
    "A outcome b 7",
    "B outcome b 7",
    "A stop",
    "B stop",
    "A finish 2",
    "B finish 2",
  ]);
});

Deno.test("runOutputs: a job's bytes are counted once, and a job with the same URL from another origin has its own", async () => {
  const first = job("same", "list.txt:1");
  const second = job("same", "list.txt:2");
  const seen: number[] = [];
  const listening = runOutputs([{ outcome: (_, t) => seen.push(t) }]);
  listening.event({ type: "bytes", job: first, bytes: 10 });
  listening.outcome(outcome(first, "ok"));
  listening.outcome(outcome(first, "ok")); // its bytes were taken already
  listening.event({ type: "bytes", job: second, bytes: 4 });
  listening.outcome(outcome(second, "ok"));
  deepEqual(seen, [10, 0, 4]);
  const totals = await listening.finish({ elapsedMs: 0, interrupted: false });
  equal(totals.transferred, 14);
});

Deno.test("runOutputs: retries are a job's attempts less one, or its retrying events when a --split range retried more", async () => {
  const outputs = runOutputs([]);
  const split = job("split");
  const plain = job("plain");
  for (let attempt = 1; attempt <= 3; attempt++) {
    outputs.event({
      type: "retrying",
      job: split,
      attempt,
      reason: "reset",
      delayMs: 0,
    });
  }
  outputs.outcome(outcome(split, "ok", { attempts: 1 }));
  outputs.event({
    type: "retrying",
    job: plain,
    attempt: 1,
    reason: "503",
    delayMs: 0,
  });
  outputs.outcome(outcome(plain, "ok", { attempts: 4 }));
  const totals = await outputs.finish({ elapsedMs: 0, interrupted: false });
  equal(totals.retries, 3 + 3);
});

Deno.test("runOutputs: jobs read without an outcome are unfinished; jobs never read count as not started", async () => {
  const outputs = runOutputs([]);
  const a = job("a");
  const b = job("b");
  const c = job("c");
  for (const read of [a, b, c]) outputs.read(read);
  outputs.outcome(outcome(b, "ok"));
  deepEqual(outputs.unfinished(), [a, c]);
  outputs.neverRead(5);
  outputs.neverRead(2);
  const totals = await outputs.finish({ elapsedMs: 0, interrupted: true });
  equal(totals.not_started, 7);
  equal(totals.jobs, 1);
});

Deno.test("runOutputs: every failure is counted, the first MAX_LISTED_FAILURES are listed, in order, not found included", async () => {
  let ended: RunEnd | undefined;
  const outputs = runOutputs([{ finish: (end) => void (ended = end) }]);
  const failing = MAX_LISTED_FAILURES + 5;
  for (let i = 0; i < failing; i++) {
    outputs.outcome(outcome(job(`f${i}`), i === 0 ? "not_found" : "error"));
  }
  outputs.outcome(outcome(job("fine"), "ok"));
  outputs.outcome(outcome(job("stopped"), "cancelled"));
  const totals = await outputs.finish({ elapsedMs: 3, interrupted: false });
  equal(totals.error + totals.not_found, failing);
  equal(totals.cancelled, 1);
  deepEqual(
    ended?.failures.map((o) => o.job.dest),
    Array.from({ length: MAX_LISTED_FAILURES }, (_, i) => `f${i}`),
  );
  equal(ended?.totals, totals);
  equal(ended?.elapsedMs, 3);
});
