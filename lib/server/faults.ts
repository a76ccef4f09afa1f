/**
 * The faults the test server injects, after Toxiproxy: latency with jitter,
 * error statuses, connection resets, truncated bodies, stalls, slow bodies
 * and corrupted bodies. Each is chosen by a rate from 0 to 1; they combine.
 *
 * The `--fault` syntax that spells them, and their short description, are
 * in `fault_spec.ts`.
 *
 * ## Draws
 *
 * Every request (except `/stats`) takes exactly {@linkcode DRAWS_PER_REQUEST}
 * numbers from the server's seeded source, in arrival order and always in the
 * same order (status, latency, jitter, reset, truncate, stall, slow,
 * corrupt), whatever is configured; so the same seed and the same request
 * order give the same faults. Status faults exclude each other (one draw
 * walks their cumulative rates, so their rates must sum to at most 1); the
 * others are independent. A status fault replaces the body, so body faults
 * only apply to 200/206 responses with a body; reset wins over truncate.
 *
 * @module
 */

import type { Random } from "./random.ts";

/** A share of responses replaced by an error status. */
export interface StatusFault {
  /** The status sent, 400 to 599. */
  status: number;
  /** Share of responses, 0 to 1. @default 1 */
  rate?: number;
  /** Seconds for `Retry-After`; every 429 carries one. @default 1 for 429, none otherwise */
  retryAfter?: number;
  /** Send `Retry-After` as an HTTP-date instead of seconds. @default false */
  retryAfterDate?: boolean;
}

/** Latency before the response headers. */
export interface LatencyFault {
  /** Share of responses delayed. @default 1 */
  rate?: number;
  /** Fixed latency in milliseconds. @default 0 */
  ms?: number;
  /** Plus or minus this many milliseconds, uniformly (never below 0 in total). @default 0 */
  jitter?: number;
}

/** The connection is closed after some bytes of the body. */
export interface ResetFault {
  /** Share of responses. @default 1 */
  rate?: number;
  /** Body bytes sent before closing. @default half the body */
  after?: number;
}

/** `Content-Length` promises more than is sent, then the connection closes. */
export interface TruncateFault {
  /** Share of responses. @default 1 */
  rate?: number;
  /** Bytes left out at the end. @default 1 */
  missing?: number;
}

/** The body pauses after the headers (and maybe some bytes). */
export interface StallFault {
  /** Share of responses. @default 1 */
  rate?: number;
  /** Pause in milliseconds. @default 10000 */
  ms?: number;
  /** Body bytes sent before the pause. @default 0 */
  after?: number;
}

/** A bytes-per-second cap on the body. */
export interface SlowFault {
  /** Share of responses. @default 1 */
  rate?: number;
  /** The cap, bytes per second. @default 65536 */
  bytesPerSecond?: number;
}

/** Right length, wrong bytes. */
export interface CorruptFault {
  /** Share of responses. @default 1 */
  rate?: number;
}

/** Which faults a server injects, and how often. Every field is optional. */
export interface FaultConfig {
  /** Error statuses; their rates must sum to at most 1. @default [] */
  statuses?: StatusFault[];
  /**
   * Latency and jitter; several delays add up (a preset's and the command
   * line's, see {@linkcode addFaults}), each drawn from the same number, so
   * a delay on 50 % and one on 100 % both apply to the same half.
   * @default none
   */
  latency?: LatencyFault | LatencyFault[];
  /** Connection reset mid-body. @default none */
  reset?: ResetFault;
  /** Short body under a full `Content-Length`. @default none */
  truncate?: TruncateFault;
  /** A pause in the body. @default none */
  stall?: StallFault;
  /** A bytes-per-second cap. @default none */
  slow?: SlowFault;
  /** A flipped byte. @default none */
  corrupt?: CorruptFault;
}

/** What happens to one request, drawn by {@linkcode drawFaults}. */
export interface FaultPlan {
  /** Milliseconds to wait before answering (0 for none). */
  delayMs: number;
  /** Replace the response by this status. */
  status?: StatusFault;
  /** Close after this many body bytes (`-1` for half the body). */
  reset?: number;
  /** Leave this many bytes out at the end. */
  truncate?: number;
  /** Pause the body. */
  stall?: { ms: number; after: number };
  /** Cap the body rate, bytes per second. */
  slow?: number;
  /** Flip one byte. */
  corrupt: boolean;
}

