/**
 * `fetchArtifacts`: downloads CI artifacts through the engine, verifies
 * each against its digest, and extracts it off the main thread.
 *
 * - The blob downloads run in parallel in the engine's pool
 *   ({@linkcode download}); each one asks the API for its URL just before
 *   it starts (the API client makes one call at a time), so a signed URL is
 *   fresh when used. A download the blob host refuses with 403 (a signed
 *   URL that expired between attempts) asks the API again in a next round,
 *   resuming its `.part` where the host allows ranges.
 * - Nothing is extracted from unverified bytes: the extraction Worker checks
 *   the whole zip's SHA-256 against the artifact's digest (when the API
 *   gives one) before it writes anything. Each zip is hashed while the
 *   download writes it ({@linkcode DownloadWatches}: on this thread from
 *   the engine's pieces, or by the Worker as it reads a resumed `.part`),
 *   so the digest is known when the download ends; a zip that could not be
 *   followed is read and hashed whole. The Worker follows each `.part` as
 *   it grows and writes each stored entry out into the work directory
 *   (`ZipStreamer`), which the extraction then only renames into place. With `extract: false` the writer checks it before
 *   the zip gets its name.
 * - Extraction ({@linkcode ZipExtractor}) runs in one Worker kept for the
 *   run while other downloads go on: two artifacts at once, or with `merge`
 *   (and one artifact into the directory itself) one at a time in the order
 *   the downloads end, so conflicts are decided in order and never
 *   interleaved.
 * - Durability (`full`): an artifact is recorded done and reported `ok`
 *   only once its extracted files, their directories and the done list are
 *   flushed. The zip itself is downloaded without a flush: it is removed
 *   after extraction, and its digest and every entry's CRC are checked
 *   before use.
 * - Artifacts done in an earlier run (same id and digest, recorded in
 *   `DIR/.bulkget-artifacts/done.json`) are skipped.
 *
 * @module
 */

import { download } from "../engine/download.ts";
import type { Durability } from "../writer/client.ts";
import type { Outcome } from "../core/job.ts";
import { artifactJob, resolvedJob } from "./artifact_job.ts";
import type { EngineEvent } from "../core/events.ts";
import { safeDest } from "../writer/safe_name.ts";
import { nameOfRawFile, rawPartsByUrl } from "./raw_file_name.ts";
import { reservedName } from "../writer/entry_names.ts";
import { ZipExtractor } from "../writer/zip_extractor.ts";
import { pathExists } from "../writer/paths.ts";
import { DownloadWatches, WHOLE_BODY_LIMIT } from "./download_watches.ts";
import { DoneList } from "./done_list.ts";
import {
  extractDownload,
  isZip,
  RESERVED,
  WORK_DIR,
} from "./extract_download.ts";
import {
  type ArtifactResult,
  countReceived,
  failureReason,
  resultOf,
} from "./artifact_result.ts";

export type { ArtifactResult } from "./artifact_result.ts";

export { WORK_DIR } from "./extract_download.ts";
import type { Artifact, ArtifactApi } from "./artifact.ts";
import { UnsafeNameError } from "../core/errors.ts";

