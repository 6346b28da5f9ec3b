/**
 * Encoder specs: parsing and validation without loading anything (no ML imports, no file access).
 * Shared by createEncoder, the settings check (config.ts) and saved models (predict.ts).
 *
 * Accepted forms (requested specs and the resolved ids that encoders report):
 *   auto
 *   hashing | hashing:<dim> | hashing-v1-char<a>-<b>-cjk<c>-word<n>x<w>-<dim>
 *   use | use-lite-en-512
 *   chargram | chargram:<dim> | chargram-v1-wb<a>-<b>-<dim>   (src/core/fewshot/chargram.ts)
 *   minilm | minilm-l6-v2-int8-384                           (bundled models: ./bundled.ts)
 *   hf:<hub id | folder>[@fp32|fp16|q8|int8|uint8|q4]
 *   combo:<part>+<part>[*weight]…   (parts: any of the above but auto/combo)
 */
import { FewShotError } from '../errors';
import type { HfOptions } from './types';
import { bundledModel } from './bundled';

export const USE_DIM = 512;
export const USE_ID = 'use-lite-en-512';
const HF_DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4'] as const;
type HfDtype = NonNullable<HfOptions['dtype']>;

export interface CharGramOptions { dim?: number; minN?: number; maxN?: number; maxChars?: number }

/**
 * Options from an encoder spec or id: 'chargram', 'chargram:<dim>', or a resolved id
 * 'chargram-v1-wb<min>-<max>-<dim>'. null when the spec is not a chargram spec.
 */
export function chargramSpecOptions(spec: string): CharGramOptions | null {
  if (spec === 'chargram') return {};
  let m = /^chargram:(\d+)$/.exec(spec);
  if (m) return { dim: Number(m[1]) };
  m = /^chargram-v1-wb(\d+)-(\d+)-(\d+)$/.exec(spec);
  if (m) return { minN: Number(m[1]), maxN: Number(m[2]), dim: Number(m[3]) };
  return null;
}

interface HashingParams { dim?: number; minN?: number; maxN?: number; cjkMaxN?: number; wordN?: number; wordWeight?: number }

export type EncoderSpec =
  | { kind: 'auto' }
  | { kind: 'hashing'; params: HashingParams }
  | { kind: 'use' }
  | { kind: 'chargram'; params: CharGramOptions }
  | { kind: 'hf'; ref: string; dtype?: HfDtype }
  | { kind: 'bundled'; spec: string }
  | { kind: 'combo'; parts: { spec: EncoderSpec; weight: number }[] };

const FIX_GENERAL = 'Use one of: auto, hashing, chargram, use, minilm, hf:<model id or folder>, combo:<a>+<b>.';
const FIX_COMBO = 'Write two or more encoders joined by "+", each with an optional "*weight", e.g. "combo:use+hashing*0.8".';
const FIX_HASHING = 'Use "hashing" or "hashing:<power of two>", e.g. "hashing:16384".';

const HASHING_ID = /^hashing-v1-char(\d+)-(\d+)-cjk(\d+)-word(\d+)x([0-9.]+)-(\d+)$/;

function bad(spec: string, why: string, fix: string): never {
  throw new FewShotError(`Bad encoder "${spec}": ${why}`, { code: 'bad-encoder', fix });
}

/** Throws a RangeError when a feature-hashing dimension (hashing, chargram) is not a power of two in 2^10..2^18. */
export function checkHashingDim(dim: number, encoder: 'hashing' | 'chargram' = 'hashing'): void {
  if (!Number.isInteger(dim) || !Number.isInteger(Math.log2(dim)) || dim < 1 << 10 || dim > 1 << 18) {
    throw new RangeError(`${encoder} dim must be a power of two between 1024 and 262144, got ${dim}`);
  }
}

