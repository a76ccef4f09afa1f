import { deepEqual, equal, match } from "node:assert/strict";
import { githubOutputs } from "./github.ts";
import { outcome } from "./_test_outcomes.ts";
import { addOutcome, emptyTotals } from "./tally.ts";

Deno.test("githubOutputs: one ::error:: annotation per failed or missing job, none for the others, each job's own secrets masked", () => {
  const printed: string[] = [];
  const listener = githubOutputs({
    secrets: ["run-secret"],
    secretsOf: (o) => o.job.dest === "b" ? ["run-secret", "job-secret"] : [],
    print: (line) => printed.push(line),
  });
  for (
    const status of ["ok", "skipped", "not_modified", "cancelled"] as const
  ) {
    listener.outcome!(outcome(status, status), 0);
  }
  listener.outcome!(outcome("a", "not_found"), 0);
  listener.outcome!(
    outcome("b", "error", { reason: "job-secret and run-secret refused" }),
    0,
  );
  deepEqual(printed, [
    "::error title=bulkget%3A a::http://127.0.0.1/a: not found",
    "::error title=bulkget%3A b::http://127.0.0.1/b: *** and *** refused",
  ]);
});

Deno.test("githubOutputs: the step summary is appended after what the file held, once per run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/summary.md`;
    await Deno.writeTextFile(path, "# an earlier step\n");
    const warned: string[] = [];
    const failed = outcome("x", "error", { reason: "cut | short" });
    const totals = emptyTotals();
    addOutcome(totals, failed);
    for (let run = 0; run < 2; run++) {
      await githubOutputs({
        secrets: [],
        summaryPath: path,
        warn: (line) => warned.push(line),
      }).finish!({
        totals,
        failures: [failed],
        elapsedMs: 2500,
        interrupted: false,
      });
    }
    const text = await Deno.readTextFile(path);
    equal(text.startsWith("# an earlier step\n### bulkget\n"), true);
    equal(text.split("### bulkget").length, 3);
    match(text, /\| 0 \| 0 \| 0 \| 1 \| 0 \| 0 B \| 0 \| 2\.5 s \|/);
    match(text, /\| x \| http:\/\/127\.0\.0\.1\/x \| cut \\\| short \|/);
    deepEqual(warned, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("githubOutputs: a step summary that cannot be written is one warning naming it, and nothing thrown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const warned: string[] = [];
    const end = {
      totals: emptyTotals(),
      failures: [],
      elapsedMs: 0,
      interrupted: false,
    };
    for (const path of [`${dir}/gone/summary.md`, dir]) {
      await githubOutputs({
        secrets: [],
        summaryPath: path,
        warn: (line) => warned.push(line),
      }).finish!(end);
    }
    equal(warned.length, 2);
    equal(
      warned[0],
      `bulkget get: warning: cannot write the step summary to $GITHUB_STEP_SUMMARY (${dir}/gone/summary.md): no such directory; skipped`,
    );
    match(
      warned[1],
      new RegExp(
        `^bulkget get: warning: cannot write the step summary to \\$GITHUB_STEP_SUMMARY \\(${dir}\\): .+; skipped$`,
      ),
    );
    // Without a path there is nothing to write and nothing to say.
    await githubOutputs({ secrets: [], warn: (l) => warned.push(l) }).finish!(
      end,
    );
    equal(warned.length, 2);
    deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
