import { deepEqual, rejects } from "node:assert/strict";
import { jobsFromManifest } from "../lib/source/manifest.ts";
import { SourceError } from "../lib/core/errors.ts";

const encoder = new TextEncoder();
const streamOf = (text: string) => ReadableStream.from([encoder.encode(text)]);
const HASH = "0f".repeat(32);

Deno.test("jobsFromManifest() reads every field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/m.jsonl`;
    await Deno.writeTextFile(
      path,
      "\ufeff" + [
        JSON.stringify({
          url: "https://h/a/b.gif",
          dest: "flags/br.gif",
          sha256: HASH.toUpperCase(),
          size: 1234,
          headers: { Authorization: "Bearer x", Accept: "image/gif" },
          label: "BR",
        }),
        "",
        "   ",
        JSON.stringify({ url: "https://h/c/d.gif", dest: null, size: 0 }),
        '{"url":"https://h/e/"}',
      ].join("\r\n"),
    );
    deepEqual(await Array.fromAsync(jobsFromManifest(path, { name: "m" })), [
      {
        url: "https://h/a/b.gif",
        dest: "flags/br.gif",
        origin: "m:1",
        sha256: HASH,
        size: 1234,
        headers: { Authorization: "Bearer x", Accept: "image/gif" },
        label: "BR",
      },
      { url: "https://h/c/d.gif", dest: "d.gif", origin: "m:4", size: 0 },
      { url: "https://h/e/", dest: "index.html", origin: "m:5" },
    ]);
    deepEqual(
      (await Array.fromAsync(jobsFromManifest(path, { keepPaths: true })))
        .map((job) => [job.origin, job.dest]),
      [[`${path}:1`, "flags/br.gif"], [`${path}:4`, "c/d.gif"], [
        `${path}:5`,
        "e/index.html",
      ]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jobsFromManifest() names the line of each bad line", async () => {
  const cases: [string, string | RegExp][] = [
    ["{", /^invalid JSON: /],
    ["[1]", "expected a JSON object, got an array"],
    ["null", "expected a JSON object, got null"],
    ['"x"', "expected a JSON object, got string"],
    ["{}", 'missing field "url"'],
    ['{"url": 3}', '"url" must be a string, got 3'],
    ['{"url": "ftp://x"}', 'not an http(s) URL: "ftp://x"'],
    [
      '{"url": "http://h/a", "sha265": "x"}',
      'unknown field "sha265" (known: url, urls, dest, sha256, checksum, size, headers, label)',
    ],
    ['{"url": "http://h/a", "__proto__": {}}', /^unknown field "__proto__"/],
    ['{"url": "http://h/a", "dest": 1}', '"dest" must be a string, got 1'],
    [
      '{"url": "http://h/a", "dest": "../../x"}',
      'unsafe dest "../../x": ".." segments are not allowed',
    ],
    [
      '{"url": "http://h/a", "dest": "/etc/x"}',
      'unsafe dest "/etc/x": absolute paths are not allowed',
    ],
    [
      '{"url": "http://h/a", "dest": "a\\u0000b"}',
      'unsafe dest "a\\u0000b": control characters are not allowed',
    ],
    [
      '{"url": "http://h/a", "dest": "con.txt"}',
      'unsafe dest "con.txt": "con.txt" is a reserved device name on Windows',
    ],
    [
      `{"url": "http://h/a", "dest": "${"x".repeat(300)}"}`,
      /^unsafe dest "x{200}…": a segment is 300 bytes long, the limit is 245$/,
    ],
    [
      '{"url": "http://h/a", "sha256": "abc"}',
      '"sha256" must be 64 hex digits, got "abc"',
    ],
    [
      '{"url": "http://h/a", "size": -1}',
      '"size" must be a non-negative integer, got -1',
    ],
    [
      '{"url": "http://h/a", "size": 1.5}',
      '"size" must be a non-negative integer, got 1.5',
    ],
    [
      '{"url": "http://h/a", "size": "3"}',
      '"size" must be a non-negative integer, got "3"',
    ],
    [
      '{"url": "http://h/a", "headers": []}',
      '"headers" must be an object of strings, got []',
    ],
    [
      '{"url": "http://h/a", "headers": {"A": 1}}',
      'header "A" must be a string, got 1',
    ],
    [
      '{"url": "http://h/a", "headers": {"A B": "x"}}',
      'invalid header name "A B"',
    ],
    [
      '{"url": "http://h/a", "headers": {"A": "x\\ny"}}',
      'invalid value for header "A"',
    ],
    ['{"url": "http://h/a", "label": 5}', '"label" must be a string, got 5'],
  ];
  for (const [line, detail] of cases) {
    const text = `{"url": "http://h/1"}\n\n${line}\n{"url": "http://h/4"}\n`;
    await rejects(
      Array.fromAsync(jobsFromManifest(streamOf(text), { name: "m.jsonl" })),
      (e: unknown) => {
        if (!(e instanceof SourceError) || e.origin !== "m.jsonl:3") {
          return false;
        }
        return typeof detail === "string"
          ? e.message === `m.jsonl:3: ${detail}`
          : detail.test(e.detail);
      },
      line,
    );
  }
});

Deno.test('jobsFromManifest() reads "urls" as mirrors; "url" with "urls" or an empty "urls" is an error', async () => {
  const read = (text: string) =>
    Array.fromAsync(jobsFromManifest(streamOf(text), { name: "m" }));
  deepEqual(
    await read('{"urls": ["https://a/x.bin", "https://b/x.bin"]}\n'),
    [{
      url: "https://a/x.bin",
      mirrors: ["https://b/x.bin"],
      dest: "x.bin",
      origin: "m:1",
    }],
  );
  deepEqual(await read('{"urls": ["https://a/y"]}\n'), [
    { url: "https://a/y", dest: "y", origin: "m:1" },
  ]);
  for (
    const [line, message] of [
      ['{"url": "https://a/x", "urls": ["https://b/x"]}', /not both/],
      ['{"urls": []}', /"urls" must be a non-empty array/],
      ['{"urls": ["https://a/x", "ftp://b/x"]}', /not an http\(s\) URL/],
    ] as const
  ) {
    await rejects(
      read(line + "\n"),
      (error: Error) =>
        error instanceof SourceError && message.test(error.message),
    );
  }
});

Deno.test('jobsFromManifest() reads "checksum": md5, sha-1, sha-256, sha-512; a bad one names the problem', async () => {
  const read = (text: string) =>
    Array.fromAsync(jobsFromManifest(streamOf(text), { name: "m" }));
  const lines = [
    { url: "https://h/a", checksum: "md5=" + "A".repeat(32) },
    { url: "https://h/b", checksum: "sha-1=" + "b".repeat(40) },
    { url: "https://h/c", checksum: "sha-256=" + "c".repeat(64) },
    { url: "https://h/d", checksum: "sha-512=" + "d".repeat(128) },
  ].map((o) => JSON.stringify(o)).join("\n");
  const jobs = await read(lines);
  deepEqual(jobs.map((j) => [j.checksum, j.sha256]), [
    [{ algorithm: "md5", hex: "a".repeat(32) }, undefined],
    [{ algorithm: "sha-1", hex: "b".repeat(40) }, undefined],
    [undefined, "c".repeat(64)],
    [{ algorithm: "sha-512", hex: "d".repeat(128) }, undefined],
  ]);
  await rejects(
    read(JSON.stringify({ url: "https://h/a", checksum: "crc32=00" })),
    (error: Error) =>
      error instanceof SourceError &&
      /"checksum": unsupported checksum algorithm "crc32"/.test(error.message),
  );
});
