/**
 * The request of an attempt: its headers (the policy's, the job's, the
 * content-coding rule), the client it goes through (the own HTTP/1.1
 * client or `fetch`), redirects followed by hand (`redirect.ts`), and the
 * framing rules the own client applies put on `fetch`'s answers too.
 *
 * @module
 */

import { AttemptError, ERROR_CODES } from "../core/errors.ts";
import { networkFailure } from "./classify.ts";
import { requireNet } from "../core/net_permission.ts";
import type { AttemptDeadline } from "./deadline.ts";
import {
  HEADER_NAME,
  type HeaderPairs,
  isHeaderValue,
} from "../core/headers.ts";
import type { Http1Client } from "./http1.ts";
import type { ProxyRoute } from "./proxy.ts";
import { checkTransferCoding } from "./http1_parser.ts";
import { Http1Response, type HttpResponse } from "./http_response.ts";
import {
  DEFAULT_MAX_REDIRECTS,
  followRedirects,
  type SendRequest,
} from "./redirect.ts";

/** Which client sends a request. */
export interface RequestClients {
  /** Sends `http:` and `https:` requests instead of `fetch` (unless `client` is given). */
  http1?: Http1Client;
  /** HTTP client for `fetch` (connection pool settings, extra CAs). */
  client?: Deno.HttpClient;
  /** Most redirect hops. @default 10 */
  maxRedirects?: number;
  /** Send through a proxy (`--proxy`), except what it lets go direct. @default undefined */
  proxy?: ProxyRoute;
}

/**
 * The policy's headers with the job's over them, as pairs with lower-case
 * names (a `Headers` object per attempt cost more than the request itself).
 *
 * @param policy Headers of every request.
 * @param job The job's own headers.
 * @returns The request's headers.
 * @throws {AttemptError} (fatal) On an invalid header.
 */
export function requestHeaders(
  policy: Record<string, string> | undefined,
  job: Record<string, string> | undefined,
): HeaderPairs {
  // Bodies are saved as sent: never ask for a content coding (`fetch`
  // would otherwise ask for gzip and br and decode them, the own client not).
  const byName = new Map<string, string>([["accept-encoding", "identity"]]);
  for (const layer of [policy, job]) {
    if (!layer) continue;
    for (const name in layer) {
      const value = String(layer[name]).trim();
      if (!HEADER_NAME.test(name) || !isHeaderValue(value)) {
        throw new AttemptError(
          `invalid request header ${JSON.stringify(name)}`,
          "fatal",
          { code: ERROR_CODES.header },
        );
      }
      byName.set(name.toLowerCase(), value);
    }
  }
  return [...byName];
}

/**
 * Sends the request with the chosen client, following redirects by hand
 * (`redirect.ts`); the own client tells the deadline when the head and the
 * bytes of a small body arrive.
 *
 * @param url The job's URL.
 * @param headers The request's headers.
 * @param deadline The attempt's deadline.
 * @param options The clients and the hop limit.
 * @returns The first answer that is not a redirect.
 */
export async function request(
  url: string,
  headers: HeaderPairs,
  deadline: AttemptDeadline,
  options: RequestClients,
): Promise<HttpResponse> {
  const signal = deadline.signal;
  const hooks = {
    onHead: () => deadline.headersArrived(),
    onBytes: () => deadline.activity(),
  };
  const send: SendRequest = async (current, hopHeaders) => {
    // Deno would prompt for a host it was not given, mid-bar: a redirect's
    // host is known only now.
    requireNet(current);
    // Each hop is routed by its own host.
    const client = options.proxy && !options.proxy.bypass(current)
      ? options.proxy.client
      : options.client;
    try {
      const response = options.http1 && !client &&
          (current.protocol === "http:" || current.protocol === "https:")
        ? await options.http1.get(current, hopHeaders, signal, hooks)
        : await fetch(current, {
          headers: hopHeaders,
          redirect: "manual",
          signal,
          client,
        });
      refuseFraming(response);
      return response;
    } catch (error) {
      throw networkFailure(error, signal);
    }
  };
  return await followRedirects(
    url,
    headers,
    send,
    options.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
  );
}

/**
 * Applies the own client's transfer-coding rule to `fetch`'s answers too
 * (`fetch` would read such a body and keep the connection for the next
 * file); a refused body is cancelled, so `fetch` drops the connection.
 */
function refuseFraming(response: HttpResponse): void {
  if (response instanceof Http1Response) return;
  try {
    checkTransferCoding(response.headers);
  } catch (error) {
    void response.body?.cancel();
    throw error;
  }
}
