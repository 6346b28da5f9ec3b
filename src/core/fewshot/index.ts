/**
 * Few-shot recipe: no validation hold-out, a convex, exactly-solved head on all training texts.
 *
 *  1. Features: each encoder block of the vector (USE-lite, n-gram hashing, …) is kept apart.
 *     Sparse n-gram blocks get an IDF weighting fitted on the training texts, dims never seen in
 *     training are dropped ("vocabulary" of the training texts, like a TF-IDF vectorizer fitted on
 *     them), and the block is re-normalised to unit length; then blocks are weighted.
 *  2. Head: multinomial logistic regression with an L2 penalty (scikit-learn's `C`), solved to
 *     convergence by L-BFGS through the Gram matrix of the training rows (kernel.ts) up to
 *     PRIMAL_MIN_ROWS rows, above that on the sparse rows themselves (primal.ts, O(nnz) memory):
 *     deterministic, no epochs, nothing held out. Rows may be dense or sparse (rows.ts).
 *  3. Ensemble (up to ENSEMBLE_MAX_ROWS rows): the 18 configurations IDF on/off × block weights ×
 *     C ∈ {1, 10, 100} are scored by stratified k-fold CV log-loss on the original training rows;
 *     the ENSEMBLE_TOP best are refitted on all rows (plus the weighted extra rows) and averaged in
 *     logit space. Above ENSEMBLE_MAX_ROWS: IDF on/off is chosen by the same CV (up to CV_MAX_ROWS
 *     texts; IDF on above), then one fit (C=10).
 *  4. The result is an ordinary 'logreg' ModelFile (W, b) with `normalisation` (IDF as 1/std)
 *     and `blockNorm` (the per-block re-normalisation), plus one `members` part for the other
 *     IDF setting when the ensemble mixes both, so predictProba runs it unchanged.
 *
 * Progress is reported as it happens (nothing is resampled or interpolated): `onProgress` after
 * every candidate fit (CV fold fits, then the final fits, whose L-BFGS iterations are reported at
 * most every PROGRESS_MS), and one `onPoint` per configuration the moment its last fold is fitted
 * (unit 'configuration': its CV log-loss and out-of-fold metrics). Every long loop yields to the
 * event loop about every 30 ms and stops with an AbortError once `signal` fires.
 */
import type { EpochMetrics, ModelFile, ProgressUnit } from '../../protocol/run';
import { RUN_FORMAT_VERSION } from '../../protocol/run';
import { accuracyOf, argmaxRows, macroF1, perClassRecall, softmaxRows } from '../metrics';
import { drive, Pacer } from '../util/async';
import { blocksFromEncoderId, type Block, type BlockTransform } from './features';
import { gram, gramSteps, type SparseRow } from './linalg';
import { fitKernelLogRegSteps, kernelLogits } from './kernel';
import { fitPrimalSteps, primalLogits, transformedCsrSteps } from './primal';
import { fitIdfOf, rowDim, sparsityOf, transformAny, type Row } from './rows';

export { blocksFromEncoderId } from './features';
export type { Row } from './rows';
export { createCharGramEncoder, chargramId, chargramSpecOptions, DEFAULT_CHARGRAM_DIM, DEFAULT_CHARGRAM_MAX_N, CHARGRAM_MAX_CHARS } from './chargram';

/** Inverse std used for dims that are switched off (never seen in training). */
const OFF = 1e30;
/** Least time between two progress events of a running final fit. */
const PROGRESS_MS = 150;

export interface FewShotPlan {
  unit: ProgressUnit;
  /** Progress points planned: one per CV-scored configuration (0 when CV is not possible). */
  points: number;
  /** Candidate fits planned: configurations × folds + final fits. */
  fits: number;
  /** CV folds (null without CV). */
  folds: number | null;
  /** What the points' validation metrics are, or null without CV. */
  validation: string | null;
  /** Without CV: why nothing is cross-validated (e.g. "10000 training texts, more than 5000"); null with CV. */
  noValidation: string | null;
  algorithm: 'fewshot-ensemble' | 'fewshot-lbfgs';
}

