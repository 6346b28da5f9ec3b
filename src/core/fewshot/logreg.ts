/**
 * Multinomial (softmax) logistic regression with an L2 penalty, fitted by L-BFGS in plain JS.
 * Deterministic (no randomness at all), converges to the unique optimum of the strictly convex
 * objective, and is fast on the small matrices of few-shot training.
 *
 * Objective (scikit-learn's parametrisation, so `C` means the same thing as in
 * `sklearn.linear_model.LogisticRegression(C=…)`):
 *
 *     f(W, b) = ½‖W‖² + C · Σᵢ sᵢ · CE(softmax(W·xᵢ + b), yᵢ)        (b is not penalised)
 *
 * Rows are given as a dense row-major Float64Array (n × d), or as any `Design` (e.g. CSR sparse rows,
 * `csrDesign`). The step generators yield after every ROWS_PER_STEP rows of an objective
 * evaluation, so a caller can run them cooperatively (see util/async `drive`).
 */
import { runSync } from '../util/async';

export interface LogRegOptions {
  C: number;
  /** Per-sample weights sᵢ (default 1). */
  sampleWeights?: ArrayLike<number>;
  /** Stop when max |∇f| ≤ tol · max(1, C·Σs) (default 1e-5). */
  tol?: number;
  maxIter?: number;
  /** L-BFGS memory (default 10). */
  memory?: number;
  /** Called after each accepted iteration with the objective value (per-sample mean loss, without the penalty, as `dataLoss`). */
  onIter?(it: number, objective: number, dataLoss: number): void;
  /** Warm start: coefficients (d × k) and intercepts (k). */
  init?: { W: Float64Array; b: Float64Array };
}

export interface LogRegFit {
  /** d × k, row-major. */
  W: Float64Array;
  b: Float64Array;
  iterations: number;
  converged: boolean;
  objective: number;
  /** Mean (weighted) cross-entropy on the training rows at the optimum. */
  dataLoss: number;
}

/**
 * The training rows of a fit, as the two products the objective needs, over a range of rows
 * (so that one evaluation can pause between row ranges).
 */
export interface Design {
  n: number;
  d: number;
  /** Z[i·k + c] += xᵢ·W[:, c] for rows from..to−1. */
  addLogits(W: Float64Array, k: number, Z: Float64Array, from: number, to: number): void;
  /** G[j·k + c] += xᵢⱼ·Z[i·k + c] for rows from..to−1. */
  addGradient(Z: Float64Array, k: number, G: Float64Array, from: number, to: number): void;
}

/**
 * Rows given as a dense row-major Float64Array (n × d). `lowerTriangular`: row i has no non-zero beyond column i
 * (a Cholesky factor, kernel.ts), so the products skip those columns.
 * Each product keeps four outputs in local accumulators, adding the same terms in the same order as one
 * `out += x·w` per term would (zeros skipped), so the results are the same to the last bit.
 */
export function denseDesign(X: Float64Array, n: number, d: number, lowerTriangular = false): Design {
  if (X.length !== n * d) throw new Error(`fitLogReg: X has ${X.length} values, expected ${n}×${d}`);
  return new DenseDesign(X, n, d, lowerTriangular);
}

/** A class (not closures per design), so that every fit calls the same functions: V8 optimises them once. */
class DenseDesign implements Design {
  constructor(readonly X: Float64Array, readonly n: number, readonly d: number, readonly lowerTriangular: boolean) {}

  addLogits(W: Float64Array, k: number, Z: Float64Array, from: number, to: number): void {
    const { X, d, lowerTriangular } = this;
    for (let i = from; i < to; i++) {
      const zo = i * k;
      const xo = i * d;
      const m = lowerTriangular ? Math.min(d, i + 1) : d;
      let c = 0;
      for (; c + 4 <= k; c += 4) {
        let z0 = Z[zo + c], z1 = Z[zo + c + 1], z2 = Z[zo + c + 2], z3 = Z[zo + c + 3];
        for (let j = 0; j < m; j++) {
          const xv = X[xo + j];
          if (xv === 0) continue;
          const wo = j * k + c;
          z0 += xv * W[wo]; z1 += xv * W[wo + 1]; z2 += xv * W[wo + 2]; z3 += xv * W[wo + 3];
        }
        Z[zo + c] = z0; Z[zo + c + 1] = z1; Z[zo + c + 2] = z2; Z[zo + c + 3] = z3;
      }
      for (; c < k; c++) {
        let z = Z[zo + c];
        for (let j = 0; j < m; j++) {
          const xv = X[xo + j];
          if (xv !== 0) z += xv * W[j * k + c];
        }
        Z[zo + c] = z;
      }
    }
  }

