/**
 * Whether Deno lets bulkget reach a URL's host, asked without prompting.
 *
 * Deno asks on the terminal for a net permission it was not given, in the
 * middle of the progress bar, and waits there for an answer. bulkget asks
 * first (`Deno.permissions.querySync` never prompts) and stops with one line
 * naming the flag to add instead.
 *
 * @module
 */

/** The granted state of each URL start (`scheme://host:port`) asked about: a run has few. */
const granted = new Map<string, boolean>();

/**
 * The host of `url` as Deno's net permission names it: `host:port`, the
 * scheme's default port made explicit (`--allow-net=h:443` grants
 * `https://h/` but not `h` on every port), an IPv6 address in brackets.
 *
 * @param url An `http:` or `https:` URL.
 * @returns e.g. `example.com:443`, `[::1]:8080`.
 */
export function netHost(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname}:${port}`;
}

/**
 * The `--allow-net=HOST` flag that `url` needs and was not given.
 *
 * @param url An absolute `http:` or `https:` URL.
 * @returns The flag, or undefined when access is granted.
 */
export function missingNetFlag(url: URL | string): string | undefined {
  const href = typeof url === "string" ? url : url.href;
  // Keyed by the text before the path, so a list of a million URLs on a
  // few hosts parses a few of them, not every one.
  const key = urlStart(href);
  let allowed = granted.get(key);
  if (allowed === undefined) {
    // A denied or merely promptable host is not granted: Deno would ask.
    allowed = Deno.permissions.querySync({
      name: "net",
      host: netHost(new URL(href)),
    }).state === "granted";
    granted.set(key, allowed);
  }
  return allowed ? undefined : `--allow-net=${netHost(new URL(href))}`;
}

/** `href` up to its path, query or fragment: its scheme, user-info, host and port. */
function urlStart(href: string): string {
  const from = href.indexOf("//") + 2;
  for (let i = from; i < href.length; i++) {
    const c = href.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23) return href.slice(0, i); // / ? #
  }
  return href;
}

/**
 * Throws Deno's own missing-permission error, naming the flag, when `url`'s
 * host is not granted, so that Deno never prompts for it mid-run.
 *
 * @param url An `http:` or `https:` URL about to be requested.
 * @throws {Deno.errors.NotCapable} When net access to its host is not granted.
 */
export function requireNet(url: URL | string): void {
  const flag = missingNetFlag(url);
  if (flag !== undefined) {
    throw new Deno.errors.NotCapable(`run again with ${flag}`);
  }
}
