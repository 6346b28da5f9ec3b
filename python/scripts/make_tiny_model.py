"""Write a tiny random BERT classifier with a WordPiece tokenizer into a folder (no download).

    python python/scripts/make_tiny_model.py --out DIR [--labels a,b,c] [--seed N]

Used by the TypeScript tests to get a model folder for the fine-tuning worker. Prints one JSON line:
{"out": DIR, "labels": [...], "vocabulary": N}. Texts made of the words `<label>aa`, `<label>ab` …
(see fewshot_worker.tiny.topic_words) are learnable by it.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fewshot_worker.tiny import DEFAULT_LABELS, make_tiny_model, vocabulary  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to write (created)")
    parser.add_argument("--labels", default=",".join(DEFAULT_LABELS), help="comma-separated label names")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    labels = [l.strip() for l in args.labels.split(",") if l.strip()]
    if len(labels) < 2:
        parser.error("--labels needs at least two names")
    out = make_tiny_model(args.out, labels=labels, seed=args.seed)
    print(json.dumps({"out": str(out), "labels": labels, "vocabulary": len(vocabulary(labels))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
