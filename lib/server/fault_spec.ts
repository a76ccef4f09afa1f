/**
 * The text form of the test server's faults: parsing `bulkget serve --fault
 * SPEC` ({@linkcode parseFault}, {@linkcode parseFaults}) and describing a
 * configuration in a few words ({@linkcode describeFaults}). What each fault
 * does, and how they are drawn, is in `faults.ts`.
 *
 * ## Syntax (`--fault SPEC`, repeatable)
 *
 * `SPEC` is `KIND[=RATE][:PARAM]...`; `RATE` is a share from 0 to 1
 * (default 1, every response). Durations are a number with `ms`, `s` or `m`
 * (a bare number is milliseconds); sizes are bytes with an optional `k`, `m`
 * or `g` (KiB, MiB, GiB).
 *
 * | spec | effect |
 * |---|---|
 * | `503=0.25` | any status 400 to 599 (500, 502, 503, 504, 408, 429, …): that share of responses is replaced by that status |
 * | `429=0.1:retry-after=2` | … with `Retry-After: 2` (seconds form; every 429 has one, default 1) |
 * | `429=0.1:retry-after-date=2` | … with `Retry-After` as an HTTP-date 2 s ahead |
 * | `delay=0.5:500ms[:jitter=200ms]` | latency before the response headers, ± jitter |
 * | `reset=0.1:2048` | the connection is closed after 2048 body bytes (default: half the body) |
 * | `truncate=0.1[:BYTES]` | `Content-Length` is the full size but BYTES fewer are sent, then the connection closes (default 1) |
 * | `stall=0.05:10s[:after=BYTES]` | headers (and BYTES of body, default 0) sent, then the body pauses |
 * | `slow=1:65536` | the body is sent at most 65536 bytes per second |
 * | `corrupt=0.1` | right length, but one byte (in the middle of the body) is flipped |
 *
 * The command line also has `--delay MS`, `--jitter MS` and `--slow BPS`,
 * which set `delay` and `slow` (rate 1 unless `--fault` gave one). With a
 * preset, a delay of the command line's adds to the preset's (see
 * `addFaults` in `faults.ts`); a `--jitter` alone applies to the preset's
 * delay.
 *
 * @module
 */

import { parseDuration, parseSize } from "../core/units.ts";
import {
  delays,
  type FaultConfig,
  type LatencyFault,
  mergeFaults,
  type StallFault,
  type StatusFault,
  validateFaults,
} from "./faults.ts";

const KINDS = ["delay", "reset", "truncate", "stall", "slow", "corrupt"];

/** One spec split into its kind, rate and parameters, with its error helper. */
interface Spec {
  /** The spec as written, for messages. */
  text: string;
  /** The rate, 1 when none was written. */
  rate: number;
  /** The `:`-separated parameters after the kind and rate. */
  params: string[];
}

/**
 * Parses one `--fault` spec (see the module documentation for the syntax).
 *
 * @param text For example `"503=0.25"`, `"reset=0.1:2048"`,
 *   `"429=0.1:retry-after=2"`, `"stall=0.05:10s"`.
 * @returns A configuration holding that one fault.
 * @throws {RangeError} When the spec cannot be parsed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFault } from "./fault_spec.ts";
 * assert.deepEqual(parseFault("reset=0.1:2k").reset, { rate: 0.1, after: 2048 });
 * ```
 */
export function parseFault(text: string): FaultConfig {
  const [head, ...params] = text.trim().split(":");
  const eq = head.indexOf("=");
  const kind = (eq < 0 ? head : head.slice(0, eq)).toLowerCase();
  const spec: Spec = {
    text,
    rate: parseRate(text, eq < 0 ? undefined : head.slice(eq + 1)),
    params,
  };
  if (/^\d{3}$/.test(kind)) return { statuses: [statusFault(spec, kind)] };
  switch (kind) {
    case "delay":
      return { latency: delayFault(spec) };
    case "reset":
      atMost(spec, 1);
      return { reset: { rate: spec.rate, ...sizeParam(spec, "after", 0) } };
    case "truncate":
      atMost(spec, 1);
      return {
        truncate: { rate: spec.rate, ...sizeParam(spec, "missing", 1) },
      };
    case "stall":
      return { stall: stallFault(spec) };
    case "slow":
      atMost(spec, 1);
      return {
        slow: { rate: spec.rate, ...sizeParam(spec, "bytesPerSecond", 1) },
      };
    case "corrupt":
      atMost(spec, 0);
      return { corrupt: { rate: spec.rate } };
    default:
      return fail(
        spec,
        `unknown kind "${kind}" (expected a status 400-599 or one of ${
          KINDS.join(", ")
        })`,
      );
  }
}

function fail(spec: Spec, why: string): never {
  throw new RangeError(`Cannot parse fault "${spec.text}": ${why}`);
}

function parseRate(text: string, rateText: string | undefined): number {
  if (rateText === undefined) return 1;
  const rate = Number(rateText);
  if (
    rateText.trim() === "" || !Number.isFinite(rate) || rate < 0 || rate > 1
  ) {
    throw new RangeError(
      `Cannot parse fault "${text}": expected a rate from 0 to 1, got "${rateText}"`,
    );
  }
  return rate;
}

function atMost(spec: Spec, count: number): void {
  if (spec.params.length > count) fail(spec, `too many parameters`);
}

