/**
 * Where a small file's CPU and memory go, layer by layer, in one warm
 * process: the same N files fetched by each layer of bulkget in turn, from a
 * server given by URL list, each layer measured for CPU (`getrusage`, all
 * threads) and bytes allocated on the main thread's heap (V8's young
 * generation is made large enough that no GC runs inside a layer, so the
 * heap's growth is the allocation).
 *
 * - `http1`: the own HTTP/1.1 client, body read, nothing else
 * - `fetchOne`: the pool and fetchOne over the own client, a writer that does nothing
 * - `writer`: the writer Worker alone (put per file, no network)
 * - `download()`: the engine, real writer
 * - `get`: the whole command line (`main(["get", …])`) in this process
 *
 * ```sh
 * deno run -A --v8-flags=--max-semi-space-size=1024,--min-semi-space-size=1024 \
 *   bench/layers.ts LIST OUTDIR [-m 100] [--rounds 2]
 * ```
 *
 * The list's URLs must serve equal small bodies; OUTDIR is emptied.
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { Http1Client } from "../lib/engine/http1.ts";
import { fetchOne } from "../lib/engine/fetch_one.ts";
import { pool } from "../lib/engine/pool.ts";
import { download } from "../lib/engine/download.ts";
import { openWriter } from "../lib/writer/client.ts";
import { loopConcurrently, NO_DISK_WRITER } from "./stand_ins.ts";
import { main } from "../lib/cli/main.ts";
import type { Job } from "../lib/core/job.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    m: { type: "string", short: "m", default: "100" },
    rounds: { type: "string", default: "2" },
    only: { type: "string" },
  },
});
const [listPath, outDir] = positionals;
if (!listPath || !outDir) {
  console.error("usage: layers.ts LIST OUTDIR [-m N] [--rounds R]");
  Deno.exit(2);
}
const M = Number(values.m);
const urls = (await Deno.readTextFile(listPath)).split("\n").filter((l) => l);
const N = urls.length;
const names = urls.map((u) => u.slice(u.lastIndexOf("/") + 1));
const jobs: Job[] = names.map((dest, i) => ({ url: urls[i], dest }));

/** Runs `fn` over every index, M at once. */
const loop = (fn: (i: number) => Promise<void>) => loopConcurrently(M, N, fn);

async function fresh(): Promise<void> {
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(outDir, { recursive: true });
}

async function measure(label: string, fn: () => Promise<void>) {
  await fresh();
  const heap0 = Deno.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const heap = Deno.memoryUsage().heapUsed - heap0;
  console.log(
    `${label.padEnd(11)} ${(N / wall).toFixed(0).padStart(6)} files/s  cpu ${
      ((cpu.user + cpu.system) / 1e3 / N * 1000).toFixed(1).padStart(5)
    } µs/file  heap +${(heap / N / 1024).toFixed(1).padStart(5)} KiB/file`,
  );
}

const layers: Record<string, () => Promise<void>> = {
  http1: async () => {
    const client = new Http1Client({ maxIdle: M * 2 });
    await loop(async (i) => {
      const r = await client.get(new URL(urls[i]), []);
      await r.arrayBuffer();
    });
    client.close();
  },
  fetchOne: async () => {
    const http1 = new Http1Client({ maxIdle: M * 2 });
    // One options object for the run, as download() makes it.
    const options = { writer: NO_DISK_WRITER, http1 };
    for await (
      const _ of pool(jobs, (job) => fetchOne(job, options), { poolLimit: M })
    ) { /* drain */ }
    http1.close();
  },
  writer: async () => {
    const writer = openWriter({ outDir });
    const body = new Uint8Array(1024);
    await loop(async (i) => {
      await writer.probe(names[i]);
      await writer.put(names[i], body.slice(), {});
    });
    await writer.close();
  },
  "download()": async () => {
    for await (const _ of download(jobs, { outDir, concurrency: M })) {
      /* drain */
    }
  },
  get: async () => {
    const code = await main([
      "get",
      "-q",
      "-i",
      listPath,
      "-o",
      outDir,
      "-m",
      String(M),
    ]);
    if (code !== 0) throw new Error(`get exited ${code}`);
  },
};

console.log(`${N} files, -m ${M}, ${navigator.hardwareConcurrency} cores`);
const chosen = values.only?.split(",") ?? Object.keys(layers);
for (let round = 1; round <= Number(values.rounds); round++) {
  console.log(`round ${round}`);
  for (const name of chosen) await measure(name, layers[name]);
}
await Deno.remove(outDir, { recursive: true }).catch(() => {});
