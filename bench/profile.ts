/**
 * Where bulkget's time goes on small files: the same N files fetched in one
 * process five ways, each into a fresh directory on tmpfs, against nginx (or
 * the Deno server when nginx is missing), CPU from `getrusage` (all threads).
 *
 * - `fetch only`: fetch + arrayBuffer, nothing written (the network floor)
 * - `bare`: fetch + `Deno.writeFile` (bench/bare.ts's loop)
 * - `engine, no disk`: the real pool + fetchOne with a writer that does nothing
 * - `writer only`: the real writer Worker, probe + put per file, no network
 * - `download()`: the whole engine, counting Worker messages both ways
 *
 * ```sh
 * deno run --allow-all bench/profile.ts [--files 5000] [--size 1k] [-m 100]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { generatedBody } from "../lib/server/files.ts";
import { download } from "../lib/engine/download.ts";
import { fetchOne } from "../lib/engine/fetch_one.ts";
import { pool } from "../lib/engine/pool.ts";
import { openWriter } from "../lib/writer/client.ts";
import { loopConcurrently, NO_DISK_WRITER } from "./stand_ins.ts";
import type { Job } from "../lib/core/job.ts";
import { type BenchServer, startDenoServer, startNginx } from "./servers.ts";
import { which } from "./tools.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

const { values } = parseArgs({
  args: Deno.args,
  options: {
    files: { type: "string", default: "5000" },
    size: { type: "string", default: "1k" },
    m: { type: "string", short: "m", default: "100" },
  },
});
const N = Number(values.files);
const SIZE_SPEC = values.size!;
const SIZE = Number(SIZE_SPEC.replace(/k$/i, "")) *
  (/k$/i.test(SIZE_SPEC) ? 1024 : 1);
const M = Number(values.m);

const work = await Deno.makeTempDir({
  dir: "/dev/shm",
  prefix: "bulkget-prof-",
});
const names = Array.from(
  { length: N },
  (_, i) => `p${String(i).padStart(6, "0")}.bin`,
);
let server: BenchServer;
if (which("nginx")) {
  await Deno.mkdir(`${work}/www/files/${SIZE_SPEC}`, { recursive: true });
  for (const name of names) {
    Deno.writeFileSync(
      `${work}/www/files/${SIZE_SPEC}/${name}`,
      generatedBody(name, SIZE),
    );
  }
  server = await startNginx(`${work}/nginx`, `${work}/www`);
} else {
  server = await startDenoServer(ROOT, "LOCAL");
}
const urls = names.map((n) => `${server.base}/files/${SIZE_SPEC}/${n}`);
const jobs: Job[] = names.map((n, i) => ({ url: urls[i], dest: n }));

async function measure(
  label: string,
  fn: (out: string) => Promise<void>,
  extra = () => "",
) {
  const out = `${work}/out-${label.replace(/\W+/g, "-")}`;
  await Deno.mkdir(out, { recursive: true });
  const cpu0 = process.cpuUsage();
  const srv0 = server.cpuSeconds();
  const t0 = performance.now();
  await fn(out);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${label.padEnd(16)} ${(N / wall).toFixed(0).padStart(6)} files/s  wall ${
      wall.toFixed(2)
    } s  ` +
      `cpu ${(cpuS / N * 1000).toFixed(3)} ms/file (user ${
        (cpu.user / 1e3 / N).toFixed(3)
      }, sys ${(cpu.system / 1e3 / N).toFixed(3)}), ${
        (cpuS / wall * 100).toFixed(0)
      } % of a core; server ${
        ((server.cpuSeconds() - srv0) / wall * 100).toFixed(0)
      } %${extra()}`,
  );
  await Deno.remove(out, { recursive: true });
}

/** Runs `fn` over every index, M at once. */
const loop = (fn: (i: number) => Promise<void>) => loopConcurrently(M, N, fn);

// Count the writer's messages both ways.
let toWorker = 0, toWorkerItems = 0, fromWorker = 0;
const post = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (
  this: Worker,
  msg: unknown,
  t?: unknown,
) {
  toWorker++;
  toWorkerItems += (msg as { items?: unknown[] }).items?.length ?? 0;
  if (
    !this.onmessage || (this as unknown as { __wrapped?: boolean }).__wrapped
  ) {
    // deno-lint-ignore no-explicit-any
    return post.call(this, msg, t as any);
  }
  const inner = this.onmessage;
  this.onmessage = (e: MessageEvent) => {
    fromWorker++;
    inner.call(this, e);
  };
  (this as unknown as { __wrapped?: boolean }).__wrapped = true;
  // deno-lint-ignore no-explicit-any
  return post.call(this, msg, t as any);
};

try {
  console.log(
    `${N} × ${SIZE_SPEC} from ${server.kind}, -m ${M}, one process, ${navigator.hardwareConcurrency} cores`,
  );
  for (let round = 0; round < 2; round++) {
    await measure("fetch only", () =>
      loop(async (i) => {
        const r = await fetch(urls[i]);
        await r.arrayBuffer();
      }));
    await measure("bare", (out) =>
      loop(async (i) => {
        const r = await fetch(urls[i]);
        await Deno.writeFile(
          `${out}/${names[i]}`,
          new Uint8Array(await r.arrayBuffer()),
        );
      }));
    await measure("engine, no disk", async () => {
      // One options object for the run, as download() makes it.
      const options = { writer: NO_DISK_WRITER };
      for await (
        const _ of pool(jobs, (job) => fetchOne(job, options), {
          poolLimit: M,
        })
      ) { /* drain */ }
    });
    await measure("writer only", async (out) => {
      const writer = openWriter({ outDir: out });
      const body = generatedBody("x", SIZE);
      await loop(async (i) => {
        await writer.probe(names[i]);
        await writer.put(names[i], body.slice(), {});
      });
      await writer.close();
    });
    toWorker = toWorkerItems = fromWorker = 0;
    await measure(
      "download()",
      async (out) => {
        for await (const _ of download(jobs, { outDir: out, concurrency: M })) {
          /* drain */
        }
      },
      () =>
        `; writer messages: ${toWorker} to (${
          (toWorkerItems / Math.max(1, toWorker - 1)).toFixed(1)
        } items each), ${fromWorker} back`,
    );
  }
} finally {
  await server.stop();
  await Deno.remove(work, { recursive: true });
}
