/**
 * bulkget's version, from `deno.json`.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

/** bulkget's version. */
export const VERSION: string = denoJson.version;
