import assert from "node:assert/strict";
import {
  ArtifactApiError,
  CALLER_CODES,
  ERROR_CODES,
  ExtractError,
  HttpProtocolError,
  RetryError,
  SourceError,
  UnsafeNameError,
  UsageError,
} from "./errors.ts";
import * as mod from "../../mod.ts";
import { retry } from "../engine/retry.ts";
import { parseChunkSize } from "../engine/http1_parser.ts";
import { parseWholeNumber } from "../cli/usage.ts";
import { safeDest } from "../writer/safe_name.ts";
import { checkName } from "../writer/entry_names.ts";

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

Deno.test("errors: caller codes are distinct from the report's codes", () => {
  const caller = Object.values(CALLER_CODES);
  assert.equal(new Set(caller).size, caller.length);
  for (const code of caller) {
    assert.ok(!(Object.values(ERROR_CODES) as string[]).includes(code), code);
  }
});
