#!/usr/bin/env python3
"""Character TF-IDF linear-probe anchor (issue 14, Chinese target) on the raw texts of the
benchmark's splits: TfidfVectorizer(analyzer='char_wb', ngram_range=(1, 3), sublinear_tf=True)
fit on the training texts + LogisticRegression(max_iter=2000), macro-F1 on the test texts.

Reads a JSON job list on stdin: [{"id", "train": [text], "ytrain": [int], "test": [text],
"ytest": [int], "nclasses": C}]. Writes one JSON object per job on stdout: {"id", "macro_f1", "fit_s"}.
"""
import json
import sys
import time
import warnings

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

warnings.filterwarnings("ignore")


def main():
    for job in json.load(sys.stdin):
        t = time.perf_counter()
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        xtr = vec.fit_transform(job["train"])
        lr = LogisticRegression(max_iter=2000).fit(xtr, job["ytrain"])
        fit_s = time.perf_counter() - t
        pred = lr.predict(vec.transform(job["test"]))
        f1 = f1_score(job["ytest"], pred, labels=list(range(job["nclasses"])), average="macro", zero_division=0)
        print(json.dumps({"id": job["id"], "macro_f1": float(f1), "fit_s": fit_s}), flush=True)


if __name__ == "__main__":
    main()