/** Options of {@linkcode fetchArtifacts}. */
export interface FetchArtifactsOptions {
  /** The output directory. @default "." */
  outDir?: string;
  /** Extract each zip (off: keep `NAME.zip`). @default true */
  extract?: boolean;
  /** Extract every artifact into the output directory itself; same path with different bytes is a conflict. @default false */
  merge?: boolean;
  /** Extract into the output directory itself (one artifact). @default false */
  flat?: boolean;
  /** Downloads at once. @default 16 */
  concurrency?: number;
  /** Retries per download for retryable failures. @default 5 */
  retries?: number;
  /** Rounds of fresh URLs for downloads whose signed URL was refused. @default 3 */
  rounds?: number;
  /**
   * Most redirects a download follows. A vendor whose downloads carry the
   * token to the API's own URL (GitLab) sets 0, so the token never follows
   * a redirect; a download that meets one asks the API again, which resolves
   * the redirect without the token. @default 10
   */
  maxRedirects?: number;
  /** Use the engine's own HTTP/1.1 client. @default true */
  ownHttp?: boolean;
  /**
   * `"full"`: an artifact is `ok` only once its files (extracted, or the
   * kept zip), their directories and the done list are flushed; `"none"`:
   * nothing is flushed. @default "full"
   */
  durability?: Durability;
  /** Engine events (progress). */
  onEvent?: (event: EngineEvent) => void;
  /** Called with each artifact's result as it is known. */
  onResult?: (result: ArtifactResult) => void;
  /** Waits between attempts; replaceable for tests. @default the engine's */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Cancels the run. */
  signal?: AbortSignal;
}

/** What the steps of one {@linkcode fetchArtifacts} run share. */
interface RunState {
  outDir: string;
  extract: boolean;
  /** Into the output directory itself (`merge`, or one artifact). */
  flat: boolean;
  options: FetchArtifactsOptions;
  durability: Durability;
  done: DoneList;
  results: Map<number, ArtifactResult>;
  byId: Map<number, Artifact>;
  /** Who wrote each extracted file (for merge conflict messages). */
  owners: Map<string, string>;
  extractor: ZipExtractor;
  /** The extractor's hashing of zips while they download. */
  watches: DownloadWatches;
  /**
   * Without extraction: the `.part`s of raw files an earlier run left, by
   * download URL (their names came from the answer, not the job).
   */
  rawParts: Map<string, string>;
  /** Body bytes received in this run, by artifact id (every attempt). */
  received: Map<string, number>;
  report(result: ArtifactResult): void;
}

/**
 * Downloads, verifies and extracts `artifacts`.
 *
 * @param api The vendor client that resolves downloads.
 * @param artifacts The artifacts to fetch.
 * @param options See {@linkcode FetchArtifactsOptions}.
 * @returns One result per artifact, in the order given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { githubArtifacts } from "./github.ts";
 * import { fetchArtifacts } from "./fetch_artifacts.ts";
 * import { startGithubDouble } from "../server/github_api.ts";
 * import { makeZip } from "../server/zip_maker.ts";
 *
 * await using github = await startGithubDouble({
 *   artifacts: [{ name: "logs", runId: 7, body: makeZip([{ name: "a.txt", data: "hi" }]) }],
 * });
 * const api = githubArtifacts({ repository: "octo/demo", apiUrl: github.apiUrl });
 * const outDir = await Deno.makeTempDir();
 * const [logs] = await fetchArtifacts(api, await api.list({ run: "7" }), { outDir });
 * assert.equal(logs.status, "ok"); // downloaded, digest checked, extracted
 * assert.equal(await Deno.readTextFile(`${outDir}/logs/a.txt`), "hi");
 * await Deno.remove(outDir, { recursive: true });
 * ```
 */
export async function fetchArtifacts<L>(
  api: ArtifactApi<L>,
  artifacts: Artifact[],
  options: FetchArtifactsOptions = {},
): Promise<ArtifactResult[]> {
  const outDir = (options.outDir ?? ".").replace(/\/+$/, "") || "/";
  const flat = (options.merge ?? false) || (options.flat ?? false);
  const workDir = `${outDir}/${WORK_DIR}`;
  await Deno.mkdir(workDir, { recursive: true });
  const results = new Map<number, ArtifactResult>();
  // The Worker for the run's archives (ended below, whatever happens); two
  // at once unless they share the directory, where the order decides
  // conflicts.
  using extractor = new ZipExtractor({ concurrency: flat ? 1 : 2 });
  const durability = options.durability ?? "full";
  const state: RunState = {
    outDir,
    extract: options.extract ?? true,
    flat,
    options,
    durability,
    done: await DoneList.load(workDir, durability),
    results,
    byId: new Map(artifacts.map((a) => [a.id, a])),
    owners: new Map(),
    extractor,
    watches: new DownloadWatches(extractor, outDir, {
      durable: durability === "full",
    }),
    rawParts: options.extract ?? true ? new Map() : await rawPartsByUrl(outDir),
    received: new Map(),
    report(result) {
      result.transferred = state.received.get(String(result.id)) ?? 0;
      results.set(result.id, result);
      options.onResult?.(result);
    },
  };
  const pending = [];
  for (const artifact of artifacts) {
    if (await admit(state, artifact)) pending.push(artifact);
  }
  // Loaded while the first downloads run, not after the first one ends.
  if (state.extract && pending.length > 0) extractor.start();
  await downloadRounds(api, pending, state);
  return artifacts.map((a) => results.get(a.id)!);
}

