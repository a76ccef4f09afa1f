/**
 * The book's three test servers (*Fluent Python*, "flags" examples), built
 * in: LOCAL answers plainly, DELAY delays every response by 0.5 s, ERROR
 * answers 25 % of requests with 503 and delays 50 % by 0.5 s.
 *
 * @module
 */

import type { FaultConfig } from "./faults.ts";

/** The name of a built-in server. */
export type PresetName = "LOCAL" | "DELAY" | "ERROR";

/** A built-in server: its usual port, a few words, and its faults. */
export interface Preset {
  /** The book's port (first edition). */
  port: number;
  /** For the listener line of `bulkget serve`. */
  description: string;
  /** What it injects. */
  faults: FaultConfig;
}

/**
 * The book's servers, by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRESETS } from "./presets.ts";
 * assert.equal(PRESETS.ERROR.port, 8003);
 * ```
 */
export const PRESETS: Readonly<Record<PresetName, Readonly<Preset>>> = {
  LOCAL: { port: 8001, description: "plain", faults: {} },
  DELAY: {
    port: 8002,
    description: "every response delayed 500 ms",
    faults: { latency: { rate: 1, ms: 500 } },
  },
  ERROR: {
    port: 8003,
    description: "25 % of responses are 503, 50 % delayed 500 ms",
    faults: {
      statuses: [{ status: 503, rate: 0.25 }],
      latency: { rate: 0.5, ms: 500 },
    },
  },
};

/** The names of the presets, in port order. */
export const PRESET_NAMES: readonly PresetName[] = ["LOCAL", "DELAY", "ERROR"];

/**
 * Finds a preset by name, case-insensitively.
 *
 * @param name For example `"error"`.
 * @returns The canonical name.
 * @throws {RangeError} When there is no such preset.
 */
export function presetName(name: string): PresetName {
  const upper = name.toUpperCase();
  if ((PRESET_NAMES as readonly string[]).includes(upper)) {
    return upper as PresetName;
  }
  throw new RangeError(
    `Cannot use preset "${name}": expected one of ${PRESET_NAMES.join(", ")}`,
  );
}
