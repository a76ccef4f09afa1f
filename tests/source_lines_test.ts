import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { readLines } from "../lib/source/lines.ts";
import { openInput } from "../lib/source/open_input.ts";
import { SourceError } from "../lib/core/errors.ts";

const encoder = new TextEncoder();

function streamOf(
  ...chunks: (string | number[])[]
): ReadableStream<Uint8Array> {
  return ReadableStream.from(
    chunks.map((c) =>
      typeof c === "string" ? encoder.encode(c) : new Uint8Array(c)
    ),
  );
}

async function texts(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const lines = await Array.fromAsync(readLines(stream));
  lines.forEach((l, i) => equal(l.line, i + 1));
  return lines.map((l) => l.text);
}

Deno.test("readLines() splits LF and CRLF, keeps a last line without newline", async () => {
  deepEqual(await texts(streamOf("a\nb\r\n\nc")), ["a", "b", "", "c"]);
  deepEqual(await texts(streamOf("a\n")), ["a"]);
  deepEqual(await texts(streamOf("")), []);
  deepEqual(await texts(streamOf("\r\n")), [""]);
});

Deno.test("readLines() joins lines split across chunks, also inside characters", async () => {
  const bytes = encoder.encode("\u00e9t\u00e9\r\n\u20ac\nlast");
  const chunks = [...bytes].map((b) => [b]); // one byte per chunk
  deepEqual(await texts(streamOf(...chunks)), [
    "\u00e9t\u00e9",
    "\u20ac",
    "last",
  ]);
  deepEqual(await texts(streamOf("ab", "c\r", "\nd", "e")), ["abc", "de"]);
});

Deno.test("readLines() drops a BOM at the start only", async () => {
  deepEqual(await texts(streamOf([0xef, 0xbb], [0xbf, 0x61, 0x0a])), ["a"]);
  deepEqual(await texts(streamOf("a\n\ufeffb")), ["a", "\ufeffb"]);
});

Deno.test("readLines() names the line of invalid UTF-8", async () => {
  await rejects(
    Array.fromAsync(
      readLines(streamOf("ok\n", [0x61, 0xff, 0x0a]), { name: "l.txt" }),
    ),
    (e: unknown) =>
      e instanceof SourceError && e.message === "l.txt:2: invalid UTF-8",
  );
});

Deno.test("readLines() refuses a line longer than maxLineBytes, across chunks", async () => {
  deepEqual(
    await Array.fromAsync(
      readLines(streamOf("1234\r\n12", "34"), { maxLineBytes: 4 }),
    ),
    [{ line: 1, text: "1234" }, { line: 2, text: "1234" }],
  );
  await rejects(
    Array.fromAsync(
      readLines(streamOf("ok\n123", "45", "6\n"), { maxLineBytes: 4 }),
    ),
    { name: "SourceError", message: "input:2: line is longer than 4 bytes" },
  );
  // A stream without newlines stops at the limit instead of filling memory.
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024).fill(0x61));
    },
  });
  await rejects(
    Array.fromAsync(readLines(endless, { maxLineBytes: 10_000 })),
    /line is longer than 10000 bytes/,
  );
  equal(pulled < 20, true);
});

Deno.test("readLines() checks its arguments", () => {
  throws(() => readLines(42 as unknown as string), TypeError);
  throws(
    () => readLines("x", { maxLineBytes: 0 }),
    {
      name: "RangeError",
      message:
        'Invalid option "maxLineBytes": expected a positive integer, got 0',
    },
  );
});

Deno.test("readLines() reads a file by path and cancels on break", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/list.txt`;
    await Deno.writeTextFile(path, "one\ntwo\nthree\n");
    deepEqual(
      (await Array.fromAsync(readLines(path))).map((l) => l.text),
      ["one", "two", "three"],
    );
    for await (const line of readLines(path)) {
      equal(line.text, "one");
      break; // the file must be closed: the test's resource check sees it
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openInput() refuses missing files and directories with a SourceError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejects(openInput(`${dir}/nope.txt`), {
      name: "SourceError",
      message: `${dir}/nope.txt: cannot read: no such file`,
    });
    await rejects(openInput(dir), {
      name: "SourceError",
      message: `${dir}: cannot read: it is a directory`,
    });
    await rejects(
      Array.fromAsync(readLines(`${dir}/nope.txt`)),
      (e: unknown) =>
        e instanceof SourceError && e.origin === `${dir}/nope.txt`,
    );
    await rejects(openInput(""), TypeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openInput('-') reads standard input", async () => {
  const script = new URL("../lib/source/url_list.ts", import.meta.url).href;
  const code = `
    import { jobsFromList } from ${JSON.stringify(script)};
    for await (const job of jobsFromList("-")) console.log(job.origin, job.dest);
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(encoder.encode("# list\nhttp://h/a.gif\r\nhttp://h/b/\n"));
  await writer.close();
  const { code: status, stdout, stderr } = await child.output();
  equal(new TextDecoder().decode(stderr), "");
  equal(status, 0);
  equal(
    new TextDecoder().decode(stdout),
    "stdin:2 a.gif\nstdin:3 index.html\n",
  );
});
