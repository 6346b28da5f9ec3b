/**
 * Few-shot recipe: no validation hold-out, a convex, exactly-solved head on all training texts.
 *
 *  1. Features: each encoder block of the vector (USE-lite, n-gram hashing, …) is kept apart.
 *     Sparse n-gram blocks get an IDF weighting fitted on the training texts, dims never seen in
 *     training are dropped ("vocabulary" of the training texts, like a TF-IDF vectorizer fitted on
 *     them), and the block is re-normalised to unit length; then blocks are weighted.
 *  2. Head: multinomial logistic regression with an L2 penalty (scikit-learn's `C`), solved to
 *     convergence by L-BFGS through the Gram matrix of the training rows (see kernel.ts):
 *     deterministic, no epochs to pick, nothing held out.
 *  3. Ensemble (default up to ENSEMBLE_MAX_ROWS rows): the 18 configurations IDF on/off × block
 *     weights × C ∈ {1, 10, 100} are scored by stratified k-fold CV log-loss on the original
 *     training rows; the ENSEMBLE_TOP best are refitted on all rows (plus the weighted extra rows)
 *     and averaged in logit space. On the development corpora this beat every single
 *     configuration and every CV-picked one on the worst corpus (see the issue 8 notes).
 *  4. The result is an ordinary 'logreg' ModelFile (W, b) with `normalisation` (IDF as 1/std)
 *     and `blockNorm` (the per-block re-normalisation), plus one `members` part for the other
 *     IDF setting when the ensemble mixes both, so predictProba runs it unchanged.
 */
import type { EpochMetrics, ModelFile } from '../../protocol/run';
import { RUN_FORMAT_VERSION } from '../../protocol/run';
import { accuracyOf, macroF1, perClassRecall } from '../metrics';
import { blocksFromEncoderId, fitIdf, sparsity, transformRow, type Block, type BlockTransform } from './features';
import { gram, type SparseRow } from './linalg';
import { fitKernelLogReg, kernelLogits, softmaxRows } from './kernel';

export { blocksFromEncoderId } from './features';
export { fitLogReg, predictLogReg } from './logreg';
export { createCharGramEncoder, chargramId, chargramSpecOptions, DEFAULT_CHARGRAM_DIM } from './chargram';

/** Inverse std used for dims that are switched off (never seen in training). */
const OFF = 1e30;

export interface FewShotOptions {
  labels: string[];
  /** Encoder id of the vectors (splits combo vectors into blocks). */
  encoderId?: string;
  /** Explicit block layout (overrides encoderId). */
  blocks?: Block[];
  /** Inverse regularisation strength (scikit-learn's C), or 'cv' to choose from `grid` by stratified CV. Default DEFAULT_C. */
  C?: number | 'cv';
  grid?: number[];
  /** IDF on sparse blocks: true, false, or 'cv' (choose by CV). Default DEFAULT_IDF. Sparse blocks always keep only the training vocabulary. */
  idf?: boolean | 'cv';
  /**
   * Weight of each block (after re-normalisation): explicit, or 'cv' (choose the blocks' shares by CV).
   * Default: equal. ('cv' helped on one corpus and hurt on others: training samples drawn from the same
   * document leak across CV folds, which favours n-gram blocks.)
   */
  blockWeights?: number[] | 'cv';
  classWeights?: number[];
  maxIter?: number;
  signal?: AbortSignal;
  /** Extra training rows (e.g. augmented variants) used in the final fit only, never in CV. */
  extraX?: Float32Array[];
  extraY?: number[];
  /** Sample weight of each extra row (multiplies its class weight; default 1). */
  extraWeights?: number[];
  /**
   * Fit the configuration ensemble (see ENSEMBLE_*): the model's logits are the mean of the
   * logits of L2 logistic regressions over IDF on/off × block weightings × C. Default: on when
   * there are at most ENSEMBLE_MAX_ROWS training rows (with the extra rows), else one fit.
   */
  ensemble?: boolean;
  /** Progress points of the final fit, at most `maxPoints` (default 60), numbered 1…N. */
  onIter?(m: EpochMetrics): void | Promise<void>;
  maxPoints?: number;
  /**
   * Validation curve by k-fold CV over the L-BFGS iterations of the chosen configuration, used
   * for the progress points (out-of-fold validation metrics). Default true.
   */
  cvCurve?: boolean;
  /**
   * Stop the final fit at the iteration share where the CV curve peaks (strictly higher than at
   * convergence). Default false: on the development corpora it cost ~0.5 point on average.
   */
  earlyStop?: boolean;
}

