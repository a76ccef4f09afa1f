/**
 * Remote time: a downloaded file gets the server's `Last-Modified` as its
 * modification time (on by default, as wget does; `--no-remote-time` keeps
 * the time of the download), so `make`, `rsync -u` and mirrors of mirrors
 * see the file's age, not the download's. The writer sets it as it puts
 * the file in place.
 *
 * @module
 */

import type { HeaderLookup } from "./http_response.ts";

/**
 * The response's `Last-Modified` in ms since the epoch, when it is a valid
 * HTTP date not in the future (a clock that is ahead is not trusted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { remoteTime } from "./remote_time.ts";
 * const headers = new Headers({ "last-modified": "Sun, 06 Nov 1994 08:49:37 GMT" });
 * assert.equal(remoteTime(headers), Date.UTC(1994, 10, 6, 8, 49, 37));
 * assert.equal(remoteTime(new Headers({ "last-modified": "soon" })), undefined);
 * ```
 *
 * @param headers The response's headers.
 * @param now The current time in ms. @default Date.now()
 * @returns The time, or undefined.
 */
export function remoteTime(
  headers: HeaderLookup,
  now: number = Date.now(),
): number | undefined {
  const text = headers.get("last-modified");
  if (text === null) return undefined;
  // Files of one server often share their date: parse each text once.
  if (text !== lastParsed.text) {
    lastParsed.text = text;
    lastParsed.time = Date.parse(text);
  }
  const time = lastParsed.time;
  return Number.isFinite(time) && time <= now ? time : undefined;
}

/** The last `Last-Modified` text parsed, and its time. */
const lastParsed = { text: "", time: NaN };
