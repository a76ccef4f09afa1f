/**
 * A/B of the main thread's engine of two bulkget trees, in one process:
 * the pool, fetchOne and the own HTTP client over the same URLs, with a
 * writer that does nothing, in rounds that alternate A B, B A, … Each
 * round's CPU (the process's, per file) is taken with `process.cpuUsage`;
 * the first round of each warms up and is not counted. Both versions run
 * warm in the same process on the same machine state, so a difference of a
 * few µs a file shows where whole-process runs (±15 % here) hide it.
 *
 * ```sh
 * git -C /work/main archive main | tar -x -C /tmp/tree-a    # the "before"
 * deno run -A bench/ab_engine.ts --a /tmp/tree-a --b . --list LIST [--rounds 8] [--files 20000]
 * ```
 *
 * The list's URLs (one a line) must answer 200 with small bodies (nginx
 * serving MANY's files, as `bench/ab.ts` sets up).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import type { Job, Outcome } from "../lib/core/job.ts";
import type { Writer } from "../lib/writer/client.ts";
import { median } from "./measure.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    a: { type: "string" },
    b: { type: "string" },
    list: { type: "string" },
    rounds: { type: "string", default: "8" },
    files: { type: "string", default: "20000" },
  },
});
if (!values.a || !values.b || !values.list) {
  console.error(
    "usage: ab_engine.ts --a TREE --b TREE --list LIST [--rounds N] [--files N]",
  );
  Deno.exit(2);
}

/** The engine of one tree, as this bench calls it. */
interface Engine {
  fetchOne(
    job: Job,
    options: { writer: Writer; http1: unknown },
  ): Promise<Outcome>;
  pool<T, R>(
    items: Iterable<T>,
    fn: (item: T) => Promise<R>,
    options: { poolLimit: number },
  ): AsyncGenerator<R>;
  newClient(): { close(): void };
}

async function load(tree: string): Promise<Engine> {
  const root = new URL(`${tree.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
  const fetchOne =
    (await import(new URL("lib/engine/fetch_one.ts", root).href)).fetchOne;
  const pool = (await import(new URL("lib/engine/pool.ts", root).href)).pool;
  const { Http1Client } = await import(
    new URL("lib/engine/http1.ts", root).href
  );
  return { fetchOne, pool, newClient: () => new Http1Client({ maxIdle: 200 }) };
}

const { NO_DISK_WRITER } = await import("./stand_ins.ts");
const engines = { A: await load(values.a), B: await load(values.b) };
const urls = (await Deno.readTextFile(values.list)).split("\n").filter(Boolean)
  .slice(0, Number(values.files));
const jobs: Job[] = urls.map((url, i) => ({ url, dest: `f${i}.bin` }));
const rounds = Number(values.rounds);
const perFile: Record<"A" | "B", number[]> = { A: [], B: [] };

for (let round = 0; round <= rounds; round++) {
  for (const side of round % 2 ? ["B", "A"] as const : ["A", "B"] as const) {
    const engine = engines[side];
    const http1 = engine.newClient();
    // One options object for the run, as download() makes it.
    const options = { writer: NO_DISK_WRITER, http1 };
    const before = process.cpuUsage();
    let ok = 0;
    for await (
      const outcome of engine.pool(
        jobs,
        (job) => engine.fetchOne(job, options),
        { poolLimit: 100 },
      )
    ) if (outcome.status === "ok") ok++;
    const used = process.cpuUsage(before);
    http1.close();
    if (ok !== jobs.length) console.error(`${side}: only ${ok} ok`);
    const us = (used.user + used.system) / jobs.length;
    if (round > 0) perFile[side].push(us);
    console.log(`round ${round} ${side}: ${us.toFixed(1)} µs of CPU a file`);
  }
}

const a = median(perFile.A), b = median(perFile.B);
const lower = perFile.B.filter((us, i) => us < perFile.A[i]).length;
console.log(
  `medians of ${rounds} rounds: A ${a.toFixed(1)}  B ${b.toFixed(1)}  B/A ${
    (b / a).toFixed(3)
  }; B lower in ${lower} of ${rounds}`,
);
