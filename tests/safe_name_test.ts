import { equal, throws } from "node:assert/strict";
import {
  DEFAULT_MAX_SEGMENT_BYTES,
  destFromUrl,
  nameFromContentDisposition,
  safeDest,
} from "../lib/writer/safe_name.ts";
import { UnsafeNameError } from "../lib/core/errors.ts";

function refused(path: string, reason: RegExp) {
  throws(() => safeDest(path), (error: unknown) => {
    return error instanceof UnsafeNameError && error instanceof RangeError &&
      error.path === path && reason.test(error.reason) &&
      error.message.startsWith("Unsafe destination ");
  }, `expected ${JSON.stringify(path)} to be refused with ${reason}`);
}

Deno.test("safeDest() returns safe names unchanged", () => {
  for (
    const path of [
      "a.gif",
      "flags/br/br.gif",
      ".hidden",
      "x..y",
      "con-tent.txt",
      "CONSOLE",
      "com10",
      "wiki/File:Foo.png",
      "€ rates.txt",
      "a".repeat(DEFAULT_MAX_SEGMENT_BYTES),
    ]
  ) {
    equal(safeDest(path), path);
  }
});

Deno.test("safeDest() refuses hostile names with a reason", () => {
  refused("", /empty/);
  refused("../../x", /"\.\." segments/);
  refused("a/../../b", /"\.\." segments/);
  refused("..", /"\.\." segments/);
  refused("./a", /"\." segments/);
  refused("/etc/x", /absolute/);
  refused("C:x", /drive/);
  refused("c:/x", /drive/);
  refused("a\u0000b", /control/);
  refused("a\nb", /control/);
  refused("a\u009bb", /control/);
  refused("a\\b", /backslash/);
  refused("\\\\server\\share", /backslash/);
  refused("a//b", /empty segment/);
  refused("a/", /empty segment/);
  refused("x".repeat(300), /300 bytes long, the limit is 245/);
  refused("é".repeat(123), /246 bytes long/);
  refused(("a".repeat(200) + "/").repeat(21) + "b", /limit is 4096/);
  refused("CON", /reserved device name/);
  refused("con.txt", /reserved device name/);
  refused("dir/Nul.tar.gz", /reserved device name/);
  refused("LPT9", /reserved device name/);
  refused("com\u00b9.txt", /reserved device name/);
  refused("aux .txt", /reserved device name/);
  refused("a.", /ends with a dot or a space/);
  refused("a /b", /ends with a dot or a space/);
  refused("x.gif.part", /temporary files/);
  refused("x.gif.PART.json", /temporary files/);
  refused("a\ud800b", /well-formed/);
});

Deno.test("safeDest() honours its limits and checks them", () => {
  equal(safeDest("x".repeat(255), { maxSegmentBytes: 255 }), "x".repeat(255));
  throws(() => safeDest("a", { maxSegmentBytes: 0 }), RangeError);
  throws(
    () => safeDest("a", { maxSegmentBytes: 100, maxPathBytes: 50 }),
    /Invalid option "maxPathBytes"/,
  );
});

Deno.test("destFromUrl() takes the last segment, percent-decoded", () => {
  const url = (text: string) => new URL(text);
  equal(destFromUrl(url("http://h/a/b/c.gif?x=1#y")), "c.gif");
  equal(destFromUrl(url("http://h/a/my%20file.txt")), "my file.txt");
  equal(destFromUrl(url("http://h/%E2%82%AC.txt")), "€.txt");
  equal(destFromUrl(url("http://h/bad%zz.txt")), "bad%zz.txt");
  equal(destFromUrl(url("http://h/")), "index.html");
  equal(destFromUrl(url("http://h")), "index.html");
  equal(destFromUrl(url("http://h/docs/")), "index.html");
});

Deno.test("destFromUrl() keeps paths without the host", () => {
  const keep = { keepPaths: true };
  equal(destFromUrl(new URL("http://h/a/b/c.gif"), keep), "a/b/c.gif");
  equal(destFromUrl(new URL("http://h/a//b/"), keep), "a/b/index.html");
  equal(destFromUrl(new URL("http://h/c.gif"), keep), "c.gif");
  equal(destFromUrl(new URL("http://h/a%2Fb/c"), keep), "a_b/c");
  equal(destFromUrl(new URL("http://h/x/%2e%2e/%2e%2e/y"), keep), "y");
});