export interface FewShotOptions {
  labels: string[];
  /** Encoder id of the vectors (splits combo vectors into blocks). */
  encoderId?: string;
  /** Explicit block layout (overrides encoderId). */
  blocks?: Block[];
  /** Single fit (no ensemble) only: inverse regularisation strength (scikit-learn's C). Default DEFAULT_C. */
  C?: number;
  /** Single fit only: IDF on sparse blocks; default: chosen by CV (on when CV is not possible). */
  idf?: boolean;
  /** Single fit only: weight of each block after re-normalisation (default equal). */
  blockWeights?: number[];
  classWeights?: number[];
  maxIter?: number;
  signal?: AbortSignal;
  /** Extra training rows (e.g. augmented variants) used in the final fit only, never in CV. */
  extraX?: Row[];
  extraY?: number[];
  /** Sample weight of each extra row (multiplies its class weight; default 1). */
  extraWeights?: number[];
  /**
   * Unlabelled rows that join the rows the sparse blocks' vocabulary and IDF are fitted on (CV folds and final fits);
   * never trained on.
   */
  vocabX?: Row[];
  /**
   * Fit the configuration ensemble (see ENSEMBLE_*). Default: on when there are at most
   * ENSEMBLE_MAX_ROWS training rows (with the extra rows), else one fit.
   */
  ensemble?: boolean;
  /**
   * Form of the single fit's solver: 'kernel' (Gram matrix), 'primal' (sparse rows), or by the
   * number of rows (default: primal above PRIMAL_MIN_ROWS). The ensemble always uses the kernel form.
   */
  solver?: 'kernel' | 'primal';
  /** Called once, before any fit, with what will be reported. */
  onPlan?(p: FewShotPlan): void;
  /** After each candidate fit (done of total), and during final fits (throttled). */
  onProgress?(done: number, total: number, message: string): void;
  /** One point per CV-scored configuration, sent when its last fold was fitted. */
  onPoint?(m: EpochMetrics): void | Promise<void>;
  onLog?(message: string): void;
}

export interface FewShotResult {
  model: ModelFile;
  /** Single fit: its C and configuration (IDF, block weights). */
  C: number;
  idf: boolean;
  blockWeights: number[];
  /** Every final fit converged. */
  converged: boolean;
  /** The progress points that were sent (CV-scored configurations). */
  points: EpochMetrics[];
  /** Highest out-of-fold macro-F1 among the points (null without CV). */
  bestValMacroF1: number | null;
  plan: FewShotPlan;
  /** Single fit: the configurations compared by CV (IDF on/off), with mean per-fold macro-F1 and log-loss. */
  cvConfigs?: { weights: number[]; idf: boolean; macroF1: number; logLoss: number }[];
  /** The configuration ensemble, when one was fitted: its members (the model is their mean logit). */
  ensemble?: { idf: boolean; weights: number[]; C: number; cvLogLoss?: number }[];
  /** Every candidate configuration of the ensemble with its cross-validated log-loss (absent when CV was not possible). */
  ensembleCv?: { idf: boolean; w: number[]; C: number; logLoss: number }[];
  /**
   * Out-of-fold probabilities of every training row (not the extra rows): softmax of the mean out-of-fold logits of
   * the model's members (the configurations kept), each logit from the fold fit that did not see the row. Null when
   * nothing was cross-validated. (The members were chosen by the same folds' log-loss, so these are slightly
   * optimistic, as any CV-selected model's CV scores are.)
   */
  oofProba: number[][] | null;
  /** What oofProba is, e.g. "4-fold out-of-fold probabilities of the few-shot head (3 ensemble members)". */
  oofDescription: string | null;
  /** Probabilities computed from the fitted transforms and weights directly (reference for predictProba). */
  predict(x: Row[]): number[][];
  transforms: BlockTransform[];
}

const DEFAULT_C = 10;
/**
 * Below this many training texts the single fit's IDF setting is not cross-validated (IDF on):
 * with 2–3 held-out texts per fold the choice is noise.
 */
const MIN_CV_ROWS = 32;
/**
 * Single fit with many rows: above CV_MAX_ROWS training texts IDF stays on (the setting CV keeps
 * unless the other wins by CV_MARGIN) and nothing is cross-validated: each CV fold fit costs about
 * as much as the final fit, and 8 of them would multiply the time of 10,000 texts by 5–7 (measured:
 * npm run bench -- --scale).
 */
const CV_MAX_ROWS = 5000;
/** Mean CV macro-F1 a configuration must gain over the first (IDF on) to replace it (single fit). */
const CV_MARGIN = 0.03;

/** Regularisation strengths of the ensemble members. */
const ENSEMBLE_C = [1, 10, 100];
/** Members kept: the configurations with the lowest cross-validated log-loss. */
const ENSEMBLE_TOP = 3;
/** Above this many training rows one configuration is fitted (the ensemble's Gram matrices grow as n²). */
const ENSEMBLE_MAX_ROWS = 1000;
/**
 * Above this many rows a fit runs in the primal form (primal.ts: L-BFGS on the sparse rows, O(nnz·k)
 * per evaluation) instead of the kernel form (kernel.ts: Gram matrix + Cholesky, O(n²) memory,
 * O(n³) time). Measured crossover of one fit (hashing features, 100-character texts, 2 CPU cores):
 * see PRIMAL_CROSSOVER in README (npm run bench -- --scale). The ensemble (≤ ENSEMBLE_MAX_ROWS rows)
 * always uses the kernel form: its members share one Gram matrix per IDF setting.
 */
export const PRIMAL_MIN_ROWS = 600;
/** Folds of the configuration CV (fewer when a class is smaller). */
const MAX_FOLDS = 4;

