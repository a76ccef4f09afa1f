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

/**
 * Starts the deadlines of one attempt.
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
  const timers: ReturnType<typeof setTimeout>[] = [];
  let lastActivity = 0;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const fire = (kind: string, ms: number) =>
    controller.abort(
      new DOMException(
        `${kind} timeout after ${formatSeconds(ms)}`,
        "TimeoutError",
      ),
    );
  const arm = (ms: number, onFire: () => void) => {
    const id = setTimeout(onFire, ms);
    timers.push(id);
    return id;
  };
  const checkIdle = () => {
    const quiet = Date.now() - lastActivity;
    if (quiet >= deadlines.idleMs) fire("idle", deadlines.idleMs);
    else idleTimer = arm(deadlines.idleMs - quiet, checkIdle);
  };
  const connectTimer = deadlines.connectMs > 0
    ? arm(deadlines.connectMs, () => fire("connect", deadlines.connectMs))
    : undefined;
  if (deadlines.totalMs > 0) {
    arm(deadlines.totalMs, () => fire("total", deadlines.totalMs));
  }
  const onParentAbort = () => controller.abort(parent!.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener("abort", onParentAbort, { once: true });

  return {
    signal: controller.signal,
    headersArrived() {
      if (connectTimer !== undefined) clearTimeout(connectTimer);
      if (deadlines.idleMs > 0) {
        lastActivity = Date.now();
        idleTimer = arm(deadlines.idleMs, checkIdle);
      }
    },
    activity() {
      lastActivity = Date.now();
    },
    dispose() {
      for (const id of timers) clearTimeout(id);
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
