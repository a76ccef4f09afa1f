/**
 * Telling when this thread's event loop is idle, to do work that blocks it
 * (starting the writer Worker) when nothing else is waiting.
 *
 * @module
 */

/** Consecutive on-time 1 ms timer ticks that show this thread is idle. */
const IDLE_TICKS = 5;
/** Latest a 1 ms tick may fire and still count as on time. */
const IDLE_TICK_SLACK_MS = 2.5;

/**
 * Calls `callback` once this thread's event loop is idle: when
 * {@linkcode IDLE_TICKS} 1 ms timers in a row fire on time. The ticks use
 * `AbortSignal.timeout`, not the global `setTimeout`, whose first call loads
 * Deno's Node timers (about 11 ms) and would land before the first request.
 *
 * @param callback What to do once idle.
 * @returns A function that stops watching.
 */
export function whenIdle(callback: () => void): () => void {
  let onTime = 0;
  let last = performance.now();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const now = performance.now();
    onTime = now - last <= IDLE_TICK_SLACK_MS ? onTime + 1 : 0;
    last = now;
    if (onTime >= IDLE_TICKS) callback();
    else next();
  };
  const next = () =>
    AbortSignal.timeout(1).addEventListener("abort", tick, { once: true });
  next();
  return () => {
    stopped = true;
  };
}