/** Parses a spec or resolved encoder id. Throws FewShotError (code 'bad-encoder', with a fix). Loads nothing. */
export function parseEncoderSpec(spec: string): EncoderSpec {
  const s = (spec ?? '').trim();
  if (s === '' || s === 'auto') return { kind: 'auto' };
  if (s === 'hashing' || s.startsWith('hashing:')) {
    const params: HashingParams = {};
    if (s.includes(':')) {
      const raw = s.slice(s.indexOf(':') + 1).trim();
      if (!/^\d+$/.test(raw)) bad(spec, `"${raw}" is not a whole number`, FIX_HASHING);
      params.dim = Number(raw);
    }
    if (params.dim !== undefined) {
      try { checkHashingDim(params.dim); } catch (e) { bad(spec, (e as Error).message, FIX_HASHING); }
    }
    return { kind: 'hashing', params };
  }
  const h = HASHING_ID.exec(s);
  if (h) {
    const [minN, maxN, cjkMaxN, wordN, wordWeight, dim] = h.slice(1).map(Number);
    if (!(minN >= 1 && maxN >= minN && cjkMaxN >= 1 && wordWeight >= 0 && Number.isFinite(wordWeight))) bad(spec, 'inconsistent n-gram settings', FIX_HASHING);
    try { checkHashingDim(dim); } catch (e) { bad(spec, (e as Error).message, FIX_HASHING); }
    return { kind: 'hashing', params: { minN, maxN, cjkMaxN, wordN, wordWeight, dim } };
  }
  const cg = chargramSpecOptions(s);
  if (cg) {
    if (cg.dim !== undefined) {
      try { checkHashingDim(cg.dim, 'chargram'); } catch (e) { bad(spec, (e as Error).message, 'Use "chargram" or "chargram:<power of two>", e.g. "chargram:65536".'); }
    }
    return { kind: 'chargram', params: cg };
  }
  if (s === 'use' || s === USE_ID) return { kind: 'use' };
  const b = bundledModel(s);
  if (b) return { kind: 'bundled', spec: b.spec };
  if (s.startsWith('hf:')) {
    let ref = s.slice(3).trim();
    let dtype: HfDtype | undefined;
    const m = new RegExp(`^(.*)@(${HF_DTYPES.join('|')})$`).exec(ref);
    if (m) { ref = m[1]; dtype = m[2] as HfDtype; }
    if (!ref) bad(spec, 'no model id or folder after "hf:"', 'Write "hf:<hub id>" (e.g. "hf:Xenova/all-MiniLM-L6-v2") or "hf:<model folder>".');
    return { kind: 'hf', ref, dtype };
  }
  if (s.startsWith('combo:')) {
    const parts = s.slice(6).split('+').map((p) => p.trim()).filter(Boolean).map((p) => {
      const m = /^(.*)\*([0-9.]+)$/.exec(p);
      return m ? { text: m[1].trim(), weight: Number(m[2]) } : { text: p, weight: 1 };
    });
    if (parts.length < 2) bad(spec, 'a combo needs at least two encoders', FIX_COMBO);
    const out: { spec: EncoderSpec; weight: number }[] = [];
    for (const p of parts) {
      if (!(p.weight > 0) || !Number.isFinite(p.weight)) bad(spec, `weight of "${p.text}" must be a number above 0`, FIX_COMBO);
      if (p.text.startsWith('combo:') || p.text === 'auto' || p.text === '') bad(spec, `"${p.text || '(empty)'}" cannot be part of a combo`, FIX_COMBO);
      out.push({ spec: parseEncoderSpec(p.text), weight: p.weight });
    }
    return { kind: 'combo', parts: out };
  }
  throw new FewShotError(`Unknown encoder "${spec}"`, { code: 'bad-encoder', fix: FIX_GENERAL });
}

/** Validates a spec without loading anything: null when createEncoder accepts its form, else the problem and fix. */
export function encoderSpecProblem(spec: unknown): { message: string; fix: string } | null {
  if (typeof spec !== 'string') return { message: `encoder "${String(spec)}" is not a known encoder spec`, fix: FIX_GENERAL };
  try {
    parseEncoderSpec(spec);
    return null;
  } catch (e) {
    const err = e as FewShotError;
    return { message: err.message, fix: err.opts?.fix ?? FIX_GENERAL };
  }
}

/**
 * The short spec a user would write for a resolved encoder id:
 *   hashing-v1-…-<dim> → hashing:<dim>;  use-lite-en-512 → use;  hf:<ref>@<dtype> → hf:<ref> (+ dtype);
 *   combo:<a>*w+<b> → combo:<spec a>*w+<spec b>.  Unknown ids come back unchanged.
 * (createEncoder accepts the resolved id itself, which recreates the exact encoder.)
 */
export function shortSpecFromId(id: string): { spec: string; dtype?: HfDtype } {
  let parsed: EncoderSpec;
  try {
    parsed = parseEncoderSpec(id);
  } catch {
    // Ids of other encoder versions: the nearest spec (the caller compares the ids afterwards).
    const legacyHashing = /^hashing-v\d+-.*-(\d+)$/.exec(id);
    if (legacyHashing) return { spec: `hashing:${legacyHashing[1]}` };
    if (/^use(-|$)/.test(id)) return { spec: 'use' };
    return { spec: id };
  }
  const short = (p: EncoderSpec): { spec: string; dtype?: HfDtype } => {
    switch (p.kind) {
      case 'auto': return { spec: 'auto' };
      case 'use': return { spec: 'use' };
      case 'bundled': return { spec: p.spec };
      case 'hashing': return { spec: p.params.dim !== undefined ? `hashing:${p.params.dim}` : 'hashing' };
      case 'chargram': return { spec: p.params.dim !== undefined ? `chargram:${p.params.dim}` : 'chargram' };
      case 'hf': return p.dtype ? { spec: `hf:${p.ref}`, dtype: p.dtype } : { spec: `hf:${p.ref}` };
      case 'combo': {
        // (combo parts that are not valid ids made the whole parse fail above)
        let dtype: HfDtype | undefined;
        const parts = p.parts.map((q) => {
          const sub = short(q.spec);
          dtype = dtype ?? sub.dtype;
          return sub.spec + (q.weight === 1 ? '' : `*${q.weight}`);
        });
        return { spec: 'combo:' + parts.join('+'), dtype };
      }
    }
  };
  return short(parsed);
}
