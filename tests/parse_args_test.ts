// Our parseArgs against node:util's, on the same inputs: same values, same
// positionals, same error messages.
import assert from "node:assert/strict";
import { parseArgs as nodeParseArgs } from "node:util";
import { parseArgs } from "../lib/cli/parse_args.ts";

const options = {
  all: { type: "boolean", short: "a" },
  limit: { type: "string", short: "l" },
  verbose: { type: "boolean", short: "v" },
  input: { type: "string", short: "i", multiple: true },
  header: { type: "string", short: "H", multiple: true },
  "max-concurrent": { type: "string", short: "m" },
  "no-resume": { type: "boolean" },
  report: { type: "string" },
} as const;

const cases: string[][] = [
  [],
  ["x", "y"],
  ["-a"],
  ["-al", "100", "BR"],
  ["-av", "-l", "5"],
  ["-avl7"],
  ["-la"],
  ["-l", "-"],
  ["-m100", "-i", "a.txt", "--input=b.txt", "-i", "-"],
  ["--max-concurrent", "8", "--no-resume", "--report=r.json", "u"],
  ["--report=", "x"],
  ["-H", "A: 1", "--header", "B: 2", "-H", "C: 3"],
  ["--", "-a", "--limit", "x"],
  ["a", "--", "--"],
  ["-"],
  ["-v", "-v"],
  // errors
  ["--bogus"],
  ["--bogus=1"],
  ["-z"],
  ["-az"],
  ["--all=yes"],
  ["--limit"],
  ["-l"],
  ["--report"],
  ["--limit", "--all"],
  ["-l", "-5"],
  ["-m", "--verbose"],
  ["--report", "--all"],
  ["--limit", "-5"],
  ["--verbose=", "x"],
];

for (const args of cases) {
  Deno.test(`parseArgs matches node:util for ${JSON.stringify(args)}`, () => {
    let expected: unknown;
    try {
      const { values, positionals } = nodeParseArgs({
        args,
        options,
        strict: true,
        allowPositionals: true,
      });
      expected = { values: { ...values }, positionals };
    } catch (error) {
      expected = { error: (error as Error).message };
    }
    let actual: unknown;
    try {
      const { values, positionals } = parseArgs(args, options);
      actual = { values: { ...values }, positionals };
    } catch (error) {
      assert.ok(error instanceof TypeError);
      actual = { error: error.message };
    }
    assert.deepEqual(actual, expected);
  });
}
