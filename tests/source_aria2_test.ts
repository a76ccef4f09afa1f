import { deepEqual, rejects } from "node:assert/strict";
import { jobsFromAria2 } from "../lib/source/aria2.ts";
import { SourceError } from "../lib/core/errors.ts";

const encoder = new TextEncoder();
const streamOf = (text: string) => ReadableStream.from([encoder.encode(text)]);
const HASH = "ab".repeat(32);

Deno.test("jobsFromAria2() reads every option", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/in.txt`;
    await Deno.writeTextFile(
      path,
      [
        "\ufeff# aria2 input file",
        "https://h/a/file.iso\thttps://mirror/file.iso\tftp://old/file.iso",
        "  dir=images/",
        "\tout=debian.iso",
        `  checksum=sha-256=${HASH.toUpperCase()}`,
        "  header=Authorization: Bearer t0k3n",
        "  header=X-Tag: one",
        "  header=x-tag: two",
        "",
        "https://h/b/plain.gif",
        "",
        "  # a comment between entries",
        "https://h/c/d.bin",
        `\tchecksum=sha256=${HASH}`,
        "\tdir=./x",
        "http://h/e/ ",
        "  dir=.",
      ].join("\r\n"),
    );
    deepEqual(await Array.fromAsync(jobsFromAria2(path, { name: "in.txt" })), [
      {
        url: "https://h/a/file.iso",
        mirrors: ["https://mirror/file.iso"], // ftp: left out
        dest: "images/debian.iso",
        origin: "in.txt:2",
        sha256: HASH,
        headers: { Authorization: "Bearer t0k3n", "X-Tag": "one, two" },
      },
      { url: "https://h/b/plain.gif", dest: "plain.gif", origin: "in.txt:10" },
      {
        url: "https://h/c/d.bin",
        dest: "x/d.bin",
        origin: "in.txt:13",
        sha256: HASH,
      },
      { url: "http://h/e/", dest: "index.html", origin: "in.txt:16" },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jobsFromAria2() keeps paths unless out= names the file", async () => {
  const text = "https://h/a/b.gif\nhttps://h/c/d.gif\n  out=e.gif\n" +
    "https://h/f/g.gif\n  dir=sub";
  deepEqual(
    (await Array.fromAsync(jobsFromAria2(streamOf(text), { keepPaths: true })))
      .map((job) => job.dest),
    ["a/b.gif", "e.gif", "sub/f/g.gif"],
  );
});

Deno.test("jobsFromAria2() names the line of each bad line", async () => {
  const cases: [string, string][] = [
    [
      "  splitt=5",
      'unknown aria2 option "splitt" (supported: out, dir, checksum, header)',
    ],
    ["  out", 'expected an option "name=value", got no "="'],
    ["  =x", 'expected an option "name=value", got no name'],
    ["  out=", 'option "out" is empty'],
    [
      "  checksum=sha-1=abc",
      'expected 40 hex digits after "sha-1=", got "abc"',
    ],
    [
      "  checksum=md5=abc",
      'expected 32 hex digits after "md5=", got "abc"',
    ],
    [
      "  checksum=crc32=abc",
      'unsupported checksum algorithm "crc32" (supported: md5, sha-1, sha-256, sha-512)',
    ],
    [
      "  checksum=sha-256=abc",
      'expected 64 hex digits after "sha-256=", got "abc"',
    ],
    ["  checksum=abc", 'expected "checksum=sha-256=HEX", got "checksum=abc"'],
    ["  header=NoColon", 'expected "header=Name: value", got no ":"'],
    ["  header=Bad Name: x", 'invalid header name "Bad Name"'],
    [
      "  out=../../etc/passwd",
      'unsafe out "../../etc/passwd": ".." segments are not allowed',
    ],
    [
      "  out=/etc/passwd",
      'unsafe out "/etc/passwd": absolute paths are not allowed',
    ],
    ["  out=a\\b", 'unsafe out "a\\\\b": backslashes are not allowed'],
    [
      "  out=CON",
      'unsafe out "CON": "CON" is a reserved device name on Windows',
    ],
    [
      "  dir=/home/me/downloads",
      'unsafe dir "/home/me/downloads": absolute paths are not allowed',
    ],
    ["  dir=/", 'unsafe dir "/": absolute paths are not allowed'],
    ["  dir=a/../..", 'unsafe dir "a/../..": ".." segments are not allowed'],
    ["ftp://x", 'not an http(s) URL: "ftp://x"'],
    [
      "http://a/x http://b/y",
      'expected URLs separated by tabs, got "http://a/x http://b/y" (write spaces in a URL as %20)',
    ],
  ];
  for (const [line, detail] of cases) {
    const text =
      `http://h/0\n# comment\nhttp://h/1\n  header=A: b\n${line}\nhttp://h/6\n`;
    await rejects(
      Array.fromAsync(jobsFromAria2(streamOf(text), { name: "in.txt" })),
      (e: unknown) =>
        e instanceof SourceError && e.origin === "in.txt:5" &&
        e.message === `in.txt:5: ${detail}`,
      line,
    );
  }
});

