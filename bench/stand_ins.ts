/**
 * What the layer measurements (`layers.ts`, `profile.ts`) put in place of
 * the real parts, kept once so a change to the `Writer` interface is made in
 * one place (two copies once fell out of step with it).
 *
 * @module
 */
import type { Writer } from "../lib/writer/client.ts";

/** A writer that touches no disk: every call succeeds at once. */
export const NO_DISK_WRITER: Writer = {
  put: (_d, data) => Promise.resolve({ bytes: data.byteLength, sha256: "" }),
  probe: () => Promise.resolve({}),
  verify: () => Promise.resolve({ bytes: 0, sha256: "" }),
  prepare: () => Promise.resolve("/dev/null"),
  seal: () => Promise.resolve({ bytes: 0, sha256: "" }),
  release: () => Promise.resolve(),
  startSplit: () => Promise.resolve(),
  writeAt: () =>
    Promise.resolve({ written: Promise.resolve(new ArrayBuffer(0)) }),
  close: () => Promise.resolve(),
};

/**
 * Runs `fn(0)` … `fn(count - 1)` with `width` of them in flight at once.
 *
 * @param width How many at once.
 * @param count How many in all.
 * @param fn The work for one index.
 */
export async function loopConcurrently(
  width: number,
  count: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await fn(next++);
  }));
}
