/**
 * `deno task compile`: builds `dist/bulkget`, one binary with the flag data
 * and the writer Worker embedded.
 *
 * `deno compile` needs Deno's `denort` base binary, which it downloads from
 * Deno's servers unless `DENORT_BIN` names a local copy. Where neither works
 * we stop with one line that says so, rather than a long network error.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { V8_FLAGS } from "../lib/cli/v8_flags.ts";

const root = fromFileUrl(new URL("../", import.meta.url));
const output = `${root}dist/bulkget`;

/** The narrowest permissions the binary needs, baked in at compile time. */
export const COMPILE_PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];

/** Where `deno compile` caches a downloaded denort, if it ever got one. */
function cachedDenort(): string | undefined {
  const denoDir = Deno.env.get("DENO_DIR") ??
    `${Deno.env.get("HOME")}/.cache/deno`;
  const version = Deno.version.deno;
  try {
    for (const entry of Deno.readDirSync(`${denoDir}/dl/release/v${version}`)) {
      if (entry.name.startsWith("denort")) {
        return `${denoDir}/dl/release/v${version}/${entry.name}`;
      }
    }
  } catch {
    // no cache directory: nothing was downloaded before
  }
  return undefined;
}

async function main(): Promise<number> {
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) {
    try {
      Deno.statSync(denort);
    } catch {
      console.error(`compile: DENORT_BIN=${denort} does not exist`);
      return 1;
    }
  } else if (!cachedDenort()) {
    console.error(
      `compile: no denort base binary: set DENORT_BIN to a denort ${Deno.version.deno} for this platform ` +
        `(from the denort-<target>.zip of Deno's release), because this machine cannot download it`,
    );
    return 1;
  }
  const args = [
    "compile",
    "--quiet",
    "--no-check",
    `--v8-flags=${V8_FLAGS}`,
    ...COMPILE_PERMISSIONS,
    "--include",
    `${root}data`,
    "--include",
    `${root}lib/writer/worker.ts`,
    "--output",
    output,
    `${root}main.ts`,
  ];
  const built = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!built.success) {
    console.error("compile: deno compile failed (see above)");
    return 1;
  }
  // The full `deno` CLI accepted as DENORT_BIN builds a file that ignores its payload: catch that here.
  const probe = await new Deno.Command(output, {
    args: ["--version"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const said = new TextDecoder().decode(probe.stdout);
  if (!said.startsWith("bulkget ")) {
    await Deno.remove(output).catch(() => {});
    console.error(
      `compile: the built binary does not run bulkget; DENORT_BIN must be Deno's denort, not the deno CLI`,
    );
    return 1;
  }
  console.log(`compile: wrote ${output} (${said.trim()})`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
