/**
 * Unit tests of `existing.ts`: which existing files are kept without a
 * request, which are asked about (length check, conditional GET), and which
 * are fetched again; what a length check's answer means.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Writer } from "../writer/client.ts";
import { judgeLengthCheck, planExisting } from "./existing.ts";

/** A writer that fails the test if it is asked anything: no checksum to verify. */
const untouched = new Proxy({}, {
  get(_, name) {
    throw new Error(`the writer was asked ${String(name)}`);
  },
}) as Writer;

const job = { url: "http://h/f", dest: "f" };
const validators = new Map([["f", { etag: '"v"' }]]);

Deno.test("planExisting: no final file, or --force: fetch, asking nothing", async () => {
  assert.deepEqual(await planExisting(job, {}, "skip", untouched), {
    kind: "fetch",
  });
  const probe = { finalSize: 10, recorded: true };
  assert.deepEqual(await planExisting(job, probe, "overwrite", untouched), {
    kind: "fetch",
  });
});

Deno.test("planExisting: kept by its record or the given size; a damaged or wrong-size file is fetched", async () => {
  assert.deepEqual(
    await planExisting(
      job,
      { finalSize: 10, recorded: true },
      "skip",
      untouched,
    ),
    { kind: "kept", file: { bytes: 10 } },
  );
  assert.deepEqual(
    await planExisting(
      job,
      { finalSize: 10, recorded: false },
      "skip",
      untouched,
    ),
    { kind: "fetch" },
  );
  const sized = { ...job, size: 10 };
  assert.equal(
    (await planExisting(sized, { finalSize: 10 }, "skip", untouched)).kind,
    "kept",
  );
  assert.deepEqual(
    await planExisting(sized, { finalSize: 9 }, "skip", untouched),
    { kind: "fetch" },
  );
});

Deno.test("planExisting: with neither a record nor a given size or checksum, the server's length is asked", async () => {
  assert.deepEqual(
    await planExisting(job, { finalSize: 10 }, "skip", untouched),
    {
      kind: "fetch",
      lengthCheck: 10,
    },
  );
});

Deno.test("planExisting --update: a conditional GET with the recorded validators, unless the file was damaged", async () => {
  assert.deepEqual(
    await planExisting(
      job,
      { finalSize: 10, recorded: true },
      "update",
      untouched,
      validators,
    ),
    { kind: "fetch", conditional: { etag: '"v"' } },
  );
  assert.deepEqual(
    await planExisting(
      job,
      { finalSize: 10, recorded: false },
      "update",
      untouched,
      validators,
    ),
    { kind: "fetch" },
  );
});

Deno.test("judgeLengthCheck: only a 416 naming exactly the local size says complete", () => {
  const range = (value: string) => new Headers({ "content-range": value });
  assert.equal(judgeLengthCheck(416, range("bytes */10"), 10), "same");
  assert.equal(judgeLengthCheck(416, range(" bytes */10 "), 10), "same");
  assert.equal(judgeLengthCheck(416, range("bytes */11"), 10), "differs");
  assert.equal(judgeLengthCheck(416, range("bytes 0-9/10"), 10), "differs");
  assert.equal(judgeLengthCheck(416, new Headers(), 10), "differs");
  assert.equal(judgeLengthCheck(206, range("bytes 10-19/20"), 10), "differs");
  for (const status of [200, 404, 503]) {
    assert.equal(judgeLengthCheck(status, new Headers(), 10), "answer");
  }
});
