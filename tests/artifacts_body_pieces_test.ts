import assert from "node:assert/strict";
import { download } from "../lib/engine/download.ts";
import { startServer } from "../lib/server/server.ts";

Deno.test("engine onBodyPiece (what bulkget artifacts hashes on the main thread): a streamed body's pieces, in order and at their file offsets, are exactly the file's bytes; a body read whole gives none", async () => {
  await using server = await startServer({ alt: false });
  const outDir = await Deno.makeTempDir();
  try {
    const pieces = new Map<string, [number, Uint8Array][]>();
    const jobs = [
      { url: `${server.url}/files/3m/big.bin`, dest: "big.bin", origin: "big" },
      {
        url: `${server.url}/files/10k/small.bin`,
        dest: "small.bin",
        origin: "small",
      },
    ];
    for await (
      const outcome of download(jobs, {
        outDir,
        smallBodyLimit: 1 << 20,
        onBodyPiece: (job, piece, at) => {
          const list = pieces.get(job.origin!) ?? [];
          list.push([at, piece.slice()]); // valid only during the call
          pieces.set(job.origin!, list);
        },
      })
    ) assert.equal(outcome.status, "ok", outcome.reason);
    const file = await Deno.readFile(`${outDir}/big.bin`);
    const got = pieces.get("big")!;
    assert.ok(got.length > 1, "a 3 MiB body comes in pieces");
    let next = 0;
    for (const [at, piece] of got) {
      assert.equal(at, next, "each piece where the one before ended");
      assert.deepEqual(piece, file.subarray(at, at + piece.length));
      next += piece.length;
    }
    assert.equal(next, file.length);
    assert.equal(pieces.has("small"), false);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});
