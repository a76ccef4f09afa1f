/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`): self time by
 * function and by file, top first.
 *
 * ```sh
 * deno run --allow-read bench/cpuprofile_top.ts PROFILE.cpuprofile [TOP]
 * ```
 *
 * @module
 */

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const [path, top = "25"] = Deno.args;
const profile = JSON.parse(await Deno.readTextFile(path)) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const f = byId.get(id)!.callFrame;
  const file = f.url.replace(/^file:\/\/.*?\/(lib|bench)\//, "$1/") ||
    "(native)";
  const key = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byFile.set(file, (byFile.get(file) ?? 0) + us);
}
const show = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (total ${(total / 1e3).toFixed(0)} ms sampled)`);
  for (
    const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top))
  ) {
    console.log(
      `${(us / total * 100).toFixed(1).padStart(5)} %  ${
        (us / 1e3).toFixed(0).padStart(6)
      } ms  ${k}`,
    );
  }
};
show("self time by function", byFunction);
show("self time by file", byFile);
