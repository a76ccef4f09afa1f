/**
 * The extraction Worker's script: runs `extractZip` or `placeFile` for each
 * request `ZipExtractor` (`zip_extractor.ts`) sends (as many at once as it
 * sends), and answers each, by its id, with the result or the error's
 * message.
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
  /** As `ExtractOptions`, with `owners` as pairs. */
  options: Omit<ExtractOptions, "owners"> & {
    owners?: [string, string][];
  };
}

/** An extraction Worker's answer. */
export type ExtractReply =
  & { id: number }
  & (
    | { ok: true; result: ExtractResult; owners: [string, string][] }
    | { ok: false; message: string; extract: boolean }
  );

// deno-lint-ignore no-explicit-any -- the Worker global
const self_ = globalThis as any;
self_.onmessage = async (event: MessageEvent<ExtractRequest>) => {
  const { id, zipPath, destDir, rawName, options } = event.data;
  const owners = new Map(options.owners ?? []);
  let reply: ExtractReply;
  try {
    const result = rawName === undefined
      ? await extractZip(zipPath, destDir, { ...options, owners })
      : await placeFile(zipPath, destDir, rawName, { ...options, owners });
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
