/**
 * README claims about the progress bar on a terminal, run end to end under a
 * pseudo-terminal (`script` from util-linux): a list's total from the first
 * frames, `+` while a pipe is open, one large file moving by its bytes. The
 * drawing itself is unit-tested in `progress_test.ts`.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/server/server.ts";
import { hasScript, MAIN } from "./_helpers.ts";

const ignore = !(await hasScript());

/** Runs a shell command under a pseudo-terminal; returns the frames drawn. */
async function framesOf(shell: string, cwd: string): Promise<string[]> {
  return framesIn(await underTerminal(shell, cwd));
}

/** The bar's frames in a terminal's output. */
function framesIn(text: string): string[] {
  return text.split(/\r|\n/).map((line) => line.replace("\u001b[K", ""))
    .filter((line) => /\[\d\d:\d\d</.test(line));
}

/** Runs a shell command under a pseudo-terminal; returns all it printed. */
async function underTerminal(shell: string, cwd: string): Promise<string> {
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
  return text;
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

Deno.test({
  name:
    "flags on a terminal: after Ctrl-C the bar's last frame counts the flags that ended, as the closing lines do, not the ones interrupted",
  ignore,
  async fn() {
    // Every answer takes 500 ms: with -m 5, flags are in flight at any time.
    await using server = await startServer({ preset: "DELAY", alt: false });
    const cwd = await Deno.makeTempDir();
    const flags = `'${Deno.execPath()}' run --quiet -A '${MAIN}' flags`;
    const text = await underTerminal(
      `${flags} --base-url ${server.url}/flags -a -m 5 & p=$!; ` +
        `sleep 2; kill -INT $p; wait $p; echo "exit $?"`,
      cwd,
    );
    assert.match(text, /^exit 130/m, text);
    const count = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
    const ended = count(/^ *(\d+) flags? downloaded\./m) +
      count(/^ *(\d+) not found\./m) + count(/^ *(\d+) errors?\./m);
    assert.ok(ended > 0 && ended < 194, text);
    const last = framesIn(text).at(-1) ?? "";
    assert.equal(Number(/ (\d+)\/194 \[/.exec(last)?.[1]), ended, last);
  },
});
