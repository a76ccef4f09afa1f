import assert from "node:assert/strict";
import { pool } from "../lib/engine/pool.ts";

/** Resolves after the given number of macrotask turns (no wall-clock timing). */
function turns(n: number): Promise<void> {
  return n <= 0
    ? Promise.resolve()
    : new Promise((r) => setTimeout(() => turns(n - 1).then(r), 0));
}

Deno.test("pool yields results in completion order and runs at most poolLimit at once", async () => {
  let active = 0;
  let peak = 0;
  const results: number[] = [];
  for await (
    const value of pool([5, 1, 3, 2, 4], async (n) => {
      active++;
      peak = Math.max(peak, active);
      await turns(n);
      active--;
      return n;
    }, { poolLimit: 2 })
  ) results.push(value);
  assert.equal(peak, 2);
  assert.deepEqual([...results].sort(), [1, 2, 3, 4, 5]);
  assert.notDeepEqual(
    results,
    [5, 1, 3, 2, 4],
    "a slow first item must not hold back the others",
  );
  assert.equal(results[0], 1);
});

Deno.test("pool takes items lazily from an async iterable", async () => {
  let pulled = 0;
  async function* source() {
    for (let i = 0; i < 1_000_000; i++) {
      pulled++;
      yield i;
    }
  }
  let seen = 0;
  for await (
    const _ of pool(source(), (n) => Promise.resolve(n), { poolLimit: 4 })
  ) {
    if (++seen === 10) break;
  }
  assert.ok(pulled < 100, `pulled ${pulled} items to yield 10`);
});

Deno.test("pool bounds calls per key", async () => {
  const activeByKey = new Map<string, number>();
  let peakA = 0;
  let peakAll = 0;
  let active = 0;
  const items = [...Array(30)].map((_, i) => ({
    key: i % 3 === 0 ? "b" : "a",
    i,
  }));
  let count = 0;
  for await (
    const _ of pool(items, async (item) => {
      active++;
      activeByKey.set(item.key, (activeByKey.get(item.key) ?? 0) + 1);
      peakA = Math.max(peakA, activeByKey.get("a") ?? 0);
      peakAll = Math.max(peakAll, active);
      await turns(2);
      activeByKey.set(item.key, activeByKey.get(item.key)! - 1);
      active--;
    }, { poolLimit: 5, perKeyLimit: 2, keyOf: (item) => item.key })
  ) count++;
  assert.equal(count, 30);
  assert.equal(peakA, 2);
  assert.ok(peakAll <= 4, `two keys with 2 each allow 4, saw ${peakAll}`);
});

Deno.test("pool stops starting work when the signal aborts and still yields running results", async () => {
  const controller = new AbortController();
  const started: number[] = [];
  const results: string[] = [];
  for await (
    const r of pool([1, 2, 3, 4, 5, 6], async (n, signal) => {
      started.push(n);
      if (n === 2) controller.abort();
      await turns(1);
      return signal?.aborted ? `cancelled ${n}` : `done ${n}`;
    }, { poolLimit: 2, signal: controller.signal })
  ) results.push(r);
  assert.deepEqual(started, [1, 2]);
  assert.deepEqual(results.sort(), ["cancelled 1", "cancelled 2"]);
});

Deno.test("pool rethrows a bug in fn after the running calls settle", async () => {
  const settled: number[] = [];
  await assert.rejects(async () => {
    for await (
      const _ of pool([1, 2, 3], async (n) => {
        await turns(n);
        settled.push(n);
        if (n === 1) throw new TypeError("bug");
        return n;
      }, { poolLimit: 2 })
    ) { /* drain */ }
  }, TypeError);
  assert.ok(settled.includes(2), "the call in progress was allowed to finish");
});

Deno.test("pool refuses a limit that is not a positive integer", async () => {
  await assert.rejects(async () => {
    for await (
      const _ of pool([1], (n) => Promise.resolve(n), { poolLimit: 0 })
    ) { /* none */ }
  }, RangeError);
});

Deno.test("pool yields running results before rethrowing a source error", async () => {
  async function* source() {
    yield 1;
    yield 2;
    throw new SyntaxError("bad line 3");
  }
  const results: number[] = [];
  await assert.rejects(async () => {
    for await (
      const n of pool(source(), async (n) => {
        await turns(3);
        return n;
      }, { poolLimit: 4 })
    ) results.push(n);
  }, SyntaxError);
  assert.deepEqual(results.sort(), [1, 2]);
});

Deno.test("pool stops waiting for a source that never yields again once the signal aborts", async () => {
  let returned = false;
  async function* stuck(): AsyncGenerator<number> {
    try {
      yield 1;
      await new Promise(() => {}); // like a stdin that stays open and silent
    } finally {
      returned = true;
    }
  }
  const controller = new AbortController();
  const results: number[] = [];
  const run = (async () => {
    for await (
      const r of pool(stuck(), (n) => Promise.resolve(n * 10), {
        poolLimit: 2,
        signal: controller.signal,
      })
    ) {
      results.push(r);
      controller.abort();
    }
    return "ended";
  })();
  const outcome = await Promise.race([
    run,
    new Promise((resolve) => setTimeout(() => resolve("still waiting"), 5000)),
  ]);
  assert.equal(outcome, "ended");
  assert.deepEqual(results, [10]);
  assert.equal(returned, false, "the stuck source was left, not awaited");
});

Deno.test("pool hands over a finished result while the source is still slow to give the next item", async () => {
  let secondProduced = false;
  async function* slow(): AsyncGenerator<number> {
    yield 1;
    await new Promise((resolve) => setTimeout(resolve, 300));
    secondProduced = true;
    yield 2;
  }
  const seen: Array<[number, boolean]> = [];
  for await (
    const r of pool(slow(), (n) => Promise.resolve(n * 10), { poolLimit: 4 })
  ) {
    seen.push([r, secondProduced]);
  }
  assert.deepEqual(seen, [[10, false], [20, true]]);
});

Deno.test("pool does not spin when the source's next item arrives after an abort while a call is still running", async () => {
  // In a child process: a spin starves the event loop (the running call's
  // timer never fires), so a child still running after 20 s is killed.
  const script = `
    import { pool } from ${
    JSON.stringify(new URL("../lib/engine/pool.ts", import.meta.url).href)
  };
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    async function* items() {
      yield 1;
      await new Promise((r) => setTimeout(r, 50)); // comes after the abort
      yield 2;
    }
    const done = [];
    const calls = pool(items(), async (n, signal) => {
      await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
      await new Promise((r) => setTimeout(r, 200)); // still winding down when item 2 comes
      return n;
    }, { poolLimit: 4, signal: controller.signal });
    for await (const n of calls) done.push(n);
    console.log(JSON.stringify(done));
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const output = await child.output();
  clearTimeout(killer);
  assert.equal(
    output.code,
    0,
    `the pool hung: ${new TextDecoder().decode(output.stderr)}`,
  );
  assert.equal(new TextDecoder().decode(output.stdout).trim(), "[1]");
});