Deno.test("destFromUrl() makes hostile URL names safe", () => {
  const name = (text: string, keepPaths = false) =>
    destFromUrl(new URL(text), { keepPaths });
  equal(name("http://h/%2e%2e%2f%2e%2e%2fetc%2fpasswd"), ".._.._etc_passwd");
  equal(name("http://h/a/..%2f..%2fb", true), "a/.._.._b");
  equal(name("http://h/a%5Cb"), "a_b");
  equal(name("http://h/a%00b%0A"), "a_b_");
  equal(name("http://h/CON"), "_CON");
  equal(name("http://h/con.txt"), "_con.txt");
  equal(name("http://h/nul/x", true), "_nul/x");
  equal(name("http://h/file.%20."), "file");
  equal(name("http://h/..."), "_");
  equal(name("http://h/C:x"), "_C:x");
  equal(name("http://h/x.part"), "x.part_");
  equal(name("http://h/x.PART.json"), "x.PART.json_");
  const long = name(`http://h/${"é".repeat(200)}.tar.gz`);
  equal(long, "é".repeat(121) + ".gz"); // 242 + 3 bytes, extension kept
  equal(new TextEncoder().encode(long).length <= 245, true);
  equal(name(`http://h/${"x".repeat(300)}`), "x".repeat(245));
  throws(
    () => name(`http://h/${("a".repeat(200) + "/").repeat(21)}b`, true),
    UnsafeNameError,
  );
});

Deno.test("nameFromContentDisposition() reads filename and filename*", () => {
  const name = nameFromContentDisposition;
  equal(name(`attachment; filename="a b.txt"`), "a b.txt");
  equal(name(`attachment; filename=plain.txt`), "plain.txt");
  equal(name(`attachment;filename="semi;colon.txt"; size=3`), "semi;colon.txt");
  equal(name(`attachment; filename="q\\"uote.txt"`), 'q"uote.txt');
  equal(
    name(`attachment; filename="fallback.txt"; filename*=UTF-8''%E2%82%AC.txt`),
    "€.txt",
  );
  equal(
    name(`attachment; filename*=utf-8'en'na%C3%AFve.txt; filename="x"`),
    "naïve.txt",
  );
  equal(name(`attachment; FILENAME*=iso-8859-1''caf%E9.txt`), "café.txt");
  equal(
    name(`attachment; filename*=UTF-8''%FF%FF; filename="ok.txt"`),
    "ok.txt",
  );
  equal(name(`attachment; filename*=koi8-r''x; filename="ok.txt"`), "ok.txt");
  equal(name("inline"), undefined);
  equal(name(""), undefined);
  equal(name(null), undefined);
  equal(name(undefined), undefined);
  equal(name(`attachment; name="x"`), undefined);
});

Deno.test("nameFromContentDisposition() sanitises like URL names", () => {
  const name = (file: string) =>
    nameFromContentDisposition(`attachment; filename="${file}"`);
  equal(name("../../etc/passwd"), "passwd");
  equal(name("C:\\\\Windows\\\\evil.exe"), "evil.exe");
  equal(name("/abs/x.txt"), "x.txt");
  equal(name(".."), undefined);
  equal(name("dir/"), undefined);
  equal(name("CON"), "_CON");
  equal(name("C:x"), "_C:x");
  equal(name("a\tb.txt"), "a_b.txt");
  equal(name("x.part"), "x.part_");
  equal(
    nameFromContentDisposition(
      `attachment; filename*=UTF-8''%2e%2e%2f%2e%2e%2fx`,
    ),
    "x",
  );
  equal(name("x".repeat(300))!.length, 245);
});

Deno.test("destFromUrl(): a plain last segment comes out as the general path makes it (names drawn from letters, digits, ._~+- and the tricky words)", () => {
  // With keepPaths, a one-segment URL takes the general path only: the
  // answer every shortcut must give.
  const general = (url: URL) => {
    try {
      return destFromUrl(url, { keepPaths: true });
    } catch (error) {
      return (error as Error).message;
    }
  };
  const short = (url: URL) => {
    try {
      return destFromUrl(url);
    } catch (error) {
      return (error as Error).message;
    }
  };
  const pieces = [
    "a",
    "Z",
    "0",
    "9",
    "_",
    "-",
    "~",
    "+",
    ".",
    "..",
    "con",
    "CON",
    "lpt1",
    "nul",
    "part",
    ".part",
    ".PART",
    ".json",
    ".bulkget-state",
    ".jsonl",
    "x",
    "%20",
    "%2e",
    ":",
    " ",
    "é",
    "index",
    ".gif",
  ];
  let seed = 17;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const names = [".bulkget-state.jsonl", "a".repeat(245), "a".repeat(246)];
  for (let i = 0; i < 20_000; i++) {
    let name = "";
    for (let k = 1 + next(4); k > 0; k--) name += pieces[next(pieces.length)];
    names.push(name);
  }
  for (const name of names) {
    const url = new URL(`http://h/dir/${name}`);
    const one = new URL(`http://h/${name}`);
    equal(short(url), general(one), name);
    equal(short(one), general(one), name);
  }
  for (const limit of [32, 40]) {
    const name = "b".repeat(36) + ".txt";
    equal(
      destFromUrl(new URL(`http://h/${name}`), { maxSegmentBytes: limit }),
      destFromUrl(new URL(`http://h/${name}`), {
        maxSegmentBytes: limit,
        keepPaths: true,
      }),
    );
  }
});
