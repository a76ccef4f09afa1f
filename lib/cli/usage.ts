/**
 * The error a command throws for bad command-line input: printed as one
 * line plus the usage, exit code 2.
 *
 * @module
 */

/** Bad command-line input. */
export class UsageError extends Error {
  /** @param message What was wrong, for people. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses a whole number option, e.g. `-m 100`.
 *
 * @param text The option's value as typed.
 * @param what How the error names the option, e.g. `--max_req CONCURRENT`.
 * @param min The least allowed value.
 * @returns The number.
 * @throws {UsageError} When it is not a whole number at least `min`.
 */
export function parseWholeNumber(text: string, what: string, min: number): number {
  const value = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(value)) {
    throw new UsageError(`${what} must be a whole number, got "${text}"`);
  }
  if (value < min) throw new UsageError(`${what} must be >= ${min}`);
  return value;
}

/**
 * Parses a duration in seconds, e.g. `--timeout 2.5`.
 *
 * @param text The option's value as typed.
 * @param what How the error names the option.
 * @returns Milliseconds.
 * @throws {UsageError} When it is not a positive number.
 */
export function parseSeconds(text: string, what: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${what} must be a positive number of seconds, got "${text}"`);
  }
  return Math.round(value * 1000);
}
