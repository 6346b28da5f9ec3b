/**
 * Recall targets around the decision rule (thresholds.ts): the report's per-class table (target, threshold,
 * recall and precision with the rule and with the plain argmax) and the unmet-target warnings. Parsing and
 * checking the targets (`cardiology=0.95,gastro=0.9`) is in src/core/config.ts, which the extension host may import.
 */
import { UNCERTAIN_LABEL, type DecisionRule, type RecallTargetRow } from '../../protocol/labels';
import { formatFixed } from '../metrics';
import { decideIndex } from './thresholds';

/** "target 0.99 for cardiology not reachable on the training split; best reachable 0.93" (one per unmet target). */
export function unmetTargetMessages(rule: DecisionRule): string[] {
  return rule.unmet.map((u) => `target ${u.target} for ${u.label} not reachable on the training split; best reachable ${formatFixed(u.reached, 2)}`);
}

/** Decided (rule) and plain argmax class indices of probability rows. */
export function decidedIndices(probs: ArrayLike<number>[], labels: readonly string[], rule: DecisionRule): { decided: number[]; argmax: number[] } {
  return { decided: probs.map((p) => decideIndex(p, labels, rule)), argmax: probs.map((p) => decideIndex(p, labels, { thresholds: {} })) };
}

function prAt(gold: readonly number[], pred: readonly number[], c: number): { recall: number; precision: number } {
  let tp = 0, sup = 0, n = 0;
  gold.forEach((g, i) => { if (g === c) sup++; if (pred[i] === c) { n++; if (g === c) tp++; } });
  return { recall: sup ? tp / sup : 0, precision: n ? tp / n : 0 };
}

/**
 * The report's table, one row per class: recall and precision of the decided labels (`decided`: class indices,
 * -1 = "uncertain", a miss) and of the plain argmax (`argmax`), against `gold` (class indices).
 * `decidedIndices` gives both from probabilities and one rule.
 */
export function recallTargetRows(gold: readonly number[], decided: readonly number[], argmax: readonly number[], labels: readonly string[], rule: DecisionRule): RecallTargetRow[] {
  return labels.map((label, c) => {
    const a = prAt(gold, decided, c);
    const b = prAt(gold, argmax, c);
    const target = rule.minRecall[label];
    const threshold = rule.thresholds[label];
    return {
      label, target: target ?? null, threshold: threshold ?? null,
      recall: a.recall, precision: a.precision, argmaxRecall: b.recall, argmaxPrecision: b.precision,
    };
  });
}

/** The recall-target block of report.txt (after the scikit-learn table). */
export function formatRecallTargets(rows: RecallTargetRow[], rule: DecisionRule, split: string, uncertain?: number, total?: number): string {
  const f = (v: number | null): string => (v === null ? '-' : formatFixed(v, 4));
  const head = ['class', 'target', 'threshold', 'recall', 'precision', 'argmax recall', 'argmax precision'];
  const body = rows.map((r) => [r.label, r.target === null ? '-' : String(r.target), f(r.threshold), f(r.recall), f(r.precision), f(r.argmaxRecall), f(r.argmaxPrecision)]);
  const w = head.map((h, i) => Math.max([...h].length, ...body.map((b) => [...b[i]].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c + ' '.repeat(w[i] - [...c].length) : ' '.repeat(w[i] - [...c].length) + c)).join('  ');
  const out = [
    `Recall targets (thresholds chosen on ${rule.chosenOn}; recall and precision on the ${split} split, with the thresholds and with the plain argmax: the difference is what each target cost):`,
    line(head), ...body.map(line),
  ];
  for (const m of unmetTargetMessages(rule)) out.push(`WARNING: ${m}.`);
  if (rule.abstain !== undefined) {
    out.push(`Abstain below ${rule.abstain}: ${uncertain ?? 0} of ${total ?? 0} texts got "${UNCERTAIN_LABEL}"; they count as misses in their class's recall and in no class's precision${uncertain ? ' (so the table above shows "micro avg", as scikit-learn does, instead of "accuracy")' : ''}.`);
  }
  return out.join('\n') + '\n';
}
