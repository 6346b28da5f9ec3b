/**
 * L2-regularised softmax regression fitted through the Gram matrix of the training rows.
 *
 * With n ≪ d (few-shot: n = K·classes rows, d = 16k hashing dims) the optimum W lies in the
 * span of the training rows (representer theorem): W = Xᵀ·A. Factor K = X·Xᵀ = L·Lᵀ (Cholesky);
 * then fitting ordinary softmax regression on the n-dimensional features F = L gives U with
 * ‖U‖ = ‖W‖ and F·U = X·W, so the problem is solved exactly, at O(n²k) per iteration instead
 * of O(n·d·k), and A = L⁻ᵀ·U. Cross-validation only needs sub-matrices of K.
 */
import { cholesky, solveUpperT } from './linalg';
import { fitLogReg, type LogRegFit } from './logreg';

/** Lazy views of an L-BFGS iterate. */
export interface IterateView { trainLogits(): Float64Array; coef(): { A: Float64Array; b: Float64Array } }

export interface KernelFit {
  /** n × k dual coefficients: W = Σᵢ xᵢ ⊗ Aᵢ. */
  A: Float64Array;
  b: Float64Array;
  fit: LogRegFit;
}

/** Sub-matrix K[rows][cols] of a square n × n matrix. */
export function subKernel(K: Float64Array, n: number, rows: number[], cols: number[]): Float64Array {
  const out = new Float64Array(rows.length * cols.length);
  rows.forEach((r, i) => cols.forEach((c, j) => { out[i * cols.length + j] = K[r * n + c]; }));
  return out;
}

export function fitKernelLogReg(
  K: Float64Array, n: number, y: ArrayLike<number>, k: number,
  o: { C: number; sampleWeights?: ArrayLike<number>; maxIter?: number; tol?: number; onIter?(it: number, objective: number, dataLoss: number, at: IterateView): void },
): KernelFit {
  const L = cholesky(K, n);
  const onIter = o.onIter && ((it: number, f: number, loss: number, U: Float64Array, b: Float64Array) => {
    o.onIter!(it, f, loss, {
      // logits of the training rows at this iterate: L·U + b
      trainLogits: () => {
        const Z = new Float64Array(n * k);
        for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) {
          let z = b[c];
          for (let j = 0; j <= i; j++) z += L[i * n + j] * U[j * k + c];
          Z[i * k + c] = z;
        }
        return Z;
      },
      // dual coefficients of this iterate (for logits of other rows via kernelLogits)
      coef: () => ({ A: solveUpperT(L, n, U, k), b: Float64Array.from(b) }),
    });
  });
  const fit = fitLogReg(L, n, n, y, k, { C: o.C, sampleWeights: o.sampleWeights, maxIter: o.maxIter ?? 1000, tol: o.tol ?? 1e-6, onIter });
  const A = solveUpperT(L, n, fit.W, k);
  return { A, b: fit.b, fit };
}

/** Logits (m × k) of new rows from their kernel against the training rows (m × n). */
export function kernelLogits(Kx: Float64Array, m: number, n: number, A: Float64Array, b: Float64Array, k: number): Float64Array {
  const Z = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < k; c++) Z[i * k + c] = b[c];
    for (let j = 0; j < n; j++) {
      const kv = Kx[i * n + j];
      if (kv === 0) continue;
      for (let c = 0; c < k; c++) Z[i * k + c] += kv * A[j * k + c];
    }
  }
  return Z;
}

export function softmaxRows(Z: Float64Array, m: number, k: number): Float64Array {
  const P = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    let mx = -Infinity;
    for (let c = 0; c < k; c++) mx = Math.max(mx, Z[i * k + c]);
    let s = 0;
    for (let c = 0; c < k; c++) { P[i * k + c] = Math.exp(Z[i * k + c] - mx); s += P[i * k + c]; }
    for (let c = 0; c < k; c++) P[i * k + c] /= s;
  }
  return P;
}