export interface FewShotResult {
  model: ModelFile;
  C: number;
  iterations: number;
  converged: boolean;
  /** Progress points of the final fit (L-BFGS iterations): training loss, macro-F1, accuracy, per-class recall. */
  history: EpochMetrics[];
  /** Mean CV macro-F1 per C when C was chosen by CV. */
  cv?: { C: number; macroF1: number }[];
  /** The configurations compared by cross-validation (block weights / IDF), with their mean CV macro-F1. */
  cvConfigs?: { weights: number[]; idf: boolean; macroF1: number; logLoss: number }[];
  /** Point (1-based) of the saved model (the last one unless earlyStop), and its out-of-fold macro-F1 (null without a CV curve). */
  bestPoint: number;
  bestValMacroF1: number | null;
  /** L-BFGS iterations of the final fit cut at this count (early stopping by CV), or null for the converged fit. */
  stoppedAt: number | null;
  /** The configuration ensemble, when one was fitted: its members (the model is their mean logit). */
  ensemble?: { idf: boolean; weights: number[]; C: number; cvLogLoss?: number }[];
  /** Every candidate configuration of the ensemble with its cross-validated log-loss (absent when CV was not possible). */
  ensembleCv?: { idf: boolean; w: number[]; C: number; logLoss: number }[];
  /** Chosen block weights and IDF setting (of the main member when an ensemble was fitted). */
  blockWeights: number[];
  idf: boolean;
  /** Probabilities computed from the fitted transforms and weights directly (reference for predictProba). */
  predict(x: Float32Array[]): number[][];
  transforms: BlockTransform[];
}

export const DEFAULT_C = 10;
export const DEFAULT_IDF: boolean | 'cv' = 'cv';
/**
 * Below this many training texts the configuration is not cross-validated (equal block weights,
 * IDF on): with 2–3 held-out texts per fold the choice is noise.
 */
export const MIN_CV_ROWS = 32;
/** Mean CV macro-F1 a configuration must gain over the first (equal weights, IDF on) to replace it. */
export const CV_MARGIN = 0.03;

/**
 * Candidate block weights for CV (squared weights sum to 1): equal shares first (preferred on
 * ties), then each block leaning, then each block alone.
 */
export function weightCandidates(nBlocks: number): number[][] {
  if (nBlocks === 1) return [[1]];
  const eq = new Array(nBlocks).fill(1 / Math.sqrt(nBlocks));
  const out: number[][] = [eq];
  for (const share of [0.75, 0.25]) {
    if (nBlocks !== 2) break;
    out.push([Math.sqrt(share), Math.sqrt(1 - share)]);
  }
  for (let b = 0; b < nBlocks; b++) out.push(Array.from({ length: nBlocks }, (_, j) => (j === b ? 1 : 0)));
  return out;
}
export const DEFAULT_GRID = [0.1, 1, 10, 100];

/** Regularisation strengths of the ensemble members. */
export const ENSEMBLE_C = [1, 10, 100];
/** Members kept: the configurations with the lowest cross-validated log-loss. */
export const ENSEMBLE_TOP = 3;
/** Above this many training rows one configuration is fitted (the ensemble's Gram matrices grow as n²). */
export const ENSEMBLE_MAX_ROWS = 1000;

/** Squared block weights of the ensemble members: equal shares, and each of two blocks leaning 3:1. */
export function ensembleWeights(nBlocks: number): number[][] {
  const eq = new Array(nBlocks).fill(1 / nBlocks);
  return nBlocks === 2 ? [eq, [0.75, 0.25], [0.25, 0.75]] : [eq];
}