/**
 * Squared block weights of the ensemble members: equal shares, and each of two blocks leaning 3:1.
 * (With three blocks, members leaning one block to half the weight scored lower at K = 8 on
 * fortunes and SpamAssassin — 0.625 and 0.879 against 0.629 and 0.894 for equal shares alone —
 * and took longer, so three or more blocks get equal shares.)
 */
function ensembleWeights(nBlocks: number): number[][] {
  const eq = new Array(nBlocks).fill(1 / nBlocks);
  return nBlocks === 2 ? [eq, [0.75, 0.25], [0.25, 0.75]] : [eq];
}

/** The rows transforms are fitted on: the training rows plus the unlabelled ones (FewShotOptions.vocabX). */
function withVocab(x: Row[], vocabX?: Row[]): Row[] { return vocabX?.length ? [...x, ...vocabX] : x; }

/** Fits the block transforms on the training rows. */
function fitTransforms(x: Row[], blocks: Block[], o: { idf?: boolean; blockWeights?: number[] } = {}): BlockTransform[] {
  // Sparse blocks: keep the training vocabulary (dims seen in training), optionally IDF-weighted.
  const w = o.blockWeights ?? blocks.map(() => 1 / Math.sqrt(blocks.length));
  return blocks.map((b, i) => {
    const sparse = sparsityOf(x, b) > 0.5;
    let idf: Float64Array | null = null;
    if (sparse) {
      idf = fitIdfOf(x, b);
      const unseen = Math.log(1 + x.length) + 1; // idf of a dim no training row has
      for (let j = 0; j < idf.length; j++) idf[j] = idf[j] >= unseen - 1e-9 ? 0 : o.idf === false ? 1 : idf[j];
    }
    return { start: b.start, end: b.end, idf, weight: w[i], renorm: true };
  });
}

/** Deterministic stratified folds: each class's examples dealt round-robin over `nf` folds. */
function stratifiedFolds(y: number[], k: number, nf: number): number[][] {
  const folds: number[][] = Array.from({ length: nf }, () => []);
  let next = 0;
  for (let c = 0; c < k; c++) y.forEach((v, i) => { if (v === c) { folds[next].push(i); next = (next + 1) % nf; } });
  return folds;
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

/**
 * Gram matrices of the blocks whose transform does not depend on the rows it is fitted on (dense blocks: no IDF and
 * no vocabulary, only each row's re-normalisation, weight 1), computed once per block over all rows of the final
 * fits (the training rows first). Every CV fold of both IDF settings and every final fit takes its sub-matrix
 * instead of recomputing the same dot products: the same sums in the same order, so the same values.
 */
class SharedGrams {
  private readonly full = new Map<number, Float64Array>();
  constructor(private readonly x: Row[], private readonly pacer: Pacer) {}

  /** Whether a block's transform is the row-independent one these Grams are computed with. */
  static covers(t: BlockTransform): boolean { return t.idf === null && t.renorm && t.weight === 1; }

  /** Rows ia × rows ib (indices into x) of the block's Gram matrix. */
  async sub(t: BlockTransform, ia: ArrayLike<number>, ib: ArrayLike<number>): Promise<Float64Array> {
    let K = this.full.get(t.start);
    if (!K) {
      const plain: BlockTransform[] = [{ start: t.start, end: t.end, idf: null, weight: 1, renorm: true }];
      const rows = this.x.map((v) => transformAny(v, plain)[0]);
      K = await drive(gramSteps(rows, rows, t.end - t.start), this.pacer);
      this.full.set(t.start, K);
    }
    const n = this.x.length;
    if (ia.length === n && ib.length === n && isRange(ia) && isRange(ib)) return K;
    const out = new Float64Array(ia.length * ib.length);
    for (let i = 0; i < ia.length; i++) for (let j = 0; j < ib.length; j++) out[i * ib.length + j] = K[ia[i] * n + ib[j]];
    return out;
  }
}

/** Whether the indices are 0, 1, 2, … */
function isRange(ix: ArrayLike<number>): boolean {
  for (let i = 0; i < ix.length; i++) if (ix[i] !== i) return false;
  return true;
}

/**
 * Per-block Gram matrices between rows a and b (cooperative). `shared`: the blocks it covers are taken from it
 * (a and b are the rows ia and ib of its rows).
 */
async function blockGrams(
  a: SparseRow[][], b: SparseRow[][], t: BlockTransform[], pacer: Pacer,
  shared?: { grams: SharedGrams; ia: ArrayLike<number>; ib: ArrayLike<number> },
): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const [j, blk] of t.entries()) {
    if (shared && SharedGrams.covers(blk)) { out.push(await shared.grams.sub(blk, shared.ia, shared.ib)); continue; }
    const aj = a.map((r) => r[j]);
    out.push(await drive(gramSteps(aj, a === b ? aj : b.map((r) => r[j]), blk.end - blk.start), pacer)); // a === b: symmetric
  }
  return out;
}

