import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import type { Job } from "../lib/core/job.ts";
import { dedupeDestinations } from "../lib/source/dedupe.ts";
import { jobsFromList } from "../lib/source/url_list.ts";
import { SourceError } from "../lib/core/errors.ts";

const job = (dest: string, origin?: string): Job => ({
  url: `http://h/${dest}`,
  dest,
  origin,
});

Deno.test("dedupeDestinations() names both lines of a duplicate", async () => {
  const text = "http://a/x/a.gif\nhttp://a/b.gif\n\n# c\n\nhttp://a/c.gif\n" +
    "http://b/y/a.gif\n";
  const stream = ReadableStream.from([new TextEncoder().encode(text)]);
  const seen: string[] = [];
  await rejects(
    (async () => {
      for await (
        const j of dedupeDestinations(
          jobsFromList(stream, { name: "list.txt" }),
        )
      ) seen.push(j.dest);
    })(),
    (e: unknown) =>
      e instanceof SourceError && e.origin === "list.txt:7" &&
      e.message ===
        'list.txt:7: destination "a.gif" is already used by list.txt:1',
  );
  deepEqual(seen, ["a.gif", "b.gif", "c.gif"]);
});

Deno.test("dedupeDestinations() tells origins of several files and arguments apart", async () => {
  const jobs = [
    job("a", "argument 1"),
    job("b", "one.txt:10"),
    job("c", "two.txt:0010"),
    job("d", "three.txt:12345678901"),
    job("e"),
    job("f", "no number"),
    job("g", "x:0"),
  ];
  const firsts: string[] = [];
  const later = ["a", "b", "c", "d", "e", "f", "g"].map((d) => job(d, "z:1"));
  await Array.fromAsync(
    dedupeDestinations([...jobs, ...later], {
      onDuplicate: (error) => firsts.push(error.detail.split(" by ")[1]),
    }),
  );
  deepEqual(firsts, [
    "argument 1",
    "one.txt:10",
    "two.txt:0010",
    "three.txt:12345678901",
    "job 5",
    "job 6",
    "job 7",
  ]);
});

Deno.test("dedupeDestinations() compares case-sensitively unless asked", async () => {
  const jobs = [job("A.gif", "l:1"), job("a.gif", "l:2"), job("a.gif", "l:3")];
  await rejects(Array.fromAsync(dedupeDestinations(jobs)), {
    message: 'l:3: destination "a.gif" is already used by l:2',
  });
  await rejects(
    Array.fromAsync(dedupeDestinations(jobs, { caseInsensitive: true })),
    {
      message:
        'l:2: destination "a.gif" is already used (ignoring case) by l:1',
    },
  );
  const nfd = [job("e\u0301.txt", "l:1"), job("\u00c9.TXT", "l:2")];
  equal((await Array.fromAsync(dedupeDestinations(nfd))).length, 2);
  await rejects(
    Array.fromAsync(dedupeDestinations(nfd, { caseInsensitive: true })),
    /l:2: destination/,
  );
});

Deno.test("dedupeDestinations() with onDuplicate skips duplicates and goes on", async () => {
  const reported: [string, string][] = [];
  const out = await Array.fromAsync(
    dedupeDestinations([job("a", "l:1"), job("a", "l:2"), job("b", "l:3")], {
      onDuplicate: (error, dup) => reported.push([error.message, dup.origin!]),
    }),
  );
  deepEqual(out.map((j) => j.origin), ["l:1", "l:3"]);
  deepEqual(reported, [['l:2: destination "a" is already used by l:1', "l:2"]]);
  throws(
    () => dedupeDestinations([], { onDuplicate: 1 as unknown as () => void }),
    TypeError,
  );
  throws(() => dedupeDestinations(5 as unknown as Job[]), TypeError);
});

Deno.test("dedupeDestinations() has no false positive on 100,000 distinct names and finds every duplicate", async () => {
  const N = 100_000;
  function* jobs() {
    for (let i = 1; i <= N; i++) {
      yield job(`dir${i % 97}/file-${i}.bin`, `big.txt:${i}`);
    }
    for (let i = 1; i <= N; i += 997) {
      yield job(`dir${i % 97}/file-${i}.bin`, `again.txt:${i}`);
    }
  }
  let count = 0;
  const duplicates: string[] = [];
  for await (
    const _ of dedupeDestinations(jobs(), {
      onDuplicate: (error) => duplicates.push(error.message),
    })
  ) count++;
  equal(count, N);
  equal(duplicates.length, Math.ceil(N / 997));
  equal(
    duplicates[1],
    'again.txt:998: destination "dir28/file-998.bin" is already used by big.txt:998',
  );
});

Deno.test("README get: duplicates are found exactly: dedupeDestinations() never takes two destinations for one when their hashes collide", async () => {
  const refused: string[] = [];
  const kept = await Array.fromAsync(
    dedupeDestinations(
      [job("a.gif", "l:1"), job("b.gif", "l:2"), job("a.gif", "l:3")],
      { hash: () => 7, onDuplicate: (error) => refused.push(error.message) },
    ),
  );
  deepEqual(kept.map((j) => j.dest), ["a.gif", "b.gif"]);
  deepEqual(refused, ['l:3: destination "a.gif" is already used by l:1']);
});

Deno.test("dedupeDestinations() refuses exactly the repeated destinations, whatever the hash", async () => {
  // Names that share long prefixes, non-ASCII ones, long ones, some given
  // twice; a hash that collides a lot (by length) and one that always does.
  const names: string[] = [];
  for (let i = 0; i < 3000; i++) {
    names.push(`dir${i % 7}/file-${i}.bin`, `ünï/${"x".repeat(i % 50)}${i}😀`);
  }
  names.push("l".repeat(70_000), "l".repeat(69_999) + "m");
  const order = [...names, ...names.filter((_, i) => i % 5 === 0)];
  const cases: [((key: string) => number) | undefined, string[]][] = [
    [undefined, order],
    [(key) => key.length, order],
    [() => 0, [...order.slice(0, 600), ...order.slice(0, 200)]],
  ];
  for (const [hash, dests] of cases) {
    const seen = new Set<string>();
    const firsts = dests.filter((dest) => !seen.has(dest) && seen.add(dest));
    const refused: string[] = [];
    const kept = await Array.fromAsync(
      dedupeDestinations(dests.map((dest, i) => job(dest, `in.txt:${i + 1}`)), {
        hash,
        onDuplicate: (_, duplicate) => refused.push(duplicate.dest),
      }),
    );
    deepEqual(kept.map((j) => j.dest), firsts);
    equal(refused.length, dests.length - firsts.length);
  }
});