  addGradient(Z: Float64Array, k: number, G: Float64Array, from: number, to: number): void {
    const { X, d, lowerTriangular } = this;
    // column j of X (rows from..to−1; with lowerTriangular only rows i ≥ j) against the rows of Z
    for (let j = 0; j < d; j++) {
      const i0 = lowerTriangular ? Math.max(from, j) : from;
      if (i0 >= to) continue;
      const go = j * k;
      let c = 0;
      for (; c + 4 <= k; c += 4) {
        let g0 = G[go + c], g1 = G[go + c + 1], g2 = G[go + c + 2], g3 = G[go + c + 3];
        for (let i = i0; i < to; i++) {
          const xv = X[i * d + j];
          if (xv === 0) continue;
          const o = i * k + c;
          g0 += xv * Z[o]; g1 += xv * Z[o + 1]; g2 += xv * Z[o + 2]; g3 += xv * Z[o + 3];
        }
        G[go + c] = g0; G[go + c + 1] = g1; G[go + c + 2] = g2; G[go + c + 3] = g3;
      }
      for (; c < k; c++) {
        let g = G[go + c];
        for (let i = i0; i < to; i++) {
          const xv = X[i * d + j];
          if (xv !== 0) g += xv * Z[i * k + c];
        }
        G[go + c] = g;
      }
    }
  }
}

/** Compressed sparse rows: row i has the entries ptr[i]..ptr[i+1]−1 (dims `idx`, values `val`). */
export interface Csr { n: number; d: number; ptr: Int32Array; idx: Int32Array; val: Float32Array }

/** Rows given as a CSR matrix: each product costs O(nnz · k) instead of O(n · d · k). */
export function csrDesign(m: Csr): Design {
  const { ptr, idx, val } = m;
  return {
    n: m.n, d: m.d,
    addLogits(W, k, Z, from, to) {
      for (let i = from; i < to; i++) {
        const zo = i * k;
        for (let p = ptr[i]; p < ptr[i + 1]; p++) {
          const xv = val[p];
          const wo = idx[p] * k;
          for (let c = 0; c < k; c++) Z[zo + c] += xv * W[wo + c];
        }
      }
    },
    addGradient(Z, k, G, from, to) {
      for (let i = from; i < to; i++) {
        const o = i * k;
        for (let p = ptr[i]; p < ptr[i + 1]; p++) {
          const xv = val[p];
          const wo = idx[p] * k;
          for (let c = 0; c < k; c++) G[wo + c] += xv * Z[o + c];
        }
      }
    },
  };
}

/** Rows per step of one evaluation (a step is a point where a cooperative caller may pause or cancel). */
const ROWS_PER_STEP = 1024;

/**
 * Evaluates the objective and (optionally) its gradient. Returns [objective, weighted data loss sum].
 * G (d × k) and gb (k) receive the gradient when given.
 */
function* evaluate(
  X: Design, y: ArrayLike<number>, s: Float64Array, k: number, C: number,
  W: Float64Array, b: Float64Array, Z: Float64Array, G?: Float64Array, gb?: Float64Array,
): Generator<void, [number, number]> {
  const n = X.n;
  let loss = 0;
  if (G && gb) { G.set(W); gb.fill(0); }
  // row range by row range: logits, loss, then the range's gradient while its rows are in cache
  for (let from = 0; from < n; from += ROWS_PER_STEP) {
    const to = Math.min(n, from + ROWS_PER_STEP);
    for (let i = from; i < to; i++) for (let c = 0; c < k; c++) Z[i * k + c] = b[c];
    X.addLogits(W, k, Z, from, to);
    // Z ← C·s·(P − Y) in place (the gradient of the data term w.r.t. the logits)
    for (let i = from; i < to; i++) {
      const o = i * k;
      let m = -Infinity;
      for (let c = 0; c < k; c++) if (Z[o + c] > m) m = Z[o + c];
      let se = 0;
      for (let c = 0; c < k; c++) se += Math.exp(Z[o + c] - m);
      const lse = m + Math.log(se);
      loss += s[i] * (lse - Z[o + y[i]]);
      if (G) {
        for (let c = 0; c < k; c++) Z[o + c] = Math.exp(Z[o + c] - lse);
        Z[o + y[i]] -= 1;
        for (let c = 0; c < k; c++) Z[o + c] *= C * s[i];
      }
    }
    if (G && gb) {
      for (let i = from; i < to; i++) for (let c = 0; c < k; c++) gb[c] += Z[i * k + c];
      X.addGradient(Z, k, G, from, to);
    }
    if (to < n) yield;
  }
  let reg = 0;
  for (let j = 0; j < W.length; j++) reg += W[j] * W[j];
  return [0.5 * reg + C * loss, loss];
}

