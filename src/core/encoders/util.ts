import type { SparseVec } from './types';

/** Cut a text to at most `maxChars` code points (never splits a surrogate pair). */
export function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let out = '';
  let n = 0;
  for (const ch of text) {
    if (n++ >= maxChars) break;
    out += ch;
  }
  return out;
}

/** In-place L2 normalisation; returns the vector. All-zero vectors stay zero. */
export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
  }
  return v;
}

/** Lets the event loop run (progress messages, cancellation) between batches. */
export function yieldToLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** murmur3's 32-bit finaliser: spreads the bits of a running hash. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Signed bucket counts of one text for a feature-hashing encoder (scratch space
 * reused from text to text): `add` a feature's hash, then `toUnit`.
 */
export class HashedCounts {
  private readonly acc: Float64Array;
  private readonly seen: Uint8Array;
  private readonly touched: Int32Array;
  private readonly mask: number;
  private n = 0;

  /** `dim`: a power of two. */
  constructor(readonly dim: number) {
    this.acc = new Float64Array(dim);
    this.seen = new Uint8Array(dim);
    this.touched = new Int32Array(dim);
    this.mask = dim - 1;
  }

  /** Adds ±w for feature hash `h`: fmix32(h) picks the bucket (low bits) and the sign (top bit). */
  add(h: number, w: number): void {
    const m = fmix32(h);
    const idx = m & this.mask;
    if (!this.seen[idx]) { this.seen[idx] = 1; this.touched[this.n++] = idx; }
    this.acc[idx] += (m & 0x80000000) ? -w : w;
  }

  /**
   * The counts as a unit-length dense vector with sublinear term frequency
   * (1 + ln|c| for |c| ≥ 1); clears the counts for the next text.
   */
  toUnit(): Float32Array {
    const { acc, seen, touched, n } = this;
    const out = new Float32Array(this.dim);
    let ss = 0;
    for (let k = 0; k < n; k++) {
      const idx = touched[k];
      const c = acc[idx];
      acc[idx] = 0;
      seen[idx] = 0;
      const a = Math.abs(c);
      if (a < 1e-9) continue;
      const v = a >= 1 ? 1 + Math.log(a) : a;
      const sv = c < 0 ? -v : v;
      out[idx] = sv;
      ss += sv * sv;
    }
    if (ss > 0) {
      const inv = 1 / Math.sqrt(ss);
      for (let k = 0; k < n; k++) out[touched[k]] *= inv;
    }
    this.n = 0;
    return out;
  }

  /** The same vector as `toUnit`, as its non-zero entries in ascending dim order (same float32 values). */
  toSparseUnit(): SparseVec {
    const { acc, seen, touched } = this;
    const n = this.n;
    const order = touched.subarray(0, n).slice().sort();
    const idx = new Int32Array(n);
    const val = new Float32Array(n);
    let m = 0;
    let ss = 0;
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const c = acc[i];
      acc[i] = 0;
      seen[i] = 0;
      const a = Math.abs(c);
      if (a < 1e-9) continue;
      const v = a >= 1 ? 1 + Math.log(a) : a;
      const sv = c < 0 ? -v : v;
      idx[m] = i;
      val[m] = sv;
      ss += sv * sv;
      m++;
    }
    if (ss > 0) {
      const inv = 1 / Math.sqrt(ss);
      for (let k = 0; k < m; k++) val[k] *= inv;
    }
    this.n = 0;
    return { dim: this.dim, idx: idx.slice(0, m), val: val.slice(0, m) };
  }
}
