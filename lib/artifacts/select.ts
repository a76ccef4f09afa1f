/**
 * `selectArtifacts`: which of the listed artifacts to download: by exact
 * name, glob pattern and id, and, when no run was named, the newest
 * non-expired artifact of each name (as `gh run download` does).
 *
 * @module
 */

import type { Artifact } from "./artifact.ts";

/** Options of {@linkcode selectArtifacts}. */
export interface SelectOptions {
  /** Keep artifacts with one of these exact names. @default all */
  names?: string[];
  /** Keep artifacts whose name matches one of these globs (`*`, `?`). @default all */
  patterns?: string[];
  /** Keep artifacts with one of these ids. @default all */
  ids?: number[];
  /** Keep only the newest non-expired artifact of each name. @default false */
  newestPerName?: boolean;
}

/**
 * Filters artifacts. A name, a pattern or an id each selects; with none of
 * them every artifact is selected.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectArtifacts } from "./select.ts";
 * const artifact = (id: number, name: string) =>
 *   ({ id, name, size: 1, sha256: null, expired: false, createdAt: "", downloadUrl: "" });
 * const listed = [artifact(1, "logs-linux"), artifact(2, "coverage"), artifact(3, "logs-mac")];
 * const names = (options = {}) => selectArtifacts(listed, options).map((a) => a.name);
 * assert.deepEqual(names({ patterns: ["logs-*"] }), ["logs-linux", "logs-mac"]);
 * assert.deepEqual(names({ patterns: ["logs-*"], ids: [2] }), ["logs-linux", "coverage", "logs-mac"]);
 * assert.equal(names().length, 3);
 * ```
 *
 * @param artifacts As listed.
 * @param options See {@linkcode SelectOptions}.
 * @returns The selected artifacts, in listing order.
 */
export function selectArtifacts(
  artifacts: Artifact[],
  options: SelectOptions = {},
): Artifact[] {
  const names = new Set(options.names ?? []);
  const ids = new Set(options.ids ?? []);
  const globs = (options.patterns ?? []).map(globToRegExp);
  const any = names.size > 0 || ids.size > 0 || globs.length > 0;
  let chosen = artifacts.filter((a) =>
    !any || names.has(a.name) || ids.has(a.id) ||
    globs.some((g) => g.test(a.name))
  );
  if (options.newestPerName) {
    const newest = new Map<string, Artifact>();
    for (const a of chosen) {
      if (a.expired && !ids.has(a.id)) continue;
      const seen = newest.get(a.name);
      if (
        !seen || a.createdAt > seen.createdAt ||
        a.createdAt === seen.createdAt && a.id > seen.id
      ) newest.set(a.name, a);
    }
    chosen = chosen.filter((a) => newest.get(a.name) === a);
  }
  return chosen;
}

/**
 * A glob (`*` any run of characters, `?` one) as an anchored RegExp.
 *
 * @param glob The pattern.
 * @returns The RegExp.
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}