/** q += a·x (qb += a·xb), then returns v·q + vb·qb, summed as `dot` sums it. (q − a·x equals q + (−a)·x exactly.) */
function axpyDot(q: Float64Array, qb: Float64Array, a: number, x: Float64Array, xb: Float64Array, v: Float64Array, vb: Float64Array): number {
  let s = 0;
  for (let j = 0; j < q.length; j++) { q[j] += a * x[j]; s += v[j] * q[j]; }
  for (let c = 0; c < qb.length; c++) qb[c] += a * xb[c];
  for (let c = 0; c < qb.length; c++) s += vb[c] * qb[c];
  return s;
}

/** q *= g (qb *= g), then returns v·q + vb·qb, summed as `dot` sums it. */
function scaleDot(q: Float64Array, qb: Float64Array, g: number, v: Float64Array, vb: Float64Array): number {
  let s = 0;
  for (let j = 0; j < q.length; j++) { q[j] *= g; s += v[j] * q[j]; }
  for (let c = 0; c < qb.length; c++) qb[c] *= g;
  for (let c = 0; c < qb.length; c++) s += vb[c] * qb[c];
  return s;
}

function dot(a: Float64Array, b: Float64Array, a2: Float64Array, b2: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  for (let i = 0; i < a2.length; i++) s += a2[i] * b2[i];
  return s;
}

/** Fits softmax regression on X (n × d) with labels y ∈ [0, k). */
export function fitLogReg(X: Float64Array, n: number, d: number, y: ArrayLike<number>, k: number, o: LogRegOptions): LogRegFit {
  return runSync(fitLogRegSteps(X, n, d, y, k, o));
}

export function fitLogRegSteps(X: Float64Array, n: number, d: number, y: ArrayLike<number>, k: number, o: LogRegOptions & { lowerTriangular?: boolean }): Generator<void, LogRegFit> {
  return fitDesignSteps(denseDesign(X, n, d, o.lowerTriangular), y, k, o);
}

