/**
 * Classification metrics that match scikit-learn (1.2) exactly:
 * `classification_report(y_true, y_pred, labels=…, digits=4, zero_division=0)`
 * and `confusion_matrix(y_true, y_pred, labels=…)`.
 *
 * Synchronous and dependency-free: used by the pipeline, the CLI and webviews.
 */
import type { ClassificationReport, ClassMetrics } from '../protocol/run';

export type { ClassificationReport, ClassMetrics };

/**
 * A report that may carry a micro average. sklearn prints an "accuracy" row when the
 * labels are exactly those of y_true ∪ y_pred, and a "micro avg" row when `labels`
 * was given and differs; `micro` is set only in that second case.
 */
export type ReportWithMicro = ClassificationReport & { micro?: ClassMetrics };

/** Code-point order, like numpy's sort of unicode strings. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/** Sorted unique labels of y_true ∪ y_pred (sklearn's `unique_labels`). */
export function uniqueLabels(...ys: string[][]): string[] {
  const s = new Set<string>();
  for (const y of ys) for (const v of y) s.add(v);
  return [...s].sort(compareCodePoints);
}

/** confusion[i][j] = number of samples with true labels[i] predicted as labels[j]. Samples whose true or predicted label is not in `labels` are ignored (like sklearn). */
export function confusionMatrix(yTrue: string[], yPred: string[], labels?: string[]): { labels: string[]; matrix: number[][] } {
  checkLengths(yTrue.length, yPred.length);
  const labs = labels ?? uniqueLabels(yTrue, yPred);
  const idx = new Map<string, number>();
  labs.forEach((l, i) => { if (!idx.has(l)) idx.set(l, i); });
  const matrix = labs.map(() => labs.map(() => 0));
  for (let k = 0; k < yTrue.length; k++) {
    const i = idx.get(yTrue[k]);
    const j = idx.get(yPred[k]);
    if (i !== undefined && j !== undefined) matrix[i][j]++;
  }
  return { labels: labs, matrix };
}

function checkLengths(a: number, b: number): void {
  if (a !== b) throw new Error(`metrics: y_true has ${a} items but y_pred has ${b}`);
}