/** How many numbers each request takes from the random source. */
export const DRAWS_PER_REQUEST = 8;

/**
 * Draws the faults for one request. Always takes exactly
 * {@linkcode DRAWS_PER_REQUEST} numbers from `random`.
 *
 * @param config The (validated) fault configuration.
 * @param random The server's seeded random source.
 * @returns The plan for this request.
 */
export function drawFaults(config: FaultConfig, random: Random): FaultPlan {
  const uStatus = random(), uLatency = random(), uJitter = random();
  const uReset = random(), uTruncate = random(), uStall = random();
  const uSlow = random(), uCorrupt = random();
  const plan: FaultPlan = { delayMs: 0, corrupt: false };
  if (config.statuses) {
    let cumulative = 0;
    for (const fault of config.statuses) {
      cumulative += fault.rate ?? 1;
      if (uStatus < cumulative) {
        plan.status = fault;
        break;
      }
    }
  }
  const { latency, reset, truncate, stall, slow, corrupt } = config;
  for (const delay of delays(latency)) {
    if (uLatency >= (delay.rate ?? 1)) continue;
    const jitter = delay.jitter ?? 0;
    plan.delayMs += Math.max(
      0,
      Math.round((delay.ms ?? 0) + jitter * (2 * uJitter - 1)),
    );
  }
  if (reset && uReset < (reset.rate ?? 1)) plan.reset = reset.after ?? -1;
  else if (truncate && uTruncate < (truncate.rate ?? 1)) {
    plan.truncate = truncate.missing ?? 1;
  }
  if (stall && uStall < (stall.rate ?? 1)) {
    plan.stall = { ms: stall.ms ?? 10_000, after: stall.after ?? 0 };
  }
  if (slow && uSlow < (slow.rate ?? 1)) {
    plan.slow = slow.bytesPerSecond ?? 65536;
  }
  if (corrupt && uCorrupt < (corrupt.rate ?? 1)) plan.corrupt = true;
  return plan;
}

/**
 * Combines two configurations: for each kind, the fields of `override` win
 * over those of `base`; status faults are combined by status code.
 *
 * @param base For example a preset's faults.
 * @param override For example the command line's.
 * @returns A new configuration.
 */
export function mergeFaults(
  base: FaultConfig = {},
  override: FaultConfig = {},
): FaultConfig {
  const out: FaultConfig = {};
  const byStatus = new Map<number, StatusFault>();
  for (const f of [...(base.statuses ?? []), ...(override.statuses ?? [])]) {
    byStatus.set(f.status, { ...byStatus.get(f.status), ...f });
  }
  if (byStatus.size > 0) out.statuses = [...byStatus.values()];
  for (const key of OBJECT_KEYS) {
    if (key === "latency") {
      const latency = mergeLatency(base.latency, override.latency);
      if (latency) out.latency = latency;
      continue;
    }
    if (base[key] || override[key]) {
      // deno-lint-ignore no-explicit-any -- the same key on the same type
      (out as any)[key] = { ...base[key], ...override[key] };
    }
  }
  return out;
}

function mergeLatency(
  base: FaultConfig["latency"],
  override: FaultConfig["latency"],
): FaultConfig["latency"] {
  if (Array.isArray(base) || Array.isArray(override)) return override ?? base;
  return base || override ? { ...base, ...override } : undefined;
}

/**
 * The delays of a configuration's `latency`, as a list.
 *
 * @param latency A configuration's `latency` (one delay, several, or none).
 * @returns The delays, in order; `[]` for none.
 */
export function delays(latency: FaultConfig["latency"]): LatencyFault[] {
  return latency === undefined
    ? []
    : Array.isArray(latency)
    ? latency
    : [latency];
}

