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
