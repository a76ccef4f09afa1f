/**
 * `deno task bench --only SPLIT`: segmented downloads against a server that
 * caps each connection's speed (`bulkget serve --slow RATE`: every response
 * is sent at most RATE bytes per second). One large file, fetched by bulkget
 * over one connection, by `bulkget get --split 8`, and by
 * `aria2c -x 8 -s 8`; each run's file is checked (size, SHA-256) before its
 * time counts. Wall time and peak RSS come from `/usr/bin/time`. Writes
 * `bench/results-split.md`.
 *
 * ```sh
 * deno task bench --only SPLIT          # 64 MiB at 4 MiB/s per connection
 * deno task bench --only SPLIT --quick  # 32 MiB
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import { generatedChunks } from "../lib/server/files.ts";
import { median, timedRun, verifyDir } from "./measure.ts";
import { startDenoServer } from "./servers.ts";
import { bulkgetGet, which } from "./tools.ts";

/** How large a run is. */
export interface SplitBenchOptions {
  /** The file's size in MiB. */
  sizeMiB: number;
  /** Each connection's cap, in MiB/s. */
  capMiBps: number;
  /** Connections of the split runs. */
  connections: number;
  /** Repetitions of each split run (one connection runs once: it is long and steady). */
  reps: number;
}

/** One contender's medians. */
export interface SplitBenchRow {
  /** The tool and how it ran. */
  label: string;
  /** Median wall seconds (process start to exit). */
  seconds: number;
  /** MiB per second over that wall time. */
  mibps: number;
  /** Median peak RSS in MiB. */
  rssMiB: number;
  /** Good runs / runs. */
  good: string;
}

/**
 * Runs the three contenders over the same capped server and returns the
 * rows with a Markdown table.
 *
 * @param root The project tree (holds main.ts).
 * @param options Sizes and repetitions.
 * @param log Progress lines.
 */
export async function runSplitBench(
  root: string,
  options: SplitBenchOptions,
  log: (line: string) => void,
): Promise<{ rows: SplitBenchRow[]; markdown: string }> {
  const { sizeMiB, capMiBps, connections, reps } = options;
  const size = sizeMiB << 20;
  const name = `split-${sizeMiB}m.bin`;
  const hash = createHash("sha256");
  for (const piece of generatedChunks(name, size, 0, size)) hash.update(piece);
  const expected = { size, sha256: hash.digest("hex") };
  const server = await startDenoServer(root, "LOCAL", [
    "--slow",
    `${capMiBps}M`,
  ]);
  const url = `${server.base}/files/${size}/${name}`;
  const bulkget = (extra: string[]) => (out: string) =>
    bulkgetGet(root, out, ["-q", url, "-o", out, ...extra]);
  const contenders: {
    label: string;
    runs: number;
    cmd: (out: string) => string[];
  }[] = [
    { label: "bulkget, one connection", runs: 1, cmd: bulkget([]) },
    {
      label: `bulkget --split ${connections}`,
      runs: reps,
      cmd: bulkget(["--split", String(connections), "--min-split-size", "1M"]),
    },
    {
      label: `bulkget --split ${connections} --use-fetch`,
      runs: reps,
      cmd: bulkget([
        "--split",
        String(connections),
        "--min-split-size",
        "1M",
        "--use-fetch",
      ]),
    },
  ];
  if (which("aria2c")) {
    contenders.push({
      label: `aria2c -x ${connections} -s ${connections}`,
      runs: reps,
      cmd: (out) => [
        "aria2c",
        "-q",
        "-x",
        String(connections),
        "-s",
        String(connections),
        "-k",
        "1M",
        "--file-allocation=none",
        "--allow-overwrite=true",
        "--auto-file-renaming=false",
        "-d",
        out,
        url,
      ],
    });
  } else log("aria2c: not installed (apt-get install -y aria2)");
  const rows: SplitBenchRow[] = [];
  const capSec = Math.ceil(sizeMiB / capMiBps) * 3 + 30;
  try {
    for (const contender of contenders) {
      const walls: number[] = [];
      const rss: number[] = [];
      let good = 0;
      for (let i = 0; i < contender.runs; i++) {
        const out = await Deno.makeTempDir({
          dir: "/tmp",
          prefix: "bench-split-",
        });
        try {
          const run = await timedRun(contender.cmd(out), { capSec });
          // bulkget's state file is not an extra copy of the file.
          await Deno.remove(`${out}/.bulkget-state.jsonl`).catch(() => {});
          const verdict = await verifyDir(
            out,
            (n) => n === name ? expected : undefined,
            1,
          );
          const ok = run.exit === 0 && verdict.correct === 1 &&
            verdict.extra === 0;
          log(
            `${contender.label}: ${run.wall.toFixed(2)} s, ${
              (run.maxRssKiB / 1024).toFixed(0)
            } MiB${
              ok
                ? ""
                : ` (BAD: exit ${run.exit}, ${JSON.stringify(verdict)} ${
                  run.stderr.slice(-300)
                })`
            }`,
          );
          if (ok) {
            good++;
            walls.push(run.wall);
            rss.push(run.maxRssKiB / 1024);
          }
        } finally {
          await Deno.remove(out, { recursive: true }).catch(() => {});
        }
      }
      const seconds = median(walls);
      rows.push({
        label: contender.label,
        seconds,
        mibps: sizeMiB / seconds,
        rssMiB: median(rss),
        good: `${good}/${contender.runs}`,
      });
    }
  } finally {
    await server.stop();
  }
  const one = rows[0].mibps;
  const markdown = [
    `# Segmented downloads (\`deno task bench --only SPLIT\`)`,
    "",
    `One ${sizeMiB} MiB file from \`bulkget serve --slow ${capMiBps}M\` (every response capped at ${capMiBps} MiB/s) on 127.0.0.1, written to /tmp (a disk; the cap per connection, not the disk, sets the pace); ${connections} connections for the split runs, min-split-size 1 MiB. Wall time from process start to exit (median of the good runs), peak RSS from GNU time. Machine: ${navigator.hardwareConcurrency} cores, shared; ${
      new Date().toISOString().slice(0, 16)
    } UTC.`,
    "",
    "| tool | wall | MiB/s | × one connection | peak RSS | good runs |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${r.label} | ${r.seconds.toFixed(2)} s | ${r.mibps.toFixed(1)} | ${
        (r.mibps / one).toFixed(2)
      } | ${r.rssMiB.toFixed(0)} MiB | ${r.good} |`
    ),
    "",
  ].join("\n");
  return { rows, markdown };
}
