/**
 * `deno task bench --only RATE`: how close `--limit-rate` (the whole run)
 * and `--max-download-limit` (each download) hold the rate they are given,
 * with either client, and what they cost in memory. Rates come from
 * bulkget's own JSON report (body bytes received over the run's or the
 * download's elapsed time); peak RSS from `/usr/bin/time`. Every run's
 * files are checked. Writes `bench/results-rate.md`.
 *
 * ```sh
 * deno task bench --only RATE          # runs of about 5 s each
 * deno task bench --only RATE --quick  # about 2 s each
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import { generatedChunks } from "../lib/server/files.ts";
import { timedRun, verifyDir } from "./measure.ts";
import { startDenoServer } from "./servers.ts";
import { bulkgetGet } from "./tools.ts";

/** One measured case. */
export interface RateBenchRow {
  /** What ran. */
  label: string;
  /** The limit, bytes per second. */
  limit: number;
  /** Measured rates over the limit: the run's, or each download's (min–max). */
  ratio: string;
  /** Peak RSS in MiB. */
  rssMiB: number;
  /** Wall seconds. */
  seconds: number;
  /** Whether every file came out right. */
  ok: boolean;
}

interface RateCase {
  label: string;
  limit: number;
  /** Per download (`--max-download-limit`) rather than the whole run. */
  perDownload: boolean;
  files: { name: string; size: number }[];
  extra: string[];
}

const MiB = 1 << 20;

function cases(seconds: number): RateCase[] {
  const files = (n: number, mib: number, tag: string) =>
    Array.from({ length: n }, (_, i) => ({
      name: `rate-${tag}-${i}.bin`,
      size: mib * MiB,
    }));
  const out: RateCase[] = [];
  for (const client of [[], ["--use-fetch"]]) {
    const who = client.length ? ", --use-fetch" : "";
    out.push(
      {
        label: `--limit-rate 4M, 4 files at once${who}`,
        limit: 4 * MiB,
        perDownload: false,
        files: files(4, seconds, "run"),
        extra: ["--limit-rate", "4M", ...client],
      },
      {
        label: `--max-download-limit 2M, 3 files at once${who}`,
        limit: 2 * MiB,
        perDownload: true,
        files: files(3, 2 * seconds, "each"),
        extra: ["--max-download-limit", "2M", ...client],
      },
      {
        label: `--limit-rate 4M --split 8, one file${who}`,
        limit: 4 * MiB,
        perDownload: false,
        files: files(1, 4 * seconds, "split"),
        extra: [
          "--limit-rate",
          "4M",
          "--split",
          "8",
          "--min-split-size",
          "1M",
          ...client,
        ],
      },
      {
        label: `memory: --limit-rate 32M, one 16 MiB file${who}`,
        limit: 32 * MiB,
        perDownload: false,
        files: files(1, 16, "mem16"),
        extra: ["--limit-rate", "32M", ...client],
      },
      {
        label: `memory: --limit-rate 32M, one 160 MiB file${who}`,
        limit: 32 * MiB,
        perDownload: false,
        files: files(1, 160, "mem160"),
        extra: ["--limit-rate", "32M", ...client],
      },
    );
  }
  return out;
}

function sha256Of(name: string, size: number): string {
  const hash = createHash("sha256");
  for (const piece of generatedChunks(name, size, 0, size)) hash.update(piece);
  return hash.digest("hex");
}

/**
 * Runs every case against the built-in server and returns the rows with a
 * Markdown table.
 *
 * @param root The project tree (holds main.ts).
 * @param seconds About how long each rate case runs.
 * @param log Progress lines.
 */
export async function runRateBench(
  root: string,
  seconds: number,
  log: (line: string) => void,
): Promise<{ rows: RateBenchRow[]; markdown: string }> {
  const server = await startDenoServer(root, "LOCAL");
  const rows: RateBenchRow[] = [];
  try {
    for (const c of cases(seconds)) {
      const out = await Deno.makeTempDir({
        dir: "/tmp",
        prefix: "bench-rate-",
      });
      const report = `${out}/report.json`;
      try {
        const run = await timedRun(
          bulkgetGet(root, out, [
            "-q",
            "-o",
            `${out}/files`,
            "--report",
            report,
            ...c.files.map((f) => `${server.base}/files/${f.size}/${f.name}`),
            ...c.extra,
          ]),
          { capSec: 120 },
        );
        const json = JSON.parse(await Deno.readTextFile(report));
        const expected = new Map(
          c.files.map((
            f,
          ) => [f.name, { size: f.size, sha256: sha256Of(f.name, f.size) }]),
        );
        await Deno.remove(`${out}/files/.bulkget-state.jsonl`).catch(() => {});
        const verdict = await verifyDir(
          `${out}/files`,
          (n) => expected.get(n),
          c.files.length,
        );
        const ok = run.exit === 0 && verdict.correct === c.files.length &&
          verdict.extra === 0;
        const rates: number[] = c.perDownload
          ? json.items.map((i: { transferred: number; elapsedMs: number }) =>
            i.transferred / (i.elapsedMs / 1000) / c.limit
          )
          : [json.totals.transferred / (json.elapsedMs / 1000) / c.limit];
        const ratio = rates.length === 1
          ? rates[0].toFixed(3)
          : `${Math.min(...rates).toFixed(3)}–${Math.max(...rates).toFixed(3)}`;
        rows.push({
          label: c.label,
          limit: c.limit,
          ratio,
          rssMiB: run.maxRssKiB / 1024,
          seconds: json.elapsedMs / 1000,
          ok,
        });
        log(
          `${c.label}: ${ratio} × the limit in ${
            (json.elapsedMs / 1000).toFixed(2)
          } s, ${(run.maxRssKiB / 1024).toFixed(0)} MiB${
            ok
              ? ""
              : ` (BAD: ${JSON.stringify(verdict)} ${run.stderr.slice(-300)})`
          }`,
        );
      } finally {
        await Deno.remove(out, { recursive: true }).catch(() => {});
      }
    }
  } finally {
    await server.stop();
  }
  const markdown = [
    "# Rate limits (`deno task bench --only RATE`)",
    "",
    `bulkget against \`bulkget serve\` (no cap) on 127.0.0.1, files written to /tmp. The rate is bulkget's own count: body bytes received (the report's \`transferred\`) over the run's \`elapsedMs\` (\`--limit-rate\`), or over each download's (\`--max-download-limit\`: min–max over the downloads). Peak RSS from GNU time. Machine: ${navigator.hardwareConcurrency} cores, shared; ${
      new Date().toISOString().slice(0, 16)
    } UTC.`,
    "",
    "| case | limit | measured / limit | elapsed | peak RSS | files right |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${r.label} | ${r.limit / MiB} MiB/s | ${r.ratio} | ${
        r.seconds.toFixed(2)
      } s | ${r.rssMiB.toFixed(0)} MiB | ${r.ok ? "yes" : "NO"} |`
    ),
    "",
  ].join("\n");
  return { rows, markdown };
}
