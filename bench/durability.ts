/**
 * `deno task bench --only DURABILITY`: what `--durability` costs. MANY
 * (small files) and LARGE (few big ones) against nginx (or bulkget's own
 * server without it), written to a private tmpfs (where a flush is nearly
 * free) and to a directory on the machine's disk, for bulkget with each
 * policy, beside curl (which never flushes) and wget2 with and without
 * `--fsync-policy`. Every run's files are checked before its time counts.
 *
 * Sizes (environment, to keep a run short): `DURABILITY_MANY` files of
 * 1 KiB (default 5000), `DURABILITY_LARGE_MIB` for each of 4 large files
 * (default 64), `DURABILITY_DISK_DIR` for the disk directory (default
 * `/var/tmp`, checked to be on a real file system, not tmpfs).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { generatedBody } from "../lib/server/files.ts";
import { type Expected, median, timedRun, verifyDir } from "./measure.ts";
import { type BenchServer, startDenoServer, startNginx } from "./servers.ts";
import { bulkgetGet, which } from "./tools.ts";

/** One contender's command for an output directory. */
interface Contender {
  id: string;
  command(list: string, out: string, concurrency: number): string[];
}

/** One measured cell: a contender, a case, a place. */
export interface DurabilityRow {
  place: string;
  scenario: string;
  tool: string;
  /** Median wall seconds over the good runs. */
  wall: number;
  /** Files/s (MANY) or MB/s (LARGE). */
  rate: number;
  unit: string;
  good: number;
  runs: number;
}

function contenders(root: string): Contender[] {
  const bulkget = (policy: string): Contender => ({
    id: `bulkget --durability ${policy}`,
    command: (list, out, m) =>
      bulkgetGet(root, out, [
        "-q",
        "-i",
        list,
        "-o",
        out,
        "-m",
        String(m),
        "--durability",
        policy,
      ], [list]),
  });
  const list: Contender[] = [bulkget("full"), bulkget("none")];
  if (which("curl")) {
    list.push({
      id: "curl --parallel (no flush)",
      command: (l, out, m) => [
        "sh",
        "-c",
        `sed 's/.*/url = "&"/' ${l} > ${out}.cfg && curl -sS --fail --parallel --parallel-immediate --parallel-max ${m} --output-dir ${out} --remote-name-all -K ${out}.cfg`,
      ],
    });
  }
  if (which("wget2")) {
    for (const fsync of [false, true]) {
      list.push({
        id: `wget2${fsync ? " --fsync-policy=on" : ""}`,
        command: (l, out, m) => [
          "wget2",
          "--no-config",
          "-q",
          "--progress=none",
          "--max-threads",
          String(m),
          "--tries=1",
          ...(fsync ? ["--fsync-policy=on"] : []),
          "-i",
          l,
          "-P",
          out,
        ],
      });
    }
  }
  return list;
}

