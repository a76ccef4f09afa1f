/**
 * The verdict on one attempt, the word every part uses for "may another
 * attempt succeed?": the engine gives it (`lib/engine/classify.ts` judges
 * statuses and failures), {@linkcode AttemptError} carries it, and callers
 * that hand work to the engine throw it too.
 *
 * @module
 */

/**
 * The verdict on one attempt: `ok`; `not_found` (404 or 410, never
 * retried); `retryable` (another attempt may succeed); `fatal` (it will
 * not).
 */
export type Verdict = "ok" | "not_found" | "retryable" | "fatal";
