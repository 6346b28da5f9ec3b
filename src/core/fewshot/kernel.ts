/**
 * L2-regularised softmax regression fitted through the Gram matrix of the training rows.
 *
 * With n ≪ d (few-shot: n = K·classes rows, d = 16k hashing dims) the optimum W lies in the
 * span of the training rows (representer theorem): W = Xᵀ·A. Factor K = X·Xᵀ = L·Lᵀ (Cholesky);
 * then fitting ordinary softmax regression on the n-dimensional features F = L gives U with
 * ‖U‖ = ‖W‖ and F·U = X·W, so the problem is solved exactly, at O(n²k) per iteration instead
 * of O(n·d·k), and A = L⁻ᵀ·U.
 */
import { runSync } from '../util/async';
import { choleskySteps, solveUpperT } from './linalg';
import { fitLogRegSteps, type LogRegFit } from './logreg';

export interface KernelFit {
  /** n × k dual coefficients: W = Σᵢ xᵢ ⊗ Aᵢ. */
  A: Float64Array;
  b: Float64Array;
  fit: LogRegFit;
}

export interface KernelFitOptions {
  C: number;
  sampleWeights?: ArrayLike<number>;
  maxIter?: number;
  tol?: number;
  /** After each accepted L-BFGS iteration: objective and mean training log-loss. */
  onIter?(it: number, objective: number, dataLoss: number): void;
}

export function fitKernelLogReg(K: Float64Array, n: number, y: ArrayLike<number>, k: number, o: KernelFitOptions): KernelFit {
  return runSync(fitKernelLogRegSteps(K, n, y, k, o));
}

/** The same as steps (Cholesky rows, L-BFGS evaluations, back-substitution rows), for util/async `drive`. */
export function* fitKernelLogRegSteps(K: Float64Array, n: number, y: ArrayLike<number>, k: number, o: KernelFitOptions): Generator<void, KernelFit> {
  const L = yield* choleskySteps(K, n);
  const fit = yield* fitLogRegSteps(L, n, n, y, k, { lowerTriangular: true, C: o.C, sampleWeights: o.sampleWeights, maxIter: o.maxIter ?? 1000, tol: o.tol ?? 1e-6, onIter: o.onIter });
  const A = yield* solveUpperT(L, n, fit.W, k);
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
