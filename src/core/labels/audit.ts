/**
 * Likely label errors by confident learning (Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty
 * in Dataset Labels", JAIR 2021) on out-of-fold probabilities:
 * - per-class thresholds tⱼ = mean p(j) over the examples labelled j, clipped at (1 + 1/k) / 2 so that an example the
 *   model puts in a class with that much probability always counts there (a very confident model otherwise has
 *   thresholds near 1 and misses an obvious flip at p = 0.8);
 * - the confident joint C[i][j] counts each example labelled i under the likeliest class j whose probability reaches
 *   its threshold;
 * - an example is flagged when both of cleanlab's rules flag it (its filter_by='both'): "prune by noise rate" (per
 *   off-diagonal cell (i, j), the C[i][j] share of the examples labelled i, calibrated to the label count, with the
 *   largest margin p(j) − p(i) > 0) and "prune by class" (per class i, its off-diagonal count of examples labelled i
 *   with the lowest p(i)). Never all examples of a class.
 * Flagged examples are ranked by self-confidence (lowest p(given) first).
 *
 * `npm run bench -- --labels` measures it against cleanlab's find_label_issues on the same probabilities (README):
 * the clipping and the 'both' rule each raise F1 on the development corpora.
 */

export interface FlaggedExample {
  index: number;
  /** Given class index. */
  given: number;
  /** Likeliest other class. */
  suggested: number;
  pGiven: number;
  pSuggested: number;
  /** 1 − p(given): higher = more likely wrong. */
  score: number;
}

export interface ConfidentLearningOptions {
  /** Never flag so many examples of a class that fewer than this many remain (default 1). */
  minKeepPerClass?: number;
}

/** Per-class thresholds: mean out-of-fold probability of class j over the examples labelled j (NaN when none). */
export function perClassThresholds(probs: ArrayLike<number>[], y: readonly number[], k: number): number[] {
  const sum = new Array<number>(k).fill(0);
  const cnt = new Array<number>(k).fill(0);
  y.forEach((c, i) => { sum[c] += probs[i][c]; cnt[c]++; });
  return sum.map((s, j) => (cnt[j] ? s / cnt[j] : NaN));
}

/** The thresholds the confident joint uses: perClassThresholds clipped at (1 + 1/k) / 2 (see the file comment). */
export function clippedThresholds(probs: ArrayLike<number>[], y: readonly number[], k: number): number[] {
  const cap = (1 + 1 / k) / 2;
  return perClassThresholds(probs, y, k).map((t) => (Number.isNaN(t) ? t : Math.min(t, cap)));
}

/**
 * The confident joint C[i][j]: examples labelled i whose likeliest class at or above its threshold is j
 * (examples with no class at its threshold are not counted).
 */
export function confidentJoint(probs: ArrayLike<number>[], y: readonly number[], k: number, t = clippedThresholds(probs, y, k)): number[][] {
  const C = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  y.forEach((c, i) => {
    let best = -1;
    for (let j = 0; j < k; j++) if (probs[i][j] >= t[j] - 1e-12 && (best < 0 || probs[i][j] > probs[i][best])) best = j;
    if (best >= 0) C[c][best]++;
  });
  return C;
}

/** Flags likely label errors (see the file comment); sorted by score, descending. */
export function findLabelIssues(probs: ArrayLike<number>[], y: readonly number[], k: number, o: ConfidentLearningOptions = {}): FlaggedExample[] {
  const n = y.length;
  if (probs.length !== n) throw new Error('findLabelIssues: probs and y lengths differ');
  if (!n || k < 2) return [];
  const minKeep = o.minKeepPerClass ?? 1;
  const C = confidentJoint(probs, y, k);
  const byClass: number[][] = Array.from({ length: k }, () => []);
  y.forEach((c, idx) => byClass[c].push(idx));
  // prune by noise rate: per cell (i, j), that many examples labelled i with the largest margin p(j) − p(i) > 0
  const byNoiseRate = new Set<number>();
  for (let i = 0; i < k; i++) {
    const rowSum = C[i].reduce((a, v) => a + v, 0);
    if (!rowSum) continue;
    const mine = byClass[i];
    let budget = Math.max(0, mine.length - minKeep);
    for (let j = 0; j < k; j++) {
      if (j === i || !C[i][j]) continue;
      const m = Math.min(budget, Math.round((C[i][j] / rowSum) * mine.length)); // the row calibrated to the label count
      if (m <= 0) continue;
      const byMargin = mine.filter((idx) => !byNoiseRate.has(idx)).sort((a, b) => (probs[b][j] - probs[b][i]) - (probs[a][j] - probs[a][i]) || a - b);
      for (const idx of byMargin.slice(0, m)) {
        // only examples the model actually prefers another class for (as cleanlab's margin > 0 check)
        if (probs[idx][j] - probs[idx][i] <= 0) break;
        byNoiseRate.add(idx);
        budget--;
      }
    }
  }
  // prune by class: per class i, its off-diagonal count of examples labelled i with the lowest p(i)
  const flagged: number[] = [];
  for (let i = 0; i < k; i++) {
    const m = Math.min(C[i].reduce((a, v, j) => a + (j === i ? 0 : v), 0), byClass[i].length - minKeep);
    if (m <= 0) continue;
    const lowest = [...byClass[i]].sort((a, b) => probs[a][i] - probs[b][i] || a - b).slice(0, m);
    for (const idx of lowest) if (byNoiseRate.has(idx)) flagged.push(idx);
  }
  return flagged.map((idx) => {
    const p = probs[idx];
    const g = y[idx];
    let s = -1;
    for (let j = 0; j < k; j++) if (j !== g && (s < 0 || p[j] > p[s])) s = j;
    return { index: idx, given: g, suggested: s, pGiven: p[g], pSuggested: p[s], score: 1 - p[g] };
  }).sort((a, b) => b.score - a.score || a.index - b.index);
}