function div(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

function prf(tp: number, predicted: number, support: number): { precision: number; recall: number; f1: number } {
  const precision = div(tp, predicted);
  const recall = div(tp, support);
  // sklearn 1.2 computes F-beta from precision and recall: (1+β²)·p·r / (β²·p + r), 0 when p + r = 0.
  const f1 = div(2 * precision * recall, precision + recall);
  return { precision, recall, f1 };
}

/**
 * scikit-learn's classification_report as data + its text table (digits=4).
 * `labels` defaults to the sorted union of y_true and y_pred.
 */
export function classificationReport(yTrue: string[], yPred: string[], labels?: string[], split = 'test'): ReportWithMicro {
  checkLengths(yTrue.length, yPred.length);
  const { labels: labs, matrix } = confusionMatrix(yTrue, yPred, labels);
  const perClass: Record<string, ClassMetrics> = {};
  const rows: ClassMetrics[] = [];
  let totalSupport = 0;
  // Per-label counts over all samples (like sklearn's multilabel_confusion_matrix): a sample
  // counts toward its true label's support even if its prediction is outside `labels`.
  const idx = new Map<string, number>();
  labs.forEach((l, i) => { if (!idx.has(l)) idx.set(l, i); });
  const tpA = new Array<number>(labs.length).fill(0);
  const supA = new Array<number>(labs.length).fill(0);
  const predA = new Array<number>(labs.length).fill(0);
  for (let k = 0; k < yTrue.length; k++) {
    const i = idx.get(yTrue[k]);
    const j = idx.get(yPred[k]);
    if (i !== undefined) supA[i]++;
    if (j !== undefined) predA[j]++;
    if (i !== undefined && yTrue[k] === yPred[k]) tpA[i]++;
  }
  for (let i = 0; i < labs.length; i++) {
    const m: ClassMetrics = { ...prf(tpA[i], predA[i], supA[i]), support: supA[i] };
    rows.push(m);
    perClass[labs[i]] = m;
    totalSupport += supA[i];
  }
  const n = rows.length;
  const macro: ClassMetrics = {
    precision: n ? rows.reduce((s, r) => s + r.precision, 0) / n : 0,
    recall: n ? rows.reduce((s, r) => s + r.recall, 0) / n : 0,
    f1: n ? rows.reduce((s, r) => s + r.f1, 0) / n : 0,
    support: totalSupport,
  };
  const weighted: ClassMetrics = {
    precision: div(rows.reduce((s, r) => s + r.precision * r.support, 0), totalSupport),
    recall: div(rows.reduce((s, r) => s + r.recall * r.support, 0), totalSupport),
    f1: div(rows.reduce((s, r) => s + r.f1 * r.support, 0), totalSupport),
    support: totalSupport,
  };
  let correct = 0;
  for (let k = 0; k < yTrue.length; k++) if (yTrue[k] === yPred[k]) correct++;
  const accuracy = div(correct, yTrue.length);
  const report: ReportWithMicro = { labels: labs, perClass, accuracy, macro, weighted, confusion: matrix, text: '', split };
  const union = uniqueLabels(yTrue, yPred);
  const labSet = new Set(labs);
  if (labels && !(union.length === labSet.size && union.every((l) => labSet.has(l)))) {
    // Counts over the given labels, whatever the other side of each sample is (sklearn's multilabel_confusion_matrix).
    let tpSum = 0, predSum = 0, trueSum = 0;
    for (let k = 0; k < yTrue.length; k++) {
      const t = labSet.has(yTrue[k]);
      const p = labSet.has(yPred[k]);
      if (t) trueSum++;
      if (p) predSum++;
      if (t && yTrue[k] === yPred[k]) tpSum++;
    }
    const m = prf(tpSum, predSum, trueSum);
    report.micro = { ...m, support: trueSum };
  }
  report.text = formatReport(report);
  return report;
}

/**
 * Python's `format(x, '.{digits}f')`: the exact binary value rounded half-to-even
 * (JS toFixed rounds exact ties up, e.g. 0.03125 → "0.0313" where Python prints "0.0312").
 */
export function formatFixed(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  if (abs >= 1e21) return x.toFixed(digits);
  const exact = abs.toFixed(100); // exact decimal expansion of the double (enough digits for |x| ≥ ~1e-48)
  const dot = exact.indexOf('.');
  const intPart = exact.slice(0, dot);
  const frac = exact.slice(dot + 1);
  const kept = intPart + frac.slice(0, digits);
  const rest = frac.slice(digits);
  let roundUp = false;
  if (rest[0] > '5') roundUp = true;
  else if (rest[0] === '5') {
    if (/[1-9]/.test(rest.slice(1))) roundUp = true;
    else roundUp = Number(kept[kept.length - 1]) % 2 === 1;
  }
  let digitsStr = kept;
  if (roundUp) {
    const arr = kept.split('').map(Number);
    let i = arr.length - 1;
    while (i >= 0) {
      if (arr[i] === 9) { arr[i] = 0; i--; } else { arr[i]++; break; }
    }
    digitsStr = (i < 0 ? '1' : '') + arr.join('');
  }
  const ip = digitsStr.slice(0, digitsStr.length - digits) || '0';
  const fp = digitsStr.slice(digitsStr.length - digits);
  const s = digits > 0 ? `${ip.replace(/^0+(?=\d)/, '')}.${fp}` : ip.replace(/^0+(?=\d)/, '');
  return neg && /[1-9]/.test(s) ? `-${s}` : s;
}

function padLeft(s: string, w: number): string {
  // Python pads by code points; count them the same way.
  const len = [...s].length;
  return len >= w ? s : ' '.repeat(w - len) + s;
}

/** The text table printed by sklearn's classification_report (digits=4 by default). */
export function formatReport(r: ReportWithMicro, digits = 4): string {
  const heading = 'weighted avg';
  const nameWidth = Math.max(0, ...r.labels.map((l) => [...l].length));
  const width = Math.max(nameWidth, heading.length, digits);
  const headers = ['precision', 'recall', 'f1-score', 'support'];
  let out = padLeft('', width) + ' ' + headers.map((h) => ' ' + padLeft(h, 9)).join('') + '\n\n';
  // sklearn quirk (1.2 and later): when no sample at all is predicted correctly, its counts become
  // float arrays and the support column prints as "3.0". Mirror it so the text stays identical.
  const sup = (n: number) => (r.accuracy === 0 ? `${n}.0` : String(n));
  const row = (name: string, m: ClassMetrics) =>
    padLeft(name, width) + ' ' + [m.precision, m.recall, m.f1].map((v) => ' ' + padLeft(formatFixed(v, digits), 9)).join('') + ' ' + padLeft(sup(m.support), 9) + '\n';
  for (const l of r.labels) out += row(l, r.perClass[l]);
  out += '\n';
  if (r.micro) out += row('micro avg', r.micro);
  else out += padLeft('accuracy', width) + ' ' + ' ' + padLeft('', 9) + ' ' + padLeft('', 9) + ' ' + padLeft(formatFixed(r.accuracy, digits), 9) + ' ' + padLeft(sup(r.macro.support), 9) + '\n';
  out += row('macro avg', r.macro);
  out += row('weighted avg', r.weighted);
  return out;
}

/**
 * Fast macro-F1 over integer class ids, for per-epoch validation. Like sklearn's
 * `f1_score(average='macro', zero_division=0)`: averaged over the classes that occur
 * in y_true or y_pred (ids outside [0, nClasses) are ignored).
 */
export function macroF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, nClasses: number): number {
  checkLengths(yTrue.length, yPred.length);
  const tp = new Float64Array(nClasses);
  const support = new Float64Array(nClasses);
  const predicted = new Float64Array(nClasses);
  for (let k = 0; k < yTrue.length; k++) {
    const t = yTrue[k];
    const p = yPred[k];
    const tOk = t >= 0 && t < nClasses;
    const pOk = p >= 0 && p < nClasses;
    if (tOk) support[t]++;
    if (pOk) predicted[p]++;
    if (tOk && t === p) tp[t]++;
  }
  let sum = 0;
  let n = 0;
  for (let c = 0; c < nClasses; c++) {
    if (support[c] === 0 && predicted[c] === 0) continue;
    const p = div(tp[c], predicted[c]);
    const r = div(tp[c], support[c]);
    sum += div(2 * p * r, p + r);
    n++;
  }
  return n ? sum / n : 0;
}

