#!/usr/bin/env python3
"""scikit-learn baseline of `npm run bench -- --scale`: LogisticRegression (lbfgs, C from the job)
on the same sparse encoder matrix (CSR files written by scripts/bench/scale.ts).
Prints one JSON object: fit_s, fit_cpu_s (all threads), peak_rss_mib (this process), macro_f1 on the test rows."""
import json
import resource
import sys
import time
import warnings

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

warnings.filterwarnings("ignore")


def load(prefix, dim):
    ptr = np.fromfile(prefix + ".ptr", dtype=np.int32)
    idx = np.fromfile(prefix + ".idx", dtype=np.int32)
    val = np.fromfile(prefix + ".val", dtype=np.float32)
    return csr_matrix((val, idx, ptr), shape=(len(ptr) - 1, dim))


def main():
    job = json.load(open(sys.argv[1]))
    xtr, xte = load(job["train"], job["dim"]), load(job["test"], job["dim"])
    t = time.perf_counter()
    c = time.process_time()
    lr = LogisticRegression(C=job["C"], max_iter=1000).fit(xtr, np.array(job["ytrain"]))
    fit_s = time.perf_counter() - t
    fit_cpu_s = time.process_time() - c
    f1 = f1_score(np.array(job["ytest"]), lr.predict(xte), labels=list(range(job["nclasses"])), average="macro", zero_division=0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"fit_s": fit_s, "fit_cpu_s": fit_cpu_s, "peak_rss_mib": int(rss), "macro_f1": float(f1), "iterations": int(np.max(lr.n_iter_))}))


if __name__ == "__main__":
    main()
