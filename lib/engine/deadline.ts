/**
 * The three deadlines of one attempt, enforced with one `AbortSignal`:
 *
 * - connect: from sending the request until the response headers arrive;
 * - idle: no body byte for this long;
 * - total: the whole attempt, headers and body.
 *
 * When one fires, the signal aborts with a `TimeoutError` that says which.
 *
 * @module
 */

/** Deadlines in milliseconds; 0 means none. */
export interface Deadlines {
  /** Until the response headers arrive. @default 30000 */
  connectMs: number;
  /** Longest wait for the next body byte. @default 30000 */
  idleMs: number;
  /** Whole attempt. @default 0 (no limit: large files take what they take) */
  totalMs: number;
}

/** Default deadlines, in one place. */
export const DEADLINE_DEFAULTS: Deadlines = {
  connectMs: 30_000,
  idleMs: 30_000,
  totalMs: 0,
};

/** A running set of deadlines for one attempt. */
export interface AttemptDeadline {
  /** Aborts when a deadline passes or the parent signal aborts. */
  readonly signal: AbortSignal;
  /** Call when the headers arrived: stops the connect deadline, starts the idle one. */
  headersArrived(): void;
  /** Call on every body chunk: pushes the idle deadline back. */
  activity(): void;
  /** Clears the timers; call in `finally`. */
  dispose(): void;
}

/** How often the deadlines of the attempts in flight are looked at. */
const TICK_MS = 50;

/** The checks of the attempts in flight, run every {@linkcode TICK_MS}. */
const live = new Set<(now: number) => void>();
let ticking = false;

/**
 * One ticker for all attempts instead of a timer each: most attempts end
 * long before any deadline, and a timer per attempt cost a timer object, a
 * clear and garbage per file. It runs on `AbortSignal.timeout`, not the
 * global `setTimeout` (whose first call loads Deno's Node timers, ~11 ms
 * before the first request); that timer does not keep the process alive,
 * which is right: an attempt in flight has its own pending I/O.
 */
function tick(): void {
  const now = Date.now();
  for (const check of live) check(now);
  if (live.size === 0) ticking = false;
  else tickLater();
}

function tickLater(): void {
  AbortSignal.timeout(TICK_MS).addEventListener("abort", tick, { once: true });
}

function watch(check: (now: number) => void): void {
  live.add(check);
  if (ticking) return;
  ticking = true;
  tickLater();
}

/**
 * The attempts running under each parent signal, told of its abort by one
 * listener: adding and removing a listener of a signal that a hundred
 * attempts listen to cost about a microsecond per attempt (the event
 * target scans its list), a set's add and delete next to nothing.
 */
const underParent = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `onAbort` when `parent` aborts, until the returned function is called.
 */
function whenParentAborts(
  parent: AbortSignal,
  onAbort: () => void,
): () => void {
  let attempts = underParent.get(parent);
  if (attempts === undefined) {
    const all = attempts = new Set();
    underParent.set(parent, all);
    parent.addEventListener("abort", () => {
      for (const abort of [...all]) abort();
      all.clear();
    }, { once: true });
  }
  attempts.add(onAbort);
  return () => attempts.delete(onAbort);
}

/**
 * Starts the deadlines of one attempt. They are checked every 50 ms, so one
 * fires up to 50 ms after it passes.
 *
 * @param deadlines The limits.
 * @param parent The run's signal (cancellation), if any.
 * @returns The attempt's deadline.
 */
export function startDeadline(
  deadlines: Deadlines,
  parent?: AbortSignal,
): AttemptDeadline {
  const controller = new AbortController();
  const started = Date.now();
  let inBody = false;
  let lastActivity = started;
  const fire = (kind: string, ms: number) => {
    live.delete(check);
    controller.abort(
      new DOMException(
        `${kind} timeout after ${formatSeconds(ms)}`,
        "TimeoutError",
      ),
    );
  };
  const check = (now: number) => {
    if (deadlines.totalMs > 0 && now - started >= deadlines.totalMs) {
      return fire("total", deadlines.totalMs);
    }
    if (
      !inBody && deadlines.connectMs > 0 && now - started >= deadlines.connectMs
    ) {
      return fire("connect", deadlines.connectMs);
    }
    if (
      inBody && deadlines.idleMs > 0 && now - lastActivity >= deadlines.idleMs
    ) {
      return fire("idle", deadlines.idleMs);
    }
  };
  if (
    deadlines.totalMs > 0 || deadlines.connectMs > 0 || deadlines.idleMs > 0
  ) {
    watch(check);
  }
  let stopWatchingParent: (() => void) | undefined;
  if (parent?.aborted) controller.abort(parent.reason);
  else if (parent) {
    stopWatchingParent = whenParentAborts(
      parent,
      () => controller.abort(parent.reason),
    );
  }

  return {
    signal: controller.signal,
    headersArrived() {
      inBody = true;
      lastActivity = Date.now();
    },
    activity() {
      lastActivity = Date.now();
    },
    dispose() {
      live.delete(check);
      stopWatchingParent?.();
    },
  };
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
