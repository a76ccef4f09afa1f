/**
 * Stopping: one SIGINT or SIGTERM stops a run even while its input waits
 * for a line that never comes; a second Ctrl-C exits at once even while the
 * clean stop is still going.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { bulkgetCommand } from "./_helpers.ts";

/** The child's exit code, or "running" when it has not exited within `ms`. */
async function exitWithin(
  child: Deno.ChildProcess,
  ms: number,
): Promise<number | "running"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    child.status.then((s) => s.code),
    new Promise<"running">((resolve) =>
      timer = setTimeout(() => resolve("running"), ms)
    ),
  ]);
  clearTimeout(timer);
  return result;
}

async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 200; i++) { // at most 10 s
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${path} never appeared`);
}

for (const [name, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`one ${name} stops get -i - while stdin stays open and silent (exit ${code})`, async () => {
    await using server = await startServer({ alt: false });
    const dir = await Deno.makeTempDir();
    const child = bulkgetCommand(["get", "-i", "-", "-o", dir], {
      stdin: "piped",
    }).spawn();
    const stdin = child.stdin.getWriter();
    // Each line starts at once (it is not held for the next one), and the
    // run then waits for a third line that never comes.
    await stdin.write(
      new TextEncoder().encode(
        `${server.url}/flags/br/br.gif\n${server.url}/flags/fr/fr.gif\n`,
      ),
    );
    await waitForFile(`${dir}/br.gif`);
    await waitForFile(`${dir}/fr.gif`); // running, and waiting for line 3
    child.kill(name);
    const exited = await exitWithin(child, 10_000);
    if (exited === "running") child.kill("SIGKILL");
    const output = await child.output();
    await stdin.close().catch(() => {});
    assert.equal(exited, code, new TextDecoder().decode(output.stderr));
    assert.match(
      new TextDecoder().decode(output.stdout),
      /^bulkget: 2 downloaded/m,
    );
  });
}

Deno.test("a second Ctrl-C exits at once while the clean stop is still going", async () => {
  // A command whose clean stop never ends, to see the second signal act.
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    script,
    `import { listenForInterrupts } from ${
      JSON.stringify(new URL("../lib/cli/interrupt.ts", import.meta.url).href)
    };
const interrupts = listenForInterrupts(() => console.log("stopping"));
console.log("ready");
await new Promise((resolve) => interrupts.signal.addEventListener("abort", resolve));
await new Promise(() => setInterval(() => {}, 1000)); // the clean stop, stuck
`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-all", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("ready")) {
    const { value, done } = await lines.read();
    if (done) break;
    seen += value;
  }
  child.kill("SIGINT");
  while (!seen.includes("stopping")) {
    const { value, done } = await lines.read();
    if (done) break;
    seen += value;
  }
  assert.equal(await exitWithin(child, 1500), "running", "the first one waits");
  child.kill("SIGINT");
  const exited = await exitWithin(child, 10_000);
  if (exited === "running") child.kill("SIGKILL");
  lines.releaseLock();
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel();
  assert.equal(exited, 130);
});
