/**
 * Feature transforms fitted on the few training rows: per-block IDF weighting (for sparse
 * n-gram hashing blocks), per-block L2 re-normalisation and block weights.
 *
 * A block is a contiguous range of dims produced by one encoder of a combo
 * (e.g. USE-lite 0..511, hashing 512..16895).
 */
import { SparseRow, toSparse } from './linalg';
import { bundledModel } from '../encoders/bundled';

export interface Block { start: number; end: number }

export interface BlockTransform {
  start: number;
  end: number;
  /** Per-dim IDF multipliers (length end − start), or null for none. */
  idf: Float64Array | null;
  /** Weight applied after L2 re-normalisation of the block. */
  weight: number;
  /** Re-normalise the block to unit L2 norm after IDF (before the weight). */
  renorm: boolean;
}

/**
 * Block layout of a vector from an encoder id: 'combo:a+b*w' → one block per part when every
 * part's dim is known from its id (USE-lite: 512, hashing: trailing power of two). Otherwise one block.
 */
export function blocksFromEncoderId(id: string, dim: number): Block[] {
  if (!id.startsWith('combo:')) return [{ start: 0, end: dim }];
  const parts = id.slice(6).split('+').map((p) => p.replace(/\*[0-9.]+$/, ''));
  const dims = parts.map((p) => {
    if (p.startsWith('use-lite-en-512')) return 512;
    const bundled = bundledModel(p);
    if (bundled) return bundled.dim;
    const m = /^(?:hashing|chargram)-.*-(\d+)$/.exec(p);
    return m ? Number(m[1]) : NaN;
  });
  if (dims.some((d) => !Number.isFinite(d)) || dims.reduce((a, b) => a + b, 0) !== dim) return [{ start: 0, end: dim }];
  const out: Block[] = [];
  let off = 0;
  for (const d of dims) { out.push({ start: off, end: off + d }); off += d; }
  return out;
}

/** Share of zero values in a block over the given rows (hashing blocks are > 0.5, dense embeddings ≈ 0). */
export function sparsity(x: Float32Array[], b: Block): number {
  let zeros = 0;
  let total = 0;
  for (const v of x) {
    for (let i = b.start; i < b.end; i++) if (v[i] === 0) zeros++;
    total += b.end - b.start;
  }
  return total ? zeros / total : 0;
}

/** Smoothed IDF over the rows (scikit-learn's smooth_idf): ln((1+n)/(1+df)) + 1; dims never seen get the max. */
export function fitIdf(x: Float32Array[], b: Block): Float64Array {
  const d = b.end - b.start;
  const df = new Float64Array(d);
  for (const v of x) for (let i = 0; i < d; i++) if (v[b.start + i] !== 0) df[i]++;
  const n = x.length;
  const idf = new Float64Array(d);
  for (let i = 0; i < d; i++) idf[i] = Math.log((1 + n) / (1 + df[i])) + 1;
  return idf;
}

/** Applies the block transforms to one vector; returns one sparse row per block. */
export function transformRow(v: Float32Array, t: BlockTransform[]): SparseRow[] {
  return t.map((b) => scaleRow(toSparse(v, b.start, b.end), b));
}

/** Applies one block's IDF, re-normalisation and weight to the block's entries (in place); returns the row. */
export function scaleRow(r: SparseRow, b: BlockTransform): SparseRow {
  if (b.idf) for (let p = 0; p < r.idx.length; p++) r.val[p] *= b.idf[r.idx[p]];
  let scale = b.weight;
  if (b.renorm) {
    let ss = 0;
    for (let p = 0; p < r.val.length; p++) ss += r.val[p] * r.val[p];
    scale = ss > 0 ? b.weight / Math.sqrt(ss) : 0;
  }
  if (scale !== 1) for (let p = 0; p < r.val.length; p++) r.val[p] *= scale;
  return r;
}

/** The transformed vector as a dense Float32Array (same dims as the input). */
export function transformDense(v: Float32Array, t: BlockTransform[]): Float32Array {
  const out = new Float32Array(v.length);
  const rows = transformRow(v, t);
  t.forEach((b, k) => { const r = rows[k]; for (let p = 0; p < r.idx.length; p++) out[b.start + r.idx[p]] = r.val[p]; });
  return out;
}
