import assert from "node:assert/strict";
import { WORKER_FUNCTIONS, writerWorkerUrl } from "./worker.ts";
import * as context from "./worker_context.ts";
import * as disk from "./worker_disk.ts";
import * as hash from "./worker_hash.ts";
import * as records from "./worker_records.ts";
import * as handlers from "./worker_handlers.ts";

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
