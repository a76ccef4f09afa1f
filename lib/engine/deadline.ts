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
  // One timer at a time, set for the nearest deadline and re-armed when it
  // fires early (e.g. the body is still flowing): most requests finish long
  // before any deadline, so they cost one setTimeout and one clearTimeout.
  const controller = new AbortController();
  const started = Date.now();
  let inBody = false;
  let lastActivity = started;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerDue = Infinity;
  const fire = (kind: string, ms: number) =>
    controller.abort(
      new DOMException(
        `${kind} timeout after ${formatSeconds(ms)}`,
        "TimeoutError",
      ),
    );
  const nextDue = () =>
    Math.min(
      deadlines.totalMs > 0 ? started + deadlines.totalMs : Infinity,
      !inBody && deadlines.connectMs > 0
        ? started + deadlines.connectMs
        : Infinity,
      inBody && deadlines.idleMs > 0
        ? lastActivity + deadlines.idleMs
        : Infinity,
    );
  const schedule = () => {
    const due = nextDue();
    if (due === timerDue) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    timerDue = due;
    if (due !== Infinity) {
      timer = setTimeout(check, Math.max(0, due - Date.now()));
    }
  };
  const check = () => {
    timer = undefined;
    timerDue = Infinity;
    const now = Date.now();
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
    schedule();
  };
  schedule();
  const onParentAbort = () => controller.abort(parent!.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener("abort", onParentAbort, { once: true });

  return {
    signal: controller.signal,
    headersArrived() {
      inBody = true;
      lastActivity = Date.now();
      // The idle deadline may fall before the timer set for connect.
      if (nextDue() < timerDue) schedule();
    },
    activity() {
      lastActivity = Date.now();
    },
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
