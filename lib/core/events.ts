/**
 * The one stream of events the engine emits while it works. Progress bars,
 * CI log lines and `-v` output all read these; the engine never imports them.
 *
 * @module
 */

import type { Job, Outcome } from "./job.ts";

/** A job's first request is about to be sent. */
export interface StartedEvent {
  /** The event's kind. */
  type: "started";
  /** The job. */
  job: Job;
}

/** Body bytes arrived for a job (emitted per chunk, so progress can count bytes). */
export interface BytesEvent {
  /** The event's kind. */
  type: "bytes";
  /** The job. */
  job: Job;
  /** Bytes in this chunk. */
  bytes: number;
  /** The whole file's length, when the server said. */
  total?: number;
  /**
   * Where in the file this chunk begins: past the bytes already on disk
   * for a resumed `.part`, so `total - offset - bytes` is what remains.
   * Absent when unknown: then only the bytes received count.
   */
  offset?: number;
}

/** An attempt failed in a way worth retrying; the next one starts after `delayMs`. */
export interface RetryingEvent {
  /** The event's kind. */
  type: "retrying";
  /** The job. */
  job: Job;
  /** The attempt that just failed, counting from 1. */
  attempt: number;
  /** Why it failed. */
  reason: string;
  /** Wait before the next attempt. */
  delayMs: number;
}

/** A job reached its outcome (any status). */
export interface DoneEvent {
  /** The event's kind. */
  type: "done";
  /** What became of the job. */
  outcome: Outcome;
}

/** Everything the engine reports while it runs. */
export type EngineEvent = StartedEvent | BytesEvent | RetryingEvent | DoneEvent;

/** Receives engine events; must not throw and should return quickly. */
export type EventListener = (event: EngineEvent) => void;
