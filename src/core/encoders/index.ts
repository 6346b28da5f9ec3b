/**
 * Encoders: text → L2-normalised vectors.
 *   'hashing' | 'hashing:<dim>'   char/word n-gram hashing, any language, no download
 *   resolved ids (EncoderInfo.id) are accepted too: see ./spec.ts
 *   'use'                         Universal Sentence Encoder lite (English, 512-d, offline)
 *   'minilm'                      all-MiniLM-L6-v2, int8 ONNX bundled in models/ (English, 384-d)
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
import { parseEncoderSpec, type EncoderSpec } from './spec';
import { bundledModel, bundledModelAvailable, bundledModelFolder } from './bundled';

export type { Encoder, EncoderOptions, HfOptions, EncoderInfo } from './types';
export { DEFAULT_MAX_CHARS } from './types';
export { withEmbeddingCache, cacheFolderFor, type CachedEncoder } from './cache';
export { createHashingEncoder, DEFAULT_HASHING_DIM, type HashingOptions } from './hashing';
export { createComboEncoder } from './combo';
export { checkModelFolder, hfModelAvailable, hubCacheFolder, HF_REQUIRED_FILES } from './hf';
export { l2normalize, truncate } from './util';
export { BUNDLED_MODELS, bundledModel, bundledModelAvailable, bundledModelFolder, findModelsDir, type BundledModel } from './bundled';
export { parseEncoderSpec, encoderSpecProblem, shortSpecFromId, USE_ID, USE_DIM, type EncoderSpec } from './spec';

/**
 * What 'auto' picks for English when no HF model is configured: USE-lite + the bundled MiniLM + n-gram
 * hashing (K = 8, 5 seeds, against USE-lite + hashing: fortunes 0.595 → 0.629, SpamAssassin 0.869 → 0.894,
 * Austen 0.471 → 0.688, ATC 0.278 → 0.270; README "Benchmarks"), or USE-lite + hashing when the bundled
 * model's folder is missing.
 */
const AUTO_EN_SPEC = 'combo:use+minilm+hashing';
const AUTO_EN_FALLBACK_SPEC = 'combo:use+hashing';
const AUTO_OTHER_SPEC = 'chargram';

async function build(parsed: EncoderSpec, spec: string, opts: EncoderOptions): Promise<Encoder> {
  const maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
  switch (parsed.kind) {
    case 'hashing': {
      const p = parsed.params;
      try {
        return createHashingEncoder({ ...p, dim: p.dim ?? opts.hashingDim ?? DEFAULT_HASHING_DIM, maxChars });
      } catch (e) {
        throw new FewShotError(`Bad encoder "${spec}": ${(e as Error).message}`, { code: 'bad-encoder', fix: 'Use "hashing" or "hashing:<power of two>", e.g. "hashing:16384".' });
      }
    }
    case 'chargram': {
      const { createCharGramEncoder, CHARGRAM_MAX_CHARS } = await import('../fewshot/chargram');
      // n-grams are cheap: read long texts whole unless the user set a limit
      return createCharGramEncoder({ ...parsed.params, maxChars: opts.maxChars ?? CHARGRAM_MAX_CHARS });
    }
    case 'use': {
      const { createUseEncoder } = await import('./use');
      const use = createUseEncoder({ maxChars, beforeLoad: opts.beforeTfjsLoad });
      if (opts.eager) await use.preload();
      return use;
    }
    case 'bundled': {
      const m = bundledModel(parsed.spec)!;
      const { createHfEncoder } = await import('./hf');
      return createHfEncoder(bundledModelFolder(m), { hf: { ...opts.hf, dtype: m.dtype }, maxChars, log: opts.log, eager: opts.eager, id: m.id });
    }
    case 'hf': {
      const { createHfEncoder } = await import('./hf');
      const hf = parsed.dtype ? { ...opts.hf, dtype: parsed.dtype } : opts.hf;
      return createHfEncoder(parsed.ref, { hf, maxChars, log: opts.log, eager: opts.eager });
    }
    case 'combo': {
      const built: { encoder: Encoder; weight: number }[] = [];
      for (const p of parsed.parts) built.push({ encoder: await build(p.spec, spec, opts), weight: p.weight });
      return createComboEncoder(built);
    }
    case 'auto':
      throw new FewShotError(`Bad encoder "${spec}": "auto" cannot be nested`, { code: 'bad-encoder', fix: 'Use one of: auto, hashing, use, hf:<model id or folder>, combo:<a>+<b>.' });
  }
}

/** Sentence-embedding models that 'auto' uses when they are already in the HF cache folder, best first. */
const AUTO_HF_MODELS: Record<'en' | 'zh' | 'other', string[]> = {
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
    const minilm = bundledModel('minilm')!;
    if (bundledModelAvailable(minilm)) {
      return {
        spec: AUTO_EN_SPEC,
        reason: 'auto: English dataset, no Hugging Face model configured → USE-lite + the bundled all-MiniLM-L6-v2 + character n-gram hashing (beat USE-lite + n-grams on the English development corpora)',
      };
    }
    return {
      spec: AUTO_EN_FALLBACK_SPEC,
      reason: 'auto: English dataset, no Hugging Face model configured and the bundled MiniLM is missing → USE-lite + character n-gram hashing',
    };
  }
  return {
    spec: AUTO_OTHER_SPEC,
    reason: `auto: ${lang === 'zh' ? 'Chinese' : 'non-English'} dataset, no Hugging Face model configured → character 1–2-gram hashing with punctuation (chargram, 2^16 dims; USE-lite is English-only)`,
  };
}

/**
 * Creates an encoder from a spec or from a resolved encoder id (EncoderInfo.id, e.g.
 * 'combo:use-lite-en-512+hashing-v1-char1-4-cjk3-word2x1-16384'), so a saved model recreates its encoder.
 * Lazy: USE-lite and Hugging Face models load on the first embed() that has texts (behind
 * withEmbeddingCache: only on a cache miss); `info.dim` is known without loading them.
 */
export async function createEncoder(spec: string, opts: EncoderOptions = {}): Promise<{ encoder: Encoder; info: EncoderInfo }> {
  const requested = spec || 'auto';
  let resolved = requested;
  let reason = `as requested (${requested})`;
  if (parseEncoderSpec(requested).kind === 'auto') ({ spec: resolved, reason } = resolveAuto(opts));
  if (requested === 'auto' && resolved.startsWith('hf:')) {
    try {
      const encoder = await build(parseEncoderSpec(resolved), resolved, opts);
      opts.log?.(`encoder: ${encoder.id} (${encoder.dim}-d) — ${reason}`);
      return { encoder, info: { id: encoder.id, requested, dim: encoder.dim, reason } };
    } catch (e) {
      const fb = resolveAuto({ ...opts, hf: { ...opts.hf, localModelPath: undefined, cacheDir: undefined } });
      opts.log?.(`auto: could not load ${resolved} (${(e as Error).message}); falling back to ${fb.spec}`);
      resolved = fb.spec;
      reason = `${fb.reason} (the configured Hugging Face model failed to load: ${(e as Error).message})`;
    }
  }
  const encoder = await build(parseEncoderSpec(resolved), resolved, opts);
  opts.log?.(`encoder: ${encoder.id} (${encoder.dim}-d) — ${reason}`);
  return { encoder, info: { id: encoder.id, requested, dim: encoder.dim, reason } };
}
