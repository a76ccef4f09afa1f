// The V8 flags bulkget is meant to run with are the same wherever they are written down.
import assert from "node:assert/strict";
import { V8_FLAGS } from "../lib/cli/v8_flags.ts";

Deno.test("the demo task and the README pass lib/cli/v8_flags.ts's V8 flags", async () => {
  const root = new URL("../", import.meta.url);
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  );
  assert.match(denoJson.tasks.demo, new RegExp(`--v8-flags=${V8_FLAGS}\\b`));
  const readme = await Deno.readTextFile(new URL("README.md", root));
  assert.ok(readme.includes(`--v8-flags=${V8_FLAGS}`));
  const compile = await Deno.readTextFile(new URL("scripts/compile.ts", root));
  assert.ok(compile.includes("`--v8-flags=${V8_FLAGS}`"));
});
