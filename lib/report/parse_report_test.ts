import { equal, throws } from "node:assert/strict";
import { parseReport } from "./parse_report.ts";
import { item, report } from "./_test_reports.ts";

Deno.test("parseReport refuses what is not a complete version 1 report", () => {
  const good = JSON.stringify(
    report([item("x")], { shard: { index: 1, count: 2 } }),
  );
  equal(parseReport(good, "r.json").items.length, 1);
  const bad: [string, RegExp][] = [
    [good.slice(0, -20), /^r\.json: not a complete JSON report/],
    ["[]", /expected a JSON object/],
    [
      JSON.stringify({ ...report([]), version: 2 }),
      /expected "version": 1, got 2/,
    ],
    [JSON.stringify({ ...report([]), items: {} }), /"items" must be an array/],
    [
      JSON.stringify(report([{ ...item("x"), status: "fine" as never }])),
      /item 1 needs/,
    ],
    [
      JSON.stringify(report([], { shard: { index: 3, count: 2 } })),
      /"shard" must be/,
    ],
  ];
  for (const [text, message] of bad) {
    throws(() => parseReport(text, "r.json"), { name: "TypeError", message });
  }
});

Deno.test("parseReport: each refusal names the file and says what is wrong, in one line", () => {
  const base = report([item("x")]);
  const bad: [unknown, string][] = [
    [null, "expected a JSON object"],
    ["text", "expected a JSON object"],
    [{ ...base, version: "1" }, 'expected "version": 1, got "1"'],
    [{ ...base, version: undefined }, 'expected "version": 1, got undefined'],
    [
      { ...base, items: [null] },
      'item 1 needs "url", "dest" and a known "status"',
    ],
    [
      { ...base, items: [item("x"), { ...item("y"), dest: 7 }] },
      'item 2 needs "url", "dest" and a known "status"',
    ],
    [
      { ...base, shard: { index: 0, count: 2 } },
      '"shard" must be {"index": K, "count": N} with 1 <= K <= N',
    ],
    [
      { ...base, shard: { index: 1.5, count: 2 } },
      '"shard" must be {"index": K, "count": N} with 1 <= K <= N',
    ],
  ];
  for (const [value, why] of bad) {
    throws(() => parseReport(JSON.stringify(value), "d/r.json"), {
      name: "TypeError",
      message: `d/r.json: not a bulkget report: ${why}`,
    });
  }
});

Deno.test("parseReport: a report as written, fields it does not know and a merge's output are read", () => {
  const written = report([item("x"), item("y", "error")], {
    shard: { index: 2, count: 2 },
  });
  const parsed = parseReport(JSON.stringify(written), "r.json");
  equal(parsed.items[1].status, "error");
  equal(parsed.shard?.index, 2);
  const later = { ...written, newField: [1], shard: undefined };
  equal(parseReport(JSON.stringify(later), "r.json").items.length, 2);
  const merged = { ...written, shard: undefined, merge: { reports: ["a"] } };
  equal(parseReport(JSON.stringify(merged), "m.json").items.length, 2);
});
