import assert from "node:assert/strict";
import { countJobs } from "../lib/source/count.ts";
import { jobsFromAria2 } from "../lib/source/aria2.ts";
import { jobsFromManifest } from "../lib/source/manifest.ts";

Deno.test("countJobs counts what the list and manifest sources read, without parsing", async () => {
  const dir = await Deno.makeTempDir();
  const list = [
    "\ufeffhttp://h/a",
    "# comment",
    "  # indented comment",
    "",
    "   ",
    "http://h/b\r",
    "  out=b.bin",
    "\tdir=sub",
    "  http://h/c  ",
    "\tHTTPS://h/d",
    "http://h/e\thttp://mirror/e",
    "http://h/f", // last line without a newline
  ].join("\n");
  await Deno.writeTextFile(`${dir}/list.txt`, list);
  const jobs = await Array.fromAsync(jobsFromAria2(`${dir}/list.txt`));
  assert.equal(jobs.length, 6);
  assert.equal(await countJobs(`${dir}/list.txt`), jobs.length);

  const manifest = [
    JSON.stringify({ url: "http://h/a" }),
    "",
    "  ",
    JSON.stringify({ url: "http://h/b", dest: "x" }),
  ].join("\r\n");
  await Deno.writeTextFile(`${dir}/m.jsonl`, manifest);
  const entries = await Array.fromAsync(jobsFromManifest(`${dir}/m.jsonl`));
  assert.equal(entries.length, 2);
  assert.equal(await countJobs(`${dir}/m.jsonl`, { kind: "manifest" }), 2);
});
