import { deepEqual, rejects, throws } from "node:assert/strict";
import { jobsFromUrls } from "../lib/source/args.ts";
import { SourceError } from "../lib/core/errors.ts";

Deno.test("jobsFromUrls() makes one job per argument, origin 'argument N'", async () => {
  deepEqual(
    await Array.fromAsync(
      jobsFromUrls(["https://h/a/b.gif", " http://h:8001/flags/ "]),
    ),
    [
      { url: "https://h/a/b.gif", dest: "b.gif", origin: "argument 1" },
      { url: "http://h:8001/flags/", dest: "index.html", origin: "argument 2" },
    ],
  );
});

Deno.test("jobsFromUrls() keeps paths when asked", async () => {
  deepEqual(
    await Array.fromAsync(
      jobsFromUrls(["https://h/a/b%20c.gif"], { keepPaths: true }),
    ),
    [{ url: "https://h/a/b%20c.gif", dest: "a/b c.gif", origin: "argument 1" }],
  );
});

Deno.test("jobsFromUrls() refuses what is not an absolute http(s) URL", async () => {
  for (
    const bad of ["ftp://x", "h/a.gif", "file:///etc/passwd", "", "http//x"]
  ) {
    await rejects(
      Array.fromAsync(jobsFromUrls(["http://h/ok", bad])),
      (e: unknown) =>
        e instanceof SourceError && e.origin === "argument 2" &&
        e.message === `argument 2: not an http(s) URL: ${JSON.stringify(bad)}`,
    );
  }
  throws(() => jobsFromUrls(undefined as unknown as string[]), TypeError);
});
