/**
 * The trainer reports its stages in English ("Refitting on all 30 training examples (30 epochs)"): they are
 * the CLI's and the log's words. The notification, the status bar and the dashboard show them in the UI
 * language: each stage template of src/core/train.ts is matched here and becomes an l10n key with its
 * values as arguments; anything else (e.g. the few-shot solver's iteration lines) is shown as sent.
 * Pure (no vscode) so unit tests can check it.
 */
export const STAGE_TEMPLATES: readonly (readonly [RegExp, string])[] = [
  [/^Loading (.+)$/, 'Loading {0}'],
  [/^(\d+) training and (\d+) test examples, (\d+) labels$/, '{0} training and {1} test examples, {2} labels'],
  [/^(\d+) training and (\d+) test examples, (\d+) labels; text column "(.*)", label column "(.*)"$/, '{0} training and {1} test examples, {2} labels; text column "{3}", label column "{4}"'],
  [/^Augmenting training texts \((\d+) per text\)$/, 'Augmenting training texts ({0} per text)'],
  [/^Embedding (\d+) texts with (.+)$/, 'Embedding {0} texts with {1}'],
  [/^(\d+) cached, (\d+) computed$/, '{0} cached, {1} computed'],
  [/^Evaluating on (\d+) test examples$/, 'Evaluating on {0} test examples'],
  [/^Evaluating the ONNX model on (\d+) test examples in Node$/, 'Evaluating the ONNX model on {0} test examples in Node'],
  [/^Saving model and report$/, 'Saving model and report'],
  [/^Refitting on all (\d+) training examples \((\d+) epochs\)$/, 'Refitting on all {0} training examples ({1} epochs)'],
  [/^Cross-validating epochs: fold (\d+) of (\d+)$/, 'Cross-validating epochs: fold {0} of {1}'],
  [/^Cross-validating epochs: fold (\d+) of (\d+), epoch (\d+)\/(\d+), validation macro-F1 (\S+)$/, 'Cross-validating epochs: fold {0} of {1}, epoch {2}/{3}, validation macro-F1 {4}'],
  [/^Fitting the final model on all training examples \((\d+) epochs\)$/, 'Fitting the final model on all training examples ({0} epochs)'],
  [/^Fitting the few-shot head: (\d+) candidate fits \((\d+) configurations × (\d+) CV folds, then the final fits on all training rows\)$/, 'Fitting the few-shot head: {0} candidate fits ({1} configurations × {2} CV folds, then the final fits on all training rows)'],
  [/^Fitting the few-shot head: (\d+) candidate fits \(the final fits on all training rows\)$/, 'Fitting the few-shot head: {0} candidate fits (the final fits on all training rows)'],
  [/^Cross-validation fold (\d+) of (\d+)$/, 'Cross-validation fold {0} of {1}'],
];

/** The l10n key and arguments of a stage message, or undefined when no template matches. */
export function stageKey(text: string): { key: string; args: string[] } | undefined {
  for (const [re, key] of STAGE_TEMPLATES) {
    const m = re.exec(text);
    if (m) return { key, args: m.slice(1) };
  }
  return undefined;
}
