/**
 * bulkget's command line: `deno run main.ts <command> …`, or the compiled
 * `bulkget` binary.
 *
 * @module
 */

import { main } from "./lib/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
