/**
 * Synthetic 100-character texts for the scale benchmark (scripts/bench/scale.ts): seeded, any size.
 * Each class draws most words from a Zipf-distributed shared vocabulary and some from its own
 * topical words, so the classes overlap the way real ones do (no class is separable by one word).
 */
import { mulberry32 } from '../../src/core/util/rng';
import type { Item } from './corpora';

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vi', 'so', 'pe', 'da', 'gu', 'ri', 'fo', 'be', 'zu', 'ha', 'ni', 'to', 'me', 'sa'];

function words(r: () => number, n: number): string[] {
  const seen = new Set<string>();
  while (seen.size < n) {
    const len = 1 + Math.floor(r() * 3);
    let w = '';
    for (let i = 0; i < len; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)];
    if (w.length > 2) seen.add(w);
  }
  return [...seen];
}

/** `n` texts of about `chars` characters over `classes` labels (round-robin), from `seed`. */
export function syntheticItems(n: number, classes = 8, seed = 1, chars = 100): Item[] {
  // one vocabulary for every seed (train and test sets share it); the seed picks the texts
  const v = mulberry32(20261130);
  const shared = words(v, 3000);
  const topical = Array.from({ length: classes }, () => words(v, 150));
  const r = mulberry32(seed);
  // Zipf weights over the shared vocabulary, as a cumulative table
  const cum = new Float64Array(shared.length);
  let acc = 0;
  for (let i = 0; i < shared.length; i++) { acc += 1 / (i + 1); cum[i] = acc; }
  const pick = () => {
    const u = r() * acc;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) { const m = (lo + hi) >> 1; if (cum[m] < u) lo = m + 1; else hi = m; }
    return shared[lo];
  };
  const out: Item[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    const parts: string[] = [];
    let len = 0;
    while (len < chars) {
      const w = r() < 0.15 ? topical[c][Math.floor(r() * topical[c].length)] : pick();
      parts.push(w);
      len += w.length + 1;
    }
    out.push({ text: parts.join(' ').slice(0, chars), label: `class-${c + 1}`, group: String(i) });
  }
  return out;
}