/** Accuracy over integer class ids (0 for empty input). */
export function accuracyOf(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue.length, yPred.length);
  let c = 0;
  for (let k = 0; k < yTrue.length; k++) if (yTrue[k] === yPred[k]) c++;
  return div(c, yTrue.length);
}

/** Recall per class name (labels[i] is class id i); 0 for a class with no samples in y_true. */
export function perClassRecall(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, labels: string[]): Record<string, number> {
  checkLengths(yTrue.length, yPred.length);
  const n = labels.length;
  const tp = new Float64Array(n);
  const support = new Float64Array(n);
  for (let k = 0; k < yTrue.length; k++) {
    const t = yTrue[k];
    if (t < 0 || t >= n) continue;
    support[t]++;
    if (yPred[k] === t) tp[t]++;
  }
  const out: Record<string, number> = {};
  labels.forEach((l, i) => { out[l] = div(tp[i], support[i]); });
  return out;
}

/** Index of the largest of `p[from … to)` relative to `from` (the first one on ties). */
export function argmax(p: ArrayLike<number>, from = 0, to = p.length): number {
  let b = from;
  for (let i = from + 1; i < to; i++) if (p[i] > p[b]) b = i;
  return b - from;
}

/** Row-wise argmax of an m × k row-major score matrix. */
export function argmaxRows(Z: ArrayLike<number>, m: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) out.push(argmax(Z, i * k, (i + 1) * k));
  return out;
}

/** Softmax of `z[from … to)` in place (max-shifted). */
export function softmaxInPlace<T extends Float64Array | Float32Array>(z: T, from = 0, to = z.length): T {
  let m = -Infinity;
  for (let i = from; i < to; i++) if (z[i] > m) m = z[i];
  let s = 0;
  for (let i = from; i < to; i++) { z[i] = Math.exp(z[i] - m); s += z[i]; }
  for (let i = from; i < to; i++) z[i] /= s;
  return z;
}

/** Row-wise softmax of an m × k row-major logit matrix (a new matrix). */
export function softmaxRows(Z: Float64Array, m: number, k: number): Float64Array {
  const P = Float64Array.from(Z);
  for (let i = 0; i < m; i++) softmaxInPlace(P, i * k, (i + 1) * k);
  return P;
}