/** Fits the block transforms on the training rows. */
export function fitTransforms(x: Float32Array[], blocks: Block[], o: { idf?: boolean; blockWeights?: number[] } = {}): BlockTransform[] {
  // Sparse blocks: keep the training vocabulary (dims seen in training), optionally IDF-weighted.
  const w = o.blockWeights ?? blocks.map(() => 1 / Math.sqrt(blocks.length));
  return blocks.map((b, i) => {
    const sparse = sparsity(x, b) > 0.5;
    let idf: Float64Array | null = null;
    if (sparse) {
      idf = fitIdf(x, b);
      const unseen = Math.log(1 + x.length) + 1; // idf of a dim no training row has
      for (let j = 0; j < idf.length; j++) idf[j] = idf[j] >= unseen - 1e-9 ? 0 : o.idf === false ? 1 : idf[j];
    }
    return { start: b.start, end: b.end, idf, weight: w[i], renorm: true };
  });
}

/** Deterministic stratified folds: each class's examples dealt round-robin over `nf` folds. */
export function stratifiedFolds(y: number[], k: number, nf: number): number[][] {
  const folds: number[][] = Array.from({ length: nf }, () => []);
  let next = 0;
  for (let c = 0; c < k; c++) y.forEach((v, i) => { if (v === c) { folds[next].push(i); next = (next + 1) % nf; } });
  return folds;
}

/** Row-wise argmax of an m×k row-major score matrix. */
export function argmaxRows(Z: Float64Array, m: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) { let b = 0; for (let c = 1; c < k; c++) if (Z[i * k + c] > Z[i * k + b]) b = c; out.push(b); }
  return out;
}

/** Gram matrix of transformed rows (sum over blocks). */
export function blockGram(a: SparseRow[][], b: SparseRow[][], t: BlockTransform[]): Float64Array {
  const K = new Float64Array(a.length * b.length);
  t.forEach((blk, j) => {
    const g = gram(a.map((r) => r[j]), b.map((r) => r[j]), blk.end - blk.start);
    for (let i = 0; i < K.length; i++) K[i] += g[i];
  });
  return K;
}

/** Chooses C by stratified k-fold CV (macro-F1, ties → smaller C); folds fit their own transforms. */
export function chooseC(x: Float32Array[], y: number[], k: number, blocks: Block[], grid: number[], o: { idf?: boolean; blockWeights?: number[]; sampleWeights?: number[] }): { C: number; scores: { C: number; macroF1: number }[] } | null {
  const minCount = Math.min(...Array.from({ length: k }, (_, c) => y.filter((v) => v === c).length));
  const nf = Math.min(4, minCount);
  if (nf < 2) return null;
  const folds = stratifiedFolds(y, k, nf);
  const sums = grid.map(() => 0);
  for (const val of folds) {
    const inVal = new Set(val);
    const tr = y.map((_, i) => i).filter((i) => !inVal.has(i));
    const t = fitTransforms(tr.map((i) => x[i]), blocks, o);
    const rt = tr.map((i) => transformRow(x[i], t));
    const rv = val.map((i) => transformRow(x[i], t));
    const K = blockGram(rt, rt, t);
    const Kv = blockGram(rv, rt, t);
    grid.forEach((C, g) => {
      const f = fitKernelLogReg(K, tr.length, tr.map((i) => y[i]), k, { C, sampleWeights: o.sampleWeights && tr.map((i) => o.sampleWeights![i]) });
      const Z = kernelLogits(Kv, val.length, tr.length, f.A, f.b, k);
      sums[g] += macroF1(val.map((i) => y[i]), argmaxRows(Z, val.length, k), k);
    });
  }
  let best = 0;
  grid.forEach((_, g) => { if (sums[g] > sums[best] + 1e-9) best = g; });
  return { C: grid[best], scores: grid.map((C, g) => ({ C, macroF1: sums[g] / nf })) };
}

/**
 * Chooses block weights and IDF on/off by stratified k-fold CV over the training rows: highest
 * mean held-out macro-F1, ties → lower held-out log-loss, then the earlier candidate (equal
 * weights, IDF on first). Each fold fits its own transforms on its
 * training part only.
 */
