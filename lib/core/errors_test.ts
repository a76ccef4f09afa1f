import assert from "node:assert/strict";
import {
  ArtifactApiError,
  AttemptError,
  CALLER_CODES,
  ERROR_CODES,
  ExtractError,
  HttpProtocolError,
  RetryError,
  SourceError,
  SplitAbort,
  UnsafeNameError,
  UsageError,
} from "./errors.ts";
import * as mod from "../../mod.ts";
import { retry } from "../engine/retry.ts";
import { parseChunkSize } from "../engine/http1_parser.ts";
import { parseWholeNumber } from "../cli/usage.ts";
import { safeDest } from "../writer/safe_name.ts";
import { checkName } from "../writer/entry_names.ts";
import { statusFailure } from "../engine/classify.ts";
import { judgeRangeAnswer } from "../engine/range_answer.ts";

Deno.test("errors: each thrown error is the one class, with its code", async () => {
  const spent = await retry(() => Promise.reject(new Error("down")), {
    maxAttempts: 2,
    sleep: () => Promise.resolve(),
  }).catch((error: unknown) => error);
  assert.ok(spent instanceof RetryError && spent instanceof mod.RetryError);
  assert.equal(spent.code, CALLER_CODES.retriesSpent);

  assert.throws(() => parseChunkSize("zz"), (error: unknown) => {
    assert.ok(error instanceof HttpProtocolError);
    assert.equal(error.code, ERROR_CODES.protocol);
    return true;
  });
  assert.equal(
    new HttpProtocolError("gzip is not decoded", false).code,
    ERROR_CODES.framing,
  );

  assert.throws(() => parseWholeNumber("x", "-m N", 1), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.code, CALLER_CODES.usage);
    return true;
  });
  assert.throws(() => safeDest("../x"), (error: unknown) => {
    assert.ok(error instanceof mod.UnsafeNameError);
    assert.ok(error instanceof RangeError);
    assert.equal(error.code, CALLER_CODES.unsafeName);
    return true;
  });
  assert.throws(() => checkName("../x"), (error: unknown) => {
    assert.ok(error instanceof ExtractError);
    assert.equal(error.code, CALLER_CODES.extract);
    return true;
  });
  await assert.rejects(
    mod.jobsFromUrls(["ftp://x"]).next(),
    (error: unknown) => {
      assert.ok(
        error instanceof SourceError && error instanceof mod.SourceError,
      );
      assert.equal(error.code, CALLER_CODES.badInput);
      return true;
    },
  );
  const api = new mod.ArtifactApiError("gone", { status: 410, expired: true });
  assert.ok(api instanceof ArtifactApiError);
  assert.equal(api.code, CALLER_CODES.artifactApi);
  assert.ok(new UnsafeNameError("a", "b") instanceof mod.UnsafeNameError);
});

Deno.test("errors: a failed attempt is the one AttemptError, with its failure code", async () => {
  const busy = statusFailure({
    status: 503,
    statusText: "Busy",
    headers: new Headers(),
  });
  assert.ok(busy instanceof AttemptError && busy instanceof mod.AttemptError);
  assert.deepEqual([busy.verdict, busy.code], [
    "retryable",
    ERROR_CODES.httpStatus,
  ]);

  const asked = {
    from: 0,
    end: 10,
    meta: { url: "http://127.0.0.1/f", etag: '"v1"', total: 20 },
  };
  await assert.rejects(
    judgeRangeAnswer(new Response(null, { status: 416 }), 0, asked),
    (error: unknown) => {
      assert.ok(error instanceof SplitAbort && error instanceof AttemptError);
      assert.deepEqual(
        [error.verdict, error.code, error.oneConnection],
        ["retryable", ERROR_CODES.range, false],
      );
      return true;
    },
  );
});

Deno.test("errors: caller codes are distinct from the report's codes", () => {
  const caller = Object.values(CALLER_CODES);
  assert.equal(new Set(caller).size, caller.length);
  for (const code of caller) {
    assert.ok(!(Object.values(ERROR_CODES) as string[]).includes(code), code);
  }
});
