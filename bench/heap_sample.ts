/**
 * Where bulkget allocates: runs `bulkget ARGS` in a child `deno run -A
 * --inspect-wait`, attaches to it over the inspector protocol, samples the
 * main thread's allocations for the whole command (V8's sampling heap
 * profiler, counting objects that died young too), and prints the bytes
 * allocated by function and by file, top first.
 *
 * ```sh
 * deno run -A bench/heap_sample.ts [--interval 4096] [--top 40] -- get -q -i LIST -o DIR -m 100
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { main } from "../lib/cli/main.ts";

/** Printed by the child once the command has returned. */
const DONE = "__heap_sample_done__";

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    interval: { type: "string", default: "4096" },
    top: { type: "string", default: "40" },
    port: { type: "string", default: "9331" },
    child: { type: "boolean" },
  },
});

if (values.child) {
  // The child: run the command, say so, and wait to be stopped.
  const code = await main(positionals);
  console.log(`${DONE} ${code}`);
  await new Promise(() => setInterval(() => {}, 1 << 30));
}

const port = Number(values.port);
const child = new Deno.Command("deno", {
  args: [
    "run",
    "-A",
    `--inspect-wait=127.0.0.1:${port}`,
    new URL(import.meta.url).pathname,
    "--child",
    "--",
    ...positionals,
  ],
  stdout: "piped",
  stderr: "piped",
}).spawn();

// The inspector prints its WebSocket URL on stderr.
const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
let seen = "";
let wsUrl: string | undefined;
for (let i = 0; i < 200 && !wsUrl; i++) {
  const { value, done } = await reader.read();
  if (done) break;
  seen += value;
  wsUrl = /ws:\/\/\S+/.exec(seen)?.[0];
}
if (!wsUrl) {
  console.error(`no inspector URL in: ${seen}`);
  Deno.exit(1);
}
(async () => {
  for (;;) {
    const { done } = await reader.read();
    if (done) return;
  }
})();

const ws = new WebSocket(wsUrl);
await new Promise((resolve) => ws.onopen = resolve);
let nextId = 1;
const waiting = new Map<number, (result: unknown) => void>();
ws.onmessage = (event) => {
  const message = JSON.parse(event.data);
  if (message.id && waiting.has(message.id)) {
    waiting.get(message.id)!(message.result ?? message.error);
    waiting.delete(message.id);
  }
};
const call = (method: string, params: unknown = {}) =>
  new Promise<unknown>((resolve) => {
    const id = nextId++;
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });

await call("HeapProfiler.enable");
await call("HeapProfiler.startSampling", {
  samplingInterval: Number(values.interval),
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
await call("Runtime.runIfWaitingForDebugger");
// Sample until the child says the command has returned.
const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let out = "";
while (!out.includes(DONE)) {
  const { value, done } = await lines.read();
  if (done) break;
  out += value;
}
console.log(out.replace(new RegExp(`${DONE}.*\n?`), "").trimEnd());
const profile = await call("HeapProfiler.stopSampling") as {
  profile?: { head: SampleNode };
};
ws.close();
try {
  child.kill("SIGTERM");
} catch {
  // ended
}
await child.status;
if (!profile?.profile) {
  console.error("no profile (the program ended before it could be taken)");
  Deno.exit(1);
}

const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
/** Natives and Deno's own code are charged to their nearest caller in lib/. */
const walk = (node: SampleNode, caller: string) => {
  const f = node.callFrame;
  const ours = /\/lib\//.test(f.url);
  const file = ours ? f.url.replace(/^file:\/\/.*?\/lib\//, "lib/") : caller;
  const key = `${f.functionName || "(anonymous)"} ${
    f.url.replace(/^file:\/\/.*?\/(lib|bench)\//, "$1/") || "(native)"
  }:${f.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
  byFile.set(file, (byFile.get(file) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const c of node.children) walk(c, file);
};
walk(profile.profile.head, "(no caller in lib/)");
const top = Number(values.top);
const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (total ${(total / 2 ** 20).toFixed(1)} MiB sampled)`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${(v / total * 100).toFixed(1).padStart(5)} % ${
        (v / 2 ** 20).toFixed(1).padStart(7)
      } MiB  ${k}`,
    );
  }
};
print("allocated by function", byFunction);
print("allocated by file (natives charged to their caller in lib/)", byFile);
