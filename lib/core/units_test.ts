/** The one parser of sizes and the one of durations, case by case. */
import assert from "node:assert/strict";
import { parseDuration, parseSize } from "./units.ts";

Deno.test("parseSize: bytes, binary units in any case, with or without iB/B", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["2048", 2048],
    ["64k", 64 * 1024],
    ["64K", 64 * 1024],
    ["64KiB", 64 * 1024],
    ["64kb", 64 * 1024],
    ["10M", 10 * 1024 ** 2],
    ["1g", 1024 ** 3],
    ["2T", 2 * 1024 ** 4],
    [" 5m ", 5 * 1024 ** 2],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
});

Deno.test("parseSize: fractions, signs, other units and empty text are refused with the text quoted", () => {
  for (
    const text of ["", "1.5M", "-1", "+1", "10x", "M", "1e3", "10 MB extra"]
  ) {
    assert.throws(
      () => parseSize(text),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.includes(`got "${text}"`),
      text,
    );
  }
});

Deno.test("parseDuration: ms, s, m, fractions, and a bare number in the bare unit", () => {
  const cases: [string, "ms" | "s" | undefined, number][] = [
    ["500", undefined, 500],
    ["500ms", undefined, 500],
    ["2s", undefined, 2000],
    ["1.5s", undefined, 1500],
    [".5s", undefined, 500],
    ["1m", undefined, 60_000],
    ["2.5", "s", 2500],
    ["250ms", "s", 250],
    ["0.0004s", undefined, 0],
  ];
  for (const [text, bare, ms] of cases) {
    assert.equal(parseDuration(text, bare), ms, `${text} (${bare ?? "ms"})`);
  }
});

Deno.test("parseDuration: signs, hours, spaces inside and empty text are refused", () => {
  for (const text of ["", "-1s", "1h", "1 s", "s", "1.s", "abc"]) {
    assert.throws(() => parseDuration(text), RangeError, text);
  }
});
