/**
 * How fast, and in how much memory, zip libraries from the npm registry
 * extract a 1 GiB archive under Deno, against Debian's `unzip` and
 * bulkget's own `extractZip` (issue #14's choice of a zip library; the
 * results are in `bench/NOTES.md`). Each tool runs as its own process under
 * GNU time (wall, peak RSS), into a fresh directory under `--dir`, one
 * after the other in turn, `--reps` times; every extracted tree is
 * SHA-256-checked against the files zipped.
 *
 * Archives (made once with Info-ZIP's `zip`, kept in `--dir`): 8 files of
 * 128 MiB of word-like text, stored (`-0`), deflated (`-6`, what
 * `upload-artifact` makes), and stored with zip64 records forced (`-fz`).
 *
 * ```sh
 * flock /work/suite.lock deno run -A bench/zip_libraries.ts [--dir /tmp/ziplibs] [--reps 3] [--mib 128]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { median, timedRun } from "./measure.ts";

const FILES = 8;
const MIB = 1 << 20;
const TOOLS = ["unzip", "bulkget", "zip.js", "fflate", "yauzl"] as const;
type Tool = typeof TOOLS[number];

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    dir: { type: "string", default: "/tmp/ziplibs" },
    reps: { type: "string", default: "3" },
    mib: { type: "string", default: "128" },
  },
});

/** MiB of each file zipped. */
const FILE_MIB = Number(values.mib);

if (positionals[0] === "extract") {
  const [, tool, zip, out] = positionals;
  await extractWith(tool as Tool, zip, out);
  Deno.exit(0);
}