/**
 * Decides whether `artifact` is to be downloaded: not when its name is
 * refused, an earlier run did it, or it expired (each reported).
 */
async function admit(state: RunState, artifact: Artifact): Promise<boolean> {
  const { outDir, extract, flat } = state;
  const base = resultOf(artifact);
  let path: string;
  try {
    path = flat && extract
      ? "."
      : safeDest(extract ? artifact.name : `${artifact.name}.zip`);
  } catch (error) {
    if (!(error instanceof UnsafeNameError)) throw error;
    state.report({ ...base, status: "error", reason: error.message });
    return false;
  }
  const reserved = reservedName(artifact.name, RESERVED);
  if (reserved !== undefined) {
    const reason = `the name ${JSON.stringify(artifact.name)} is ${reserved}`;
    state.report({ ...base, status: "error", reason });
    return false;
  }
  base.path = path;
  const before = state.done.get(artifact.id);
  // A raw file kept without extraction went under its server's name.
  const samePlace = before &&
    (before.path === path || (!extract && before.raw === true));
  if (
    artifact.id > 0 && before && samePlace &&
    before.digest === base.digest &&
    await pathExists(`${outDir}/${before.path}`)
  ) {
    const { sha256, bytes, files, raw } = before;
    state.report({
      ...base,
      status: "skipped",
      path: before.path,
      sha256,
      bytes,
      files,
      raw,
    });
    return false;
  }
  if (artifact.expired) {
    state.report({ ...base, status: "expired", reason: "expired" });
    return false;
  }
  state.results.set(artifact.id, base);
  return true;
}

/**
 * Downloads `pending` through the engine, in rounds: a download whose
 * signed URL was refused (403) goes to the next round, which asks the API
 * again, as does a resumed zip whose digest was wrong (whole, this time).
 * Each verified zip is extracted as it arrives.
 */
