/**
 * The extraction Worker's script: runs `extractZip` or `placeFile` for each
 * request `ZipExtractor` (`zip_extractor.ts`) sends (as many at once as it
 * sends), and answers each, by its id, with the result or the error's
 * message. It also hashes downloads while they are written
 * (`GrowingHashes`), as asked by `watch` and `drop` messages, which are not
 * answered; an extraction that names a watch (`hashedAs`) finishes it and
 * gives its digest to `extractZip` as `known`.
 *
 * @module
 */

import {
  type ExtractOptions,
  type ExtractResult,
  extractZip,
  placeFile,
} from "./unzip.ts";
import { ExtractError } from "../core/errors.ts";
import {
  GrowingHashes,
  type SizedDigest,
  type StageOptions,
  withDigest,
} from "./growing_hash.ts";

/** A request to an extraction Worker. */
export interface ExtractRequest {
  /** Matches the answer to the request (several may be under way). */
  id: number;
  /** The archive (or, with `rawName`, the file). */
  zipPath: string;
  /** Where it goes. */
  destDir: string;
  /** Set: the file is not an archive; `placeFile` it under this name. */
  rawName?: string;
  /** The watch (see {@linkcode WatchMessage}) that hashed the file as it was written, if any. */
  hashedAs?: string;
  /** The digest of that watch's file taken elsewhere, when it was told `hashedElsewhere`. */
  digest?: SizedDigest;
  /** As `ExtractOptions`, with `owners` as pairs. */
  options: Omit<ExtractOptions, "owners"> & {
    owners?: [string, string][];
  };
}

/**
 * Start hashing a file being written (`watch`), leave its hashing to
 * another thread (`hashedElsewhere`), or stop (`drop`): see
 * `GrowingHashes`. Not answered.
 */
export type WatchMessage =
  | {
    type: "watch";
    key: string;
    path: string;
    stage?: StageOptions;
    complete?: string;
  }
  | { type: "hashedElsewhere" | "drop"; key: string };

/** An extraction Worker's answer. */
export type ExtractReply =
  & { id: number }
  & (
    | { ok: true; result: ExtractResult; owners: [string, string][] }
    | { ok: false; message: string; extract: boolean }
  );

// deno-lint-ignore no-explicit-any -- the Worker global
const self_ = globalThis as any;
const hashes = new GrowingHashes();
self_.onmessage = async (
  event: MessageEvent<ExtractRequest | WatchMessage>,
) => {
  if ("type" in event.data) {
    const message = event.data;
    if (message.type === "watch") {
      hashes.watch(message.key, message.path, message.stage, message.complete);
    } else if (message.type === "hashedElsewhere") {
      hashes.hashedElsewhere(message.key);
    } else hashes.drop(message.key);
    return;
  }
  const { id, zipPath, destDir, rawName, hashedAs, digest, options } =
    event.data;
  const owners = new Map(options.owners ?? []);
  const known = hashedAs === undefined
    ? undefined
    : withDigest(hashes.finish(hashedAs), digest);
  let reply: ExtractReply;
  try {
    const how = { ...options, owners, known };
    const result = rawName === undefined
      ? await extractZip(zipPath, destDir, how)
      : await placeFile(zipPath, destDir, rawName, how);
    reply = { id, ok: true, result, owners: [...owners] };
  } catch (error) {
    reply = {
      id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      extract: error instanceof ExtractError,
    };
  }
  self_.postMessage(reply);
};
