"""Benchmark (not a test): the `setfit` library's own default recipe on one split — the peer anchor
of `npm run bench -- --setfit` (issue 14).

    python python/bench/setfit_default.py < split.json        (or --split split.json)

split.json: {"model": "<sentence-transformer folder>", "train": {"texts": [...], "labels": [int]},
             "test": {"texts": [...], "labels": [int]}, "nclasses": C, "maxSteps": N (optional)}

The recipe is setfit's: SetFitModel.from_pretrained(model) (the body + a scikit-learn
LogisticRegression head), Trainer with TrainingArguments() as they come. The only deviation
allowed is `maxSteps` (TrainingArguments(max_steps=N)): the cap on contrastive pair steps that the
issue's 3-minute budget (K=8 x 17 classes on 2 CPU cores) forces; it is echoed back in
`deviations`. Prints one JSON line: {"macroF1", "seconds", "trainSeconds", "cpuSeconds", "steps",
"deviations", "setfit"}. Test macro-F1 counts every class 0..C-1 (zero_division=0), as the bench's other columns.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # private and offline: the body is a local folder
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def run(split: dict) -> dict:
    t0 = time.perf_counter()
    from datasets import Dataset  # noqa: PLC0415 (heavy imports timed with the run)
    from setfit import SetFitModel, Trainer, TrainingArguments, __version__  # noqa: PLC0415
    from sklearn.metrics import f1_score  # noqa: PLC0415

    deviations = {}
    kwargs = {}
    if split.get("maxSteps"):
        kwargs["max_steps"] = int(split["maxSteps"])
        deviations["max_steps"] = kwargs["max_steps"]
    model = SetFitModel.from_pretrained(split["model"])
    train = Dataset.from_dict({"text": split["train"]["texts"], "label": split["train"]["labels"]})
    with tempfile.TemporaryDirectory(prefix="setfit-default-") as out:  # where its trainer writes checkpoints; not a recipe change
        trainer = Trainer(model=model, args=TrainingArguments(output_dir=out, **kwargs), train_dataset=train)
        t1 = time.perf_counter()
        trainer.train()
        train_s = time.perf_counter() - t1
    pred = [int(p) for p in model.predict(split["test"]["texts"], as_numpy=True)]
    f1 = f1_score(split["test"]["labels"], pred, labels=list(range(int(split["nclasses"]))), average="macro", zero_division=0)
    return {
        "macroF1": float(f1),
        "seconds": time.perf_counter() - t0,
        "trainSeconds": train_s,
        "cpuSeconds": time.process_time(),  # all threads; next to `seconds` it shows how loaded the machine was
        "steps": int(trainer.st_trainer.state.global_step),
        "deviations": deviations,
        "setfit": __version__,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", help="split JSON file (default: stdin)")
    a = p.parse_args()
    try:
        if a.split:
            with open(a.split, encoding="utf-8") as f:
                split = json.load(f)
        else:
            split = json.load(sys.stdin)
    except (OSError, json.JSONDecodeError) as e:
        print(f"setfit_default.py: cannot read the split {a.split or '<stdin>'}: {e}", file=sys.stderr)
        return 2
    for key in ("model", "train", "test", "nclasses"):
        if key not in split:
            print(f"setfit_default.py: the split {a.split or '<stdin>'} has no \"{key}\" field", file=sys.stderr)
            return 2
    try:
        import setfit  # noqa: F401, PLC0415
    except ImportError:
        print(f"setfit_default.py: the setfit library is not installed in {sys.executable} (pip install setfit==1.2.0)", file=sys.stderr)
        return 3
    print(json.dumps(run(split)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
