/**
 * The blob host of the GitHub API double (`github_api.ts`): serves each
 * artifact's bytes behind signed URLs that expire, as the storage service
 * GitHub redirects to does.
 *
 * `GET /blob/{id}?se=EXPIRY&sig=SIG` answers the zip (`Content-Type:
 * application/zip`, `Accept-Ranges: bytes`, an `ETag`, one `Range` from a
 * byte to the end, honoured when `If-Range` matches), or the raw file with
 * `Content-Disposition` for an artifact uploaded unzipped. A URL past its
 * lifetime or its allowed uses answers 403 `AuthenticationFailed`. The
 * seeded faults (`blobFailures`, `truncateTo`, `stallAt`) are applied here.
 *
 * @module
 */

import { createHmac, randomBytes } from "node:crypto";
import type { SeededArtifact } from "./github_api.ts";

/** An artifact as the double keeps it. */
export interface StoredArtifact {
  /** As seeded. */
  spec: SeededArtifact;
  /** Its id. */
  id: number;
  /** Its workflow run. */
  runId: number;
  /** The SHA-256 of its body, hex. */
  sha256: string;
  /** ISO date of creation. */
  createdAt: string;
  /** Blob requests for it so far. */
  blobRequests: number;
}

/** Options of {@linkcode blobHost}. */
export interface BlobHostOptions {
  /** The artifacts. */
  stored: StoredArtifact[];
  /** How many requests one signed URL allows. */
  urlUses: number;
  /** Ends stalled bodies when the double closes. */
  closing: AbortSignal;
}

/** The blob host: how to sign a URL, and the request handler. */
export interface BlobHost {
  /**
   * The signed path and query of an artifact's blob, valid until `expiry`.
   *
   * @param id The artifact's id.
   * @param expiry Epoch milliseconds.
   * @returns `/blob/ID?se=…&sig=…`.
   */
  signedPath(id: number, expiry: number): string;
  /**
   * Answers one blob request.
   *
   * @param request The request.
   * @returns The answer.
   */
  handle(request: Request): Response;
}

/**
 * Makes the blob host of a double.
 *
 * @param options See {@linkcode BlobHostOptions}.
 * @returns The host.
 */
export function blobHost(options: BlobHostOptions): BlobHost {
  const secret = randomBytes(16);
  const sign = (id: number, expiry: number) =>
    createHmac("sha256", secret).update(`${id}:${expiry}`).digest("hex");
  const usesSeen = new Map<string, number>();
  return {
    signedPath: (id, expiry) =>
      `/blob/${id}?se=${expiry}&sig=${sign(id, expiry)}`,
    handle(request) {
      const url = new URL(request.url);
      const match = /^\/blob\/(\d+)$/.exec(url.pathname);
      const artifact = match &&
        options.stored.find((a) => String(a.id) === match[1]);
      if (!artifact) return new Response("not found", { status: 404 });
      const expiry = Number(url.searchParams.get("se"));
      const seen = (usesSeen.get(url.search) ?? 0) + 1;
      usesSeen.set(url.search, seen);
      if (
        url.searchParams.get("sig") !== sign(artifact.id, expiry) ||
        Date.now() > expiry || seen > options.urlUses
      ) return authenticationFailed();
      artifact.blobRequests++;
      if (artifact.blobRequests <= (artifact.spec.blobFailures ?? 0)) {
        return new Response("busy", { status: 503 });
      }
      return blobAnswer(artifact, request.headers, options.closing);
    },
  };
}

function authenticationFailed(): Response {
  return new Response(
    '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Signed expiry time has passed.</Message></Error>',
    { status: 403, headers: { "content-type": "application/xml" } },
  );
}

/** The body (whole, or the range asked for), with the seeded faults. */
function blobAnswer(
  artifact: StoredArtifact,
  requestHeaders: Headers,
  closing: AbortSignal,
): Response {
  const body = artifact.spec.body;
  const headers: Record<string, string> = {
    "content-type": artifact.spec.rawName
      ? "application/octet-stream"
      : "application/zip",
    "accept-ranges": "bytes",
    "etag": `"0x${artifact.sha256.slice(0, 16)}"`,
    "last-modified": new Date(Date.parse(artifact.createdAt)).toUTCString(),
  };
  if (artifact.spec.rawName) {
    headers["content-disposition"] =
      `attachment; filename="${artifact.spec.rawName}"`;
  }
  let start = 0;
  let status = 200;
  const range = /^bytes=(\d+)-$/.exec(requestHeaders.get("range") ?? "");
  const ifRange = requestHeaders.get("if-range");
  if (range && (ifRange === null || ifRange === headers.etag)) {
    start = Number(range[1]);
    if (start >= body.length) {
      return new Response(null, {
        status: 416,
        headers: { "content-range": `bytes */${body.length}` },
      });
    }
    status = 206;
    headers["content-range"] = `bytes ${start}-${
      body.length - 1
    }/${body.length}`;
  }
  const part = body.subarray(start);
  headers["content-length"] = String(part.length);
  const { stallAt, truncateTo } = artifact.spec;
  const firstServed = artifact.blobRequests ===
    (artifact.spec.blobFailures ?? 0) + 1;
  if (stallAt !== undefined && firstServed) {
    const sent = part.subarray(0, Math.max(0, stallAt - start));
    return new Response(stalled(sent, closing), { status, headers });
  }
  if (truncateTo !== undefined && truncateTo - start < part.length) {
    const sent = part.subarray(0, Math.max(0, truncateTo - start));
    return new Response(truncated(sent), { status, headers });
  }
  return new Response(part, { status, headers });
}

/** A body that sends `bytes`, then nothing, until the double closes. */
function stalled(bytes: Uint8Array, closing: AbortSignal) {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      closing.addEventListener(
        "abort",
        () => controller.error(new Error("closed")),
      );
    },
  });
}

/** A body that sends `bytes`, then breaks off. */
function truncated(bytes: Uint8Array) {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.error(new Error("truncated on purpose"));
    },
  });
}