export function chooseConfig(
  x: Float32Array[], y: number[], k: number, blocks: Block[], C: number,
  o: { weights: number[][]; idf: boolean[]; sampleWeights?: number[]; margin?: number },
): { weights: number[]; idf: boolean; scores: { weights: number[]; idf: boolean; macroF1: number; logLoss: number }[] } | null {
  const minCount = Math.min(...Array.from({ length: k }, (_, c) => y.filter((v) => v === c).length));
  const nf = Math.min(4, minCount);
  const cands = o.idf.flatMap((idf) => o.weights.map((w) => ({ weights: w, idf })));
  if (nf < 2 || cands.length < 2 || y.length < MIN_CV_ROWS) return null;
  const folds = stratifiedFolds(y, k, nf);
  const sums = cands.map(() => 0); // CV log-loss (smoother than macro-F1 on a handful of held-out texts)
  const f1s = cands.map(() => 0);
  for (const val of folds) {
    const inVal = new Set(val);
    const tr = y.map((_, i) => i).filter((i) => !inVal.has(i));
    const yTr = tr.map((i) => y[i]);
    const yVal = val.map((i) => y[i]);
    const sw = o.sampleWeights && tr.map((i) => o.sampleWeights![i]);
    for (const idf of o.idf) {
      // per-block Grams with unit block weights, then any weighting is a weighted sum
      const { Ks, Kvs } = foldGrams(x, blocks, tr, val, idf);
      cands.forEach((cand, ci) => {
        if (cand.idf !== idf) return;
        const sq = cand.weights.map((w) => w * w);
        const K = weightedSum(Ks, sq);
        const Kv = weightedSum(Kvs, sq);
        const f = fitKernelLogReg(K, tr.length, yTr, k, { C, sampleWeights: sw });
        const Z = kernelLogits(Kv, val.length, tr.length, f.A, f.b, k);
        const P = softmaxRows(Z, val.length, k);
        let ll = 0;
        yVal.forEach((c, j) => { ll -= Math.log(Math.max(1e-12, P[j * k + c])); });
        sums[ci] += ll / val.length;
        f1s[ci] += macroF1(yVal, argmaxRows(Z, val.length, k), k);
      });
    }
  }
  // highest CV macro-F1; ties → lower CV log-loss; then the earlier candidate. A candidate other
  // than the first must beat the first by more than `margin` mean macro-F1 (CV on a few texts is noisy).
  let best = 0;
  const margin = (o.margin ?? CV_MARGIN) * nf;
  cands.forEach((_, ci) => {
    if (ci === 0) return;
    if (f1s[ci] <= f1s[0] + margin) return;
    if (f1s[ci] > f1s[best] + 1e-9 || (Math.abs(f1s[ci] - f1s[best]) <= 1e-9 && sums[ci] < sums[best] - 1e-9)) best = ci;
  });
  return { ...cands[best], scores: cands.map((c, ci) => ({ ...c, macroF1: f1s[ci] / nf, logLoss: sums[ci] / nf })) };
}

interface EnsembleConfig { idf: boolean; w: number[]; C: number }

/** Σⱼ wⱼ·Mⱼ of per-block matrices of one shape (w: squared block weights). */
function weightedSum(Ms: Float64Array[], w: number[]): Float64Array {
  const K = new Float64Array(Ms[0].length);
  w.forEach((wj, j) => { if (wj) for (let i = 0; i < K.length; i++) K[i] += wj * Ms[j][i]; });
  return K;
}

/** Per-block Gram matrices of a CV fold: train × train and val × train, transforms fitted on the fold's training rows only (unit block weights). */
function foldGrams(x: Float32Array[], blocks: Block[], tr: number[], val: number[], idf: boolean): { Ks: Float64Array[]; Kvs: Float64Array[] } {
  const t = fitTransforms(tr.map((i) => x[i]), blocks, { idf, blockWeights: blocks.map(() => 1) });
  const rt = tr.map((i) => transformRow(x[i], t));
  const rv = val.map((i) => transformRow(x[i], t));
  return {
    Ks: t.map((blk, j) => gram(rt.map((r) => r[j]), rt.map((r) => r[j]), blk.end - blk.start)),
    Kvs: t.map((blk, j) => gram(rv.map((r) => r[j]), rt.map((r) => r[j]), blk.end - blk.start)),
  };
}

/**
 * Mean held-out log-loss of each configuration by stratified k-fold CV over the original
 * training rows (extra rows never take part); each fold fits its own transforms. null when a
 * class has fewer than 2 examples.
 */
