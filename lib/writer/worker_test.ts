import assert from "node:assert/strict";
import { failureOf, WORKER_FUNCTIONS, writerWorkerUrl } from "./worker.ts";
import { ERROR_CODES, STOP_CODES } from "../core/errors.ts";
import * as context from "./worker_context.ts";
import * as disk from "./worker_disk.ts";
import * as hash from "./worker_hash.ts";
import * as records from "./worker_records.ts";
import * as handlers from "./worker_handlers.ts";
import { verifyError } from "./worker_hash.ts";

Deno.test("the Worker's source holds every function of its modules, each once", async () => {
  const listed = new Set(WORKER_FUNCTIONS.map((fn) => fn.name));
  assert.equal(listed.size, WORKER_FUNCTIONS.length);
  for (const module of [context, disk, hash, records, handlers]) {
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === "function") assert.ok(listed.has(name), name);
    }
  }
  const source = await (await fetch(writerWorkerUrl())).text();
  for (const name of listed) {
    assert.match(source, new RegExp(`^(export )?function ${name}\\(`, "m"));
  }
  assert.match(source, /^writerWorker\(\);$/m);
});

Deno.test("failureOf: what the Worker threw crosses as a code: a mismatch, a missing permission, anything else", () => {
  assert.deepEqual(failureOf(verifyError("size mismatch")), {
    code: ERROR_CODES.verify,
    message: "size mismatch",
  });
  assert.deepEqual(
    failureOf(new Deno.errors.NotCapable("Requires write access")),
    { code: STOP_CODES.permission, message: "Requires write access" },
  );
  assert.deepEqual(failureOf(new Deno.errors.NotFound("No such file")), {
    code: ERROR_CODES.write,
    message: "No such file",
  });
  // A code that is not bulkget's (Deno's errors have their own) is not kept.
  const busy = Object.assign(new Error("busy"), { code: "EBUSY" });
  assert.equal(failureOf(busy).code, ERROR_CODES.write);
  assert.deepEqual(failureOf("odd"), {
    code: ERROR_CODES.write,
    message: "odd",
  });
});
