import { deepEqual, equal, rejects } from "node:assert/strict";
import { jobsFromList } from "../lib/source/url_list.ts";
import { SourceError } from "../lib/core/errors.ts";

const encoder = new TextEncoder();
const streamOf = (text: string) => ReadableStream.from([encoder.encode(text)]);

Deno.test("jobsFromList() reads a list file: comments, blanks, CRLF, BOM, no final newline", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/list.txt`;
    await Deno.writeTextFile(
      path,
      "\ufeffhttp://h/flags/br/br.gif\r\n# comment\r\n\r\n   \r\n  # indented comment\n\thttps://h/x/ \nhttp://h/a?b=1",
    );
    deepEqual(await Array.fromAsync(jobsFromList(path)), [
      { url: "http://h/flags/br/br.gif", dest: "br.gif", origin: `${path}:1` },
      { url: "https://h/x/", dest: "index.html", origin: `${path}:6` },
      { url: "http://h/a?b=1", dest: "a", origin: `${path}:7` },
    ]);
    deepEqual(
      (await Array.fromAsync(
        jobsFromList(path, { name: "list.txt", keepPaths: true }),
      )).map((j) => [j.origin, j.dest]),
      [["list.txt:1", "flags/br/br.gif"], ["list.txt:6", "x/index.html"], [
        "list.txt:7",
        "a",
      ]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jobsFromList() reads a stream, named 'input' by default", async () => {
  deepEqual(await Array.fromAsync(jobsFromList(streamOf("http://h/a\n"))), [
    { url: "http://h/a", dest: "a", origin: "input:1" },
  ]);
});

Deno.test("jobsFromList() names file and line of a bad line", async () => {
  const cases: [string, string][] = [
    ["ftp://x", 'list.txt:3: not an http(s) URL: "ftp://x"'],
    ["ftp://me:secret@x/", 'list.txt:3: not an http(s) URL: "ftp://***@x/"'],
    [
      "example.com/a.gif",
      'list.txt:3: not an http(s) URL: "example.com/a.gif"',
    ],
    [
      "http://a/x http://b/y",
      'list.txt:3: expected one URL per line, got "http://a/x http://b/y" (write spaces in a URL as %20)',
    ],
  ];
  for (const [line, message] of cases) {
    const input = streamOf(`http://h/1\n\n${line}\nhttp://h/4\n`);
    const seen: string[] = [];
    await rejects(
      (async () => {
        for await (const job of jobsFromList(input, { name: "list.txt" })) {
          seen.push(job.dest);
        }
      })(),
      (e: unknown) =>
        e instanceof SourceError && e.message === message &&
        e.origin === "list.txt:3",
    );
    deepEqual(seen, ["1"]); // jobs before the bad line were already yielded
  }
});

Deno.test("jobsFromList() streams: the first job comes before the input is read", async () => {
  const LINES = 1_000_000;
  const PER_CHUNK = 1000;
  let pulled = 0;
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next >= LINES) return controller.close();
      pulled++;
      let text = "";
      for (let i = 0; i < PER_CHUNK; i++) text += `http://h/f/${next++}.bin\n`;
      controller.enqueue(encoder.encode(text));
    },
  });
  const jobs = jobsFromList(stream, { name: "big.txt" });
  const first = await jobs.next();
  equal(first.done, false);
  deepEqual(first.value, {
    url: "http://h/f/0.bin",
    dest: "0.bin",
    origin: "big.txt:1",
  });
  equal(pulled <= 3, true, `pulled ${pulled} chunks before the first job`);
  await jobs.return(undefined); // stops reading: the rest is never produced
  equal(pulled <= 3, true);
});

Deno.test("jobsFromList() runs a million lines to the end", async () => {
  const LINES = 1_000_000;
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next >= LINES) return controller.close();
      let text = "";
      for (let i = 0; i < 4096 && next < LINES; i++) {
        text += `http://h/f/${next++}.bin\r\n`;
      }
      controller.enqueue(encoder.encode(text));
    },
  });
  let count = 0;
  let last = "";
  for await (const job of jobsFromList(stream, { name: "big.txt" })) {
    count++;
    last = job.origin!;
  }
  equal(count, LINES);
  equal(last, `big.txt:${LINES}`);
});