function cvLogLoss(
  x: Float32Array[], y: number[], k: number, blocks: Block[], cfgs: EnsembleConfig[], sw: number[] | undefined, signal?: AbortSignal,
): (EnsembleConfig & { logLoss: number })[] | null {
  const minCount = Math.min(...Array.from({ length: k }, (_, c) => y.filter((v) => v === c).length));
  const nf = Math.min(4, minCount);
  if (nf < 2) return null;
  const sums = cfgs.map(() => 0);
  for (const val of stratifiedFolds(y, k, nf)) {
    const inVal = new Set(val);
    const tr = y.map((_, i) => i).filter((i) => !inVal.has(i));
    const yTr = tr.map((i) => y[i]);
    const swTr = sw && tr.map((i) => sw[i]);
    for (const useIdf of [...new Set(cfgs.map((c) => c.idf))]) {
      const { Ks, Kvs } = foldGrams(x, blocks, tr, val, useIdf);
      cfgs.forEach((c, ci) => {
        if (c.idf !== useIdf) return;
        if (signal?.aborted) throw abortError();
        const f = fitKernelLogReg(weightedSum(Ks, c.w), tr.length, yTr, k, { C: c.C, sampleWeights: swTr });
        const Kv = weightedSum(Kvs, c.w);
        const P = softmaxRows(kernelLogits(Kv, val.length, tr.length, f.A, f.b, k), val.length, k);
        val.forEach((r, j) => { sums[ci] -= Math.log(Math.max(1e-12, P[j * k + y[r]])); });
      });
    }
  }
  return cfgs.map((c, ci) => ({ ...c, logLoss: sums[ci] / y.length }));
}

/** One linear part of the model: a transform, its training rows, dual coefficients per block (or one for all) and intercepts. */
interface Part { t: BlockTransform[]; rows: SparseRow[][]; A: Float64Array[]; b: Float64Array }

interface FoldTrace { val: number[]; preds: number[][]; loss: number[] }

/** Out-of-fold predictions at every L-BFGS iteration of each fold's fit (chosen configuration). */
function cvTraces(
  x: Float32Array[], y: number[], k: number, blocks: Block[], C: number,
  o: { weights: number[]; idf: boolean; sampleWeights?: number[]; maxIter?: number },
): FoldTrace[] | null {
  const minCount = Math.min(...Array.from({ length: k }, (_, c) => y.filter((v) => v === c).length));
  const nf = Math.min(4, minCount);
  if (nf < 2) return null;
  return stratifiedFolds(y, k, nf).map((val) => {
    const inVal = new Set(val);
    const tr = y.map((_, i) => i).filter((i) => !inVal.has(i));
    const t = fitTransforms(tr.map((i) => x[i]), blocks, { idf: o.idf, blockWeights: o.weights });
    const rt = tr.map((i) => transformRow(x[i], t));
    const rv = val.map((i) => transformRow(x[i], t));
    const K = blockGram(rt, rt, t);
    const Kv = blockGram(rv, rt, t);
    const yVal = val.map((i) => y[i]);
    const trace: FoldTrace = { val, preds: [], loss: [] };
    const record = (A: Float64Array, b: Float64Array) => {
      const Z = kernelLogits(Kv, val.length, tr.length, A, b, k);
      const P = softmaxRows(Z, val.length, k);
      let ll = 0;
      yVal.forEach((c, j) => { ll -= Math.log(Math.max(1e-12, P[j * k + c])); });
      trace.preds.push(argmaxRows(Z, val.length, k));
      trace.loss.push(ll);
    };
    const f = fitKernelLogReg(K, tr.length, tr.map((i) => y[i]), k, {
      C, sampleWeights: o.sampleWeights && tr.map((i) => o.sampleWeights![i]), maxIter: o.maxIter,
      onIter: (_it, _f, _l, at) => { const c = at.coef(); record(c.A, c.b); },
    });
    if (!trace.preds.length) record(f.A, f.b);
    return trace;
  });
}

