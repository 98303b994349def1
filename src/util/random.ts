/**
 * Tiny seeded pseudo-random helpers for reproducible pipeline steps (splits, sampling, demo data).
 *
 * Not cryptographically secure; do not use for secrets.
 *
 * @module
 */

/**
 * Creates a mulberry32 generator: a small, fast 32-bit PRNG with good statistical quality
 * for shuffling and sampling.
 *
 * @param seed - Any number; it is reduced to an unsigned 32-bit integer (`seed >>> 0`), so seeds
 *   that are equal modulo 2^32 (and fractional parts) give the same stream.
 * @returns A function returning floats uniformly distributed in `[0, 1)`; each call advances the state.
 *
 * @example
 * ```ts
 * const random = mulberry32(42);
 * const x = random(); // same value on every run for seed 42
 * ```
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Shuffles an array in place with the Fisher-Yates algorithm (every permutation equally likely
 * given a uniform `random`).
 *
 * @param array - The array to permute; it is modified.
 * @param random - Source of floats in `[0, 1)`, e.g. from {@link mulberry32}.
 * @returns The same array, for chaining.
 */
export function shuffleInPlace<T>(array: T[], random: () => number): T[] {
  for (let i = array.length - 1; i > 0; i--) {
    // min() guards against a generator that (incorrectly) returns 1.
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const tmp = array[i] as T;
    array[i] = array[j] as T;
    array[j] = tmp;
  }
  return array;
}
