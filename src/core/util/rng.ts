/** Small deterministic helpers shared by core modules (no dependencies). */

/** mulberry32 from a raw 32-bit state: a fast seeded PRNG returning floats in [0, 1). */
export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The project's default seeded PRNG (mulberry32 over a mixed seed). */
export function seededRandom(seed: number): () => number {
  return mulberry32(Math.floor(seed) ^ 0x9e3779b9);
}

/** Fisher–Yates shuffle in place with the given random source; returns the array. */
export function shuffleInPlace<T>(arr: T[], rand: () => number): T[] {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = arr[i]; arr[i] = arr[j]; arr[j] = t;
  }
  return arr;
}
