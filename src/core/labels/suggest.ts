/**
 * What to label next: unlabelled texts ranked by uncertainty and diversity.
 *
 * Default ('cluster'): the unlabelled texts are split into n groups of similar texts (spherical k-means on the
 * embeddings, seeded k-means++), and each group gives the text with the highest (1 − margin) × typicality × novelty,
 * where margin = p(top) − p(second) of the current model, typicality = cosine similarity to the group's centre and
 * novelty = cosine distance to the nearest labelled text. So the n picks cover the pool (diversity), are typical of
 * their region (no outliers), are not next to texts already labelled, and are where the model is least sure.
 * Ranks: larger groups first.
 * 'kcentre': the `poolFactor`·n smallest margins, then greedy k-centre (far from the labelled texts and earlier picks),
 * maximising distance × (1 − margin) — it favours outliers, and lost to random selection in `npm run bench -- --active`.
 * Similarity uses the dense blocks of a combo embedding (the sparse n-gram block is left out), each block unit-length.
 */
import { blocksFromEncoderId, type Block } from '../fewshot/features';
import { denseOf, type Row } from '../fewshot/rows';
import { mulberry32, shuffleInPlace } from '../util/rng';

export interface RankedUnlabelled {
  index: number;
  margin: number;
  /**
   * 'kcentre': cosine distance to the nearest labelled text or earlier pick when it was chosen (1 with no labelled
   * text). 'cluster': cosine distance to the centre of its group.
   */
  distance: number;
  rank: number;
  /** 'cluster': texts in its group. */
  groupSize?: number;
}

export interface SuggestOptions {
  method?: 'cluster' | 'kcentre';
  /** kcentre: candidates considered by the diversity pass, as a multiple of n (default 4). */
  poolFactor?: number;
  /** Encoder id of the rows (a combo's blocks: similarity leaves out the sparse ones). */
  encoderId?: string;
  /** cluster: k-means iterations (default 10). */
  iterations?: number;
  /** cluster: also multiply each text's score by its cosine distance to the nearest labelled text (default true). */
  novelty?: boolean;
}

/** p(top) − p(second) per row. */
export function margins(probs: ArrayLike<number>[]): number[] {
  return probs.map((p) => {
    let a = -Infinity, b = -Infinity;
    for (let i = 0; i < p.length; i++) { const v = p[i]; if (v > a) { b = a; a = v; } else if (v > b) b = v; }
    return Number.isFinite(b) ? a - b : 1;
  });
}

function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

/** The dense blocks of a row (each unit-length), as one unit vector; the whole row when no block is dense. */
function simVector(r: Row, blocks: Block[]): Float32Array {
  const v = denseOf(r);
  if (blocks.length < 2) return normalise(Float32Array.from(v));
  const out = new Float32Array(blocks.reduce((s, b) => s + b.end - b.start, 0));
  let off = 0;
  for (const b of blocks) {
    const part = normalise(v.slice(b.start, b.end));
    out.set(part, off);
    off += part.length;
  }
  return normalise(out);
}

