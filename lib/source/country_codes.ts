/**
 * The flags demo's job source: the book's country-code selection rules.
 *
 * @module
 */

/** The 20 most populous countries, used when no code is given (as in the book). */
export const POPULOUS_20 =
  "BD BR CD CN DE EG ET FR ID IN IR JP MX NG PH PK RU TR US VN".split(" ");

/** The country codes that have flags, from the data set. */
export async function flagCodes(
  dataDir: URL = new URL("../../data/", import.meta.url),
): Promise<string[]> {
  const text = await Deno.readTextFile(new URL("country_codes.txt", dataDir));
  return text.split(/\s+/).filter((code) => code.length === 2);
}

/** Every two-letter code, AA to ZZ (676). */
export function everyCode(): string[] {
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  return [...letters].flatMap((a) => [...letters].map((b) => a + b));
}

/** The selection inputs of `bulkget flags`. */
export interface CodeSelection {
  /** `-e`: every code AA…ZZ. */
  every?: boolean;
  /** `-a`: the codes that have flags. */
  all?: boolean;
  /** `CC…` arguments: two letters, or one letter X meaning XA…XZ. */
  codes?: string[];
  /** `-l N`: keep the first N. */
  limit?: number;
}

/**
 * Applies the book's rules: `-e` wins over `-a`, which wins over the
 * arguments; no codes at all means the 20 most populous; the result is
 * upper-cased, de-duplicated, sorted and cut to the limit.
 *
 * @param selection The options.
 * @param flagged The codes that have flags (for `-a`).
 * @returns The codes to fetch.
 * @throws {RangeError} When an argument is not A–Z or AA–ZZ.
 */
export function selectCodes(
  selection: CodeSelection,
  flagged: string[],
): string[] {
  let codes: string[];
  if (selection.every) codes = everyCode();
  else if (selection.all) codes = flagged;
  else {
    codes = [];
    for (const arg of selection.codes ?? []) {
      const cc = arg.toUpperCase();
      if (/^[A-Z]$/.test(cc)) {
        codes.push(...[..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"].map((b) => cc + b));
      } else if (/^[A-Z]{2}$/.test(cc)) codes.push(cc);
      else throw new RangeError("each CC argument must be A to Z or AA to ZZ.");
    }
    if (codes.length === 0) codes = POPULOUS_20;
  }
  const sorted = [...new Set(codes.map((c) => c.toUpperCase()))].sort();
  return selection.limit === undefined
    ? sorted
    : sorted.slice(0, selection.limit);
}