/**
 * Adds faults to a base (a preset's): like {@linkcode mergeFaults}, except
 * that a delay of its own (one with `ms`) adds to the base's delay instead
 * of replacing it; a jitter alone applies to the base's delay.
 *
 * @example
 * ```ts
 * import { addFaults } from "./faults.ts";
 * import { deepEqual } from "node:assert/strict";
 * const preset = { latency: { rate: 0.5, ms: 500 } };
 * deepEqual(addFaults(preset, { latency: { ms: 300 } }).latency, [
 *   { rate: 0.5, ms: 500 },
 *   { ms: 300 },
 * ]);
 * ```
 *
 * @param base For example a preset's faults.
 * @param extra For example the command line's.
 * @returns A new configuration.
 */
export function addFaults(
  base: FaultConfig = {},
  extra: FaultConfig = {},
): FaultConfig {
  const { latency, ...others } = extra;
  const out = mergeFaults(base, others);
  const own = delays(latency);
  const jitterOnly = own.length === 1 && own[0].ms === undefined;
  if (own.length === 0) return out;
  if (
    base.latency === undefined || (jitterOnly && Array.isArray(base.latency))
  ) {
    out.latency = latency;
  } else if (jitterOnly) {
    out.latency = { ...base.latency as LatencyFault, ...own[0] };
  } else out.latency = [...delays(base.latency), ...own];
  return out;
}

const OBJECT_KEYS = [
  "latency",
  "reset",
  "truncate",
  "stall",
  "slow",
  "corrupt",
] as const;

/**
 * Checks a configuration, so that a mistake fails at start rather than
 * mid-run.
 *
 * @param config The configuration to check.
 * @returns The same configuration.
 * @throws {RangeError} When a rate, size, duration or status is out of range.
 * @throws {TypeError} When a value is not a number.
 */
export function validateFaults(config: FaultConfig): FaultConfig {
  let sum = 0;
  for (const f of config.statuses ?? []) {
    checkInteger(`status`, f.status, 400, 599);
    sum += checkRate(`${f.status}`, f.rate);
    if (f.retryAfter !== undefined) {
      checkNumber(`${f.status} retry-after`, f.retryAfter, 0, 1e9);
    }
  }
  if (sum > 1 + 1e-9) {
    throw new RangeError(
      `Cannot use status faults: their rates sum to ${sum}, more than 1`,
    );
  }
  const { latency, reset, truncate, stall, slow, corrupt } = config;
  for (const delay of delays(latency)) {
    checkRate("delay", delay.rate);
    if (delay.ms !== undefined) checkNumber("delay", delay.ms, 0, 3.6e6);
    if (delay.jitter !== undefined) {
      checkNumber("jitter", delay.jitter, 0, 3.6e6);
    }
  }
  if (reset) {
    checkRate("reset", reset.rate);
    if (reset.after !== undefined) {
      checkInteger("reset", reset.after, 0, Number.MAX_SAFE_INTEGER);
    }
  }
  if (truncate) {
    checkRate("truncate", truncate.rate);
    if (truncate.missing !== undefined) {
      checkInteger("truncate", truncate.missing, 1, Number.MAX_SAFE_INTEGER);
    }
  }
  if (stall) {
    checkRate("stall", stall.rate);
    if (stall.ms !== undefined) checkNumber("stall", stall.ms, 0, 3.6e6);
    if (stall.after !== undefined) {
      checkInteger("stall after", stall.after, 0, Number.MAX_SAFE_INTEGER);
    }
  }
  if (slow) {
    checkRate("slow", slow.rate);
    if (slow.bytesPerSecond !== undefined) {
      checkNumber("slow", slow.bytesPerSecond, 1, Number.MAX_SAFE_INTEGER);
    }
  }
  if (corrupt) checkRate("corrupt", corrupt.rate);
  return config;
}

function checkNumber(what: string, value: unknown, min: number, max: number) {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `Cannot use ${what}: expected a number, got ${JSON.stringify(value)}`,
    );
  }
  if (value < min || value > max) {
    throw new RangeError(
      `Cannot use ${what}: expected ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}

function checkInteger(what: string, value: unknown, min: number, max: number) {
  checkNumber(what, value, min, max);
  if (!Number.isInteger(value)) {
    throw new RangeError(
      `Cannot use ${what}: expected an integer, got ${value}`,
    );
  }
}

function checkRate(what: string, rate: number | undefined): number {
  if (rate === undefined) return 1;
  return checkNumber(`${what} rate`, rate, 0, 1);
}
