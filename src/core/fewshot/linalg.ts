/**
 * Small dense linear algebra for few-shot fitting (n ≲ a few thousand rows).
 * The O(n²)–O(n³) loops are step generators (`yield` after each row) so that callers can run them
 * cooperatively (util/async `drive`: yield to the event loop, honour cancel) or at once (`runSync`).
 */
import { runSync } from '../util/async';

/**
 * Cholesky factor L (lower triangular, row-major n × n) of K + jitter·I.
 * The jitter is relative to the mean diagonal and grows until the factorisation succeeds
 * (duplicate training texts make K singular).
 */
export function cholesky(K: Float64Array, n: number, jitter = 1e-8): Float64Array {
  return runSync(choleskySteps(K, n, jitter));
}

export function* choleskySteps(K: Float64Array, n: number, jitter = 1e-8): Generator<void, Float64Array> {
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += K[i * n + i];
  meanDiag = meanDiag / Math.max(1, n) || 1;
  for (let eps = jitter; eps < 1; eps *= 10) {
    const L = yield* tryCholesky(K, n, eps * meanDiag);
    if (L) return L;
  }
  throw new Error('cholesky: the Gram matrix is not positive semi-definite');
}

function* tryCholesky(K: Float64Array, n: number, add: number): Generator<void, Float64Array | null> {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = K[i * n + j] + (i === j ? add : 0);
      const io = i * n;
      const jo = j * n;
      for (let p = 0; p < j; p++) s -= L[io + p] * L[jo + p];
      if (i === j) {
        if (!(s > 0)) return null;
        L[io + i] = Math.sqrt(s);
      } else L[io + j] = s / L[jo + j];
    }
    yield;
  }
  return L;
}

/** Solves Lᵀ A = U for A (L lower triangular n × n; U, A n × k), one row per step. */
export function* solveUpperT(L: Float64Array, n: number, U: Float64Array, k: number): Generator<void, Float64Array> {
  const A = new Float64Array(n * k);
  for (let i = n - 1; i >= 0; i--) {
    for (let c = 0; c < k; c++) {
      let s = U[i * k + c];
      for (let p = i + 1; p < n; p++) s -= L[p * n + i] * A[p * k + c];
      A[i * k + c] = s / L[i * n + i];
    }
    yield;
  }
  return A;
}

/** A sparse-or-dense row: the non-zero indices and values of a vector. */
export interface SparseRow { idx: Int32Array; val: Float64Array }

export function toSparse(v: ArrayLike<number>, from = 0, to = v.length): SparseRow {
  let nnz = 0;
  for (let i = from; i < to; i++) if (v[i] !== 0) nnz++;
  const idx = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  let p = 0;
  for (let i = from; i < to; i++) if (v[i] !== 0) { idx[p] = i - from; val[p] = v[i]; p++; }
  return { idx, val };
}

/** Gram matrix between rows a (na) and rows b (nb) of one block of dimension d: out[i][j] = aᵢ·bⱼ. */
export function gram(a: SparseRow[], b: SparseRow[], d: number): Float64Array {
  return runSync(gramSteps(a, b, d));
}

/**
 * The same as steps. With b === a only the upper triangle is computed and mirrored: aᵢ·aⱼ sums the products of the
 * dims both rows have in ascending order either way (a product with a zero adds an exact zero, and the sum starts
 * at +0), so the matrix is exactly symmetric.
 */
export function* gramSteps(a: SparseRow[], b: SparseRow[], d: number): Generator<void, Float64Array> {
  const out = new Float64Array(a.length * b.length);
  const dense = new Float64Array(d);
  const symmetric = a === b;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i];
    for (let p = 0; p < ai.idx.length; p++) dense[ai.idx[p]] = ai.val[p];
    if (symmetric) for (let j = 0; j < i; j++) out[i * b.length + j] = out[j * b.length + i];
    for (let j = symmetric ? i : 0; j < b.length; j++) {
      const bj = b[j];
      let s = 0;
      for (let p = 0; p < bj.idx.length; p++) s += dense[bj.idx[p]] * bj.val[p];
      out[i * b.length + j] = s;
    }
    for (let p = 0; p < ai.idx.length; p++) dense[ai.idx[p]] = 0;
    yield;
  }
  return out;
}
