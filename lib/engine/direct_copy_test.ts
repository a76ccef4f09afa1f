import assert from "node:assert/strict";
import { copyDirect } from "./direct_copy.ts";
import type { DirectBody } from "./http_response.ts";

/** Deterministic bytes (xorshift), so a misplaced piece shows. */
function bytesOf(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/**
 * Where `actual` first differs from `expected` (-1 where nowhere): a
 * deepEqual of two differing bodies of megabytes would spend minutes on
 * its message.
 */
function firstDifference(actual: Uint8Array, expected: Uint8Array): number {
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i++) if (actual[i] !== expected[i]) return i;
  return actual.length === expected.length ? -1 : n;
}

/**
 * A body that hands out `bytes` in reads of varying sizes (1 byte to
 * 300 KiB, each at most what the caller's buffer takes), as a socket does.
 */
function bodyOf(bytes: Uint8Array, seed: number): DirectBody {
  let at = 0;
  let x = seed;
  return {
    readInto(target) {
      // A read into nothing would never end (the interface wants room).
      if (target.length === 0) {
        return Promise.reject(new Error("read into an empty buffer"));
      }
      if (at === bytes.length) return Promise.resolve(null);
      x = (x * 1103515245 + 12345) >>> 0;
      const want = x % 4 === 0 ? 1 + (x >>> 8) % 64 : 1 + (x >>> 8) % 300_000;
      const n = Math.min(want, target.length, bytes.length - at);
      target.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
    cancel() {},
  };
}

Deno.test("copyDirect: bodies many times their buffer, in reads of every size, land byte-exact and are seen in order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bulkget-direct-" });
  try {
    // 24 copies at once share the 16 MiB budget: buffers of ~680 KiB, which
    // each 3-9 MiB body goes round several times.
    const runs = Array.from({ length: 24 }, async (_, i) => {
      const body = bytesOf(3_000_000 + i * 250_001, i + 1);
      const path = `${dir}/f${i}`;
      const file = await Deno.open(path, { write: true, create: true });
      const seen: Uint8Array[] = [];
      let read = 0;
      try {
        await copyDirect(
          bodyOf(body, i + 7),
          file,
          () => undefined,
          (n) => read += n,
          {
            readSize: Infinity,
            onWritten: (piece) => seen.push(piece.slice()),
          },
        );
      } finally {
        file.close();
      }
      assert.equal(read, body.length);
      assert.equal(
        firstDifference(Deno.readFileSync(path), body),
        -1,
        `f${i} on disk`,
      );
      const heard = await new Blob(seen as BlobPart[]).arrayBuffer();
      assert.equal(
        firstDifference(new Uint8Array(heard), body),
        -1,
        `f${i} as onWritten heard it`,
      );
    });
    await Promise.all(runs);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copyDirect: a write that fails fails the copy (it does not wait for its buffer forever)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bulkget-direct-" });
  try {
    const path = `${dir}/f`;
    Deno.writeFileSync(path, new Uint8Array(0));
    // Opened for reading only: every write fails.
    const file = await Deno.open(path, { read: true });
    try {
      await assert.rejects(
        copyDirect(
          bodyOf(bytesOf(20 << 20, 3), 5),
          file,
          () => undefined,
          () => {},
        ),
      );
    } finally {
      file.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copyDirect: a stop before a read cancels the body and throws its reason, after the bytes read are written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bulkget-direct-" });
  try {
    const path = `${dir}/f`;
    const bytes = bytesOf(6 << 20, 9);
    const file = await Deno.open(path, { write: true, create: true });
    let read = 0;
    let cancelled = false;
    const body = bodyOf(bytes, 11);
    const stop = new Error("too big");
    try {
      await assert.rejects(
        copyDirect(
          { readInto: body.readInto, cancel: () => cancelled = true },
          file,
          () => read > 5_000_000 ? stop : undefined,
          (n) => read += n,
        ),
        (error) => error === stop,
      );
    } finally {
      file.close();
    }
    assert.ok(cancelled);
    assert.equal(
      firstDifference(Deno.readFileSync(path), bytes.subarray(0, read)),
      -1,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
