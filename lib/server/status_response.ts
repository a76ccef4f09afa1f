/**
 * The test server's error answers: a short text body naming the status, and
 * `Retry-After` on every 429 (and on any status fault that asks for one).
 *
 * @module
 */

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  410: "Gone",
  416: "Range Not Satisfiable",
  425: "Too Early",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The `Retry-After` a status fault asks for. */
export interface RetryAfterOptions {
  /** Seconds to send. @default 1 for a 429, none otherwise */
  retryAfter?: number;
  /** Send it as an HTTP-date that many seconds ahead instead. @default false */
  retryAfterDate?: boolean;
}

/**
 * Makes an error response: `STATUS TEXT\n` as its body.
 *
 * @param status The status, e.g. 503.
 * @param head Whether the request was a HEAD (no body, but its length).
 * @param fault The `Retry-After` to send, if any.
 * @returns The response.
 *
 * @example
 * ```ts
 * import { statusResponse } from "./status_response.ts";
 * import { equal } from "node:assert/strict";
 * const response = statusResponse(429, false);
 * equal(response.headers.get("retry-after"), "1");
 * equal(await response.text(), "429 Too Many Requests\n");
 * ```
 */
export function statusResponse(
  status: number,
  head: boolean,
  fault?: RetryAfterOptions,
): Response {
  const text = `${status} ${STATUS_TEXT[status] ?? "Error"}\n`;
  const headers: Record<string, string> = {
    "content-type": "text/plain; charset=utf-8",
  };
  const retryAfter = fault?.retryAfter ?? (status === 429 ? 1 : undefined);
  if (retryAfter !== undefined) {
    headers["retry-after"] = fault?.retryAfterDate
      ? new Date(Math.ceil(Date.now() / 1000 + retryAfter) * 1000).toUTCString()
      : String(retryAfter);
  }
  if (head) headers["content-length"] = String(text.length);
  return new Response(head ? null : text, { status, headers });
}
