/**
 * 'chargram' encoder: hashed character n-grams of whitespace-separated tokens, each token padded
 * with one space on both sides (the scheme of scikit-learn's `analyzer='char_wb'`). Unlike the
 * 'hashing' encoder it keeps punctuation and symbols (「，」「、」「(」 patterns carry genre and
 * section signal, e.g. in classical Chinese or man-page markup) and has no word features.
 * Sublinear tf (1 + ln tf), signed feature hashing, L2-normalised. IDF is not applied here
 * (an encoder is stateless); the few-shot head fits it on the training texts.
 *
 * Defaults measured against scikit-learn's exact (unhashed) char_wb 1–3 TF-IDF linear probe on the
 * Chinese development corpora (K = 8, 20 seeds; scripts/bench/zh-anchor.ts):
 *  - 1–2-grams, not 1–3: with exact features the two ranges score the same (poetry 0.884 vs 0.883),
 *    but hashed trigrams are mostly unseen at test time and land on the buckets of training
 *    features (noise): dropping them gained +0.9 (poetry) and +1.3 (man pages) macro-F1 points;
 *  - CHARGRAM_MAX_CHARS characters, not the neural encoders' 2,000: n-grams of a long text cost
 *    microseconds, and reading whole man pages (up to 4,000 characters) gained +1.2 points.
 */
import type { Encoder } from '../encoders/types';
import { HashedCounts, truncate } from '../encoders/util';
import { FNV_OFFSET, fnvStep } from '../util/hash';
import { checkHashingDim, type CharGramOptions } from '../encoders/spec';

// Spec parsing lives with the other encoder specs (no encoder code needed to read one).
export { chargramSpecOptions, type CharGramOptions } from '../encoders/spec';

/** 2^16: at 2^14 bucket collisions cost several macro-F1 points on Chinese corpora. */
export const DEFAULT_CHARGRAM_DIM = 1 << 16;
/** Longest n-gram by default (see above). */
export const DEFAULT_CHARGRAM_MAX_N = 2;
/** Characters read per text when the caller sets no limit (see above). */
export const CHARGRAM_MAX_CHARS = 10000;

export function chargramId(o: CharGramOptions = {}): string {
  return `chargram-v1-wb${o.minN ?? 1}-${o.maxN ?? DEFAULT_CHARGRAM_MAX_N}-${o.dim ?? DEFAULT_CHARGRAM_DIM}`;
}

export function createCharGramEncoder(o: CharGramOptions = {}): Encoder {
  const dim = o.dim ?? DEFAULT_CHARGRAM_DIM;
  checkHashingDim(dim, 'chargram');
  const minN = o.minN ?? 1;
  const maxN = o.maxN ?? DEFAULT_CHARGRAM_MAX_N;
  const maxChars = o.maxChars ?? CHARGRAM_MAX_CHARS;
  const counts = new HashedCounts(dim);

  /** Adds the n-grams of one text to `counts`. */
  function count(raw: string): void {
    const text = truncate(raw, maxChars).normalize('NFKC').toLowerCase();
    for (const tok of text.split(/\s+/)) {
      if (!tok) continue;
      const s = Array.from(' ' + tok + ' ', (ch) => ch.codePointAt(0)!);
      for (let i = 0; i < s.length; i++) {
        let h = FNV_OFFSET;
        for (let n = 1; n <= maxN && i + n <= s.length; n++) {
          h = fnvStep(h, s[i + n - 1]);
          if (n >= minN) counts.add(fnvStep(h, n), 1);
        }
      }
    }
  }

  return {
    id: chargramId({ dim, minN, maxN }),
    dim,
    maxChars,
    cacheable: false,
    async embed(texts, onProgress) {
      const out = texts.map((t) => { count(t ?? ''); return counts.toUnit(); });
      onProgress?.(texts.length, texts.length);
      return out;
    },
    async embedSparse(texts, onProgress) {
      const out = texts.map((t) => { count(t ?? ''); return counts.toSparseUnit(); });
      onProgress?.(texts.length, texts.length);
      return out;
    },
  };
}
