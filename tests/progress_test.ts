import assert from "node:assert/strict";
import { startProgressBar } from "../lib/report/progress.ts";

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
  bar.update({ type: "retrying", job, attempt: 1, reason: "x", delayMs: 1 });
  bar.stop();
  const last = out.chunks.at(-2)!;
  assert.ok(last.startsWith("\r\u001b[K 50%|"), JSON.stringify(last));
  assert.match(last, /\| 2\/4 \[/);
  assert.match(last, /2\.0 KiB, 1 retries, 1 failed/);
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
