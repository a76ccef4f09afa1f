import assert from "node:assert/strict";
import { serveCommand } from "../lib/cli/serve.ts";
import type { RunningServer } from "../lib/server/server.ts";
import { drawFaults } from "../lib/server/faults.ts";
import { createRandom } from "../lib/server/random.ts";
import { runBulkget } from "./_helpers.ts";

/** Runs `serveCommand` capturing its lines; `whileUp` runs once it listens, then it is stopped. */
async function run(
  args: string[],
  whileUp?: (servers: Record<string, RunningServer>) => Promise<void>,
) {
  const stdout: string[] = [], stderr: string[] = [];
  const controller = new AbortController();
  let failure: unknown;
  const code = await serveCommand(args, {
    signal: controller.signal,
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    onListening: (servers) => {
      (whileUp ? whileUp(servers) : Promise.resolve())
        .catch((error) => failure = error)
        .finally(() => controller.abort());
    },
  });
  if (failure) throw failure;
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

Deno.test("serve: bad flags exit 2 with a message and the usage", async () => {
  const cases: [string[], RegExp][] = [
    [["--nope"], /^bulkget serve: unknown option --nope$/m],
    [["extra"], /^bulkget serve: Unexpected argument 'extra'/],
    [["--port"], /^bulkget serve: Option '--port <value>' argument missing/],
    [
      ["--port", "0"],
      /^bulkget serve: "--port" needs "--preset" or a fault option/,
    ],
    [
      ["--preset", "LOCAL", "--port", "70000"],
      /^bulkget serve: --port must be a whole number from 0 to 65535, got "70000"/,
    ],
    [
      ["--preset", "nope"],
      /^bulkget serve: Cannot parse "--preset": expected one of LOCAL, DELAY, ERROR/,
    ],
    [["--seed", "x"], /^bulkget serve: --seed must be a whole number from/],
    [
      ["--fault", "boom=1"],
      /^bulkget serve: Cannot parse fault "boom=1": unknown kind/,
    ],
    [
      ["--fault", "503=0.6", "--fault", "500=0.6"],
      /^bulkget serve: Cannot use status faults/,
    ],
    [["--delay", "soon"], /^bulkget serve: Cannot parse "--delay"/],
    [["--slow", "0"], /^bulkget serve: Cannot parse "--slow"/],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await run(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(stderr, message);
    assert.match(stderr, /^usage: bulkget serve \[options\]$/m);
    assert.equal(stdout, "");
  }
});

Deno.test("serve: --help prints the usage and exits 0", async () => {
  for (const flag of ["-h", "--help"]) {
    const { code, stdout } = await run([flag]);
    assert.equal(code, 0);
    assert.match(stdout, /^usage: bulkget serve/);
    assert.match(stdout, /--fault SPEC/);
  }
});

Deno.test("serve: a taken port exits 1 with one clear line", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const { code, stderr } = await run([
    "--preset",
    "local",
    "--port",
    String(port),
  ]);
  assert.equal(code, 1);
  assert.equal(
    stderr,
    `bulkget serve: port ${port} on 127.0.0.1 is already in use (another bulkget serve?)`,
  );
});

Deno.test("serve: a preset on a chosen port, until the signal", async () => {
  const { code, stdout, stderr } = await run(
    ["--preset", "error", "--port", "0", "--seed", "3"],
    async (servers) => {
      assert.deepEqual(Object.keys(servers), ["ERROR"]);
      const response = await fetch(
        `${servers.ERROR.url}/flags/br/metadata.json`,
      );
      await response.body?.cancel();
      assert.ok([200, 503].includes(response.status));
    },
  );
  assert.equal(code, 0);
  assert.equal(stderr, "");
  assert.match(
    stdout,
    /^ERROR {2}http:\/\/127\.0\.0\.1:\d+\/flags {2}\(25 % of responses are 503, 50 % delayed 500 ms\)$/,
  );
});

Deno.test("serve: fault flags make a custom server", async () => {
  const { code, stdout } = await run(
    [
      "--port",
      "0",
      "--fault",
      "503=1",
      "--delay",
      "10",
      "--jitter",
      "5",
      "--slow",
      "64k",
    ],
    async (servers) => {
      const response = await fetch(`${servers.CUSTOM.url}/flags/br/br.gif`);
      await response.body?.cancel();
      assert.equal(response.status, 503);
      assert.deepEqual(servers.CUSTOM.faults, {
        statuses: [{ status: 503, rate: 1 }],
        latency: { ms: 10, jitter: 5 },
        slow: { bytesPerSecond: 65536 },
      });
    },
  );
  assert.equal(code, 0);
  assert.match(
    stdout,
    /^CUSTOM http:\/\/127\.0\.0\.1:\d+\/flags {2}\(503 on 100 %, delay 10 ms ±5 ms, slow 65536 B\/s\)$/,
  );
  // Fault flags add to a preset.
  await run(
    ["--preset", "DELAY", "--port", "0", "--jitter", "100"],
    (servers) => {
      assert.deepEqual(servers.DELAY.faults.latency, {
        rate: 1,
        ms: 500,
        jitter: 100,
      });
      return Promise.resolve();
    },
  );
});

const SERVE = new URL("../lib/cli/serve.ts", import.meta.url).href;

Deno.test("serve: a missing permission is one line naming the flag, exit 2", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-lock", "--allow-read", "--allow-net=127.0.0.1:1", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(
    `import { serveCommand } from "${SERVE}";
     Deno.exit(await serveCommand(["--preset", "local", "--port", "0"]));`,
  ));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 2);
  assert.equal(new TextDecoder().decode(stdout), "");
  assert.equal(
    new TextDecoder().decode(stderr).trim(),
    "bulkget serve: missing permission to listen on 127.0.0.1:0: add --allow-net=127.0.0.1",
  );
});

