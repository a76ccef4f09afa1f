import assert from "node:assert/strict";
import { ownBuffer, type Pack, packArena } from "./channel.ts";

Deno.test("packArena copies small bodies into one buffer and tells each request where its body lies", () => {
  const packs: Pack[] = [
    { request: {}, data: new Uint8Array([1, 2, 3]) },
    { request: {}, data: new Uint8Array([]) },
    { request: {}, data: new Uint8Array([4, 5]) },
  ];
  const arena = new Uint8Array(packArena(packs, 5));
  assert.deepEqual([...arena], [1, 2, 3, 4, 5]);
  assert.deepEqual(packs.map((p) => p.request.packed), [[0, 3], [3, 0], [
    3,
    2,
  ]]);
});

Deno.test("ownBuffer transfers a view's own buffer and copies a view into a larger one", () => {
  const whole = new Uint8Array([1, 2, 3]);
  assert.equal(ownBuffer(whole), whole.buffer);
  const part = new Uint8Array([9, 1, 2, 9]).subarray(1, 3);
  const copied = ownBuffer(part);
  assert.notEqual(copied, part.buffer);
  assert.deepEqual([...new Uint8Array(copied)], [1, 2]);
});