/** Σⱼ wⱼ·Mⱼ of per-block matrices of one shape (w: squared block weights). */
function weightedSum(Ms: Float64Array[], w: number[]): Float64Array {
  const K = new Float64Array(Ms[0].length);
  w.forEach((wj, j) => { if (wj) for (let i = 0; i < K.length; i++) K[i] += wj * Ms[j][i]; });
  return K;
}

/** One configuration: IDF setting, squared block weights, C. */
interface Config { idf: boolean; w: number[]; C: number }

/** What the configuration is, e.g. "IDF on · block weights 0.50/0.50 · C=10". */
function configLabel(c: Config): string {
  return `IDF ${c.idf ? 'on' : 'off'} · block weights ${c.w.map((v) => v.toFixed(2)).join('/')} · C=${c.C}`;
}

/** A configuration's cross-validation: raw sums, in the order the earlier code summed them (same models). */
interface Scored extends Config {
  /** Σ held-out log-loss over all rows / n. */
  logLoss: number;
  /** Σ over folds of each fold's mean held-out log-loss, and of each fold's macro-F1. */
  foldLossSum: number;
  foldF1Sum: number;
  /** Primal form: the last fold's weights, a warm start for the final fit of this configuration. */
  warm?: { W: Float64Array; b: Float64Array };
  /** Out-of-fold logits of every training row (n × k, row-major): each from the fold fit that did not see it. */
  oofLogits: Float64Array;
}

/** One CV fold: its rows, and the per-block Grams of its IDF setting (computed once per setting). */
interface Fold { tr: number[]; val: number[]; yTr: number[]; swTr?: number[] }

/** Counts candidate fits and reports them. */
class Tally {
  done = 0;
  private lastSent = 0;
  constructor(readonly total: number, private readonly report?: (done: number, total: number, message: string) => void) {}
  fitted(message: string): void { this.done++; this.lastSent = Date.now(); this.report?.(this.done, this.total, message); }
  /** During a fit: at most every PROGRESS_MS. */
  running(message: () => string): void {
    const now = Date.now();
    if (now - this.lastSent < PROGRESS_MS) return;
    this.lastSent = now;
    this.report?.(this.done, this.total, message());
  }
}

/**
 * Runs steps like `drive`, re-sending the latest `message()` through `tally` (throttled) at every
 * step, so that progress keeps coming while one step range of a large primal fit runs (one objective
 * evaluation over 100,000 rows takes seconds).
 */
function driveReporting<T>(steps: Generator<void, T>, pacer: Pacer, tally: Tally, message: () => string): Promise<T> {
  return drive((function* () {
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      tally.running(message);
      yield;
    }
  })(), pacer);
}

interface CvContext {
  x: Row[]; y: number[]; k: number; labels: string[]; blocks: Block[]; sw?: number[];
  folds: Fold[]; pacer: Pacer; tally: Tally; t0: number; onPoint?(m: EpochMetrics): void | Promise<void>;
  /** FewShotOptions.vocabX. */
  vocabX?: Row[];
  /** Whether a fit on this many rows runs in the primal form. */
  primal(rows: number): boolean;
  points: EpochMetrics[];
  /** Dense-block Grams over all rows (x are its first rows), when every fit is in the kernel form. */
  shared?: SharedGrams;
}

/**
 * Scores configurations by stratified k-fold CV over the original training rows (each fold fits
 * its own transforms on its training part), one configuration after the other: per IDF setting
 * the fold Grams are computed once, then each configuration is fitted on every fold and sent as a
 * progress point when its last fold is done.
 */
