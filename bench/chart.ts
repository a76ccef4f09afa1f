/**
 * The chart of `deno task bench`: for each scenario, every tool's rate as a
 * ratio to the best peer's (aria2c, curl or wget2) in the same run, as
 * horizontal bars on a log scale centred on 1 (the best peer), written as a
 * self-contained SVG that the README shows.
 *
 * @module
 */

/** One tool's bar: its rate ÷ the best peer's, or why it has none. */
export interface ChartBar {
  /** The tool's name in the tables. */
  tool: string;
  /** Rate ÷ best peer's rate; undefined when no run of it checked out. */
  ratio?: number;
  /** Shown instead of a bar when `ratio` is undefined. */
  note?: string;
}

/** One scenario's bars. */
export interface ChartGroup {
  /** The scenario's name (`MANY`). */
  scenario: string;
  /** What it measures, short (`20,000 × 1 KiB`). */
  what: string;
  /** The best peer's name, the 1.0 of this group. */
  peer: string;
  bars: ChartBar[];
}

/** Options of {@linkcode ratioChart}. */
export interface ChartOptions {
  /** The heading line. */
  title: string;
  /** A second, smaller line (the run's date and machine). */
  subtitle?: string;
}

/** Fill colours by tool; unknown tools are grey. */
const COLOURS: Record<string, string> = {
  bulkget: "#1f5fa8",
  "bulkget-fetch": "#7fa9d9",
  "bulkget-bin": "#0b3466",
  aria2c: "#c98a3c",
  curl: "#b8443a",
  wget2: "#8a6bb0",
  bare: "#4f9a5a",
};

/** The scale's ends and ticks: ratios 1/8 to 4, 1 in the middle-right. */
const MIN = 1 / 8;
const MAX = 4;
const TICKS = [0.125, 0.25, 0.5, 1, 2, 4];

const WIDTH = 760;
const LEFT = 190;
const RIGHT = 60;
const BAR = 13;
const GAP = 3;
const GROUP_HEAD = 22;
const GROUP_GAP = 10;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function xOf(ratio: number): number {
  const clamped = Math.min(MAX, Math.max(MIN, ratio));
  const t = Math.log(clamped / MIN) / Math.log(MAX / MIN);
  return LEFT + t * (WIDTH - LEFT - RIGHT);
}

function tickLabel(ratio: number): string {
  return `${ratio}×`;
}

/**
 * Draws the ratio chart.
 *
 * @param groups One group of bars per scenario, in table order.
 * @param options The title lines.
 * @returns The SVG document.
 */
export function ratioChart(
  groups: ChartGroup[],
  options: ChartOptions,
): string {
  const top = options.subtitle ? 74 : 56;
  const out: string[] = [];
  let y = top;
  const body: string[] = [];
  for (const group of groups) {
    body.push(
      `<text x="8" y="${y + 15}" class="group">${escapeXml(group.scenario)}` +
        `<tspan dx="8" class="what">${escapeXml(group.what)} · 1× = ${
          escapeXml(group.peer)
        }</tspan></text>`,
    );
    y += GROUP_HEAD;
    for (const bar of group.bars) {
      const colour = COLOURS[bar.tool] ?? "#888888";
      body.push(
        `<text x="${LEFT - 8}" y="${
          y + BAR - 3
        }" class="tool" text-anchor="end">${escapeXml(bar.tool)}</text>`,
      );
      if (bar.ratio === undefined || !isFinite(bar.ratio)) {
        body.push(
          `<text x="${LEFT + 4}" y="${y + BAR - 3}" class="note">${
            escapeXml(bar.note ?? "no run checked out")
          }</text>`,
        );
      } else {
        const x0 = xOf(MIN);
        const x1 = xOf(bar.ratio);
        body.push(
          `<rect x="${x0}" y="${y}" width="${
            (x1 - x0).toFixed(1)
          }" height="${BAR}" fill="${colour}"/>`,
          `<text x="${(x1 + 4).toFixed(1)}" y="${y + BAR - 3}" class="value">${
            bar.ratio.toFixed(2)
          }${bar.ratio > MAX || bar.ratio < MIN ? " (off scale)" : ""}</text>`,
        );
      }
      y += BAR + GAP;
    }
    y += GROUP_GAP;
  }
  const height = y + 28;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    "<style>",
    ".title{font-size:15px;font-weight:bold;fill:#222}",
    ".subtitle{font-size:11px;fill:#555}",
    ".group{font-size:12px;font-weight:bold;fill:#222}",
    ".what{font-weight:normal;fill:#555}",
    ".tool{font-size:11px;fill:#333}",
    ".value{font-size:10px;fill:#333}",
    ".note{font-size:10px;fill:#a33;font-style:italic}",
    ".tick{font-size:10px;fill:#555}",
    "</style>",
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="8" y="20" class="title">${escapeXml(options.title)}</text>`,
  );
  if (options.subtitle) {
    out.push(
      `<text x="8" y="38" class="subtitle">${
        escapeXml(options.subtitle)
      }</text>`,
    );
  }
  const axisTop = top - 8;
  for (const tick of TICKS) {
    const x = xOf(tick).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${axisTop}" x2="${x}" y2="${y}" stroke="${
        tick === 1 ? "#222" : "#dddddd"
      }" stroke-width="${tick === 1 ? 1.5 : 1}"/>`,
      `<text x="${x}" y="${axisTop - 4}" class="tick" text-anchor="middle">${
        tickLabel(tick)
      }</text>`,
      `<text x="${x}" y="${y + 14}" class="tick" text-anchor="middle">${
        tickLabel(tick)
      }</text>`,
    );
  }
  out.push(...body);
  out.push(
    `<text x="8" y="${
      y + 24
    }" class="subtitle">rate ÷ the best peer's rate in the same run (log scale); right of 1× = faster than the best peer</text>`,
    "</svg>",
    "",
  );
  return out.join("\n");
}