/** Splits `key=value` into its lower-cased key and value; a bare value has no key. */
function named(param: string): readonly [string | undefined, string] {
  const i = param.indexOf("=");
  return i < 0
    ? [undefined, param]
    : [param.slice(0, i).toLowerCase(), param.slice(i + 1)];
}

/** Runs a value parser, turning its error into this spec's message. */
function parsed<T>(spec: Spec, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    return fail(spec, error instanceof Error ? error.message : String(error));
  }
}

const SIZE_TOO_SMALL: Record<string, string> = {
  missing: "at least 1 byte must be missing",
  bytesPerSecond: "the rate must be at least 1 B/s",
};

/** The optional single size parameter of `reset`, `truncate` and `slow`. */
function sizeParam<K extends string>(
  spec: Spec,
  key: K,
  min: number,
): { [P in K]?: number } {
  const param = spec.params[0];
  if (param === undefined) return {};
  const size = parsed(spec, () => parseSize(param));
  if (size < min) fail(spec, SIZE_TOO_SMALL[key]);
  return { [key]: size } as { [P in K]?: number };
}

function statusFault(spec: Spec, kind: string): StatusFault {
  const status = Number(kind);
  if (status < 400 || status > 599) fail(spec, "a status must be 400 to 599");
  const fault: StatusFault = { status, rate: spec.rate };
  for (const param of spec.params) {
    const [key, value] = named(param);
    if (key !== "retry-after" && key !== "retry-after-date") {
      fail(spec, `unknown parameter "${param}" (expected retry-after=SECONDS)`);
    }
    const seconds = Number(value);
    if (value === "" || !Number.isInteger(seconds) || seconds < 0) {
      fail(spec, `retry-after must be whole seconds, got "${value}"`);
    }
    fault.retryAfter = seconds;
    fault.retryAfterDate = key === "retry-after-date";
  }
  return fault;
}

function delayFault(spec: Spec): LatencyFault {
  atMost(spec, 2);
  const latency: LatencyFault = { rate: spec.rate };
  for (const param of spec.params) {
    const [key, value] = named(param);
    if (key === "jitter") {
      latency.jitter = parsed(spec, () => parseDuration(value));
    } else if (key === undefined) {
      latency.ms = parsed(spec, () => parseDuration(value));
    } else fail(spec, `unknown parameter "${param}"`);
  }
  return latency;
}

function stallFault(spec: Spec): StallFault {
  atMost(spec, 2);
  const stall: StallFault = { rate: spec.rate };
  for (const param of spec.params) {
    const [key, value] = named(param);
    if (key === "after") stall.after = parsed(spec, () => parseSize(value));
    else if (key === undefined) {
      stall.ms = parsed(spec, () => parseDuration(value));
    } else fail(spec, `unknown parameter "${param}"`);
  }
  return stall;
}

/**
 * Parses several `--fault` specs and combines them (later ones win).
 *
 * @param list The specs.
 * @returns The combined, validated configuration.
 * @throws {RangeError} When a spec cannot be parsed or the status rates sum
 *   to more than 1.
 *
 * @example
 * ```ts
 * import { parseFaults } from "./fault_spec.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(parseFaults(["503=0.1", "503=0.2"]).statuses, [
 *   { status: 503, rate: 0.2 },
 * ]);
 * ```
 */
export function parseFaults(list: readonly string[]): FaultConfig {
  let config: FaultConfig = {};
  for (const text of list) config = mergeFaults(config, parseFault(text));
  return validateFaults(config);
}

/**
 * Describes a configuration in a few words, for the listener lines of
 * `bulkget serve`.
 *
 * @param config The configuration.
 * @returns For example `"503 25 %, delay 500 ms on 50 %"`, or `"plain"`.
 *
 * @example
 * ```ts
 * import { describeFaults } from "./fault_spec.ts";
 * import { equal } from "node:assert/strict";
 * equal(describeFaults({}), "plain");
 * equal(describeFaults({ corrupt: { rate: 0.1 } }), "corrupt on 10 %");
 * ```
 */
export function describeFaults(config: FaultConfig): string {
  const pct = (rate: number | undefined) =>
    rate === undefined || rate === 1 ? "" : ` on ${+(rate * 100).toFixed(2)} %`;
  const parts: string[] = [];
  for (const f of config.statuses ?? []) {
    const ra = f.retryAfter === undefined
      ? ""
      : ` retry-after ${f.retryAfter}s${f.retryAfterDate ? " (date)" : ""}`;
    parts.push(`${f.status}${ra}${pct(f.rate) || " on 100 %"}`);
  }
  const { latency, reset, truncate, stall, slow, corrupt } = config;
  for (const delay of delays(latency)) {
    const j = delay.jitter ? ` ±${delay.jitter} ms` : "";
    parts.push(`delay ${delay.ms ?? 0} ms${j}${pct(delay.rate)}`);
  }
  if (reset) {
    parts.push(
      `reset after ${reset.after ?? "half"}${
        reset.after === undefined ? "" : " B"
      }${pct(reset.rate)}`,
    );
  }
  if (truncate) {
    parts.push(`truncate by ${truncate.missing ?? 1} B${pct(truncate.rate)}`);
  }
  if (stall) parts.push(`stall ${stall.ms ?? 10_000} ms${pct(stall.rate)}`);
  if (slow) {
    parts.push(`slow ${slow.bytesPerSecond ?? 65536} B/s${pct(slow.rate)}`);
  }
  if (corrupt) parts.push(`corrupt${pct(corrupt.rate)}`);
  return parts.length === 0 ? "plain" : parts.join(", ");
}
