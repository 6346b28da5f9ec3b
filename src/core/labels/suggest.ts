/**
 * What to label next: unlabelled texts ranked by uncertainty (margin p(top) − p(second) of the current model) and
 * diversity (greedy k-centre on the embeddings: each pick is far, in cosine distance, from the labelled texts and
 * from the earlier picks). Pool: the `poolFactor`·n most uncertain texts; the k-centre pass picks n of them,
 * maximising distance × (1 − margin).
 */
import { denseOf, type Row } from '../fewshot/rows';

export interface RankedUnlabelled {
  index: number;
  margin: number;
  /** Cosine distance to the nearest labelled text or earlier pick when it was chosen (1 with no labelled text). */
  distance: number;
  rank: number;
}

export interface SuggestOptions {
  /** Candidates considered by the diversity pass, as a multiple of n (default 4). */
  poolFactor?: number;
}

/** p(top) − p(second) per row. */
export function margins(probs: ArrayLike<number>[]): number[] {
  return probs.map((p) => {
    let a = -Infinity, b = -Infinity;
    for (let i = 0; i < p.length; i++) { const v = p[i]; if (v > a) { b = a; a = v; } else if (v > b) b = v; }
    return Number.isFinite(b) ? a - b : 1;
  });
}

function unit(r: Row): Float32Array {
  const v = denseOf(r);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

function cosDist(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return Math.max(0, 1 - s);
}

/** Ranks unlabelled rows (see the file comment); returns at most n, best first. */
export function rankUnlabelled(probs: ArrayLike<number>[], xUnlabelled: Row[], xLabelled: Row[], n: number, o: SuggestOptions = {}): RankedUnlabelled[] {
  if (probs.length !== xUnlabelled.length) throw new Error('rankUnlabelled: probs and rows lengths differ');
  const m = margins(probs);
  const order = m.map((v, i) => i).sort((a, b) => m[a] - m[b] || a - b);
  const pool = order.slice(0, Math.min(order.length, Math.max(n, Math.ceil(n * (o.poolFactor ?? 4)))));
  const emb = new Map(pool.map((i) => [i, unit(xUnlabelled[i])] as const));
  const labelled = xLabelled.map(unit);
  // distance of each pool row to its nearest labelled row
  const near = new Map(pool.map((i) => [i, labelled.length ? Math.min(...labelled.map((l) => cosDist(emb.get(i)!, l))) : 1] as const));
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
    for (const i of left) near.set(i, Math.min(near.get(i)!, cosDist(emb.get(i)!, e)));
  }
  return out;
}
