import assert from "node:assert/strict";
import { progressBarOutput, startProgressBar } from "./progress.ts";

function sink() {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  return {
    chunks,
    writeSync(data: Uint8Array) {
      chunks.push(decoder.decode(data));
      return data.length;
    },
  };
}

const job = { url: "http://h/a", dest: "a" };

Deno.test("progress bar draws counts, bytes and failures, in place", () => {
  const out = sink();
  const bar = startProgressBar({
    total: 4,
    output: out,
    columns: 100,
    intervalMs: 60_000,
  });
  bar.update({ type: "bytes", job, bytes: 2048 });
  bar.update({
    type: "done",
    outcome: { job, status: "ok", bytes: 2048, attempts: 1, elapsedMs: 1 },
  });
  bar.update({
    type: "done",
    outcome: { job, status: "error", bytes: 0, attempts: 2, elapsedMs: 1 },
  });
  bar.stop();
  const last = out.chunks.at(-2)!;
  assert.ok(last.startsWith("\r\u001b[K 50%|"), JSON.stringify(last));
  assert.match(last, /\| 2\/4 \[/);
  assert.match(last, /2\.0 KiB [\d.]+ [KM]?i?B\/s, 1 retry, 1 failed/);
  assert.equal(out.chunks.at(-1), "\n");
});

Deno.test("progress bar stops once: later events and stops draw nothing", () => {
  const out = sink();
  const bar = startProgressBar({ total: 2, output: out, intervalMs: 60_000 });
  bar.stop();
  const written = out.chunks.length;
  bar.update({
    type: "done",
    outcome: { job, status: "cancelled", bytes: 0, attempts: 1, elapsedMs: 1 },
  });
  bar.stop();
  assert.equal(out.chunks.length, written);
  assert.match(out.chunks.at(-2)!, /0\/2/);
});

Deno.test("the bar of a run is drawn from its first job read, with the total known by then; none when no job was read", () => {
  const out = sink();
  const options = { output: out, columns: 100, intervalMs: 60_000 };
  const bar = progressBarOutput(options);
  bar.total!(20, false);
  bar.stop!();
  assert.deepEqual(out.chunks, []);
  const read = progressBarOutput(options);
  read.total!(20, false);
  read.read!(job);
  read.stop!();
  assert.ok(out.chunks.length > 0);
  assert.ok(
    out.chunks.every((chunk) => chunk === "\n" || / 0\/20 /.test(chunk)),
  );
});

Deno.test("the bar of a run counts its time from the run's start, not from its first job read (a pipe may give it late)", () => {
  const out = sink();
  let now = 0;
  const bar = progressBarOutput({
    output: out,
    columns: 100,
    intervalMs: 60_000,
    now: () => now,
  });
  now = 12_000; // standard input gave its first line after 12 s
  bar.read!(job);
  now = 13_000;
  bar.stop!();
  assert.match(out.chunks.at(-2)!, /\[00:13</);
});

/** A bar on a fake clock; `at(ms)` moves the clock, stops the bar and returns its last line. */
function clockedBar(total?: number) {
  const out = sink();
  let now = 0;
  const bar = startProgressBar({
    total,
    output: out,
    columns: 120,
    intervalMs: 60_000,
    now: () => now,
  });
  return {
    bar,
    at(ms: number) {
      now = ms;
      bar.stop();
      return out.chunks.at(-2)!;
    },
  };
}

const jobN = (n: number) => ({ url: `http://h/${n}`, dest: `${n}` });
const outcome = (
  n: number,
  status: "ok" | "error" | "not_found" | "cancelled",
  attempts = 1,
) => ({
  type: "done" as const,
  outcome: { job: jobN(n), status, bytes: 0, attempts, elapsedMs: 1 },
});

Deno.test("progress bar: one large file with a known length moves by its bytes, with a remaining time", () => {
  const { bar, at } = clockedBar(1);
  bar.update({ type: "started", job: jobN(1) });
  bar.update({
    type: "bytes",
    job: jobN(1),
    bytes: 50_000_000,
    total: 200_000_000,
  });
  const line = at(10_000); // 50 MB in 10 s: 150 MB left, 30 s
  assert.ok(line.startsWith("\r\u001b[K 25%|"), JSON.stringify(line));
  assert.match(line, / 0\/1 \[00:10<00:30, /);
  assert.match(line, /47\.7 MiB 4\.8 MiB\/s/);
});

Deno.test("progress bar: a list's total from the start, the remaining time from bytes once lengths are known", () => {
  const { bar, at } = clockedBar(3000);
  for (const n of [1, 2, 3, 4]) {
    bar.update({ type: "bytes", job: jobN(n), bytes: 1000, total: 1000 });
    bar.update(outcome(n, "ok"));
  }
  // 4 of 3000 files of about 1000 bytes in 1 s: 2,996,000 bytes left at 4000 B/s.
  const line = at(1000);
  assert.match(line, / 4\/3000 \[00:01<12:29, 4\.0 files\/s\]/);
  assert.ok(line.startsWith("\r\u001b[K  0%|"), JSON.stringify(line));
});

Deno.test("progress bar: a total still growing (a pipe) shows '+' and no remaining time", () => {
  const { bar, at } = clockedBar();
  bar.setTotal(57, true);
  bar.update(outcome(1, "ok"));
  const line = at(1000);
  assert.match(line, / 1\/57\+ \[00:01<--:--, /);
  assert.doesNotMatch(line, /%/);
  bar.setTotal(57);
});

Deno.test("progress bar: every failure kind counts as failed; retries agree with the outcomes'", () => {
  const { bar, at } = clockedBar(4);
  bar.update(outcome(1, "not_found"));
  bar.update(outcome(2, "error", 3));
  // A retry announced, then Ctrl-C during the wait: no second attempt was made.
  bar.update({
    type: "retrying",
    job: jobN(3),
    attempt: 1,
    reason: "503",
    delayMs: 900,
  });
  bar.update(outcome(3, "cancelled", 1));
  bar.update(outcome(4, "ok"));
  const line = at(20);
  assert.match(line, / 4\/4 \[/);
  assert.match(line, /\] 2 retries, 2 failed$/);
});

Deno.test("progress bar: a retry counts while its job waits for the next attempt", () => {
  const { bar, at } = clockedBar(1);
  bar.update({
    type: "retrying",
    job: jobN(1),
    attempt: 1,
    reason: "503",
    delayMs: 900,
  });
  assert.match(at(10), / 0\/1 \[.*\] 1 retry$/);
});

Deno.test("progress bar on a narrow terminal: what does not fit is left out whole, the failures last; no count is cut", () => {
  for (const columns of [80, 60, 40]) {
    const out = sink();
    const bar = startProgressBar({
      total: 12345,
      output: out,
      columns,
      intervalMs: 60_000,
    });
    for (let i = 0; i < 1234; i++) {
      const job = { url: `http://h/${i}`, dest: `${i}` };
      bar.update({ type: "bytes", job, bytes: 1_234_567 });
      const status = i < 123 ? "error" : i < 135 ? "not_found" : "ok";
      bar.update({
        type: "done",
        outcome: { job, status, bytes: 0, attempts: 3, elapsedMs: 1 },
      });
    }
    bar.stop();
    const line = out.chunks.at(-2)!.replace("\r\u001b[K", "");
    assert.ok(line.length <= columns - 1, `${columns}: ${line}`);
    assert.match(line, / 1234\/12345 /, `${columns}: ${line}`);
    assert.match(line, /(^|[ ,\]])135 failed$/, `${columns}: ${line}`);
    // Whatever else is shown is whole.
    const retries = /(\d+) retries/.exec(line)?.[1];
    if (retries !== undefined) assert.equal(retries, "2468", line);
  }
});
