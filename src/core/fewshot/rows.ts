/**
 * Input rows of the few-shot head: dense vectors (Float32Array) or the sparse rows of the
 * feature-hashing encoders (SparseVec, `Encoder.embedSparse`), which keep 100,000 texts of 16k–64k
 * dims in memory. The functions here give the same results for both forms of one vector.
 */
import type { SparseVec } from '../encoders/types';
import { fitIdf, scaleRow, sparsity, transformRow, type Block, type BlockTransform } from './features';
import type { SparseRow } from './linalg';

export type Row = Float32Array | SparseVec;

export function isSparse(r: Row): r is SparseVec {
  return !(r instanceof Float32Array);
}

export function rowDim(r: Row): number {
  return isSparse(r) ? r.dim : r.length;
}

/** First position p in the ascending `idx` with idx[p] ≥ v. */
function lowerBound(idx: Int32Array, v: number): number {
  let lo = 0;
  let hi = idx.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (idx[m] < v) lo = m + 1; else hi = m; }
  return lo;
}

/** Share of zero values in a block over the rows (see features.sparsity). */
export function sparsityOf(x: Row[], b: Block): number {
  if (!x.some(isSparse)) return sparsity(x as Float32Array[], b);
  let zeros = 0;
  const width = b.end - b.start;
  for (const v of x) {
    if (!isSparse(v)) { zeros += sparsity([v], b) * width; continue; }
    let nz = 0;
    for (let p = lowerBound(v.idx, b.start); p < v.idx.length && v.idx[p] < b.end; p++) if (v.val[p] !== 0) nz++;
    zeros += width - nz;
  }
  return x.length && width ? zeros / (x.length * width) : 0;
}

/** Smoothed IDF over the rows (see features.fitIdf). */
export function fitIdfOf(x: Row[], b: Block): Float64Array {
  if (!x.some(isSparse)) return fitIdf(x as Float32Array[], b);
  const d = b.end - b.start;
  const df = new Float64Array(d);
  for (const v of x) {
    if (!isSparse(v)) { for (let i = 0; i < d; i++) if (v[b.start + i] !== 0) df[i]++; continue; }
    for (let p = lowerBound(v.idx, b.start); p < v.idx.length && v.idx[p] < b.end; p++) if (v.val[p] !== 0) df[v.idx[p] - b.start]++;
  }
  const n = x.length;
  const idf = new Float64Array(d);
  for (let i = 0; i < d; i++) idf[i] = Math.log((1 + n) / (1 + df[i])) + 1;
  return idf;
}

/** Applies the block transforms to one row; one sparse row per block (see features.transformRow). */
export function transformAny(v: Row, t: BlockTransform[]): SparseRow[] {
  if (!isSparse(v)) return transformRow(v, t);
  return t.map((b) => {
    const from = lowerBound(v.idx, b.start);
    const to = lowerBound(v.idx, b.end);
    let nnz = 0;
    for (let p = from; p < to; p++) if (v.val[p] !== 0) nnz++;
    const idx = new Int32Array(nnz);
    const val = new Float64Array(nnz);
    for (let p = from, q = 0; p < to; p++) if (v.val[p] !== 0) { idx[q] = v.idx[p] - b.start; val[q++] = v.val[p]; }
    return scaleRow({ idx, val }, b);
  });
}

/** Non-zero entries of a row (an upper bound of its transformed entries). */
export function nnzOf(v: Row): number {
  if (isSparse(v)) return v.idx.length;
  let n = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) n++;
  return n;
}

/** The row as a dense vector. */
export function denseOf(v: Row): Float32Array {
  if (!isSparse(v)) return v;
  const out = new Float32Array(v.dim);
  for (let p = 0; p < v.idx.length; p++) out[v.idx[p]] = v.val[p];
  return out;
}
