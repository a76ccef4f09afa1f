/** The option-value parsers every command shares: what each takes and the one line it says otherwise. */
import assert from "node:assert/strict";
import {
  parseByteSize,
  parseCommandLine,
  parseHeader,
  parseSeconds,
  parseWholeNumber,
} from "./usage.ts";

/** Asserts that `run` throws a usage error whose message is exactly `message`. */
function refuses(run: () => unknown, message: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("parseWholeNumber: whole numbers in range; anything else names the option and the range", () => {
  assert.equal(parseWholeNumber("100", "-m", 1), 100);
  assert.equal(parseWholeNumber(" 0 ", "--retries", 0), 0);
  assert.equal(parseWholeNumber("16", "--split", 1, 16), 16);
  refuses(
    () => parseWholeNumber("-1", "--retries", 0),
    '--retries must be a whole number >= 0, got "-1"',
  );
  refuses(
    () => parseWholeNumber("17", "--split", 1, 16),
    '--split must be a whole number from 1 to 16, got "17"',
  );
  for (const text of ["1.5", "1e3", "", "ten", "9007199254740993"]) {
    refuses(
      () => parseWholeNumber(text, "-m", 1),
      `-m must be a whole number >= 1, got "${text}"`,
    );
  }
});

Deno.test("parseSeconds: positive seconds, fractions and units; zero, negatives and words refused", () => {
  assert.equal(parseSeconds("2.5", "--timeout"), 2500);
  assert.equal(parseSeconds("250ms", "--timeout"), 250);
  assert.equal(parseSeconds("1m", "--timeout"), 60_000);
  for (const text of ["0", "-1", "soon", ""]) {
    refuses(
      () => parseSeconds(text, "--idle-timeout"),
      `--idle-timeout must be a positive number of seconds, got "${text}"`,
    );
  }
});

Deno.test("parseByteSize: sizes with units; anything else names the option", () => {
  assert.equal(parseByteSize("10M", "--max-size"), 10 * 1024 ** 2);
  assert.equal(parseByteSize("500000", "--max-size"), 500_000);
  refuses(
    () => parseByteSize("1.5M", "--limit-rate"),
    '--limit-rate must be a size such as 500000, 64K or 10M, got "1.5M"',
  );
});

Deno.test("parseHeader: Name: value trimmed; no name, a bad name or a line break in the value refused", () => {
  assert.deepEqual(parseHeader("X-Token:  abc "), ["X-Token", "abc"]);
  assert.deepEqual(parseHeader("Accept:"), ["Accept", ""]);
  assert.deepEqual(parseHeader("A: b: c"), ["A", "b: c"]);
  for (const text of [": v", "no colon", "Bad Name: v"]) {
    refuses(() => parseHeader(text), `-H must be "Name: value", got "${text}"`);
  }
  refuses(
    () => parseHeader("X-A: one\r\nX-B: two"),
    "-H X-A: the value must not contain line breaks",
  );
});

Deno.test("parseCommandLine: an unknown option is one line, with the option meant when one is a typo away", () => {
  const options = {
    retries: { type: "string" },
    "max-size": { type: "string" },
    verbose: { type: "boolean", short: "v" },
  } as const;
  const parse = (...args: string[]) => () => parseCommandLine(args, options);
  refuses(
    parse("--retires", "3"),
    "unknown option --retires (did you mean --retries?)",
  );
  refuses(
    parse("--maxsize=1"),
    "unknown option --maxsize (did you mean --max-size?)",
  );
  refuses(parse("--bogus"), "unknown option --bogus");
  refuses(parse("-x"), "unknown option -x");
});
