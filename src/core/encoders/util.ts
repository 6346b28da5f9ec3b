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

export function toFloat32(v: ArrayLike<number>): Float32Array {
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** murmur3's 32-bit finaliser: spreads the bits of a running hash. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Turns signed bucket counts of a feature-hashing pass into a unit-length dense
 * vector with sublinear term frequency (1 + ln|c| for |c| ≥ 1), and clears the
 * scratch buffers (`acc`, `seen`) at the touched buckets for the next text.
 */
export function sparseCountsToUnit(acc: Float64Array | Float32Array, seen: Uint8Array, touched: Int32Array | Uint32Array, nTouched: number, dim: number): Float32Array {
  const out = new Float32Array(dim);
  let ss = 0;
  for (let k = 0; k < nTouched; k++) {
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
    for (let k = 0; k < nTouched; k++) out[touched[k]] *= inv;
  }
  return out;
}
