/**
 * A temporary directory for the unit tests of the writer's parts.
 *
 * @module
 */

/**
 * Runs `fn` with a new temporary directory, removed afterwards whatever
 * happens.
 *
 * @param fn The test body.
 */
export async function inTempDir(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