async function downloadRounds<L>(
  api: ArtifactApi<L>,
  pending: Artifact[],
  state: RunState,
) {
  const { options } = state;
  const rounds = options.rounds ?? 3;
  // With `flat`, one after the other, in the order the downloads end.
  let chain: Promise<void> = Promise.resolve();
  for (let round = 1; round <= rounds && pending.length > 0; round++) {
    const again: Artifact[] = [];
    const finishing: Promise<void>[] = [];
    const last = round === rounds;
    // A resumed zip whose digest is wrong goes to the next round, whole.
    const finishOrAgain = (artifact: Artifact, outcome: Outcome) =>
      finish(state, artifact, outcome, last).then((whole) => {
        if (whole) again.push(artifact);
      });
    for await (
      const outcome of download(pending.map((a) => jobOf(a, state)), {
        outDir: state.outDir,
        prepare: (job) =>
          resolvedJob(api, job, state.byId.get(Number(job.origin))!),
        concurrency: options.concurrency,
        retries: options.retries,
        // The digest is the API's: a second download brings the same bytes.
        retryMismatch: false,
        ownHttp: options.ownHttp,
        maxRedirects: options.maxRedirects,
        smallBodyLimit: WHOLE_BODY_LIMIT,
        onBodyPiece: state.extract ? state.watches.onBodyPiece : undefined,
        onEvent: countReceived(
          state.received,
          state.extract
            ? state.watches.listener(options.onEvent)
            : options.onEvent,
        ),
        sleep: options.sleep,
        signal: options.signal,
        existing: "overwrite",
        // A kept download that is no zip takes its server's file name.
        nameFromResponse: state.extract ? undefined : nameOfRawFile,
        resumeOwnName: true,
        digest: !state.extract,
        // A zip to extract is thrown away after: not flushed.
        durability: state.extract ? "none" : state.durability,
      })
    ) {
      const artifact = state.byId.get(Number(outcome.job.origin))!;
      const base = state.results.get(artifact.id)!;
      if (outcome.status === "ok" || outcome.status === "skipped") {
        if (state.flat) {
          finishing.push(
            chain = chain.then(() => finishOrAgain(artifact, outcome)),
          );
        } else {
          finishing.push(finishOrAgain(artifact, outcome));
        }
      } else if (
        outcome.status === "error" && round < rounds &&
        (outcome.httpStatus === 403 ||
          /too many redirects/.test(outcome.reason ?? ""))
      ) {
        again.push(artifact);
      } else if (outcome.status === "not_found" && outcome.httpStatus === 410) {
        state.report({ ...base, status: "expired", reason: "expired" });
      } else {
        state.report({
          ...base,
          status: outcome.status === "cancelled" ? "cancelled" : "error",
          reason: failureReason(outcome),
        });
      }
    }
    await Promise.all(finishing);
    pending = again;
  }
}

/** The engine's job for `artifact`: its zip into the work directory (or its final name). */
function jobOf(artifact: Artifact, state: RunState) {
  const dest = state.extract
    ? `${WORK_DIR}/${artifact.id}.zip`
    : state.rawParts.get(artifact.downloadUrl) ??
      state.results.get(artifact.id)!.path;
  return artifactJob(artifact, dest, state.extract);
}

/**
 * Extracts a verified download (unless kept as a zip), records and reports
 * it. Unless `last`, a resumed zip whose digest is wrong is not reported
 * (its kept bytes may be what is wrong): true says to download it again,
 * whole (its zip is gone).
 */
async function finish(
  state: RunState,
  artifact: Artifact,
  outcome: Outcome,
  last: boolean,
): Promise<boolean> {
  const { outDir } = state;
  const base = state.results.get(artifact.id)!;
  const zipPath = `${outDir}/${outcome.job.dest}`;
  const result: ArtifactResult = {
    ...base,
    status: "ok",
    sha256: outcome.sha256,
    bytes: outcome.bytes,
  };
  // Kept as it came: no zip when its server named it otherwise, or when
  // its bytes are none (a file uploaded unzipped whose name ends `.zip`).
  if (
    !state.extract &&
    (outcome.job.dest !== base.path || !await isZip(zipPath))
  ) {
    Object.assign(result, { path: outcome.job.dest, raw: true });
  }
  if (state.extract) {
    const target = base.path === "." ? outDir : `${outDir}/${base.path}`;
    const resumed = state.watches.resumed(String(artifact.id));
    const extracted = await extractDownload(zipPath, target, artifact, {
      extractor: state.extractor,
      merge: state.flat,
      owners: state.owners,
      intoOutDir: target === outDir,
      watched: state.watches.take(String(artifact.id)),
      durability: state.durability,
    });
    if (
      !last && resumed && extracted.reason?.startsWith("digest mismatch")
    ) return true;
    Object.assign(result, extracted);
  }
  if (result.status === "ok") {
    await state.done.record(artifact.id, {
      sha256: result.sha256 ?? "",
      digest: result.digest,
      files: result.files,
      bytes: result.bytes,
      path: result.path,
      ...(result.raw ? { raw: true } : {}),
    });
  }
  state.report(result);
  return false;
}
