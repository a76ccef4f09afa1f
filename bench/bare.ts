/**
 * The floor of `deno task bench`: the simplest correct, bounded
 * fetch-and-write loop in Deno. N workers take the next URL of the list,
 * fetch it, and write the body under the URL's last path segment. A body of
 * at most 1 MiB is read whole and written with one call; a larger one is
 * streamed. 5xx, 408, 429 and network errors are retried (at most 5 times,
 * 100 ms doubling); a failed file is removed, never left looking complete.
 * Every request has a 60 s deadline.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1:PORT --allow-read=LIST --allow-write=DIR bench/bare.ts LIST DIR N
 * ```
 *
 * Exit code 0 when every file was written, 1 otherwise.
 *
 * @module
 */

const RETRIES = 5;
const REQUEST_TIMEOUT_MS = 60_000;
const SMALL_BODY = 1 << 20;

function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

async function fetchTo(url: string, path: string): Promise<boolean> {
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    if (attempt > 0) {
      await new Promise((r) => setTimeout(r, 100 * 2 ** (attempt - 1)));
    }
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (!response.ok) {
        await response.body?.cancel();
        if (isRetryable(response.status)) continue;
        return false;
      }
      const length = Number(response.headers.get("content-length") ?? NaN);
      if (length <= SMALL_BODY) {
        const body = new Uint8Array(await response.arrayBuffer());
        if (body.byteLength !== length) continue;
        await Deno.writeFile(path, body);
      } else if (response.body) {
        await Deno.writeFile(path, response.body);
        if (!Number.isNaN(length) && (await Deno.stat(path)).size !== length) {
          continue;
        }
      }
      return true;
    } catch {
      // network error or timeout: retry
    }
  }
  await Deno.remove(path).catch(() => {});
  return false;
}

async function main(args: string[]): Promise<number> {
  const [list, dir, n] = args;
  const limit = Number(n);
  if (!list || !dir || !(limit >= 1)) {
    console.error("usage: bare.ts LIST DIR N");
    return 2;
  }
  await Deno.mkdir(dir, { recursive: true });
  const urls = (await Deno.readTextFile(list)).split("\n").filter((u) => u);
  let next = 0, failed = 0;
  const worker = async () => {
    while (next < urls.length) {
      const url = urls[next++];
      const name = url.slice(url.lastIndexOf("/") + 1);
      if (!await fetchTo(url, `${dir}/${name}`)) failed++;
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, urls.length) }, worker),
  );
  if (failed) console.error(`bare: ${failed} of ${urls.length} failed`);
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
