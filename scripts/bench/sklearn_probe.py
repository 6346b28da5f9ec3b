#!/usr/bin/env python3
"""Linear-probe baseline for `npm run bench`: scikit-learn LogisticRegression fed
the identical embedding matrices the Node benchmark used.

Reads a JSON job list on stdin:
  [{"id": ..., "train": "<f32 file>", "test": "<f32 file>", "dim": D,
    "ytrain": [int], "ytest": [int], "nclasses": C}]
A job {"id", "kind": "tfidf", "train_texts": [str], "test_texts": [str], "ytrain", "ytest", "nclasses"}
is the character TF-IDF anchor of ../shared/ANCHORS.md instead: TfidfVectorizer(analyzer='char_wb',
ngram_range=(1, 3), sublinear_tf=True) fit on the training texts, then the same LogisticRegression;
its fit_s covers vectorising and fitting.
Writes one JSON object per job on stdout: {"id", "macro_f1", "fit_s", "cv_macro_f1", "cv_fit_s"}.
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

warnings.filterwarnings("ignore")


def load(path, dim):
    return np.fromfile(path, dtype=np.float32).reshape(-1, dim)


def main():
    jobs = json.load(sys.stdin)
    for job in jobs:
        ytr, yte = np.array(job["ytrain"]), np.array(job["ytest"])
        labels = list(range(job["nclasses"]))
        t = time.perf_counter()
        if job.get("kind") == "tfidf":
            vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
            xtr = vec.fit_transform(job["train_texts"])
            xte = vec.transform(job["test_texts"])
        else:
            xtr, xte = load(job["train"], job["dim"]), load(job["test"], job["dim"])
        lr = LogisticRegression(max_iter=2000).fit(xtr, ytr)
        fit_s = time.perf_counter() - t
        f1 = f1_score(yte, lr.predict(xte), labels=labels, average="macro", zero_division=0)
        out = {"id": job["id"], "macro_f1": float(f1), "fit_s": fit_s}
        min_count = int(np.bincount(ytr).min())
        if job.get("cv") and min_count >= 2:
            t = time.perf_counter()
            folds = StratifiedKFold(n_splits=min(4, min_count), shuffle=True, random_state=0)
            gs = GridSearchCV(LogisticRegression(max_iter=2000), {"C": [0.1, 1, 10, 100]}, cv=folds, scoring="f1_macro")
            gs.fit(xtr, ytr)
            out["cv_fit_s"] = time.perf_counter() - t
            out["cv_macro_f1"] = float(f1_score(yte, gs.predict(xte), labels=labels, average="macro", zero_division=0))
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
