/**
 * Label tools (issue 15): likely label errors, what to label next, recall targets. Types only, shared by
 * core (src/core/labels), the CLI (`fewshot audit`, `fewshot suggest`, `--min-recall`), the extension
 * (Check Labels, Label Review, Suggest What to Label Next) and the dashboard's per-sample table.
 *
 * Files, all owned by src/core/labels (others call it):
 *   <store>/labels/reviewed.json   ReviewedFile: examples marked "reviewed" (never flagged again until the text changes)
 *   <store>/labels/audit.json      AuditResult of the last audit of each dataset (keyed by dataset path)
 * and in a run folder (owned by src/core/runs):
 *   oof.jsonl                      one TrainPrediction per training example (out-of-fold probabilities), when the head computed them
 */

/** Format version of the files above. */
export const LABELS_FORMAT_VERSION = 1;

/** What predict returns for a text no class is confident enough about (abstain threshold; off by default). */
export const UNCERTAIN_LABEL = 'uncertain';

/**
 * One training example with its out-of-fold probabilities (every probability comes from a model that did not see
 * the example). `index` is the example's index in `dataset.train`.
 */
export interface TrainPrediction {
  index: number;
  text: string;
  /** The label the dataset gives. */
  label: string;
  /** argmax of `probabilities`. */
  predicted: string;
  probabilities: Record<string, number>;
  file?: string;
  line?: number;
}

/** A training example whose label is probably wrong (confident learning on out-of-fold probabilities). */
export interface LabelSuspect {
  /** Index in dataset.train. */
  index: number;
  file: string;
  /** 1-based line (table formats). */
  line?: number;
  text: string;
  /** sha256 (hex) of the text: a "reviewed" mark holds while the text is unchanged. */
  textHash: string;
  /** The label the dataset gives. */
  given: string;
  /** The label the model believes (the likeliest other class). */
  suggested: string;
  /** Out-of-fold probability of `suggested` and of `given`. */
  pSuggested: number;
  pGiven: number;
  /** Rank score, higher = more likely wrong (1 − self-confidence). */
  score: number;
}

export interface AuditResult {
  formatVersion: number;
  /** Absolute dataset path. */
  dataset: string;
  /** Dataset fingerprint the audit was computed on. */
  fingerprint: string;
  createdAt: string;
  /** Encoder id of the embeddings. */
  encoder: string;
  /** How the probabilities were obtained, e.g. "4-fold out-of-fold probabilities of the few-shot head". */
  probabilities: string;
  /** The rule that flagged the suspects, e.g. "confident learning (prune by noise rate), ranked by self-confidence". */
  method: string;
  /** Training examples checked. */
  examples: number;
  /** Sorted by score, descending. Reviewed examples are left out. */
  suspects: LabelSuspect[];
  /** Flagged examples left out because they were marked reviewed. */
  reviewedSkipped: number;
  /** Run the probabilities came from (audit after a run), absent for an on-demand audit. */
  runId?: string;
}

/** An unlabelled text suggested for labelling. */
export interface LabelSuggestion {
  /** Index in dataset.unlabeled. */
  index: number;
  file: string;
  line?: number;
  text: string;
  textHash: string;
  /** The current model's guess and its probabilities. */
  predicted: string;
  probabilities: Record<string, number>;
  /** p(top) − p(second). */
  margin: number;
  /** Rank (0 = label first). */
  rank: number;
  /** Why it was picked, e.g. "uncertain (margin 0.04), far from the labelled texts". */
  reason: string;
}

export interface SuggestResult {
  formatVersion: number;
  dataset: string;
  fingerprint: string;
  createdAt: string;
  encoder: string;
  /** Unlabelled texts considered. */
  unlabeled: number;
  /** The strategy, e.g. "margin uncertainty + k-centre diversity on the embeddings". */
  method: string;
  suggestions: LabelSuggestion[];
}

/**
 * Per-class decision rule saved with a model (ModelFile.decision) and applied by every predict path (core
 * predict, Predict Selection, serve): a class with a minimum recall is predicted whenever its probability
 * reaches its threshold (several: the largest p/threshold); otherwise the argmax; with `abstain` set, a
 * text whose top probability is below it gets UNCERTAIN_LABEL.
 */
export interface DecisionRule {
  /** Requested minimum recall per class (0–1). */
  minRecall: Record<string, number>;
  /** Chosen threshold per class with a target (probability 0–1). */
  thresholds: Record<string, number>;
  /** Recall reached on the out-of-fold predictions of the training split, per class with a target. */
  trainRecall: Record<string, number>;
  /** Classes whose target could not be met on the training split, with the best reachable recall. */
  unmet: { label: string; target: number; reached: number }[];
  /** Abstain below this top probability (absent = off). */
  abstain?: number;
  /** What the thresholds were chosen on, e.g. "4-fold out-of-fold predictions on the training split (96 texts)". */
  chosenOn: string;
}

/** Per class in the report when a decision rule is used: target, recall on test, and what it cost in precision. */
export interface RecallTargetRow {
  label: string;
  target: number | null;
  threshold: number | null;
  /** On the test split: with the rule, and with the plain argmax. */
  recall: number;
  precision: number;
  argmaxRecall: number;
  argmaxPrecision: number;
}

/** <store>/labels/reviewed.json */
export interface ReviewedFile {
  formatVersion: number;
  /** key = `${textHash}:${label}`: the example was reviewed with that label. */
  reviewed: Record<string, { at: string; file?: string }>;
}
