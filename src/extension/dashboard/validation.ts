/**
 * What a run's validation was (run.json `progress.validation`) is recorded in English by the engine; the
 * dashboard shows it translated. Each template the engine writes (src/core/train.ts, src/core/fewshot) is
 * matched here and becomes an l10n key with its numbers as arguments; anything else is shown as recorded.
 * Pure (no vscode) so unit tests can check it.
 */
export const VALIDATION_TEMPLATES: readonly (readonly [RegExp, string])[] = [
  [/^stratified (\d+)% hold-out of the training split \((\d+) examples\)$/, 'stratified {0}% hold-out of the training split ({1} examples)'],
  [/^(\d+)-fold CV over the training split, mean over folds$/, '{0}-fold CV over the training split, mean over folds'],
  [/^none \(training-set metrics: no validation data\)$/, 'none (training-set metrics: no validation data)'],
  [/^(\d+)-fold out-of-fold predictions on the training split \((\d+) texts; extra rows never take part\)$/, '{0}-fold out-of-fold predictions on the training split ({1} texts; extra rows never take part)'],
  [/^none for the pairs \(contrastive loss on pairs of training texts\); the head is scored by cross-validation next$/, 'none for the pairs (contrastive loss on pairs of training texts); the head is scored by cross-validation next'],
  [/^none \((\d+) training texts, more than (\d+): IDF stays on and nothing is cross-validated\)$/, 'none ({0} training texts, more than {1}: IDF stays on and nothing is cross-validated)'],
  [/^none \(a class has fewer than 2 training examples, so nothing is cross-validated\)$/, 'none (a class has fewer than 2 training examples, so nothing is cross-validated)'],
  [/^none \(one configuration: nothing is cross-validated\)$/, 'none (one configuration: nothing is cross-validated)'],
  [/^none \(fewer than (\d+) training texts: nothing is cross-validated\)$/, 'none (fewer than {0} training texts: nothing is cross-validated)'],
  // runs recorded before the reason was given
  [/^none \(a class is too small to cross-validate\)$/, 'none (a class is too small to cross-validate)'],
];

/** The l10n key and arguments of a recorded validation description, or undefined when no template matches. */
export function validationKey(text: string): { key: string; args: string[] } | undefined {
  for (const [re, key] of VALIDATION_TEMPLATES) {
    const m = re.exec(text);
    if (m) return { key, args: m.slice(1) };
  }
  return undefined;
}
