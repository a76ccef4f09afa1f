// The shared deadline ticker: deadlines fire (never early), say which one,
// and a disposed attempt is never aborted.
import assert from "node:assert/strict";
import { startDeadline } from "../lib/engine/deadline.ts";

const aborted = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) =>
    signal.addEventListener("abort", () => resolve(signal.reason), {
      once: true,
    })
  );

Deno.test("deadlines fire after they pass, never before, and name themselves", async () => {
  const began = Date.now();
  const connect = startDeadline({ connectMs: 100, idleMs: 0, totalMs: 0 });
  const total = startDeadline({ connectMs: 0, idleMs: 0, totalMs: 150 });
  const idle = startDeadline({ connectMs: 0, idleMs: 120, totalMs: 0 });
  idle.headersArrived();
  const [c, t, i] = await Promise.all(
    [connect, total, idle].map((d) => aborted(d.signal)),
  );
  assert.match(String((c as Error).message), /^connect timeout after 0.1 s$/);
  assert.match(String((t as Error).message), /^total timeout after 0.15 s$/);
  assert.match(String((i as Error).message), /^idle timeout after 0.12 s$/);
  assert.equal((c as Error).name, "TimeoutError");
  assert.ok(Date.now() - began >= 150, "no deadline fires early");
  for (const d of [connect, total, idle]) d.dispose();
});

Deno.test("activity pushes the idle deadline back; a disposed attempt is never aborted", async () => {
  // 1.2 s in all, past the 500 ms idle deadline, but never 500 ms without activity.
  const kept = startDeadline({ connectMs: 0, idleMs: 500, totalMs: 0 });
  kept.headersArrived();
  const disposed = startDeadline({ connectMs: 60, idleMs: 0, totalMs: 0 });
  disposed.dispose();
  for (let i = 0; i < 12; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    kept.activity();
  }
  assert.equal(kept.signal.aborted, false, "activity kept it alive");
  assert.equal(disposed.signal.aborted, false);
  kept.dispose();
});

Deno.test("the parent signal aborts the attempt with its reason", () => {
  const parent = new AbortController();
  const deadline = startDeadline(
    { connectMs: 10_000, idleMs: 0, totalMs: 0 },
    parent.signal,
  );
  parent.abort(new Error("stop"));
  assert.equal((deadline.signal.reason as Error).message, "stop");
  deadline.dispose();
});