async function crossValidate(ctx: CvContext, cfgs: Config[]): Promise<Scored[]> {
  const { x, y, k, labels, folds, pacer } = ctx;
  const n = y.length;
  const out: Scored[] = [];
  for (const idf of [...new Set(cfgs.map((c) => c.idf))]) {
    const group = cfgs.filter((c) => c.idf === idf);
    // with one configuration per setting the Grams are used once: do not keep them (large n)
    const cache: ({ Ks: Float64Array[]; Kvs: Float64Array[] } | undefined)[] = [];
    for (const c of group) {
      let logLoss = 0;
      let foldLossSum = 0;
      let foldF1Sum = 0;
      let trainLoss = 0;
      let warm: Scored['warm'];
      const oof = new Array<number>(n).fill(0);
      const oofLogits = new Float64Array(n * k);
      for (const [f, fold] of folds.entries()) {
        let Z: Float64Array;
        let fit: { fit: { dataLoss: number } };
        if (ctx.primal(fold.tr.length)) {
          // primal form: the block weights go into the transform (scaling a block by √w weights its Gram by w)
          const t = fitTransforms(withVocab(fold.tr.map((i) => x[i]), ctx.vocabX), ctx.blocks, { idf, blockWeights: c.w.map(Math.sqrt) });
          const what = `candidate fit ${ctx.tally.done + 1} of ${ctx.tally.total}: ${configLabel(c)}, fold ${f + 1}`;
          let now = `${what}: building the sparse matrix of ${fold.tr.length} rows`;
          const X = await driveReporting(transformedCsrSteps(x, fold.tr, t, rowDim(x[0])), pacer, ctx.tally, () => now);
          now = `${what}: L-BFGS (primal form) starting`;
          const p = await driveReporting(fitPrimalSteps(X, fold.yTr, k, {
            C: c.C, sampleWeights: fold.swTr,
            onIter: (it, _obj, loss) => { now = `${what}: L-BFGS iteration ${it} (primal form), training log-loss ${loss.toFixed(4)}`; ctx.tally.running(() => now); },
          }), pacer, ctx.tally, () => now);
          fit = { fit: p };
          warm = { W: p.W, b: p.b };
          Z = primalLogits(fold.val.map((i) => x[i]), t, p.W, p.b, k);
        } else {
          let g = cache[f];
          if (!g) {
            const t = fitTransforms(withVocab(fold.tr.map((i) => x[i]), ctx.vocabX), ctx.blocks, { idf, blockWeights: ctx.blocks.map(() => 1) });
            const rt = fold.tr.map((i) => transformAny(x[i], t));
            const rv = fold.val.map((i) => transformAny(x[i], t));
            const sh = ctx.shared;
            g = {
              Ks: await blockGrams(rt, rt, t, pacer, sh && { grams: sh, ia: fold.tr, ib: fold.tr }),
              Kvs: await blockGrams(rv, rt, t, pacer, sh && { grams: sh, ia: fold.val, ib: fold.tr }),
            };
            if (group.length > 1) cache[f] = g;
          }
          const kf = await drive(fitKernelLogRegSteps(weightedSum(g.Ks, c.w), fold.tr.length, fold.yTr, k, { C: c.C, sampleWeights: fold.swTr }), pacer);
          fit = kf;
          Z = kernelLogits(weightedSum(g.Kvs, c.w), fold.val.length, fold.tr.length, kf.A, kf.b, k);
        }
        const P = softmaxRows(Z, fold.val.length, k);
        let ll = 0;
        fold.val.forEach((r, j) => { const l = Math.log(Math.max(1e-12, P[j * k + y[r]])); logLoss -= l; ll -= l; });
        foldLossSum += ll / fold.val.length;
        const pred = argmaxRows(Z, fold.val.length, k);
        foldF1Sum += macroF1(fold.val.map((i) => y[i]), pred, k);
        fold.val.forEach((r, j) => { oof[r] = pred[j]; oofLogits.set(Z.subarray(j * k, (j + 1) * k), r * k); });
        trainLoss += fit.fit.dataLoss;
        ctx.tally.fitted(`candidate fit ${ctx.tally.done + 1} of ${ctx.tally.total}: ${configLabel(c)}, fold ${f + 1} of ${folds.length}`);
      }
      out.push({ ...c, logLoss: logLoss / n, foldLossSum, foldF1Sum, oofLogits, ...(warm ? { warm } : {}) });
      const point: EpochMetrics = {
        epoch: ctx.points.length + 1, unit: 'configuration', label: configLabel(c),
        loss: trainLoss / folds.length, valLoss: logLoss / n, valMacroF1: macroF1(y, oof, k), valAccuracy: accuracyOf(y, oof),
        perClassRecall: perClassRecall(y, oof, labels), elapsedMs: Date.now() - ctx.t0,
      };
      ctx.points.push(point);
      await ctx.onPoint?.(point);
      pacer.check();
    }
  }
  return out;
}

/** Stratified folds of the original training rows, or null when a class has fewer than 2 examples. */
function cvFolds(y: number[], k: number, sw: number[] | undefined): Fold[] | null {
  const minCount = Math.min(...Array.from({ length: k }, (_, c) => y.filter((v) => v === c).length));
  const nf = Math.min(MAX_FOLDS, minCount);
  if (nf < 2) return null;
  return stratifiedFolds(y, k, nf).map((val) => {
    const inVal = new Set(val);
    const tr = y.map((_, i) => i).filter((i) => !inVal.has(i));
    return { tr, val, yTr: tr.map((i) => y[i]), swTr: sw && tr.map((i) => sw[i]) };
  });
}

/**
 * One linear part of the model: a transform and intercepts, with either its training rows and dual
 * coefficients per block (or one for all) of the kernel form, or the primal weights W (d × k).
 */
interface Part { t: BlockTransform[]; b: Float64Array; rows?: SparseRow[][]; A?: Float64Array[]; W?: Float64Array }

