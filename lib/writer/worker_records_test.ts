import assert from "node:assert/strict";
import { parseRecords } from "./worker_records.ts";

Deno.test("parseRecords: the last line about a file wins; a line without a size drops the record; a torn line is skipped", () => {
  const text = [
    `{"dest":"a","size":1,"sha256":"x","mtime":5,"ctime":5000}`,
    `{"dest":"a","size":2,"sha256":"y","mtime":6,"ctime":6000}`,
    `{"dest":"b","size":3}`,
    `{"dest":"c","size":4,"sha256":"z"}`,
    `{"dest":"c","etag":"\\"1\\""}`,
    `{"dest":"d","size":5,"sha256":"w","mtime":7}`,
    `{"dest":"e","si`,
  ].join("\n");
  const got = parseRecords(text);
  assert.deepEqual(Object.fromEntries(got), {
    a: { size: 2, sha256: "y", mtime: 6, ctime: 6000 },
    b: { size: 3, sha256: undefined },
    d: { size: 5, sha256: "w" }, // half a stamp is no stamp
  });
  assert.deepEqual(parseRecords(""), new Map());
  assert.deepEqual(parseRecords("null\n42\n"), new Map());
});