/** Fits the few-shot recipe; returns a ModelFile that `predictProba` runs. */
export async function fitFewShot(xTrain: Float32Array[], yTrain: number[], opts: FewShotOptions): Promise<FewShotResult> {
  if (!xTrain.length) throw new Error('fitFewShot: no training examples');
  if (xTrain.length !== yTrain.length) throw new Error('fitFewShot: x and y lengths differ');
  const labels = opts.labels;
  const k = labels.length;
  const d = xTrain[0].length;
  const n = xTrain.length;
  const blocks = opts.blocks ?? blocksFromEncoderId(opts.encoderId ?? '', d);
  const sampleWeights = opts.classWeights ? yTrain.map((c) => opts.classWeights![c] ?? 1) : undefined;
  const t0 = Date.now();
  let C = typeof opts.C === 'number' ? opts.C : DEFAULT_C;
  let cv: FewShotResult['cv'];
  if (opts.C === 'cv') {
    const r = chooseC(xTrain, yTrain, k, blocks, opts.grid ?? DEFAULT_GRID, { idf: opts.idf !== false, blockWeights: Array.isArray(opts.blockWeights) ? opts.blockWeights : undefined, sampleWeights });
    if (r) { C = r.C; cv = r.scores; }
  }
  if (opts.signal?.aborted) throw abortError();
  const anySparse = blocks.some((b) => sparsity(xTrain, b) > 0.5);
  let weights = Array.isArray(opts.blockWeights) ? opts.blockWeights : blocks.map(() => 1 / Math.sqrt(blocks.length));
  const idfOpt = opts.idf ?? DEFAULT_IDF;
  let idf = idfOpt !== false;
  let cvConfigs: FewShotResult['cvConfigs'];
  const wCands = opts.blockWeights === 'cv' ? weightCandidates(blocks.length) : [weights];
  const idfCands = idfOpt === 'cv' && anySparse ? [true, false] : [idf];
  const nAllRows = n + (opts.extraX?.length ?? 0);
  const useEnsemble = opts.ensemble ?? nAllRows <= ENSEMBLE_MAX_ROWS;
  const chosen = useEnsemble ? null : chooseConfig(xTrain, yTrain, k, blocks, C, { weights: wCands, idf: idfCands, sampleWeights });
  if (chosen) { weights = chosen.weights; idf = chosen.idf; cvConfigs = chosen.scores; }
  if (opts.signal?.aborted) throw abortError();
  // validation curve over iterations (k-fold CV of the chosen configuration)
  const traces = opts.cvCurve === false ? null : cvTraces(xTrain, yTrain, k, blocks, C, { weights, idf, sampleWeights, maxIter: opts.maxIter });
  const E = Math.max(1, opts.maxPoints ?? 60);
  let T = 1;
  let curve: { t: number; f1: number; acc: number; loss: number; recall: Record<string, number> }[] | null = null;
  let bestPoint = E;
  let stoppedAt: number | null = null;
  if (traces) {
    T = Math.max(...traces.map((tr) => tr.preds.length));
    curve = [];
    for (let i = 1; i <= E; i++) {
      const t = Math.max(1, Math.round((i * T) / E));
      const yt: number[] = [];
      const yp: number[] = [];
      let loss = 0;
      for (const tr of traces) {
        const s = Math.min(t, tr.preds.length) - 1;
        tr.val.forEach((r, j) => { yt.push(yTrain[r]); yp.push(tr.preds[s][j]); });
        loss += tr.loss[s];
      }
      curve.push({ t, f1: macroF1(yt, yp, k), acc: accuracyOf(yt, yp), loss: loss / yt.length, recall: perClassRecall(yt, yp, labels) });
    }
    // with earlyStop: the point with the highest out-of-fold macro-F1, ties → the later point (the converged fit)
    bestPoint = 1;
    curve.forEach((c, i) => { if (c.f1 >= curve![bestPoint - 1].f1 - 1e-12) bestPoint = i + 1; });
    if (!opts.earlyStop) bestPoint = E; // the converged fit is the model
    else if (bestPoint < E && curve[bestPoint - 1].t < T) stoppedAt = curve[bestPoint - 1].t;
  }
  if (opts.signal?.aborted) throw abortError();

  // final fit on every training row (plus the extra rows)
  const xAll = opts.extraX?.length ? [...xTrain, ...opts.extraX] : xTrain;
  const yAll = opts.extraX?.length ? [...yTrain, ...(opts.extraY ?? [])] : yTrain;
  if (xAll.length !== yAll.length) throw new Error('fitFewShot: extraX and extraY lengths differ');
  const nAll = xAll.length;
  const extraW = opts.extraWeights;
  if (extraW && extraW.length !== (opts.extraX?.length ?? 0)) throw new Error('fitFewShot: extraWeights and extraX lengths differ');
  const swAll = opts.classWeights || extraW
    ? yAll.map((c, i) => (opts.classWeights?.[c] ?? 1) * (i >= n && extraW ? extraW[i - n] : 1))
    : undefined;
  const t = fitTransforms(xAll, blocks, { idf, blockWeights: weights });
  const rows = xAll.map((v) => transformRow(v, t));
  const K = blockGram(rows, rows, t);
  const iters: { it: number; loss: number; pred: number[] }[] = [];
  const fit = fitKernelLogReg(K, nAll, yAll, k, {
    C, sampleWeights: swAll, maxIter: stoppedAt ?? opts.maxIter,
    onIter: (it, _f, loss, at) => iters.push({ it, loss, pred: argmaxRows(at.trainLogits(), nAll, k) }),
  });
  // The model: one linear part per transform (IDF on / off). Without the ensemble, the fit above.
  // With it, every member (IDF × block weighting × C) is fitted on the unit-weight rows of its
  // transform, and the parts hold the mean of the members' weights, so the model's logits are the
  // mean of the members' logits (a geometric mean of their probabilities).
  const parts: Part[] = [];
  let members: FewShotResult['ensemble'];
  let ensembleCv: FewShotResult['ensembleCv'];
  if (!useEnsemble) {
    parts.push({ t, rows, A: [fit.A], b: fit.b });
  } else {
    members = [];
    const idfs = blocks.some((bl) => sparsity(xAll, bl) > 0.5) ? [true, false] : [true];
    const wSets = ensembleWeights(blocks.length);
    const all: EnsembleConfig[] = idfs.flatMap((useIdf) => wSets.flatMap((w) => ENSEMBLE_C.map((Cm) => ({ idf: useIdf, w, C: Cm }))));
    // keep the ENSEMBLE_TOP configurations with the lowest cross-validated log-loss (all of them when CV is not possible)
    const scored = cvLogLoss(xTrain, yTrain, k, blocks, all, sampleWeights, opts.signal);
    ensembleCv = scored ?? undefined;
    const chosen = scored ? [...scored].sort((a, b) => a.logLoss - b.logLoss).slice(0, ENSEMBLE_TOP) : all.map((c) => ({ ...c, logLoss: NaN }));
    const M = chosen.length;
    for (const useIdf of idfs) {
      const mine = chosen.filter((c) => c.idf === useIdf);
      if (!mine.length) continue;
      const tu = fitTransforms(xAll, blocks, { idf: useIdf, blockWeights: blocks.map(() => 1) });
      const ru = xAll.map((v) => transformRow(v, tu));
      const Ks = tu.map((blk, j) => gram(ru.map((r) => r[j]), ru.map((r) => r[j]), blk.end - blk.start));
      // per block: Σ over members of (squared block weight × dual coefficients) / M
      const A = blocks.map(() => new Float64Array(nAll * k));
      const bSum = new Float64Array(k);
      for (const c of mine) {
        if (opts.signal?.aborted) throw abortError();
        const f = fitKernelLogReg(weightedSum(Ks, c.w), nAll, yAll, k, { C: c.C, sampleWeights: swAll, maxIter: opts.maxIter });
        c.w.forEach((wj, j) => { for (let i = 0; i < A[j].length; i++) A[j][i] += (wj * f.A[i]) / M; });
        for (let q = 0; q < k; q++) bSum[q] += f.b[q] / M;
        members.push({ idf: useIdf, weights: c.w.map(Math.sqrt), C: c.C, ...(Number.isFinite(c.logLoss) ? { cvLogLoss: c.logLoss } : {}) });
      }
      parts.push({ t: tu, rows: ru, A, b: bSum });
    }
  }
  const modelParts = parts.map((pt) => {
    // W = Σᵢ x̃ᵢ ⊗ Aᵢ in the transformed space (d × k), block by block
    const W = new Float64Array(d * k);
    pt.rows.forEach((r, i) => pt.t.forEach((blk, j) => {
      const s = r[j];
      const Aj = pt.A[Math.min(j, pt.A.length - 1)];
      for (let q = 0; q < s.idx.length; q++) {
        const off = (blk.start + s.idx[q]) * k;
        for (let c = 0; c < k; c++) W[off + c] += s.val[q] * Aj[i * k + c];
      }
    }));
    const std = new Array<number>(d).fill(1);
    let anyIdf = false;
    for (const blk of pt.t) if (blk.idf) { anyIdf = true; for (let j = 0; j < blk.idf.length; j++) std[blk.start + j] = blk.idf[j] > 0 ? 1 / blk.idf[j] : OFF; }
    return {
      weights: [
        { name: 'W', shape: [d, k], values: Array.from(W, (v) => Math.fround(v)) },
        { name: 'b', shape: [k], values: Array.from(pt.b) },
      ],
      ...(anyIdf ? { normalisation: { mean: new Array<number>(d).fill(0), std } } : {}),
      blockNorm: pt.t.map((bl) => ({ start: bl.start, end: bl.end, weight: bl.weight })),
    };
  });
  const model: ModelFile = {
    formatVersion: RUN_FORMAT_VERSION, labels, head: 'logreg',
    encoder: { id: opts.encoderId ?? 'unknown', requested: opts.encoderId ?? 'unknown', dim: d, reason: 'set by the caller' },
    ...modelParts[0],
    ...(modelParts.length > 1 ? { members: modelParts.slice(1) } : {}),
  };

  // Per-iteration history of the final fit, for the live dashboard: training loss at each
  // L-BFGS iteration; the training-set metrics of the converged model on the last point.
  // Progress points for the live dashboard (there are no epochs): point i of E is the state after
  // i/E of the L-BFGS iterations. `loss` is the training loss of the final fit at that point;
  // the validation metrics are out-of-fold (k-fold CV) predictions at the same point of the fold
  // fits. Without a CV curve (a class with < 2 examples) the points carry training-set metrics.
  const history: EpochMetrics[] = [];
  const span = Math.max(1, Date.now() - t0);
  const pts = iters.length ? iters : [{ it: 0, loss: fit.fit.dataLoss, pred: argmaxRows(kernelLogits(K, nAll, nAll, fit.A, fit.b, k), nAll, k) }];
  const nPts = curve ? E : Math.min(E, pts.length);
  for (let i = 1; i <= nPts; i++) {
    const p = pts[Math.max(0, Math.min(pts.length, Math.round((i * pts.length) / nPts)) - 1)];
    const elapsedMs = Math.round(span * (i / nPts));
    if (curve) {
      const c = curve[i - 1];
      history.push({ epoch: i, loss: p.loss, valLoss: c.loss, valMacroF1: c.f1, valAccuracy: c.acc, perClassRecall: c.recall, elapsedMs });
    } else {
      history.push({
        epoch: i, loss: p.loss, valLoss: null, valMacroF1: null, valAccuracy: null, perClassRecall: perClassRecall(yAll, p.pred, labels), elapsedMs,
        trainMacroF1: macroF1(yAll, p.pred, k), trainAccuracy: accuracyOf(yAll, p.pred),
      });
    }
  }
  for (const h of history) {
    await opts.onIter?.(h);
    if (opts.signal?.aborted) throw abortError();
  }
  const predict = (x: Float32Array[]): number[][] => {
    const Z = new Float64Array(x.length * k);
    for (const pt of parts) {
      const r = x.map((v) => transformRow(v, pt.t));
      pt.t.forEach((blk, j) => {
        const g = gram(r.map((row) => row[j]), pt.rows.map((row) => row[j]), blk.end - blk.start);
        const Zj = kernelLogits(g, x.length, nAll, pt.A[Math.min(j, pt.A.length - 1)], new Float64Array(k), k);
        for (let i = 0; i < Z.length; i++) Z[i] += Zj[i];
      });
      for (let i = 0; i < x.length; i++) for (let c = 0; c < k; c++) Z[i * k + c] += pt.b[c];
    }
    const P2 = softmaxRows(Z, x.length, k);
    return x.map((_, i) => Array.from(P2.subarray(i * k, (i + 1) * k)));
  };
  return {
    model, C, ensemble: members, ensembleCv, iterations: fit.fit.iterations, converged: fit.fit.converged, history, cv, cvConfigs, blockWeights: weights, idf, predict, transforms: t,
    bestPoint: curve ? bestPoint : history.length, bestValMacroF1: curve ? curve[bestPoint - 1].f1 : null, stoppedAt,
  };
}

function abortError(): Error {
  const e = new Error('Training was cancelled');
  e.name = 'AbortError';
  return e;
}
