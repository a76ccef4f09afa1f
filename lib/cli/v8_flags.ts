/**
 * The V8 flags bulkget is meant to run with: baked into the compiled binary
 * (`deno task compile`), passed by `deno task demo` and `deno task bench`,
 * and shown in the README's `deno run` commands.
 *
 * `--max-semi-space-size=8` caps V8's young generation at 8 MiB a half
 * (the default lets it grow to 16 MiB under bulkget's allocation rate).
 * Measured on 20,000 small files: the same speed, peak RSS 114 instead of
 * 151 MiB; on a 1,000,000-line list it stays flat near 120 MiB instead of
 * climbing to 165 MiB.
 *
 * `--heap-growing-percent=30` lets the old generation grow by 30 % of what
 * the last full collection kept before the next one (V8 otherwise lets it
 * grow to ~4 × the ~8 MiB live: promoted garbage and pooled pages). Measured
 * (bench/ab.ts, interleaved pairs): 1,000,000-line list stopped at 10 s,
 * peak RSS 151 → 125 MiB (GNU time), files done and CPU the same; 20,000 ×
 * 1 KiB, RSS 123 → 109 MiB, wall 2.70 → 2.71 s, CPU 3.48 → 3.45 s.
 *
 * @module
 */

/** V8 flags for `deno run --v8-flags=…` and `deno compile --v8-flags=…`. */
export const V8_FLAGS = "--max-semi-space-size=8,--heap-growing-percent=30";
