/**
 * Encoders: text → L2-normalised vectors.
 *   'hashing' | 'hashing:<dim>'   char/word n-gram hashing, any language, no download
 *   'use'                         Universal Sentence Encoder lite (English, 512-d, offline)
 *   'hf:<hub id | folder>'        transformers.js model: mean pooling + L2
 *   'combo:<a>+<b>[*w]'           concatenation, per-part L2 and weights, e.g. 'combo:use+hashing*0.8'
 *   'auto'                        HF model if one is configured/cached, else by language
 */
import { FewShotError } from '../errors';
import type { EncoderInfo } from '../../protocol/run';
import type { Encoder, EncoderOptions } from './types';
import { DEFAULT_MAX_CHARS } from './types';
import { createHashingEncoder, DEFAULT_HASHING_DIM } from './hashing';
import { createComboEncoder } from './combo';
import { hfModelAvailable } from './hf';

export type { Encoder, EncoderOptions, HfOptions, EncoderInfo } from './types';
export { DEFAULT_MAX_CHARS } from './types';
export { withEmbeddingCache, cacheFolderFor, type CachedEncoder } from './cache';
export { createHashingEncoder, DEFAULT_HASHING_DIM, type HashingOptions } from './hashing';
export { createComboEncoder } from './combo';
export { checkModelFolder, hfModelAvailable, hubCacheFolder, HF_REQUIRED_FILES } from './hf';
export { l2normalize, truncate } from './util';

/** What 'auto' picks for English when no HF model is available (see docs in the report / measure script). */
export const AUTO_EN_SPEC = 'combo:use+hashing';
export const AUTO_OTHER_SPEC = 'hashing';

/** Splits 'a+b*0.5' at top-level '+' (hf ids never contain '+'). */
function parseCombo(body: string): { spec: string; weight: number }[] {
  return body.split('+').filter(Boolean).map((p) => {
    const m = /^(.*)\*([0-9.]+)$/.exec(p.trim());
    return m ? { spec: m[1], weight: Number(m[2]) } : { spec: p.trim(), weight: 1 };
  });
}

async function build(spec: string, opts: EncoderOptions): Promise<Encoder> {
  const maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
  const s = spec.trim();
  if (s === 'hashing' || s.startsWith('hashing:')) {
    const dim = s.includes(':') ? Number(s.slice(s.indexOf(':') + 1)) : (opts.hashingDim ?? DEFAULT_HASHING_DIM);
    try {
      return createHashingEncoder({ dim, maxChars });
    } catch (e) {
      throw new FewShotError(`Bad encoder "${spec}": ${(e as Error).message}`, { code: 'bad-encoder', fix: 'Use "hashing" or "hashing:<power of two>", e.g. "hashing:16384".' });
    }
  }
  if (s === 'use') {
    const { createUseEncoder } = await import('./use');
    return createUseEncoder({ maxChars });
  }
  if (s.startsWith('hf:')) {
    const { createHfEncoder } = await import('./hf');
    return createHfEncoder(s.slice(3), { hf: opts.hf, maxChars, log: opts.log });
  }
  if (s.startsWith('combo:')) {
    const parts = parseCombo(s.slice(6));
    if (parts.length < 2 || parts.some((p) => !(p.weight > 0) || p.spec.startsWith('combo:'))) {
      throw new FewShotError(`Bad encoder "${spec}"`, { code: 'bad-encoder', fix: 'Write two or more encoders joined by "+", each with an optional "*weight", e.g. "combo:use+hashing*0.8".' });
    }
    const built: { encoder: Encoder; weight: number }[] = [];
    for (const p of parts) built.push({ encoder: await build(p.spec, opts), weight: p.weight });
    return createComboEncoder(built);
  }
  throw new FewShotError(`Unknown encoder "${spec}"`, { code: 'bad-encoder', fix: 'Use one of: auto, hashing, use, hf:<model id or folder>, combo:<a>+<b>.' });
}

/** Sentence-embedding models that 'auto' uses when they are already in the HF cache folder, best first. */
export const AUTO_HF_MODELS: Record<'en' | 'zh' | 'other', string[]> = {
  en: ['Xenova/all-mpnet-base-v2', 'Xenova/bge-small-en-v1.5', 'Xenova/all-MiniLM-L6-v2', 'Xenova/paraphrase-multilingual-MiniLM-L12-v2'],
  zh: ['Xenova/bge-small-zh-v1.5', 'Xenova/paraphrase-multilingual-MiniLM-L12-v2'],
  other: ['Xenova/paraphrase-multilingual-MiniLM-L12-v2'],
};

/** Decides what 'auto' means for these options. */
export function resolveAuto(opts: EncoderOptions = {}): { spec: string; reason: string } {
  const hf = opts.hf ?? {};
  if (hf.localModelPath && hfModelAvailable(hf.localModelPath, hf)) {
    return { spec: `hf:${hf.localModelPath}`, reason: `auto: a local Hugging Face model is configured (${hf.localModelPath}) → hf` };
  }
  const lang = opts.language ?? 'en';
  const key = lang === 'en' || lang === 'zh' ? lang : 'other';
  if (hf.cacheDir) {
    const cached = AUTO_HF_MODELS[key].find((id) => hfModelAvailable(id, hf));
    if (cached) return { spec: `hf:${cached}`, reason: `auto: the Hugging Face model ${cached} is in the local cache (${hf.cacheDir}) → hf` };
  }
  if (lang === 'en') {
    return {
      spec: AUTO_EN_SPEC,
      reason: 'auto: English dataset, no Hugging Face model configured → USE-lite + character n-gram hashing (combo beat either alone in few-shot tests)',
    };
  }
  return {
    spec: AUTO_OTHER_SPEC,
    reason: `auto: ${lang === 'zh' ? 'Chinese' : 'non-English'} dataset, no Hugging Face model configured → character n-gram hashing (USE-lite is English-only)`,
  };
}

export async function createEncoder(spec: string, opts: EncoderOptions = {}): Promise<{ encoder: Encoder; info: EncoderInfo }> {
  const requested = spec || 'auto';
  let resolved = requested;
  let reason = `as requested (${requested})`;
  if (requested === 'auto') ({ spec: resolved, reason } = resolveAuto(opts));
  if (requested === 'auto' && resolved.startsWith('hf:')) {
    try {
      const encoder = await build(resolved, opts);
      return { encoder, info: { id: encoder.id, requested, dim: encoder.dim, reason } };
    } catch (e) {
      const fb = resolveAuto({ ...opts, hf: { ...opts.hf, localModelPath: undefined } });
      opts.log?.(`auto: could not load ${resolved} (${(e as Error).message}); falling back to ${fb.spec}`);
      resolved = fb.spec;
      reason = `${fb.reason} (the configured Hugging Face model failed to load: ${(e as Error).message})`;
    }
  }
  const encoder = await build(resolved, opts);
  opts.log?.(`encoder: ${encoder.id} (${encoder.dim}-d) — ${reason}`);
  return { encoder, info: { id: encoder.id, requested, dim: encoder.dim, reason } };
}