Deno.test("serve: SIGINT stops it cleanly with exit 0", {
  ignore: Deno.build.os === "windows",
}, async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-lock", "--allow-read", "--allow-net=127.0.0.1", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(
    `import { serveCommand } from "${SERVE}";
     Deno.exit(await serveCommand(["--preset", "delay", "--port", "0"]));`,
  ));
  await writer.close();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  assert.match(
    out,
    /^DELAY {2}http:\/\/127\.0\.0\.1:\d+\/flags {2}\(every response delayed 500 ms\)\n$/,
  );
  const url = out.split(/\s+/)[1];
  const response = await fetch(`${url}/br/metadata.json`);
  assert.equal((await response.json()).iso_cc, "BR");
  child.kill("SIGINT");
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    out += r.value;
  }
  const status = await child.status;
  await child.stderr.cancel();
  assert.equal(status.code, 0);
});

Deno.test("serve --preset ERROR: --delay and --fault delay add to the preset's delay, on every response", async () => {
  for (
    const extra of [["--delay", "300"], ["--fault", "delay=1:300ms"]]
  ) {
    const { code, stdout } = await run(
      ["--preset", "ERROR", "--port", "0", ...extra],
      async (servers) => {
        const faults = servers.ERROR.faults;
        assert.deepEqual(faults.latency, [{ rate: 0.5, ms: 500 }, {
          ...(extra[0] === "--fault" ? { rate: 1 } : {}),
          ms: 300,
        }]);
        // What the server does with it: every response waits 300 ms, half
        // of them 500 ms more.
        const random = createRandom(1);
        const delays = new Set(
          Array.from({ length: 200 }, () => drawFaults(faults, random).delayMs),
        );
        assert.deepEqual([...delays].sort(), [300, 800]);
        await Promise.resolve();
      },
    );
    assert.equal(code, 0);
    assert.match(stdout, /delay 500 ms on 50 %, delay 300 ms/);
  }
});

Deno.test("serve: a usage error is laid out as get's: `bulkget CMD: why`, then the usage line, on stderr, exit 2", async () => {
  const layout = (stderr: string) =>
    stderr.trimEnd().split("\n").map((line) =>
      line.replace(/^bulkget \w+: .*/, "bulkget CMD: why").replace(
        /^usage: bulkget \w+ .*/,
        "usage: bulkget CMD …",
      )
    );
  const get = await runBulkget(["get", "--bogus"]);
  assert.equal(get.code, 2);
  const expected = layout(get.stderr);
  assert.deepEqual(expected, ["bulkget CMD: why", "usage: bulkget CMD …"]);
  for (
    const args of [
      ["serve", "--bogus"],
      ["serve", "--port", "x"],
      ["serve", "--github-api", "--bogus"],
      ["serve", "--github-api", "--port", "x"],
    ]
  ) {
    const serve = await runBulkget(args);
    assert.equal(serve.code, 2, args.join(" "));
    assert.equal(serve.stdout, "", args.join(" "));
    assert.deepEqual(layout(serve.stderr), expected, args.join(" "));
  }
});
