/**
 * Which answer each path of the test server gets, once the faults drawn for
 * the request have let it through: the guards of `/auth/` routes, the
 * flags, the generated files, the redirects, and 404 for anything else.
 * The route table is in `server.ts`'s module documentation.
 *
 * @module
 */

import { type BodyContext, fileResponse } from "./file_response.ts";
import {
  BLOCK_SIZE,
  generatedChunk,
  generatedChunks,
  parseGeneratedPath,
  type StaticFile,
} from "./files.ts";
import { checkGuards } from "./guards.ts";
import { redirectFor } from "./redirects.ts";
import type { Listener } from "./stats.ts";
import { statusResponse } from "./status_response.ts";

/** What the routes need of the server. */
export interface RouteContext {
  /** The flag files by path (`/flags/br/br.gif`). */
  flags: Map<string, StaticFile>;
  /** Each listener's origin, for cross-origin redirects. */
  origins: Record<Listener, string>;
  /** Which version of the generated files is served (see `versionedName`). */
  contentVersion: number;
}

/**
 * Answers a GET or HEAD that no status fault replaced.
 *
 * @param routes The server's files and origins.
 * @param listener The listener the request arrived on.
 * @param request The request.
 * @param pathname Its path, without the query.
 * @param search Its query, with the `?` (or `""`).
 * @param body The request's body faults and statistics.
 * @returns The response.
 */
export function route(
  routes: RouteContext,
  listener: Listener,
  request: Request,
  pathname: string,
  search: string,
  body: BodyContext,
): Response {
  const head = request.method === "HEAD";
  const guarded = checkGuards(pathname, request.headers);
  if ("status" in guarded) {
    return new Response(null, {
      status: guarded.status,
      headers: { ...guarded.headers, "content-length": "0" },
    });
  }
  pathname = guarded.pathname;
  const flag = routes.flags.get(pathname);
  if (flag) {
    return fileResponse(request, {
      size: flag.body.length,
      etag: flag.etag,
      contentType: flag.contentType,
      slice: (start, end) => flag.body.subarray(start, end),
      pieces: function* (start, end) {
        for (let at = start; at < end; at += BLOCK_SIZE) {
          yield flag.body.subarray(at, Math.min(end, at + BLOCK_SIZE));
        }
      },
    }, body);
  }
  if (pathname.startsWith("/files/")) {
    const file = parseGeneratedPath(pathname, routes.contentVersion);
    if (file) {
      return fileResponse(request, {
        size: file.size,
        etag: file.etag,
        contentType: "application/octet-stream",
        disposition: dispositionFrom(search),
        slice: (start, end) => generatedChunk(file.name, file.size, start, end),
        pieces: (start, end) =>
          generatedChunks(file.name, file.size, start, end),
      }, body);
    }
  } else if (pathname.startsWith("/redirect/")) {
    const other = routes.origins[listener === "main" ? "alt" : "main"];
    const answer = redirectFor(pathname, search, other);
    if (answer && "location" in answer) {
      return new Response(null, {
        status: answer.status,
        headers: { location: answer.location, "content-length": "0" },
      });
    }
    if (answer) {
      return new Response(head ? null : answer.text, {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
  }
  return statusResponse(404, head);
}

/**
 * `?filename=NAME` on a generated file asks for `Content-Disposition:
 * attachment; filename="NAME"` (and `filename*=UTF-8''…` for non-ASCII), to
 * test clients that name files after it.
 */
function dispositionFrom(search: string): string | undefined {
  const name = new URLSearchParams(search).get("filename");
  if (name === null) return undefined;
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${
    encodeURIComponent(name)
  }`;
}
