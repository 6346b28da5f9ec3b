/**
 * Seeded text augmentation for few-shot training: synonym replacement (English: WordNet 3.1,
 * Chinese: a small built-in synonym list), with random deletion/swap as a fallback when a text
 * has no replaceable word. Only ever apply it to training texts.
 */
import { englishSynonyms } from './wordnet';
import { findChineseSynonymSpans, chineseSynonyms } from './zh';
import { mulberry32, shuffleInPlace } from '../util/rng';

export { englishSynonyms } from './wordnet';
export { chineseSynonyms } from './zh';
export { splitPassages, classNameText, PASSAGE_MIN_CHARS, PASSAGE_MAX_PARTS, PASSAGE_MAX_TRAIN_TEXTS, EXTRA_ROW_WEIGHT } from './passages';

function rng(seed: number): () => number {
  return mulberry32((seed >>> 0) ^ 0x5bd1e995);
}

const STOP = new Set(('a an the and or but if then else of to in on at by for with from as is are was were be been being am do does did have has had '
  + 'i you he she it we they me him her us them my your his its our their this that these those not no yes so very can will would shall should '
  + 'may might must there here what which who whom whose when where why how all any some each every more most other such only own same than too just').split(' '));

const WORD_RE = /[A-Za-z][A-Za-z'-]*/g;

function matchCase(src: string, rep: string): string {
  if (src.length > 1 && src === src.toUpperCase()) return rep.toUpperCase();
  if (src[0] === src[0].toUpperCase()) return rep[0].toUpperCase() + rep.slice(1);
  return rep;
}

/** Replace ~`rate` of the replaceable words; random deletion/swap when nothing is replaceable. */
function variantEn(text: string, r: () => number, rate: number): string {
  const spans: { start: number; end: number; word: string; syn: string[] }[] = [];
  for (const m of text.matchAll(WORD_RE)) {
    const w = m[0];
    if (w.length < 3 || STOP.has(w.toLowerCase())) continue;
    const syn = englishSynonyms(w);
    if (syn.length) spans.push({ start: m.index!, end: m.index! + w.length, word: w, syn });
  }
  if (!spans.length) return variantTokens(text, r);
  const k = Math.max(1, Math.round(spans.length * rate));
  const chosen = pick(spans.length, k, r).sort((a, b) => b - a);
  let out = text;
  for (const i of chosen) {
    const s = spans[i];
    out = out.slice(0, s.start) + matchCase(s.word, s.syn[Math.floor(r() * s.syn.length)]) + out.slice(s.end);
  }
  return out;
}

function variantZh(text: string, r: () => number, rate: number): string {
  const spans = findChineseSynonymSpans(text);
  if (!spans.length) return deleteChars(text, r);
  const k = Math.max(1, Math.round(spans.length * Math.max(rate, 0.3)));
  let out = text;
  for (const i of pick(spans.length, k, r).sort((a, b) => b - a)) {
    const s = spans[i];
    const syn = chineseSynonyms(s.word);
    out = out.slice(0, s.start) + syn[Math.floor(r() * syn.length)] + out.slice(s.end);
  }
  return out;
}

/** Deletes ~5% of the characters (at least one; texts under 4 characters are kept). */
function deleteChars(text: string, r: () => number): string {
  const chars = Array.from(text);
  if (chars.length < 4) return text;
  const del = new Set(pick(chars.length, Math.max(1, Math.round(chars.length * 0.05)), r));
  return chars.filter((_, i) => !del.has(i)).join('');
}

/** Whitespace-token random deletion (p≈0.1) or one swap. */
function variantTokens(text: string, r: () => number): string {
  const toks = text.split(/(\s+)/).filter((t) => t.length);
  const words = toks.map((t, i) => ({ t, i })).filter((x) => /\S/.test(x.t));
  if (words.length < 2) return text;
  if (r() < 0.5) {
    const a = Math.floor(r() * words.length);
    let b = Math.floor(r() * (words.length - 1));
    if (b >= a) b++;
    [toks[words[a].i], toks[words[b].i]] = [toks[words[b].i], toks[words[a].i]];
    return toks.join('');
  }
  const drop = new Set(pick(words.length, Math.max(1, Math.round(words.length * 0.1)), r).map((j) => words[j].i));
  return toks.filter((_, i) => !drop.has(i)).join('').trim();
}

function pick(n: number, k: number, r: () => number): number[] {
  return shuffleInPlace(Array.from({ length: n }, (_, i) => i), r).slice(0, Math.min(n, k));
}

function isChinese(language: string | undefined, text: string): boolean {
  if (language === 'zh') return true;
  if (language === 'en') return false;
  const han = (text.match(/\p{Script=Han}/gu) ?? []).length;
  return han > text.length * 0.2;
}

interface AugmentOptions { language?: string; seed?: number; rate?: number }

/**
 * Up to `n` distinct variants per text (fewer when a text allows no distinct variant).
 * Seeded: the same texts, n, seed and language give the same variants.
 */
export async function augmentTexts(texts: string[], n: number, opts: AugmentOptions = {}): Promise<string[][]> {
  const rate = opts.rate ?? 0.15;
  const out: string[][] = [];
  for (let t = 0; t < texts.length; t++) {
    const text = texts[t];
    // one stream per text, so a text's variants do not depend on the other texts
    const r = rng(((opts.seed ?? 0) * 1000003 + t * 7919 + 17) >>> 0);
    const zh = isChinese(opts.language, text);
    const en = !zh && (opts.language === 'en' || opts.language === undefined || /^[\x00-\x7f]*$/.test(text.slice(0, 200)));
    const seen = new Set([text]);
    const vs: string[] = [];
    for (let tries = 0; vs.length < n && tries < n * 5; tries++) {
      // after n failed tries to find a new synonym variant, fall back to deletion/swap
      const v = tries >= n + 2 ? (zh ? deleteChars(text, r) : variantTokens(text, r))
        : zh ? variantZh(text, r, rate) : en ? variantEn(text, r, rate) : variantTokens(text, r);
      if (v.trim() && !seen.has(v)) { seen.add(v); vs.push(v); }
    }
    out.push(vs);
    if (t % 64 === 63) await new Promise((res) => setImmediate(res));
  }
  return out;
}

/** Extra (text, label) pairs: `n` variants per input text; `source[i]` is the index of the original. */
export async function augment(texts: string[], labels: string[], n: number, seed: number, language: string): Promise<{ texts: string[]; labels: string[]; source: number[] }> {
  const vs = await augmentTexts(texts, n, { seed, language });
  const res = { texts: [] as string[], labels: [] as string[], source: [] as number[] };
  vs.forEach((list, i) => list.forEach((v) => { res.texts.push(v); res.labels.push(labels[i]); res.source.push(i); }));
  return res;
}
