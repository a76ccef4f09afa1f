/**
 * The servers of `deno task bench`, on 127.0.0.1 only: the built-in
 * `bulkget serve` (delay and error scenarios, and throughput when it keeps
 * up) and nginx serving a tree of generated files on tmpfs (throughput, when
 * the Deno server is the bottleneck).
 *
 * @module
 */

import { cpuSecondsOf, killTree } from "./measure.ts";

/** A running server. */
export interface BenchServer {
  /** `deno` or `nginx`. */
  kind: "deno" | "nginx";
  /** `http://127.0.0.1:PORT`. */
  base: string;
  port: number;
  pid: number;
  /** CPU seconds used so far by the server's processes. */
  cpuSeconds(): number;
  /** Requests seen since the last {@linkcode BenchServer.resetRequests}, when the server can tell. */
  requests(): Promise<number | undefined>;
  /** Restarts the request count. */
  resetRequests(): Promise<void>;
  /** Stops the server and its workers. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitUntilUp(url: string, child: Deno.ChildProcess) {
  let exited = false;
  child.status.then(() => exited = true);
  for (let i = 0; i < 200 && !exited; i++) { // at most 10 s
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`server at ${url} did not come up`);
}

const running = new Set<Deno.ChildProcess>();

/** Starts a server, tracked for {@linkcode killServers}, once `url` answers; killed if it never does. */
async function spawnUntilUp(
  command: Deno.Command,
  url: string,
): Promise<Deno.ChildProcess> {
  const child = command.spawn();
  running.add(child);
  try {
    await waitUntilUp(url, child);
  } catch (error) {
    killTree(child.pid);
    throw error;
  }
  return child;
}

/** Kills every server still running (for an interrupted bench). */
export function killServers(): void {
  for (const child of running) killTree(child.pid);
  running.clear();
}

async function stopChild(child: Deno.ChildProcess, signal: Deno.Signal) {
  running.delete(child);
  try {
    child.kill(signal);
  } catch {
    return; // already gone
  }
  const timer = setTimeout(() => killTree(child.pid), 3000);
  await child.status;
  clearTimeout(timer);
}

/**
 * Starts `bulkget serve --preset PRESET` on a free port.
 *
 * @param root The project directory (holds main.ts and data/).
 * @param preset LOCAL, DELAY or ERROR.
 * @param extra More `serve` options, e.g. `["--slow", "4M"]`.
 * @returns The server.
 */
export async function startDenoServer(
  root: string,
  preset: "LOCAL" | "DELAY" | "ERROR",
  extra: readonly string[] = [],
): Promise<BenchServer> {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = await spawnUntilUp(
    new Deno.Command("deno", {
      args: [
        "run",
        "--allow-net=127.0.0.1", // serve checks the host before the port
        `--allow-read=${root}`,
        "main.ts",
        "serve",
        "--preset",
        preset,
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--seed",
        "1",
        ...extra,
      ],
      cwd: root,
      stdin: "null",
      stdout: "null",
      stderr: "inherit",
    }),
    `${base}/stats`,
  );
  return {
    kind: "deno",
    base,
    port,
    pid: child.pid,
    cpuSeconds: () => cpuSecondsOf(child.pid),
    async requests() {
      const r = await fetch(`${base}/stats`, {
        signal: AbortSignal.timeout(2000),
      });
      return (await r.json()).requests as number;
    },
    async resetRequests() {
      const r = await fetch(`${base}/stats/reset`, {
        method: "POST",
        signal: AbortSignal.timeout(2000),
      });
      await r.body?.cancel();
    },
    stop: () => stopChild(child, "SIGTERM"),
  };
}

/**
 * Starts nginx (`daemon off`, one worker) serving `docRoot` on a free port,
 * its config, pid file and logs in `prefix`.
 *
 * @param prefix An empty directory for nginx's own files.
 * @param docRoot The tree to serve (`/files/{size}/{name}` inside).
 * @param options `accessLog`: a path to log every request to (for the time
 *   to first request), else `access_log off`.
 * @returns The server.
 */
export async function startNginx(
  prefix: string,
  docRoot: string,
  options: { accessLog?: string } = {},
): Promise<BenchServer> {
  const port = freePort();
  await Deno.mkdir(prefix, { recursive: true });
  await Deno.writeTextFile(
    `${prefix}/nginx.conf`,
    `user root;
worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${options.accessLog ?? "off"};
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  client_body_temp_path ${prefix}/tmp;
  proxy_temp_path ${prefix}/tmp;
  fastcgi_temp_path ${prefix}/tmp;
  uwsgi_temp_path ${prefix}/tmp;
  scgi_temp_path ${prefix}/tmp;
  server {
    listen 127.0.0.1:${port};
    root ${docRoot};
    location / { }
  }
}
`,
  );
  await Deno.mkdir(`${prefix}/tmp`, { recursive: true });
  const base = `http://127.0.0.1:${port}`;
  const child = await spawnUntilUp(
    new Deno.Command("nginx", {
      args: [
        "-p",
        prefix,
        "-c",
        `${prefix}/nginx.conf`,
        "-e",
        `${prefix}/error.log`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "inherit",
    }),
    `${base}/`,
  );
  const log = options.accessLog;
  return {
    kind: "nginx",
    base,
    port,
    pid: child.pid,
    cpuSeconds: () => cpuSecondsOf(child.pid),
    requests() {
      if (!log) return Promise.resolve(undefined);
      try {
        return Promise.resolve(Deno.statSync(log).size > 0 ? 1 : 0);
      } catch {
        return Promise.resolve(0);
      }
    },
    async resetRequests() {
      if (log) await Deno.truncate(log, 0).catch(() => {});
    },
    stop: () => stopChild(child, "SIGQUIT"),
  };
}