/** Fits the few-shot recipe; returns a ModelFile that `predictProba` runs. */
export async function fitFewShot(xTrain: Row[], yTrain: number[], opts: FewShotOptions): Promise<FewShotResult> {
  if (!xTrain.length) throw new Error('fitFewShot: no training examples');
  if (xTrain.length !== yTrain.length) throw new Error('fitFewShot: x and y lengths differ');
  const t0 = Date.now();
  const pacer = new Pacer(opts.signal);
  pacer.check();
  const labels = opts.labels;
  const k = labels.length;
  const d = rowDim(xTrain[0]);
  const n = xTrain.length;
  const blocks = opts.blocks ?? blocksFromEncoderId(opts.encoderId ?? '', d);
  const sampleWeights = opts.classWeights ? yTrain.map((c) => opts.classWeights![c] ?? 1) : undefined;

  // every row of the final fits: the training rows plus the extra rows
  const xAll = opts.extraX?.length ? [...xTrain, ...opts.extraX] : xTrain;
  const yAll = opts.extraX?.length ? [...yTrain, ...(opts.extraY ?? [])] : yTrain;
  if (xAll.length !== yAll.length) throw new Error('fitFewShot: extraX and extraY lengths differ');
  const nAll = xAll.length;
  const extraW = opts.extraWeights;
  if (extraW && extraW.length !== (opts.extraX?.length ?? 0)) throw new Error('fitFewShot: extraWeights and extraX lengths differ');
  const swAll = opts.classWeights || extraW
    ? yAll.map((c, i) => (opts.classWeights?.[c] ?? 1) * (i >= n && extraW ? extraW[i - n] : 1))
    : undefined;
  const useEnsemble = opts.ensemble ?? nAll <= ENSEMBLE_MAX_ROWS;
  const primal = (rows: number) => !useEnsemble && (opts.solver ? opts.solver === 'primal' : rows > PRIMAL_MIN_ROWS);

  // the plan: which configurations are cross-validated, and which are fitted on all rows
  const allFolds = cvFolds(yTrain, k, sampleWeights);
  // single fit on many texts: no CV (see CV_MAX_ROWS)
  const folds = useEnsemble || n <= CV_MAX_ROWS ? allFolds : null;
  let candidates: Config[];
  let finalFits: number;
  if (useEnsemble) {
    const idfs = blocks.some((bl) => sparsityOf(xAll, bl) > 0.5) ? [true, false] : [true];
    const wSets = ensembleWeights(blocks.length);
    candidates = idfs.flatMap((idf) => wSets.flatMap((w) => ENSEMBLE_C.map((C) => ({ idf, w, C }))));
    finalFits = folds ? Math.min(ENSEMBLE_TOP, candidates.length) : candidates.length;
  } else {
    const weights = opts.blockWeights ?? blocks.map(() => 1 / Math.sqrt(blocks.length));
    const idfCands = opts.idf === undefined && blocks.some((b) => sparsityOf(xTrain, b) > 0.5) ? [true, false] : [opts.idf !== false];
    candidates = idfCands.map((idf) => ({ idf, w: weights.map((v) => v * v), C: opts.C ?? DEFAULT_C }));
    finalFits = 1;
  }
  const scoreByCv = folds !== null && (useEnsemble || (candidates.length >= 2 && n >= MIN_CV_ROWS));
  const noValidation = scoreByCv ? null
    : allFolds !== null && folds === null ? `${n} training texts, more than ${CV_MAX_ROWS}: IDF stays on and nothing is cross-validated`
    : folds === null ? 'a class has fewer than 2 training examples, so nothing is cross-validated'
    : `${candidates.length < 2 ? 'one configuration' : `fewer than ${MIN_CV_ROWS} training texts`}: nothing is cross-validated`;
  const plan: FewShotPlan = {
    unit: 'configuration',
    points: scoreByCv ? candidates.length : 0,
    fits: (scoreByCv ? candidates.length * folds!.length : 0) + finalFits,
    folds: scoreByCv ? folds!.length : null,
    validation: scoreByCv ? `${folds!.length}-fold out-of-fold predictions on the training split (${n} texts; extra rows never take part)` : null,
    noValidation,
    algorithm: useEnsemble ? 'fewshot-ensemble' : 'fewshot-lbfgs',
  };
  opts.onPlan?.(plan);
  if (noValidation) opts.onLog?.(`Few-shot head: ${noValidation}, so there are no validation points.`);
  const tally = new Tally(plan.fits, opts.onProgress);
  const points: EpochMetrics[] = [];
  // every fit in the kernel form, on at most ENSEMBLE_MAX_ROWS rows: the dense blocks' Grams are computed once
  const shared = !primal(nAll) && nAll <= ENSEMBLE_MAX_ROWS ? new SharedGrams(xAll, pacer) : undefined;
  const scored = scoreByCv
    ? await crossValidate({ x: xTrain, y: yTrain, k, labels, blocks, sw: sampleWeights, folds: folds!, pacer, tally, t0, onPoint: opts.onPoint, points, primal, vocabX: opts.vocabX, shared }, candidates)
    : null;

  // The model: one linear part per transform (IDF on / off). With the ensemble, every member
  // (IDF × block weighting × C) is fitted on the unit-weight rows of its transform, and the parts
  // hold the mean of the members' weights, so the model's logits are the mean of the members'
  // logits (a geometric mean of their probabilities).
  let members: { idf: boolean; w: number[]; C: number; logLoss: number; warm?: Scored['warm']; oofLogits?: Float64Array }[];
  if (useEnsemble) {
    // keep the ENSEMBLE_TOP configurations with the lowest cross-validated log-loss (all of them when CV is not possible)
    members = scored ? [...scored].sort((a, b) => a.logLoss - b.logLoss).slice(0, ENSEMBLE_TOP) : candidates.map((c) => ({ ...c, logLoss: NaN }));
  } else {
    // highest CV macro-F1; ties → lower CV log-loss; then the earlier candidate. A candidate other
    // than the first must beat the first by more than CV_MARGIN mean macro-F1 (CV on a few texts is noisy).
    let best = 0;
    if (scored) {
      const margin = CV_MARGIN * folds!.length;
      scored.forEach((s, ci) => {
        if (ci === 0 || s.foldF1Sum <= scored[0].foldF1Sum + margin) return;
        const b = scored[best];
        if (s.foldF1Sum > b.foldF1Sum + 1e-9 || (Math.abs(s.foldF1Sum - b.foldF1Sum) <= 1e-9 && s.foldLossSum < b.foldLossSum - 1e-9)) best = ci;
      });
    }
    members = [{ ...candidates[best], logLoss: NaN, ...(scored?.[best].warm ? { warm: scored[best].warm } : {}), ...(scored ? { oofLogits: scored[best].oofLogits } : {}) }];
  }
  const M = members.length;
  let oofProba: number[][] | null = null;
  if (scored && members.every((c) => c.oofLogits)) {
    const Z = new Float64Array(n * k);
    for (const c of members) for (let i = 0; i < Z.length; i++) Z[i] += c.oofLogits![i] / M;
    const P = softmaxRows(Z, n, k);
    oofProba = Array.from({ length: n }, (_, i) => Array.from(P.subarray(i * k, (i + 1) * k)));
  }
  const parts: Part[] = [];
  let converged = true;
  const ensemble: FewShotResult['ensemble'] = [];
  for (const idf of [true, false]) {
    const mine = members.filter((c) => c.idf === idf);
    if (!mine.length) continue;
    // ensemble: unit block weights, members weight the per-block Grams; single fit: the transform carries the weights
    const t = fitTransforms(withVocab(xAll, opts.vocabX), blocks, { idf, blockWeights: useEnsemble ? blocks.map(() => 1) : opts.blockWeights ?? blocks.map(() => 1 / Math.sqrt(blocks.length)) });
    await pacer.pace();
    if (primal(nAll)) {
      // one fit in the primal form, on the transformed rows as one sparse matrix
      const c = mine[0];
      const which = `final fit (${configLabel(c)})`;
      let now = `${which}: building the sparse matrix of ${nAll} rows`;
      const X = await driveReporting(transformedCsrSteps(xAll, Int32Array.from(xAll.keys()), t, d), pacer, tally, () => now);
      now = `${which}: L-BFGS (primal form) starting`;
      const f = await driveReporting(fitPrimalSteps(X, yAll, k, {
        C: c.C, sampleWeights: swAll, maxIter: opts.maxIter, init: c.warm,
        onIter: (it, _obj, loss) => { now = `${which}: L-BFGS iteration ${it} (primal form), training log-loss ${loss.toFixed(4)}`; tally.running(() => now); },
      }), pacer, tally, () => now);
      converged &&= f.converged;
      ensemble.push({ idf, weights: c.w.map(Math.sqrt), C: c.C });
      tally.fitted(`${which}: ${f.iterations} L-BFGS iterations (primal form), training log-loss ${f.dataLoss.toFixed(4)}${f.converged ? '' : ' (not converged)'}`);
      parts.push({ t, W: f.W, b: f.b });
      continue;
    }
    const rows = xAll.map((v) => transformAny(v, t));
    await pacer.pace();
    const all = Array.from(xAll.keys());
    const Ks = await blockGrams(rows, rows, t, pacer, shared && { grams: shared, ia: all, ib: all });
    const A = useEnsemble ? blocks.map(() => new Float64Array(nAll * k)) : [new Float64Array(nAll * k)];
    const bSum = new Float64Array(k);
    for (const c of mine) {
      const which = useEnsemble ? `final member ${ensemble.length + 1} of ${M} (${configLabel(c)})` : `final fit (${configLabel(c)})`;
      const K = useEnsemble ? weightedSum(Ks, c.w) : sumOf(Ks);
      const f = await drive(fitKernelLogRegSteps(K, nAll, yAll, k, {
        C: c.C, sampleWeights: swAll, maxIter: opts.maxIter,
        onIter: (it, _obj, loss) => tally.running(() => `${which}: L-BFGS iteration ${it}, training log-loss ${loss.toFixed(4)}`),
      }), pacer);
      converged &&= f.fit.converged;
      if (useEnsemble) {
        // per block: Σ over members of (squared block weight × dual coefficients) / M
        c.w.forEach((wj, j) => { for (let i = 0; i < A[j].length; i++) A[j][i] += (wj * f.A[i]) / M; });
        for (let q = 0; q < k; q++) bSum[q] += f.b[q] / M;
      } else {
        A[0].set(f.A);
        bSum.set(f.b);
      }
      ensemble.push({ idf, weights: c.w.map(Math.sqrt), C: c.C, ...(Number.isFinite(c.logLoss) ? { cvLogLoss: c.logLoss } : {}) });
      tally.fitted(`${which}: ${f.fit.iterations} L-BFGS iterations, training log-loss ${f.fit.dataLoss.toFixed(4)}${f.fit.converged ? '' : ' (not converged)'}`);
    }
    parts.push({ t, rows, A, b: bSum });
  }
  const modelParts = parts.map((pt) => {
    // kernel form: W = Σᵢ x̃ᵢ ⊗ Aᵢ in the transformed space (d × k), block by block
    const W = pt.W ?? new Float64Array(d * k);
    const { rows, A } = pt;
    if (rows && A) {
      for (let i = 0; i < rows.length; i++) {
        for (let j = 0; j < pt.t.length; j++) {
          const { idx, val } = rows[i][j];
          const start = pt.t[j].start;
          const Aj = A[Math.min(j, A.length - 1)];
          const ao = i * k;
          for (let q = 0; q < idx.length; q++) {
            const off = (start + idx[q]) * k;
            const v = val[q];
            for (let c = 0; c < k; c++) W[off + c] += v * Aj[ao + c];
          }
        }
      }
    }
    const std = new Array<number>(d).fill(1);
    let anyIdf = false;
    for (const blk of pt.t) if (blk.idf) { anyIdf = true; for (let j = 0; j < blk.idf.length; j++) std[blk.start + j] = blk.idf[j] > 0 ? 1 / blk.idf[j] : OFF; }
    return {
      weights: [
        { name: 'W', shape: [d, k], values: Array.from(Float32Array.from(W)) }, // float32 values (as Math.fround)
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

  const predict = (x: Row[]): number[][] => {
    const Z = new Float64Array(x.length * k);
    for (const pt of parts) {
      if (pt.W) { primalLogits(x, pt.t, pt.W, pt.b, k, Z); continue; }
      const r = x.map((v) => transformAny(v, pt.t));
      const { rows, A } = pt as Required<Part>;
      pt.t.forEach((blk, j) => {
        const g = gram(r.map((row) => row[j]), rows.map((row) => row[j]), blk.end - blk.start);
        const Zj = kernelLogits(g, x.length, rows.length, A[Math.min(j, A.length - 1)], new Float64Array(k), k);
        for (let i = 0; i < Z.length; i++) Z[i] += Zj[i];
      });
      for (let i = 0; i < x.length; i++) for (let c = 0; c < k; c++) Z[i * k + c] += pt.b[c];
    }
    const P2 = softmaxRows(Z, x.length, k);
    return x.map((_, i) => Array.from(P2.subarray(i * k, (i + 1) * k)));
  };
  const vals = points.map((p) => p.valMacroF1).filter((v): v is number => v !== null);
  const single = members[0];
  return {
    model, converged, points, plan, predict, transforms: parts[0].t, oofProba,
    oofDescription: oofProba ? `${folds!.length}-fold out-of-fold probabilities of the few-shot head on the training split (${n} texts; ${M === 1 ? 'its configuration' : `mean logits of its ${M} ensemble members`})` : null,
    bestValMacroF1: vals.length ? Math.max(...vals) : null,
    C: single.C, idf: single.idf, blockWeights: single.w.map(Math.sqrt),
    ...(useEnsemble
      ? { ensemble, ...(scored ? { ensembleCv: scored.map(({ idf, w, C, logLoss }) => ({ idf, w, C, logLoss })) } : {}) }
      : scored ? { cvConfigs: scored.map((s) => ({ weights: s.w.map(Math.sqrt), idf: s.idf, macroF1: s.foldF1Sum / folds!.length, logLoss: s.foldLossSum / folds!.length })) } : {}),
  };
}

/** Σⱼ Mⱼ (the block weights are in the transform). */
function sumOf(Ms: Float64Array[]): Float64Array {
  const K = new Float64Array(Ms[0].length);
  for (const m of Ms) for (let i = 0; i < K.length; i++) K[i] += m[i];
  return K;
}
