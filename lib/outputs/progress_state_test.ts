import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import type { Job, Outcome, OutcomeStatus } from "../core/job.ts";
import { jobKey, trackProgress } from "./progress_state.ts";

/** A state on a clock the test moves, in seconds. */
function tracked() {
  let ms = 1000;
  const state = trackProgress(() => ms);
  return { state, advance: (seconds: number) => ms += seconds * 1000 };
}

const job = (name: string): Job => ({
  url: `http://127.0.0.1/${name}`,
  dest: name,
});

function done(of: Job, status: OutcomeStatus = "ok", attempts = 1) {
  const outcome: Outcome = {
    job: of,
    status,
    bytes: 0,
    attempts,
    elapsedMs: 1,
  };
  return { type: "done" as const, outcome };
}

Deno.test("trackProgress: done, failed (not found included), received and the rates by the clock", () => {
  const { state, advance } = tracked();
  deepEqual(
    { ...state.snapshot(), eta: 0 },
    {
      elapsed: 0,
      done: 0,
      failed: 0,
      notFound: 0,
      received: 0,
      retries: 0,
      total: undefined,
      growing: false,
      fileRate: 0,
      byteRate: 0,
      share: undefined,
      eta: 0,
    },
  );
  equal(state.update({ type: "started", job: job("a") }), false);
  equal(state.update({ type: "bytes", job: job("a"), bytes: 300 }), true);
  for (const status of ["ok", "error", "not_found", "cancelled"] as const) {
    equal(state.update(done(job(status), status)), true);
  }
  advance(2);
  const now = state.snapshot();
  deepEqual(
    [now.elapsed, now.done, now.failed, now.notFound, now.received],
    [2, 4, 2, 1, 300],
  );
  deepEqual([now.fileRate, now.byteRate], [2, 150]);
  // No total: neither a share nor a remaining time.
  equal(now.share, undefined);
  ok(Number.isNaN(now.eta));
});

Deno.test("trackProgress: without any known length the share and the remaining time follow files", () => {
  const { state, advance } = tracked();
  state.setTotal(4, false);
  equal(state.snapshot().share, 0);
  ok(Number.isNaN(state.snapshot().eta)); // nothing done yet: no rate
  state.update(done(job("a")));
  advance(1);
  deepEqual([state.snapshot().share, state.snapshot().eta], [0.25, 3]);
});

Deno.test("trackProgress: with a known length they follow bytes; a file not started counts at the mean length", () => {
  const { state, advance } = tracked();
  state.setTotal(3, false);
  state.update({ type: "bytes", job: job("a"), bytes: 100, total: 400 });
  state.update({ type: "bytes", job: job("b"), bytes: 100, total: 200 });
  advance(1);
  // Left: 300 of a, 100 of b, 300 (the mean) of the third.
  const now = state.snapshot();
  equal(now.share, 200 / 900);
  equal(now.eta, 700 / 200);
  // A later total for the same job does not count as a second length.
  state.update({ type: "bytes", job: job("b"), bytes: 100, total: 999 });
  equal(state.snapshot().share, 300 / 900);
});

Deno.test("trackProgress: a resumed .part's bytes are not still to come", () => {
  const { state, advance } = tracked();
  state.setTotal(1, false);
  // 900 of 1000 were on disk; 50 arrive from offset 900.
  state.update({
    type: "bytes",
    job: job("a"),
    bytes: 50,
    offset: 900,
    total: 1000,
  });
  advance(1);
  const now = state.snapshot();
  equal(now.received, 50);
  equal(now.share, 50 / 100);
  equal(now.eta, 1);
});

Deno.test("trackProgress: a growing total (a pipe still read) has no share and no remaining time", () => {
  const { state, advance } = tracked();
  state.setTotal(2, true);
  state.update({ type: "bytes", job: job("a"), bytes: 10, total: 20 });
  state.update(done(job("b")));
  advance(1);
  const now = state.snapshot();
  deepEqual([now.total, now.growing, now.share], [2, true, undefined]);
  ok(Number.isNaN(now.eta));
  state.setTotal(2, false);
  equal(state.snapshot().growing, false);
  ok(state.snapshot().share! > 0);
});

Deno.test("trackProgress: every job done is all done, whatever the bytes said; an empty run too", () => {
  const { state, advance } = tracked();
  state.setTotal(1, false);
  state.update({ type: "bytes", job: job("a"), bytes: 10, total: 1000 }); // cut short
  state.update(done(job("a"), "error"));
  advance(1);
  deepEqual([state.snapshot().share, state.snapshot().eta], [1, 0]);
  const empty = tracked();
  empty.state.setTotal(0, false);
  deepEqual([empty.state.snapshot().share, empty.state.snapshot().eta], [1, 0]);
});

Deno.test("trackProgress: a retry counts while its job waits, then the outcome's attempts replace it", () => {
  const { state } = tracked();
  const retrying = (of: Job) => ({
    type: "retrying" as const,
    job: of,
    attempt: 1,
    reason: "HTTP error 503",
    delayMs: 10,
  });
  equal(state.update(retrying(job("a"))), true);
  state.update(retrying(job("a")));
  state.update(retrying(job("b")));
  equal(state.snapshot().retries, 3);
  state.update(done(job("a"), "ok", 3)); // its two retries, counted once
  equal(state.snapshot().retries, 3);
  state.update(done(job("b"), "error", 4)); // more attempts than announced
  equal(state.snapshot().retries, 5);
});

Deno.test("jobKey: the same for another object of the same job, another for another origin", () => {
  const a = { url: "http://127.0.0.1/a", dest: "a", origin: "l.txt:1" };
  equal(jobKey(a), jobKey({ ...a, dest: "renamed" }));
  equal(jobKey(a), jobKey(a));
  notEqual(jobKey(a), jobKey({ ...a, origin: "l.txt:2" }));
  notEqual(jobKey(a), jobKey({ ...a, url: "http://127.0.0.1/b" }));
});
