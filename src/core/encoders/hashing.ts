/**
 * Character n-gram + word n-gram feature hashing ("hashing trick"), written for
 * Few-Shot Lab. Works for any language: Latin-like scripts get word-boundary
 * aware char n-grams (" word " padded, like scikit-learn's char_wb) plus word
 * unigrams and bigrams; CJK runs (no spaces between words) get raw char n-grams
 * over the run. Features are hashed with a signed hash into `dim` buckets,
 * weighted with sublinear tf (1 + ln tf) and L2-normalised.
 */
import type { Encoder } from './types';
import { DEFAULT_MAX_CHARS } from './types';
import { HashedCounts, truncate, yieldToLoop } from './util';
import { checkHashingDim } from './spec';
import { FNV_OFFSET, fnv1a, fnvStep } from '../util/hash';

export interface HashingOptions {
  /** Power of two, 2^10..2^18. Default 2^14. */
  dim?: number;
  /** Char n-gram range (default 1..4). */
  minN?: number;
  maxN?: number;
  /** Char n-gram range inside CJK runs (default 1..3). */
  cjkMaxN?: number;
  /** Word n-grams up to this order (default 2; 0 = no word features). */
  wordN?: number;
  /** Weight of word features relative to char n-grams (default 1). */
  wordWeight?: number;
  maxChars?: number;
  batchSize?: number;
}

export const DEFAULT_HASHING_DIM = 1 << 14;

// Runs of CJK ideographs/kana/hangul, or runs of letters/digits of other scripts.
const TOKEN_RE = /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3005\u3007]+)|([\p{L}\p{M}\p{N}]+(?:['’][\p{L}]+)*)/gu;

const SEED_CHAR = 0x9e3779b9;
const SEED_WORD = 0x85ebca77;
const SEED_BIGRAM = 0xc2b2ae3d;

export function createHashingEncoder(o: HashingOptions = {}): Encoder {
  const dim = o.dim ?? DEFAULT_HASHING_DIM;
  checkHashingDim(dim);
  const minN = o.minN ?? 1;
  const maxN = o.maxN ?? 4;
  const cjkMaxN = o.cjkMaxN ?? 3;
  const wordN = o.wordN ?? 2;
  const wordWeight = o.wordWeight ?? 1;
  const maxChars = o.maxChars ?? DEFAULT_MAX_CHARS;
  const batchSize = o.batchSize ?? 256;
  const id = `hashing-v1-char${minN}-${maxN}-cjk${cjkMaxN}-word${wordN}x${wordWeight}-${dim}`;

  const counts = new HashedCounts(dim);
  const add = (h: number, w: number) => counts.add(h, w);

  /** Adds the features of one text to `counts`. */
  function count(raw: string): void {
    const text = truncate(raw, maxChars).normalize('NFKC').toLowerCase();
    // char n-grams over s[from..to) with rolling FNV per start position
    const charGrams = (s: string, lo: number, hi: number) => {
      const L = s.length;
      for (let i = 0; i < L; i++) {
        let h = (FNV_OFFSET ^ SEED_CHAR) >>> 0;
        for (let n = 1; n <= hi && i + n <= L; n++) {
          h = fnvStep(h, s.charCodeAt(i + n - 1));
          if (n >= lo) add(fnvStep(h, n), 1);
        }
      }
    };
    let prevWordHash = -1;
    TOKEN_RE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = TOKEN_RE.exec(text))) {
      if (m[1]) {
        // CJK: raw n-grams over the run (UTF-16 units: CJK BMP chars are one unit each)
        charGrams(m[1], minN, cjkMaxN);
        prevWordHash = -1;
      } else {
        const w = m[2];
        charGrams(' ' + w + ' ', minN, maxN);
        if (wordN >= 1) {
          const wh = fnv1a(w, FNV_OFFSET ^ SEED_WORD);
          add(wh, wordWeight);
          if (wordN >= 2 && prevWordHash >= 0) add(fnvStep(wh, Math.imul(prevWordHash, 31)) ^ SEED_BIGRAM, wordWeight);
          prevWordHash = wh;
        }
      }
    }
  }

  /** Encodes texts in batches (yielding to the event loop between them) with `one`. */
  async function batches<T>(texts: string[], one: (t: string) => T, onProgress?: (done: number, total: number) => void): Promise<T[]> {
    const out: T[] = new Array(texts.length);
    for (let i = 0; i < texts.length; i += batchSize) {
      const end = Math.min(texts.length, i + batchSize);
      for (let j = i; j < end; j++) out[j] = one(texts[j] ?? '');
      onProgress?.(end, texts.length);
      if (end < texts.length) await yieldToLoop();
    }
    if (texts.length === 0) onProgress?.(0, 0);
    return out;
  }

  return {
    id,
    dim,
    maxChars,
    cacheable: false,
    embed: (texts, onProgress) => batches(texts, (t) => { count(t); return counts.toUnit(); }, onProgress),
    embedSparse: (texts, onProgress) => batches(texts, (t) => { count(t); return counts.toSparseUnit(); }, onProgress),
  };
}