/** The blocks similarity uses: the dense blocks of a combo (zeros in under half of the sampled values). */
function denseBlocks(rows: Row[], encoderId: string | undefined): Block[] {
  const d = rows.length ? denseOf(rows[0]).length : 0;
  const blocks = blocksFromEncoderId(encoderId ?? '', d);
  if (blocks.length < 2) return blocks;
  const sample = rows.slice(0, 50).map(denseOf);
  const dense = blocks.filter((b) => {
    let zeros = 0;
    for (const v of sample) for (let i = b.start; i < b.end; i++) if (v[i] === 0) zeros++;
    return zeros < 0.5 * sample.length * (b.end - b.start);
  });
  return dense.length ? dense : blocks;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Ranks unlabelled rows (see the file comment); returns at most n, best first. */
export function rankUnlabelled(probs: ArrayLike<number>[], xUnlabelled: Row[], xLabelled: Row[], n: number, o: SuggestOptions = {}): RankedUnlabelled[] {
  if (probs.length !== xUnlabelled.length) throw new Error('rankUnlabelled: probs and rows lengths differ');
  n = Math.min(n, xUnlabelled.length);
  if (n <= 0) return [];
  const blocks = denseBlocks([...xUnlabelled, ...xLabelled], o.encoderId);
  const m = margins(probs);
  if ((o.method ?? 'cluster') === 'kcentre') return byKCentre(m, xUnlabelled, xLabelled, n, blocks, o.poolFactor ?? 4);
  const emb = xUnlabelled.map((r) => simVector(r, blocks));
  let novelty: ((i: number) => number) | undefined;
  if ((o.novelty ?? true) && xLabelled.length) {
    const lab = xLabelled.map((r) => simVector(r, blocks));
    novelty = (i) => { let s = -1; for (const l of lab) s = Math.max(s, dot(emb[i], l)); return Math.max(1e-6, 1 - s); };
  }
  return byCluster(m, emb, n, o.iterations ?? 10, novelty, xLabelled.length);
}

/** Above this many unlabelled × labelled pairs, novelty is computed for each group's best candidates only. */
const NOVELTY_MAX_PAIRS = 4_000_000;
const NOVELTY_CANDIDATES = 32;

/** Above this many unlabelled texts, the groups are fitted on a seeded random sample and every text is then assigned. */
const KMEANS_MAX_ROWS = 2000;

/** Spherical k-means (seeded k-means++) of unit rows into n groups: centres, each row's group and its similarity to it. */
function kmeans(emb: Float32Array[], n: number, iterations: number): { centres: Float32Array[]; assign: Int32Array; sim: Float64Array } {
  const u = emb.length;
  const rand = mulberry32(0x5eed + n);
  const centres: Float32Array[] = [Float32Array.from(emb[Math.floor(rand() * u)])];
  const best = new Float64Array(u).fill(Infinity);
  while (centres.length < n) {
    const c = centres[centres.length - 1];
    let total = 0;
    for (let i = 0; i < u; i++) { const d = Math.max(0, 1 - dot(emb[i], c)); if (d < best[i]) best[i] = d; total += best[i] * best[i]; }
    let t = rand() * total, next = u - 1;
    for (let i = 0; i < u; i++) { t -= best[i] * best[i]; if (t <= 0 && best[i] > 0) { next = i; break; } }
    centres.push(Float32Array.from(emb[next]));
  }
  const assign = new Int32Array(u).fill(-1);
  const sim = new Float64Array(u);
  for (let it = 0; it < iterations; it++) {
    if (!assignRows(emb, centres, assign, sim)) break;
    for (let c = 0; c < n; c++) {
      const v = new Float32Array(emb[0].length);
      let count = 0;
      for (let i = 0; i < u; i++) if (assign[i] === c) { count++; const e = emb[i]; for (let j = 0; j < v.length; j++) v[j] += e[j]; }
      if (count) centres[c] = normalise(v);
    }
  }
  return { centres, assign, sim };
}

/** Each row's nearest centre (in place); whether any row changed group. */
function assignRows(emb: Float32Array[], centres: Float32Array[], assign: Int32Array, sim: Float64Array): boolean {
  let changed = false;
  for (let i = 0; i < emb.length; i++) {
    let bc = 0, bs = -Infinity;
    for (let c = 0; c < centres.length; c++) { const s = dot(emb[i], centres[c]); if (s > bs) { bs = s; bc = c; } }
    sim[i] = bs;
    if (assign[i] !== bc) { assign[i] = bc; changed = true; }
  }
  return changed;
}

function byCluster(m: number[], emb: Float32Array[], n: number, iterations: number, novelty?: (i: number) => number, nLabelled = 0): RankedUnlabelled[] {
  const u = emb.length;
  const big = u > KMEANS_MAX_ROWS;
  const fitted = kmeans(big ? shuffleInPlace(emb.map((_, i) => i), mulberry32(u)).slice(0, KMEANS_MAX_ROWS).map((i) => emb[i]) : emb, n, iterations);
  let { assign, sim } = fitted;
  if (big) {
    assign = new Int32Array(u).fill(-1);
    sim = new Float64Array(u);
    assignRows(emb, fitted.centres, assign, sim);
  }
  const picks: { index: number; size: number }[] = [];
  const base = (i: number) => (1 - m[i] + 1e-6) * Math.max(0, sim[i]);
  for (let c = 0; c < n; c++) {
    let members: number[] = [];
    for (let i = 0; i < u; i++) if (assign[i] === c) members.push(i);
    if (!members.length) continue;
    if (novelty && u * nLabelled > NOVELTY_MAX_PAIRS) members = members.sort((a, b) => base(b) - base(a) || a - b).slice(0, NOVELTY_CANDIDATES);
    let pick = -1, score = -Infinity;
    for (const i of members) {
      const s = base(i) * (novelty ? novelty(i) : 1);
      if (s > score) { score = s; pick = i; }
    }
    picks.push({ index: pick, size: assign.reduce((k, a) => k + (a === c ? 1 : 0), 0) });
  }
  picks.sort((a, b) => b.size - a.size || m[a.index] - m[b.index] || a.index - b.index);
  return picks.map((p, rank) => ({ index: p.index, margin: m[p.index], distance: Math.max(0, 1 - sim[p.index]), rank, groupSize: p.size }));
}

function byKCentre(m: number[], xUnlabelled: Row[], xLabelled: Row[], n: number, blocks: Block[], poolFactor: number): RankedUnlabelled[] {
  const order = m.map((v, i) => i).sort((a, b) => m[a] - m[b] || a - b);
  const pool = order.slice(0, Math.min(order.length, Math.max(n, Math.ceil(n * poolFactor))));
  const emb = new Map(pool.map((i) => [i, simVector(xUnlabelled[i], blocks)] as const));
  const labelled = xLabelled.map((r) => simVector(r, blocks));
  const dist = (a: Float32Array, b: Float32Array) => Math.max(0, 1 - dot(a, b));
  // distance of each pool row to its nearest labelled row
  const near = new Map(pool.map((i) => [i, labelled.length ? Math.min(...labelled.map((l) => dist(emb.get(i)!, l))) : 1] as const));
  const out: RankedUnlabelled[] = [];
  const left = new Set(pool);
  while (out.length < n && left.size) {
    let best = -1, bestScore = -Infinity;
    for (const i of left) {
      const s = near.get(i)! * (1 - m[i] + 1e-6);
      if (s > bestScore + 1e-12 || (Math.abs(s - bestScore) <= 1e-12 && i < best)) { best = i; bestScore = s; }
    }
    out.push({ index: best, margin: m[best], distance: near.get(best)!, rank: out.length });
    left.delete(best);
    const e = emb.get(best)!;
    for (const i of left) near.set(i, Math.min(near.get(i)!, dist(emb.get(i)!, e)));
  }
  return out;
}
