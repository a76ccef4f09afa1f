import { equal } from "node:assert/strict";
import { formatBytes, formatClock, plural } from "./format.ts";

Deno.test("formatBytes: whole bytes below 1 KiB, one decimal in binary units above", () => {
  const cases: [number, string][] = [
    [0, "0 B"],
    [1, "1 B"],
    [0.4, "0 B"], // a rate below a byte per second
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [10 * 1024 * 1024, "10.0 MiB"],
    [3.25 * 1024 ** 3, "3.3 GiB"],
    [2 * 1024 ** 4, "2.0 TiB"],
    [2048 * 1024 ** 4, "2048.0 TiB"], // the largest unit grows past 1024
  ];
  for (const [bytes, text] of cases) {
    equal(formatBytes(bytes), text, `${bytes}`);
  }
});

Deno.test("formatBytes: a value that rounds up to 1024 of a unit is shown in the next one", () => {
  equal(formatBytes(1023.6), "1.0 KiB");
  equal(formatBytes(1024 * 1024 - 1), "1.0 MiB");
  equal(formatBytes(1024 ** 3 - 1), "1.0 GiB");
  equal(formatBytes(1024 * 1023.94), "1023.9 KiB");
});

Deno.test("formatClock: MM:SS, H:MM:SS past an hour, --:-- when unknown", () => {
  const cases: [number, string][] = [
    [0, "00:00"],
    [59.4, "00:59"],
    [59.5, "01:00"],
    [61, "01:01"],
    [3599.4, "59:59"],
    [3599.5, "1:00:00"],
    [36_000 + 62, "10:01:02"],
    [-1, "--:--"],
    [NaN, "--:--"],
    [Infinity, "--:--"],
  ];
  for (const [seconds, text] of cases) {
    equal(formatClock(seconds), text, `${seconds}`);
  }
});

Deno.test("plural: the noun for one, the plural for any other count", () => {
  equal(plural(1, "flag"), "1 flag");
  equal(plural(0, "flag"), "0 flags");
  equal(plural(3, "flag"), "3 flags");
  equal(plural(2, "retry", "retries"), "2 retries");
  equal(plural(1, "retry", "retries"), "1 retry");
});
