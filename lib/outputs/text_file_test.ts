import { equal, throws } from "node:assert/strict";
import { createTextFile } from "./text_file.ts";

Deno.test("createTextFile: truncates what was there and writes every byte of each text, UTF-8, in order", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/out.txt`;
    Deno.writeTextFileSync(
      path,
      "an older and much longer content\n".repeat(9),
    );
    const file = createTextFile(path);
    const big = "é€🙂x".repeat(300_000); // 3 MB of multi-byte characters
    file.write("first line\n");
    file.write(big);
    file.write("");
    file.write("\nlast");
    file.close();
    equal(Deno.readTextFileSync(path), `first line\n${big}\nlast`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("createTextFile: a path that cannot be opened throws at once, writing nothing", () => {
  const dir = Deno.makeTempDirSync();
  try {
    throws(
      () => createTextFile(`${dir}/no/such/dir/r.json`),
      Deno.errors.NotFound,
    );
    throws(() => createTextFile(dir), Deno.errors.IsADirectory);
    equal([...Deno.readDirSync(dir)].length, 0);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("createTextFile: writing after close throws instead of losing the text silently", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = createTextFile(`${dir}/closed.txt`);
    file.write("kept");
    file.close();
    throws(() => file.write("lost"), Deno.errors.BadResource);
    equal(Deno.readTextFileSync(`${dir}/closed.txt`), "kept");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
