/**
 * When the total of a run's jobs is counted: at once when something shows
 * it, else only when a Ctrl-C asks how many jobs were never read.
 */
import assert from "node:assert/strict";
import type { Job } from "../core/job.ts";
import { trackJobTotal } from "./job_total.ts";

const jobs = (n: number): Job[] =>
  Array.from({ length: n }, (_, i) => ({
    url: `http://127.0.0.1/f${i}`,
    dest: `f${i}`,
    origin: `list.txt:${i + 1}`,
  }));

/** A count of `n` jobs that records when it ran. */
function countOf(n: number): { calls: number; count(): Promise<number> } {
  const counter = {
    calls: 0,
    count: () => {
      counter.calls++;
      return Promise.resolve(n);
    },
  };
  return counter;
}

Deno.test("trackJobTotal upfront: counts at once and shows the total before the first job", async () => {
  const counter = countOf(10);
  const totals: [number, boolean][] = [];
  const total = trackJobTotal({
    fromStdin: false,
    count: counter.count,
    upfront: true,
    onTotal: (n, growing) => totals.push([n, growing]),
    onRead: () => {},
  });
  assert.equal(counter.calls, 1);
  await Promise.resolve();
  assert.deepEqual(totals, [[10, false]]);
  const read = total.counted(toAsync(jobs(10)));
  await read.next();
  assert.equal(await total.unread(), 9);
  assert.equal(counter.calls, 1, "counted once");
});

Deno.test("trackJobTotal not upfront: counts only when unread() asks, and never once every job was read", async () => {
  const counter = countOf(10);
  const totals: number[] = [];
  const total = trackJobTotal({
    fromStdin: false,
    count: counter.count,
    upfront: false,
    onTotal: (n) => totals.push(n),
    onRead: () => {},
  });
  const read = total.counted(toAsync(jobs(10)));
  for (let i = 0; i < 3; i++) await read.next();
  assert.equal(counter.calls, 0, "no count while nothing asks");
  assert.equal(await total.unread(), 7);
  assert.equal(counter.calls, 1);
  assert.deepEqual(totals, [], "no total shown: nothing shows it");

  const whole = trackJobTotal({
    fromStdin: false,
    count: counter.count,
    upfront: false,
    onTotal: () => {},
    onRead: () => {},
  });
  await Array.fromAsync(whole.counted(toAsync(jobs(10))));
  assert.equal(await whole.unread(), 0);
  assert.equal(counter.calls, 1, "a run read to its end never counts");
});

async function* toAsync(items: Job[]): AsyncGenerator<Job> {
  yield* items;
}
