/**
 * Recall targets ("a missed diagnosis is worse than a false alarm"): per-class decision thresholds chosen on the
 * out-of-fold probabilities of the training split, and the rule that applies them (DecisionRule in
 * src/protocol/labels.ts): a class with a target is predicted whenever p(class) ≥ its threshold (several: the
 * largest p/threshold), otherwise the argmax; with `abstain`, a top probability below it gives UNCERTAIN_LABEL.
 */
import { UNCERTAIN_LABEL, type DecisionRule } from '../../protocol/labels';

/** Index of the decided class, or -1 for "uncertain". */
export function decideIndex(p: ArrayLike<number>, labels: readonly string[], rule: Pick<DecisionRule, 'thresholds' | 'abstain'>): number {
  let best = -1;
  let bestRatio = 0;
  labels.forEach((l, c) => {
    const t = rule.thresholds[l];
    if (t === undefined || p[c] < t) return;
    const r = p[c] / Math.max(t, 1e-12);
    if (best < 0 || r > bestRatio) { best = c; bestRatio = r; }
  });
  if (best >= 0) return best;
  let top = 0;
  for (let c = 1; c < labels.length; c++) if (p[c] > p[top]) top = c;
  if (rule.abstain !== undefined && p[top] < rule.abstain) return -1;
  return top;
}

/** The decided label (UNCERTAIN_LABEL when abstaining). */
export function decideLabel(p: ArrayLike<number>, labels: readonly string[], rule: Pick<DecisionRule, 'thresholds' | 'abstain'>): string {
  const i = decideIndex(p, labels, rule);
  return i < 0 ? UNCERTAIN_LABEL : labels[i];
}

function recallOf(probs: ArrayLike<number>[], y: readonly number[], c: number, labels: readonly string[], th: Record<string, number>): number {
  let hit = 0, n = 0;
  y.forEach((g, i) => { if (g !== c) return; n++; if (decideIndex(probs[i], labels, { thresholds: th }) === c) hit++; });
  return n ? hit / n : NaN;
}

/**
 * Chooses, for each class with a target, the highest threshold whose out-of-fold recall meets the target, given
 * the other thresholds (three passes, as targets interact). A target that cannot be met keeps the threshold of
 * the best recall reachable and is listed in `unmet`.
 */
export function chooseThresholds(
  probs: ArrayLike<number>[], y: readonly number[], labels: readonly string[], minRecall: Record<string, number>, chosenOn: string, abstain?: number,
): DecisionRule {
  const targets = labels.map((l, c) => ({ l, c, target: minRecall[l] })).filter((t) => t.target !== undefined);
  const th: Record<string, number> = {};
  // start from "never forced" (threshold 1: only a certain prediction), then lower each as needed
  for (const t of targets) th[t.l] = 1;
  for (let pass = 0; pass < 3; pass++) {
    for (const t of targets) {
      // candidate thresholds: the class's own examples' probabilities, highest first
      const cands = [...new Set(y.flatMap((g, i) => (g === t.c ? [probs[i][t.c]] : [])))].sort((a, b) => b - a);
      let chosen = cands.length ? cands[cands.length - 1] : 1;
      let bestR = -1, bestT = chosen;
      for (const v of cands) {
        th[t.l] = v;
        const r = recallOf(probs, y, t.c, labels, th);
        if (r > bestR + 1e-12) { bestR = r; bestT = v; }
        if (r >= t.target - 1e-12) { chosen = v; bestR = r; bestT = v; break; }
      }
      th[t.l] = bestR >= t.target - 1e-12 ? chosen : bestT;
    }
  }
  const trainRecall: Record<string, number> = {};
  const unmet: DecisionRule['unmet'] = [];
  for (const t of targets) {
    const r = recallOf(probs, y, t.c, labels, th);
    trainRecall[t.l] = r;
    if (!(r >= t.target - 1e-12)) unmet.push({ label: t.l, target: t.target, reached: Number.isFinite(r) ? r : 0 });
  }
  return { minRecall: { ...minRecall }, thresholds: th, trainRecall, unmet, ...(abstain !== undefined ? { abstain } : {}), chosenOn };
}
