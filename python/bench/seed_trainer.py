"""The seed's method, for the benchmark (not a test): plain Hugging Face `Trainer`, batch 8, 20 epochs,
lr 2e-5, evaluation and a checkpoint every epoch, best checkpoint by macro-F1, fp16 on CUDA, no staged
unfreezing, all layers trained from the first step.

    python python/bench/seed_trainer.py --model DIR --train train.jsonl --val val.jsonl [--test test.jsonl]
        [--epochs 20] [--batch-size 8] [--lr 2e-5] [--max-length 128] [--seed 42]

Each JSONL line: {"text": "...", "label": "name"} (or an integer class). Prints one JSON line:
{"method": "seed-trainer", "wallSeconds": …, "trainSeconds": …, "bestValMacroF1": …, "testMacroF1": …, …}.
wallSeconds covers loading, training, evaluation and checkpoints (what a user waits for).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def read_jsonl(path: str) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if "text" not in row or "label" not in row:
                sys.exit(f"{path}:{n}: each line needs 'text' and 'label'")
            rows.append(row)
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--val", required=True)
    p.add_argument("--test")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    t0 = time.perf_counter()
    out_stream, sys.stdout = sys.stdout, sys.stderr  # Trainer prints its logs; stdout keeps only the result

    import numpy as np
    import torch
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                              TrainingArguments, set_seed)

    from fewshot_worker.metrics import classification_metrics

    train, val = read_jsonl(a.train), read_jsonl(a.val)
    test = read_jsonl(a.test) if a.test else []
    names = sorted({str(r["label"]) for r in train + val + test})
    index = {n: i for i, n in enumerate(names)}
    set_seed(a.seed)
    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForSequenceClassification.from_pretrained(
        a.model, num_labels=len(names), id2label=dict(enumerate(names)), label2id=index, ignore_mismatched_sizes=True)

    class Rows(torch.utils.data.Dataset):
        def __init__(self, rows):
            self.enc = tok([r["text"] for r in rows], truncation=True, max_length=a.max_length)
            self.labels = [index[str(r["label"])] for r in rows]

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, i):
            return {**{k: v[i] for k, v in self.enc.items()}, "labels": self.labels[i]}

    def compute_metrics(pred):
        y_pred = np.argmax(pred.predictions, axis=-1).tolist()
        m = classification_metrics(list(map(int, pred.label_ids)), y_pred, names)
        return {"f1": m["macroF1"], "accuracy": m["accuracy"]}

    with tempfile.TemporaryDirectory(prefix="seed-trainer-") as out:
        args = TrainingArguments(
            output_dir=out, per_device_train_batch_size=a.batch_size, per_device_eval_batch_size=32,
            num_train_epochs=a.epochs, learning_rate=a.lr, eval_strategy="epoch", save_strategy="epoch",
            load_best_model_at_end=True, metric_for_best_model="f1", greater_is_better=True, save_total_limit=2,
            fp16=torch.cuda.is_available(), seed=a.seed, report_to=[], logging_strategy="epoch",
            disable_tqdm=True)
        trainer = Trainer(model=model, args=args, train_dataset=Rows(train), eval_dataset=Rows(val),
                          data_collator=DataCollatorWithPadding(tok), compute_metrics=compute_metrics)
        t_train = time.perf_counter()
        trainer.train()
        train_seconds = time.perf_counter() - t_train
        best = trainer.evaluate()
        result = {"method": "seed-trainer", "model": a.model, "train": len(train), "val": len(val),
                  "epochs": a.epochs, "batchSize": a.batch_size, "learningRate": a.lr,
                  "device": "cuda" if torch.cuda.is_available() else "cpu",
                  "bestValMacroF1": best["eval_f1"]}
        if test:
            pred = trainer.predict(Rows(test))
            result["testMacroF1"] = compute_metrics(pred)["f1"]
    result["trainSeconds"] = round(train_seconds, 2)
    result["wallSeconds"] = round(time.perf_counter() - t0, 2)
    out_stream.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
