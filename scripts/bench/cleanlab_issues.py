#!/usr/bin/env python3
"""cleanlab baseline of `npm run bench -- --labels` (scripts/bench/labels.ts): cleanlab.filter.find_label_issues on
the same out-of-fold probabilities as Few-Shot Lab's audit. Reads a JSON list of jobs {id, labels, pred_probs} on
stdin; prints one JSON line per job: {id, issues: {filter_by: [indices]}} with cleanlab's default filter
('prune_by_noise_rate') first, then its other filters for reference; a last line {"cleanlab": version}.
cleanlab is a benchmark-only dependency: scripts/bench/requirements.txt."""
import json
import sys
import warnings

import numpy as np
import cleanlab
from cleanlab.filter import find_label_issues

warnings.filterwarnings("ignore")

FILTERS = ["prune_by_noise_rate", "both", "confident_learning", "prune_by_class", "predicted_neq_given"]


def main():
    for job in json.load(sys.stdin):
        labels = np.asarray(job["labels"], dtype=int)
        probs = np.asarray(job["pred_probs"], dtype=float)
        out = {}
        for f in FILTERS:
            try:
                mask = find_label_issues(labels=labels, pred_probs=probs, filter_by=f)
                out[f] = [int(i) for i in np.flatnonzero(mask)]
            except Exception as e:  # noqa: BLE001 - reported, never hidden
                out[f] = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps({"id": job["id"], "issues": out}), flush=True)
    print(json.dumps({"cleanlab": cleanlab.__version__}))


if __name__ == "__main__":
    main()