Deno.test("jobsFromAria2() refuses options given twice or before any URL", async () => {
  await rejects(
    Array.fromAsync(jobsFromAria2(streamOf("  out=x\nhttp://h/a\n"))),
    { message: 'input:1: option line without a URL line before it: "out"' },
  );
  for (const option of ["out=b", "dir=b", `checksum=sha-256=${HASH}`]) {
    const first = option.replace("=b", "=a");
    await rejects(
      Array.fromAsync(
        jobsFromAria2(streamOf(`http://h/a\n ${first}\n ${option}\n`)),
      ),
      { message: `input:3: option "${option.split("=")[0]}" is given twice` },
    );
  }
});

Deno.test("jobsFromAria2() blames the out= line when dir/out is too long", async () => {
  const text = `http://h/a\n  dir=${("d".repeat(200) + "/").repeat(20)}x\n` +
    `  out=${"o".repeat(200)}\n`;
  await rejects(
    Array.fromAsync(jobsFromAria2(streamOf(text))),
    (e: unknown) =>
      e instanceof SourceError && e.origin === "input:3" &&
      /^input:3: unsafe destination ".*": it is \d+ bytes long, the limit is 4096$/
        .test(e.message),
  );
});

Deno.test("jobsFromAria2() takes tab-separated mirrors; a line of only ftp: URLs is an error", async () => {
  deepEqual(
    await Array.fromAsync(
      jobsFromAria2(
        streamOf("ftp://a/x.bin\thttp://b/x.bin\t\thttps://c/y.bin\n"),
        { name: "in" },
      ),
    ),
    [{
      url: "http://b/x.bin",
      mirrors: ["https://c/y.bin"],
      dest: "x.bin",
      origin: "in:1",
    }],
  );
  await rejects(
    Array.fromAsync(jobsFromAria2(streamOf("ftp://a/x\tftp://b/x\n"))),
    (error: Error) =>
      error instanceof SourceError &&
      /not an http\(s\) URL/.test(error.message),
  );
});

Deno.test("jobsFromAria2() reads md5, sha-1 and sha-512 checksums; harmless options warn once and are ignored", async () => {
  const warnings: string[] = [];
  const md5 = "A".repeat(32), sha1 = "b".repeat(40), sha512 = "c".repeat(128);
  const text = [
    "https://h/a",
    `  checksum=md5=${md5}`,
    "  split=4",
    "  max-connection-per-server=4",
    "https://h/b",
    `  checksum=sha-1=${sha1}`,
    "  split=8",
    "https://h/c",
    `  checksum=SHA-512=${sha512}`,
  ].join("\n");
  const jobs = await Array.fromAsync(
    jobsFromAria2(streamOf(text), {
      name: "in",
      onWarning: (m) => warnings.push(m),
    }),
  );
  deepEqual(jobs.map((j) => j.checksum), [
    { algorithm: "md5", hex: md5.toLowerCase() },
    { algorithm: "sha-1", hex: sha1 },
    { algorithm: "sha-512", hex: sha512 },
  ]);
  deepEqual(warnings, [
    'in:3: aria2 option "split" ignored (it cannot change the file; warned once per input)',
    'in:4: aria2 option "max-connection-per-server" ignored (it cannot change the file; warned once per input)',
  ]);
});
