/**
 * README claims about the progress bar on a terminal, run end to end under a
 * pseudo-terminal (`script` from util-linux): a list's total from the first
 * frames, `+` while a pipe is open, one large file moving by its bytes. The
 * drawing itself is unit-tested in `progress_test.ts`.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { MAIN } from "./_helpers.ts";

const hasScript = await new Deno.Command("script", { args: ["--version"] })
  .output().then((o) => o.success, () => false);
const ignore = !hasScript;

/** Runs a shell command under a pseudo-terminal; returns the frames drawn. */
async function framesOf(shell: string, cwd: string): Promise<string[]> {
  const output = await new Deno.Command("script", {
    args: ["-qec", shell, "/dev/null"],
    cwd,
    env: { NO_COLOR: "1", COLUMNS: "160" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, text);
  return text.split(/\r|\n/).map((line) => line.replace("\u001b[K", ""))
    .filter((line) => /\[\d\d:\d\d</.test(line));
}

const bulkget = `'${Deno.execPath()}' run --quiet -A '${MAIN}' get`;

/** A directory holding `list.txt`: `count` URLs of a server answering each after 300 ms. */
async function slowList(
  server: { url: string },
  count: number,
): Promise<string> {
  const cwd = await Deno.makeTempDir();
  const list = Array.from(
    { length: count },
    (_, i) => `${server.url}/files/1000/f${i}.bin`,
  );
  await Deno.writeTextFile(`${cwd}/list.txt`, list.join("\n") + "\n");
  return cwd;
}

const SLOW = { faults: { latency: { rate: 1, ms: 300 } }, alt: false };

Deno.test({
  name:
    "README output: on a terminal a list's total shows before the files are done, never with '+'",
  ignore,
  async fn() {
    await using server = await startServer(SLOW);
    const cwd = await slowList(server, 30);
    const frames = await framesOf(`${bulkget} -i list.txt -o out -m 5`, cwd);
    const early = frames.filter((f) => / (\d+)\/30 \[/.test(f))
      .filter((f) => Number(/ (\d+)\/30 \[/.exec(f)![1]) < 30);
    assert.ok(early.length > 0, frames.join("\n"));
    assert.ok(!frames.some((f) => f.includes("/30+")), frames.join("\n"));
  },
});

Deno.test({
  name:
    "README output: while standard input is open the total so far has a '+'",
  ignore,
  async fn() {
    await using server = await startServer(SLOW);
    const cwd = await slowList(server, 10);
    const frames = await framesOf(
      `(cat list.txt; sleep 1.5) | ${bulkget} -i - -o out -m 2`,
      cwd,
    );
    assert.ok(
      frames.some((f) => / \d+\/10\+ \[/.test(f)),
      frames.join("\n"),
    );
  },
});

Deno.test({
  name:
    "README output: one large file with a known length moves the bar by its bytes",
  ignore,
  async fn() {
    await using server = await startServer({
      faults: { slow: { rate: 1, bytesPerSecond: 4_000_000 } },
      alt: false,
    });
    const cwd = await Deno.makeTempDir();
    const frames = await framesOf(
      `${bulkget} ${server.url}/files/8m/big.bin -o out`,
      cwd,
    );
    const partial = frames.filter((f) => {
      const match = /^\s*(\d+)%\|.* 0\/1 \[/.exec(f);
      return match !== null && Number(match[1]) > 0 && Number(match[1]) < 100;
    });
    assert.ok(partial.length > 0, frames.join("\n"));
  },
});