/** The part of yauzl's API used here. */
interface Yauzl {
  open(
    path: string,
    options: { lazyEntries: boolean },
    done: (error: Error | null, zip?: YauzlZip) => void,
  ): void;
}
/** An open archive of yauzl. */
interface YauzlZip {
  on(event: "entry", listener: (entry: { fileName: string }) => void): void;
  on(event: "end", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  readEntry(): void;
  openReadStream(
    entry: { fileName: string },
    done: (
      error: Error | null,
      stream?: import("node:stream").Readable,
    ) => void,
  ): void;
}

/** One tool's extraction of `zip` into `out` (run in its own process). */
async function extractWith(tool: Tool, zip: string, out: string) {
  await Deno.mkdir(out, { recursive: true });
  switch (tool) {
    case "bulkget": {
      const { extractZip } = await import("../lib/writer/unzip.ts");
      await extractZip(zip, out, { durability: "none" });
      return;
    }
    case "zip.js": {
      // Random access from the file (as bulkget's index reader does), no
      // Web Workers; entries written through the file's stream.
      const { configure, Reader, ZipReader } = await import("@zip.js/zip.js");
      configure({ useWebWorkers: false });
      using file = await Deno.open(zip);
      const size = (await file.stat()).size;
      class FileReader extends Reader<null> {
        override async init() {}
        override async readUint8Array(offset: number, length: number) {
          const buffer = new Uint8Array(length);
          for (let at = 0; at < length;) {
            await file.seek(offset + at, Deno.SeekMode.Start);
            const n = await file.read(buffer.subarray(at));
            if (n === null) throw new Error("short read");
            at += n;
          }
          return buffer;
        }
      }
      const reader = new FileReader(null);
      // deno-lint-ignore no-explicit-any -- zip.js reads `size` from the reader
      (reader as any).size = size;
      const zipReader = new ZipReader(reader);
      for (const entry of await zipReader.getEntries()) {
        if (entry.directory || !entry.getData) continue;
        const target = await Deno.open(`${out}/${entry.filename}`, {
          write: true,
          create: true,
          truncate: true,
        });
        await entry.getData(target.writable);
      }
      await zipReader.close();
      return;
    }
    case "fflate": {
      // Streaming: the archive read once, front to back, 1 MiB at a time.
      const { Unzip, UnzipInflate } = await import("fflate");
      const unzip = new Unzip();
      unzip.register(UnzipInflate);
      unzip.onfile = (entry) => {
        if (entry.name.endsWith("/")) return;
        const target = Deno.openSync(`${out}/${entry.name}`, {
          write: true,
          create: true,
          truncate: true,
        });
        entry.ondata = (error, data, final) => {
          if (error) throw error;
          for (let at = 0; at < data.length;) {
            at += target.writeSync(data.subarray(at));
          }
          if (final) target.close();
        };
        entry.start();
      };
      using file = await Deno.open(zip);
      const buffer = new Uint8Array(MIB);
      for (;;) {
        const n = await file.read(buffer);
        if (n === null) break;
        unzip.push(buffer.slice(0, n));
      }
      unzip.push(new Uint8Array(0), true);
      return;
    }
    case "yauzl": {
      // Random access from the file; node:zlib inflates. (yauzl ships no
      // types: the few calls used here, typed by hand.)
      const { default: yauzl } = await import("yauzl") as {
        default: Yauzl;
      };
      const { createWriteStream } = await import("node:fs");
      const { pipeline } = await import("node:stream/promises");
      const archive = await new Promise<YauzlZip>((resolve, reject) =>
        yauzl.open(
          zip,
          { lazyEntries: true },
          (error, opened) => error ? reject(error) : resolve(opened!),
        )
      );
      await new Promise<void>((resolve, reject) => {
        archive.on("entry", (entry) => {
          if (entry.fileName.endsWith("/")) return archive.readEntry();
          archive.openReadStream(entry, (error, stream) => {
            if (error) return reject(error);
            pipeline(stream!, createWriteStream(`${out}/${entry.fileName}`))
              .then(() => archive.readEntry(), reject);
          });
        });
        archive.on("end", () => resolve());
        archive.on("error", reject);
        archive.readEntry();
      });
      return;
    }
    case "unzip":
      throw new Error("unzip is run as itself");
  }
}

/** Word-like text with numbers, the same for every seed. */
function textOf(seed: number, bytes: number): Uint8Array {
  const words = "artifact build cache deno digest entry extract file log " +
    "merge node output release report run stage test unzip worker zip ";
  const pool = new TextEncoder().encode(words.repeat(64));
  const out = new Uint8Array(bytes);
  let x = seed * 2654435761 >>> 0;
  for (let at = 0; at < bytes;) {
    x = (x * 1664525 + 1013904223) >>> 0;
    const from = x % (pool.length - 96);
    const take = Math.min(16 + (x >>> 27), bytes - at);
    out.set(pool.subarray(from, from + take), at);
    at += take;
    // A random hex number after each run of words, so that it deflates
    // about as well as logs and build output do, not 16:1.
    const hex = new TextEncoder().encode(` ${x.toString(16)}\n`);
    const n = Math.min(hex.length, bytes - at);
    out.set(hex.subarray(0, n), at);
    at += n;
  }
  return out;
}

/** The test files and their SHA-256s, made once. */
async function makeInputs(dir: string): Promise<Map<string, string>> {
  const src = `${dir}/src`;
  await Deno.mkdir(src, { recursive: true });
  const expected = new Map<string, string>();
  for (let i = 0; i < FILES; i++) {
    const name = `part-${i}.txt`;
    let data: Uint8Array;
    try {
      data = await Deno.readFile(`${src}/${name}`);
    } catch {
      data = textOf(i + 1, FILE_MIB * MIB);
      await Deno.writeFile(`${src}/${name}`, data);
    }
    expected.set(name, createHash("sha256").update(data).digest("hex"));
  }
  return expected;
}

/** The three archives: stored, deflated, stored with zip64 records. */
async function makeZips(dir: string): Promise<Record<string, string>> {
  const zips = {
    stored: ["-0"],
    deflated: ["-6"],
    "stored zip64": ["-0", "-fz"],
  };
  const paths: Record<string, string> = {};
  for (const [kind, flags] of Object.entries(zips)) {
    const path = `${dir}/${kind.replace(" ", "-")}.zip`;
    paths[kind] = path;
    try {
      await Deno.stat(path);
      continue;
    } catch { /* made below */ }
    const made = await new Deno.Command("zip", {
      args: [
        "-q",
        "-j",
        ...flags,
        path,
        ...[...Array(FILES).keys()].map(
          (i) => `${dir}/src/part-${i}.txt`,
        ),
      ],
    }).output();
    if (!made.success) throw new Error(new TextDecoder().decode(made.stderr));
  }
  return paths;
}

async function checkTree(out: string, expected: Map<string, string>) {
  for (const [name, sha] of expected) {
    const data = await Deno.readFile(`${out}/${name}`);
    const got = createHash("sha256").update(data).digest("hex");
    if (got !== sha) throw new Error(`${out}/${name}: wrong bytes`);
  }
}

const dir = values.dir!;
const expected = await makeInputs(dir);
const zips = await makeZips(dir);
const self = new URL(import.meta.url).pathname;
const rows: string[] = [];
for (const [kind, zip] of Object.entries(zips)) {
  const size = (await Deno.stat(zip)).size;
  const walls = new Map<Tool, number[]>();
  const rss = new Map<Tool, number[]>();
  const failures = new Map<Tool, string>();
  for (let rep = 0; rep < Number(values.reps); rep++) {
    for (const tool of TOOLS) {
      if (failures.has(tool)) continue;
      const out = `${dir}/out`;
      await Deno.remove(out, { recursive: true }).catch(() => {});
      const argv = tool === "unzip"
        ? ["unzip", "-q", "-o", zip, "-d", out]
        : ["deno", "run", "-A", "--quiet", self, "extract", tool, zip, out];
      const result = await timedRun(argv, { capSec: 300 });
      try {
        if (result.exit !== 0) throw new Error(result.stderr.slice(-300));
        await checkTree(out, expected);
      } catch (error) {
        failures.set(tool, String(error).split("\n")[0]);
        continue;
      }
      walls.set(tool, [...walls.get(tool) ?? [], result.wall]);
      rss.set(tool, [...rss.get(tool) ?? [], result.maxRssKiB / 1024]);
    }
  }
  await Deno.remove(`${dir}/out`, { recursive: true }).catch(() => {});
  for (const tool of TOOLS) {
    const failed = failures.get(tool);
    if (failed) {
      rows.push(`| ${kind} | ${tool} | failed: ${failed} | | |`);
      continue;
    }
    const wall = median(walls.get(tool)!);
    rows.push(
      `| ${kind} | ${tool} | ${wall.toFixed(2)} s | ${
        (FILES * FILE_MIB / wall).toFixed(0)
      } MiB/s | ${median(rss.get(tool)!).toFixed(0)} MiB |`,
    );
  }
  console.error(`${kind}: ${(size / MIB).toFixed(0)} MiB zip done`);
}
console.log(
  `${FILES} × ${FILE_MIB} MiB of text; medians of ${values.reps}; MiB/s of extracted bytes\n`,
);
console.log("| archive | tool | wall | rate | peak RSS |");
console.log("| --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