async function sh(...args: string[]): Promise<boolean> {
  const out = await new Deno.Command(args[0], {
    args: args.slice(1),
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  return out?.success ?? false;
}

/** The file system type of `dir` (from `findmnt`). */
async function fsType(dir: string): Promise<string> {
  const out = await new Deno.Command("findmnt", {
    args: ["-n", "-o", "FSTYPE", "--target", dir],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/**
 * Runs the durability bench and returns its rows and a Markdown section.
 *
 * @param root The bulkget tree under test.
 * @param log Progress lines.
 * @returns The rows and the section.
 */
export async function runDurability(
  root: string,
  log: (line: string) => void,
): Promise<{ rows: DurabilityRow[]; markdown: string }> {
  const many = Number(Deno.env.get("DURABILITY_MANY") ?? 5000);
  const largeMiB = Number(Deno.env.get("DURABILITY_LARGE_MIB") ?? 64);
  const diskBase = Deno.env.get("DURABILITY_DISK_DIR") ?? "/var/tmp";
  const work = await Deno.makeTempDir({ prefix: "bulkget-durability-" });
  const tmpfs = `${work}/tmpfs`;
  await Deno.mkdir(tmpfs);
  const places: { name: string; dir: string }[] = [];
  if (
    await sh("mount", "-t", "tmpfs", "-o", "size=2g,mode=755", "tmpfs", tmpfs)
  ) places.push({ name: "tmpfs", dir: tmpfs });
  else log("durability: could not mount a tmpfs (not root?): tmpfs skipped");
  const disk = await Deno.makeTempDir({
    dir: diskBase,
    prefix: "bulkget-durability-",
  });
  const diskType = await fsType(disk);
  places.push({ name: `${diskType} (${diskBase})`, dir: disk });
  const rows: DurabilityRow[] = [];
  const cases = [
    { id: "MANY", count: many, size: 1024, spec: "1k", m: 100, reps: 3 },
    {
      id: "LARGE",
      count: 4,
      size: largeMiB << 20,
      spec: `${largeMiB}m`,
      m: 4,
      reps: 2,
    },
  ];
  const servers: BenchServer[] = [];
  try {
    for (const c of cases) {
      // The served tree (for nginx) and the expectations.
      const www = `${work}/www`;
      await Deno.mkdir(`${www}/files/${c.spec}`, { recursive: true });
      const expected = new Map<string, Expected>();
      const urls: string[] = [];
      for (let i = 0; i < c.count; i++) {
        const name = `${c.id[0].toLowerCase()}${i}.bin`;
        const body = generatedBody(name, c.size);
        if (which("nginx")) {
          Deno.writeFileSync(`${www}/files/${c.spec}/${name}`, body);
        }
        expected.set(name, {
          size: c.size,
          sha256: createHash("sha256").update(body).digest("hex"),
        });
        urls.push(`/files/${c.spec}/${name}`);
      }
      const server = which("nginx")
        ? await startNginx(`${work}/nginx-${c.id}`, www)
        : await startDenoServer(root, "LOCAL");
      servers.push(server);
      const list = `${work}/list-${c.id}.txt`;
      await Deno.writeTextFile(
        list,
        urls.map((u) => server.base + u).join("\n") + "\n",
      );
      for (const place of places) {
        for (const tool of contenders(root)) {
          const walls: number[] = [];
          let good = 0;
          for (let rep = 0; rep < c.reps; rep++) {
            const out = `${place.dir}/out`;
            await Deno.remove(out, { recursive: true }).catch(() => {});
            await Deno.mkdir(out, { recursive: true });
            // Start every run from the same disk state: nothing dirty.
            await sh("sync");
            const r = await timedRun(tool.command(list, out, c.m), {
              capSec: 300,
            });
            const v = await verifyDir(
              out,
              (name) => expected.get(name),
              c.count,
            );
            const ok = r.exit === 0 && v.correct === c.count;
            if (ok) {
              good++;
              walls.push(r.wall);
            }
            log(
              `  ${c.id} ${place.name} ${tool.id}: ${ok ? "ok" : "FAILED"} ${
                r.wall.toFixed(2)
              } s (${v.correct}/${c.count})`,
            );
            await Deno.remove(out, { recursive: true }).catch(() => {});
            await Deno.remove(`${out}.cfg`).catch(() => {});
          }
          const wall = walls.length ? median(walls) : NaN;
          const large = c.id === "LARGE";
          rows.push({
            place: place.name,
            scenario: `${c.id} (${c.count} × ${
              large ? `${largeMiB} MiB` : "1 KiB"
            }, -m ${c.m})`,
            tool: tool.id,
            wall,
            rate: large ? (c.count * c.size) / 1e6 / wall : c.count / wall,
            unit: large ? "MB/s" : "files/s",
            good,
            runs: c.reps,
          });
        }
      }
      await server.stop();
      await Deno.remove(www, { recursive: true }).catch(() => {});
    }
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    await sh("umount", tmpfs);
    await Deno.remove(work, { recursive: true }).catch(() => {});
    await Deno.remove(disk, { recursive: true }).catch(() => {});
  }
  const lines = [
    "## DURABILITY: what --durability costs",
    "",
    `Server: ${
      which("nginx") ? "nginx" : "bulkget serve"
    } on loopback; each cell the median wall time of its good runs; \`sync\` before every run.`,
    "",
    "| case | written to | tool | median s | rate | good runs |",
    "|---|---|---|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.scenario} | ${r.place} | ${r.tool} | ${r.wall.toFixed(2)} | ${
        r.rate.toFixed(0)
      } ${r.unit} | ${r.good}/${r.runs} |`
    ),
  ];
  return { rows, markdown: lines.join("\n") + "\n" };
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const { markdown } = await runDurability(root, (l) => console.log(l));
  console.log(markdown);
}