/** Fits softmax regression on the rows of a Design (dense or sparse) with labels y ∈ [0, k). */
export function* fitDesignSteps(X: Design, y: ArrayLike<number>, k: number, o: LogRegOptions): Generator<void, LogRegFit> {
  const { n, d } = X;
  const C = o.C;
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = o.sampleWeights ? o.sampleWeights[i] : 1;
  const sSum = s.reduce((a, v) => a + v, 0) || 1;
  const tol = (o.tol ?? 1e-5) * Math.max(1, C * sSum);
  const maxIter = o.maxIter ?? 500;
  const mem = o.memory ?? 10;
  const P = d * k;
  // every buffer is allocated once (the history's pairs are recycled): the same arithmetic as a fresh copy each time
  const W = o.init ? Float64Array.from(o.init.W) : new Float64Array(P);
  const b = o.init ? Float64Array.from(o.init.b) : new Float64Array(k);
  const Z = new Float64Array(n * k);
  const G = new Float64Array(P);
  const gb = new Float64Array(k);
  let [f, loss] = yield* evaluate(X, y, s, k, C, W, b, Z, G, gb);
  const S: [Float64Array, Float64Array][] = [];
  const Yh: [Float64Array, Float64Array][] = [];
  const rho: number[] = [];
  /** Pairs (s, y) no longer in the history, reused for the next ones. */
  const spare: { S: [Float64Array, Float64Array]; Y: [Float64Array, Float64Array] }[] = [];
  const maxAbs = (g: Float64Array, g2: Float64Array) => {
    let m = 0;
    for (let j = 0; j < g.length; j++) m = Math.max(m, Math.abs(g[j]));
    for (let j = 0; j < g2.length; j++) m = Math.max(m, Math.abs(g2[j]));
    return m;
  };
  let it = 0;
  let converged = maxAbs(G, gb) <= tol;
  const Wn = new Float64Array(P);
  const bn = new Float64Array(k);
  const Gn = new Float64Array(P);
  const gbn = new Float64Array(k);
  const q = new Float64Array(P);
  const qb = new Float64Array(k);
  while (!converged && it < maxIter) {
    // two-loop recursion: direction = −H·g. Each pass over q also computes the dot product the next step needs
    // (axpyDot / scaleDot): the same products summed in the same order as separate loops.
    q.set(G);
    qb.set(gb);
    const alpha: number[] = new Array(S.length);
    let next = S.length ? dot(S[S.length - 1][0], q, S[S.length - 1][1], qb) : 0; // s_m·q
    for (let m = S.length - 1; m >= 0; m--) {
      const am = (alpha[m] = rho[m] * next);
      const [yW, yb] = Yh[m];
      if (m > 0) next = axpyDot(q, qb, -am, yW, yb, S[m - 1][0], S[m - 1][1]);
      else {
        for (let j = 0; j < P; j++) q[j] -= am * yW[j];
        for (let c = 0; c < k; c++) qb[c] -= am * yb[c];
      }
    }
    let gamma = 1;
    if (S.length) {
      const last = S.length - 1;
      gamma = dot(S[last][0], Yh[last][0], S[last][1], Yh[last][1]) / dot(Yh[last][0], Yh[last][0], Yh[last][1], Yh[last][1]);
    } else {
      const gn = Math.sqrt(dot(G, G, gb, gb));
      gamma = gn > 0 ? 1 / gn : 1;
    }
    // then y_m·q for m = 0, 1, …, and g·q for the descent test after the last
    next = S.length ? scaleDot(q, qb, gamma, Yh[0][0], Yh[0][1]) : scaleDot(q, qb, gamma, G, gb);
    for (let m = 0; m < S.length; m++) {
      const beta = rho[m] * next;
      const [sW, sb] = S[m];
      const ab = alpha[m] - beta;
      next = m + 1 < S.length ? axpyDot(q, qb, ab, sW, sb, Yh[m + 1][0], Yh[m + 1][1]) : axpyDot(q, qb, ab, sW, sb, G, gb);
    }
    // direction p = −q
    let gp = -next;
    if (!(gp < 0)) {
      // not a descent direction: restart with steepest descent
      S.forEach((pair, m) => spare.push({ S: pair, Y: Yh[m] }));
      S.length = 0; Yh.length = 0; rho.length = 0;
      q.set(G); qb.set(gb);
      const gn = Math.sqrt(dot(G, G, gb, gb));
      for (let j = 0; j < P; j++) q[j] /= gn;
      for (let c = 0; c < k; c++) qb[c] /= gn;
      gp = -dot(G, q, gb, qb);
    }
    // backtracking line search (Armijo), step 1 first
    let t = 1;
    let fn = 0;
    let lossN = 0;
    let ok = false;
    for (let ls = 0; ls < 40; ls++) {
      for (let j = 0; j < P; j++) Wn[j] = W[j] - t * q[j];
      for (let c = 0; c < k; c++) bn[c] = b[c] - t * qb[c];
      [fn, lossN] = yield* evaluate(X, y, s, k, C, Wn, bn, Z, Gn, gbn);
      yield;
      if (fn <= f + 1e-4 * t * gp) { ok = true; break; }
      t *= 0.5;
    }
    it++;
    if (!ok) break; // no progress possible (numerically converged)
    const pair = spare.pop() ?? { S: [new Float64Array(P), new Float64Array(k)], Y: [new Float64Array(P), new Float64Array(k)] };
    const [sW, sb] = pair.S;
    const [yW, yb] = pair.Y;
    for (let j = 0; j < P; j++) { sW[j] = Wn[j] - W[j]; yW[j] = Gn[j] - G[j]; }
    for (let c = 0; c < k; c++) { sb[c] = bn[c] - b[c]; yb[c] = gbn[c] - gb[c]; }
    const sy = dot(sW, yW, sb, yb);
    const fPrev = f;
    W.set(Wn); b.set(bn);
    G.set(Gn); gb.set(gbn);
    f = fn; loss = lossN;
    if (sy > 1e-12) {
      S.push(pair.S); Yh.push(pair.Y); rho.push(1 / sy);
      if (S.length > mem) { spare.push({ S: S.shift()!, Y: Yh.shift()! }); rho.shift(); }
    } else spare.push(pair);
    o.onIter?.(it, f, loss / sSum);
    converged = maxAbs(G, gb) <= tol || Math.abs(fPrev - f) <= 1e-12 * Math.max(1, Math.abs(f));
  }
  return { W, b, iterations: it, converged, objective: f, dataLoss: loss / sSum };
}
