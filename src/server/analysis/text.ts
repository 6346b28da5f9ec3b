/**
 * Text normalisation, hashing, character shingles and MinHash signatures used
 * by the leakage / duplicate checks. Pure functions, no I/O.
 */
import { FNV_OFFSET, fnv1a, fnvStep } from '../../core/util/hash';
import { mulberry32 } from '../../core/util/rng';

/** Normalise for exact-duplicate detection: NFKC, lower case, collapse whitespace, trim. */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** Key under which label spellings that differ only by case, whitespace or width collide. */
export function labelKey(label: string): string {
  return label.normalize('NFKC').toLowerCase().replace(/[\s_-]+/gu, ' ').trim();
}

/** 64-bit-ish content hash (two independent FNV runs), as a hex string. */
export function textHash(normalised: string): string {
  const a = fnv1a(normalised);
  const b = fnv1a(normalised, 0x9747b28c);
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0') + normalised.length.toString(36);
}

export const SHINGLE_SIZE = 3;

/**
 * Sorted, de-duplicated hashes of the character k-grams of a normalised text.
 * Texts shorter than k produce a single shingle of the whole text.
 */
export function shingles(normalised: string, k = SHINGLE_SIZE, maxChars = 20000): Uint32Array {
  const s = normalised.length > maxChars ? normalised.slice(0, maxChars) : normalised;
  if (s.length === 0) return new Uint32Array(0);
  if (s.length <= k) return Uint32Array.of(fnv1a(s));
  const set = new Set<number>();
  for (let i = 0; i + k <= s.length; i++) {
    // rolling would be faster but k is tiny; hash the code units directly
    let h = FNV_OFFSET;
    for (let j = i; j < i + k; j++) h = fnvStep(h, s.charCodeAt(j));
    set.add(h >>> 0);
  }
  const arr = Uint32Array.from(set);
  arr.sort();
  return arr;
}

/** Exact Jaccard similarity of two sorted shingle arrays. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0, j = 0, inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { inter++; i++; j++; }
    else if (a[i] < b[j]) i++;
    else j++;
  }
  return inter / (a.length + b.length - inter);
}

export const MINHASH_SIZE = 64;
const SEEDS: Uint32Array = (() => {
  // deterministic per-permutation seeds (odd 32-bit mulberry32 outputs)
  const r = mulberry32(0x2545f491);
  return Uint32Array.from({ length: MINHASH_SIZE * 2 }, () => (r() * 0x100000000) | 1);
})();

/** MinHash signature of a shingle set (one seeded 32-bit mixer per permutation). */
export function minhash(sh: Uint32Array): Uint32Array {
  const sig = new Uint32Array(MINHASH_SIZE).fill(0xffffffff);
  for (let k = 0; k < MINHASH_SIZE; k++) {
    const s1 = SEEDS[2 * k], m = SEEDS[2 * k + 1];
    let min = 0xffffffff;
    for (let i = 0; i < sh.length; i++) {
      let v = Math.imul(sh[i] ^ s1, m);
      v ^= v >>> 15;
      v = Math.imul(v, 0x2c1b3c6d);
      v ^= v >>> 12;
      v >>>= 0;
      if (v < min) min = v;
    }
    sig[k] = min;
  }
  return sig;
}

/** Share of equal MinHash slots: an estimate of the Jaccard similarity. */
export function signatureSimilarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * LSH band keys: `bands` bands of MINHASH_SIZE/bands rows each. With 8 bands of
 * 8 rows a pair with Jaccard 0.9 shares a band with probability 0.99, a pair
 * with Jaccard 0.3 with probability 0.0005.
 */
export function bandKeys(sig: Uint32Array, bands = 8): number[] {
  const rows = MINHASH_SIZE / bands;
  const keys: number[] = [];
  for (let b = 0; b < bands; b++) {
    let h = FNV_OFFSET ^ b;
    for (let r = 0; r < rows; r++) h = fnvStep(h, sig[b * rows + r]);
    // 3 bits of band + 27 bits of hash: stays a small integer (fast Map key)
    keys.push((b << 27) | ((h >>> 0) >>> 5));
  }
  return keys;
}

/** Position (0-based line/character) of a UTF-16 offset in a text. */
export function positionAt(text: string, offset: number): { line: number; character: number } {
  let line = 0, last = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) { line++; last = i + 1; }
  }
  return { line, character: end - last };
}

/** Yield to the event loop (lets the server answer requests between chunks). */
export function yieldNow(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
