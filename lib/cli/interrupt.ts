/**
 * Ctrl-C and SIGTERM for a command: the first one aborts the run so it can
 * stop cleanly and report; a second Ctrl-C exits at once.
 *
 * @module
 */

/** Exit codes of an interrupted run (128 + signal number, as shells report). */
export const INTERRUPT_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** A listener for the run's stop signals. */
export interface Interrupts {
  /** Aborts when SIGINT or SIGTERM arrives. */
  readonly signal: AbortSignal;
  /** The signal that arrived, if any. */
  received(): "SIGINT" | "SIGTERM" | undefined;
  /** Removes the listeners. */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM until disposed.
 *
 * @param onFirst Called once when the first signal arrives (e.g. to print a note).
 * @returns The listener.
 */
export function listenForInterrupts(
  onFirst?: (name: "SIGINT" | "SIGTERM") => void,
): Interrupts {
  const controller = new AbortController();
  let received: "SIGINT" | "SIGTERM" | undefined;
  const handlers = (["SIGINT", "SIGTERM"] as const).map((name) => {
    const handler = () => {
      if (received !== undefined) {
        if (name === "SIGINT") Deno.exit(INTERRUPT_EXIT_CODES.SIGINT);
        return;
      }
      received = name;
      onFirst?.(name);
      controller.abort(
        new DOMException(`interrupted by ${name}`, "AbortError"),
      );
    };
    try {
      Deno.addSignalListener(name, handler);
    } catch {
      return undefined; // signals are not available on this platform
    }
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    received: () => received,
    dispose() {
      for (const entry of handlers) {
        if (entry) Deno.removeSignalListener(entry[0], entry[1]);
      }
    },
  };
}
