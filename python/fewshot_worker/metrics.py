"""Validation metrics with scikit-learn's semantics (macro over the labels seen in y_true ∪ y_pred)."""

from __future__ import annotations


def classification_metrics(y_true: list[int], y_pred: list[int], labels: list[str]) -> dict:
    n = len(labels)
    tp, fp, fn, support = [0] * n, [0] * n, [0] * n, [0] * n
    for t, p in zip(y_true, y_pred):
        support[t] += 1
        if t == p:
            tp[t] += 1
        else:
            fp[p] += 1
            fn[t] += 1
    present = sorted(set(y_true) | set(y_pred))
    f1s = []
    for c in present:
        denom = 2 * tp[c] + fp[c] + fn[c]
        f1s.append(2 * tp[c] / denom if denom else 0.0)
    return {
        "macroF1": sum(f1s) / len(f1s) if f1s else 0.0,
        "accuracy": sum(tp) / len(y_true) if y_true else 0.0,
        # Recall only for classes with validation examples (it is undefined for the others).
        "perClassRecall": {labels[c]: tp[c] / support[c] for c in range(n) if support[c]},
    }
