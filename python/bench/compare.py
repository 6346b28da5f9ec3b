"""Benchmark (not a test): the worker (staged unfreezing + frozen-layer cache) next to the seed's plain
`Trainer` script, on the same data, in the same run, one after the other.

    python python/bench/compare.py --model DIR --data train.jsonl [--test test.jsonl] [--epochs 20]
        [--val-fraction 0.2] [--seed 42] [--patience 0]

JSONL lines: {"text": …, "label": …}. The validation split is a stratified hold-out of --data (the same
for both). Prints one JSON line per method and a final {"ratio": worker wall / seed wall}. Both runs
include loading and checkpoints; the worker's also includes its ONNX export and parity check.
`--patience 0` (default) runs all epochs in both, as the seed does.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fewshot_worker.metrics import classification_metrics  # noqa: E402


def read(path):
    return [json.loads(l) for l in Path(path).read_text(encoding="utf-8").splitlines() if l.strip()]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--test")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--patience", type=int, default=0)
    a = p.parse_args()
    rows, test = read(a.data), read(a.test) if a.test else []
    labels = sorted({str(r["label"]) for r in rows})
    rng = random.Random(a.seed)
    train, val = [], []
    for label in labels:
        group = [r for r in rows if str(r["label"]) == label]
        rng.shuffle(group)
        k = max(1, round(len(group) * a.val_fraction))
        val += group[:k]
        train += group[k:]
    index = {l: i for i, l in enumerate(labels)}
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    with tempfile.TemporaryDirectory(prefix="fewshot-bench-") as tmp:
        tmp = Path(tmp)
        for name, part in (("train", train), ("val", val), ("test", test)):
            (tmp / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
        job = {"protocol": 1, "labels": labels,
               "train": [{"text": r["text"], "label": index[str(r["label"])]} for r in train],
               "val": [{"text": r["text"], "label": index[str(r["label"])]} for r in val],
               "test": [{"text": r["text"]} for r in test], "outputDir": str(tmp / "out"),
               "settings": {"model": a.model, "allowRemote": False, "epochs": a.epochs, "batchSize": 8,
                            "learningRate": 2e-5, "weightDecay": 0.01, "warmupRatio": 0.1, "patience": a.patience,
                            "unfreezeTop": 3, "fullFinetuneAbove": 500, "headEpochs": 3, "precision": "auto",
                            "device": "auto", "maxLength": 128, "seed": a.seed}}
        (tmp / "job.json").write_text(json.dumps(job), encoding="utf-8")

        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "fewshot_worker", "--job", str(tmp / "job.json")],
                              capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        worker_wall = time.perf_counter() - t0
        msgs = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
        done = next((m for m in msgs if m["type"] == "done"), None)
        if done is None:
            sys.exit(f"worker failed: {msgs[-1] if msgs else proc.stderr[-2000:]}")
        worker = {"method": "worker-staged", "wallSeconds": round(worker_wall, 2), "train": len(train), "val": len(val),
                  "epochsRun": done["epochsRun"], "bestEpoch": done["bestEpoch"], "bestValMacroF1": done["bestValMacroF1"],
                  "stages": [(s["stage"], s["trainableParameters"], s["lastEpoch"] - s["firstEpoch"] + 1) for s in done["stages"]],
                  "device": msgs[0]["device"]["name"],
                  # epochs only (training + validation), comparable with the seed's trainSeconds
                  "trainSeconds": round(sum(m["elapsedMs"] for m in msgs if m["type"] == "epoch") / 1000, 2)}
        if test:
            pred = [max(range(len(labels)), key=lambda j: p[j]) for p in done["testProbabilities"]]
            worker["testMacroF1"] = classification_metrics([index[str(r["label"])] for r in test], pred, labels)["macroF1"]
        print(json.dumps(worker), flush=True)

        cmd = [sys.executable, str(HERE / "seed_trainer.py"), "--model", a.model, "--train", str(tmp / "train.jsonl"),
               "--val", str(tmp / "val.jsonl"), "--epochs", str(a.epochs), "--seed", str(a.seed)]
        if test:
            cmd += ["--test", str(tmp / "test.jsonl")]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        seed_wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"seed trainer failed: {proc.stderr[-2000:]}")
        seed = json.loads(proc.stdout.strip().splitlines()[-1])
        seed["wallSeconds"] = round(seed_wall, 2)
        print(json.dumps(seed), flush=True)
        print(json.dumps({"ratio": round(worker_wall / seed_wall, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
