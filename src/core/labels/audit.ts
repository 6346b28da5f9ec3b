/**
 * Likely label errors by confident learning (Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty
 * in Dataset Labels", JAIR 2021) on out-of-fold probabilities: per-class thresholds tⱼ = mean p(j) over the examples
 * labelled j; the confident joint counts each example under the likeliest class whose probability reaches its
 * threshold; it is calibrated to the label counts, and, per off-diagonal cell (given i, true j), that many examples
 * labelled i with the largest margin p(j) − p(i) are flagged ("prune by noise rate"). Flagged examples are ranked by
 * self-confidence (lowest p(given) first).
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

/**
 * The confident joint C[i][j]: examples labelled i whose likeliest class at or above its threshold is j
 * (examples with no class at its threshold are not counted).
 */
export function confidentJoint(probs: ArrayLike<number>[], y: readonly number[], k: number, t = perClassThresholds(probs, y, k)): number[][] {
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
  const counts = new Array<number>(k).fill(0);
  y.forEach((c) => counts[c]++);
  // calibrate each row to the number of examples with that label
  const flagged = new Set<number>();
  for (let i = 0; i < k; i++) {
    const rowSum = C[i].reduce((a, v) => a + v, 0);
    if (!rowSum) continue;
    const mine = y.map((c, idx) => (c === i ? idx : -1)).filter((idx) => idx >= 0);
    let budget = Math.max(0, mine.length - minKeep);
    for (let j = 0; j < k; j++) {
      if (j === i || !C[i][j]) continue;
      const m = Math.min(budget, Math.round((C[i][j] / rowSum) * counts[i]));
      if (m <= 0) continue;
      const byMargin = mine.filter((idx) => !flagged.has(idx)).sort((a, b) => (probs[b][j] - probs[b][i]) - (probs[a][j] - probs[a][i]) || a - b);
      for (const idx of byMargin.slice(0, m)) {
        // only examples the model actually prefers another class for (as cleanlab's prune_by_noise_rate with its margin > 0 check)
        if (probs[idx][j] - probs[idx][i] <= 0) break;
        flagged.add(idx);
        budget--;
      }
    }
  }
  return [...flagged].map((idx) => {
    const p = probs[idx];
    const g = y[idx];
    let s = -1;
    for (let j = 0; j < k; j++) if (j !== g && (s < 0 || p[j] > p[s])) s = j;
    return { index: idx, given: g, suggested: s, pGiven: p[g], pSuggested: p[s], score: 1 - p[g] };
  }).sort((a, b) => b.score - a.score || a.index - b.index);
}
