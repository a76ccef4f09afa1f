/**
 * Keeps secrets out of every line bulkget prints or writes: URLs lose their
 * user-info and the values of query parameters that look like credentials,
 * and known secret strings (tokens, header values) are masked wherever they
 * appear.
 *
 * @module
 */

/** Query parameter names whose values are treated as secrets. */
const SECRET_PARAM =
  /token|sig|signature|secret|password|passwd|key|auth|credential|session|code/i;

/** What replaces a secret. */
export const MASK = "***";

/**
 * A URL safe to show: user-info masked, credential-like query values masked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactUrl } from "./redact.ts";
 * assert.equal(
 *   redactUrl("https://u:p@example.com/a?sig=abc&x=1"),
 *   "https://***@example.com/a?sig=***&x=1",
 * );
 * ```
 *
 * @param url A URL (a string that is not one is returned as it is).
 * @returns The URL with its secrets masked.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const hadUser = parsed.username !== "" || parsed.password !== "";
  parsed.username = "";
  parsed.password = "";
  let query = "";
  if (parsed.search) {
    query = "?" + parsed.search.slice(1).split("&").map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      const name = decodeURIComponentSafe(pair.slice(0, eq));
      return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=${MASK}` : pair;
    }).join("&");
    parsed.search = "";
  }
  const text = parsed.href + query;
  return hadUser ? text.replace("://", `://${MASK}@`) : text;
}

/**
 * Masks every occurrence of each secret in `text`.
 *
 * @param text Any line about to be shown.
 * @param secrets Values never to show (short ones, under 4 characters, are ignored to avoid masking noise).
 * @returns The text with the secrets masked.
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4) result = result.split(secret).join(MASK);
  }
  return result;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Anything that looks like an absolute URL inside a longer text. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi;

/**
 * Every URL inside `text` passed through {@linkcode redactUrl}: error texts
 * of the runtime name the URL they failed on, in forms no fixed pattern
 * foresees.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactUrlsIn } from "./redact.ts";
 * assert.equal(
 *   redactUrlsIn("error sending request for http://h/f?token=abc (h:80)"),
 *   "error sending request for http://h/f?token=*** (h:80)",
 * );
 * ```
 *
 * @param text Any message.
 * @returns The message with each URL's secrets masked.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, (match) => {
    // Punctuation that ends a sentence is not part of the URL.
    const url = match.replace(/[.,:;!?]+$/, "");
    return redactUrl(url) + match.slice(url.length);
  });
}
