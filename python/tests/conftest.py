import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PYTHON_DIR))

from fewshot_worker.tiny import DEFAULT_LABELS, make_tiny_model, synthetic_corpus  # noqa: E402

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The tiny model gains nothing from threads, and on a shared 2-core machine they only contend.
os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random BERT (hidden 32, 4 layers, 2 heads) with a WordPiece tokenizer."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def examples(rows):
    return [{"text": t, "label": y} for t, y in rows]


def make_job(model: Path, out: Path, *, train=20, val=5, test=3, **settings) -> dict:
    base = {"model": str(model), "allowRemote": False, "epochs": 4, "batchSize": 8, "learningRate": 3e-3,
            "weightDecay": 0.01, "warmupRatio": 0.1, "patience": 0, "unfreezeTop": 2, "fullFinetuneAbove": 500,
            "headEpochs": 1, "precision": "auto", "device": "cpu", "maxLength": 32, "seed": 1}
    base.update(settings)
    return {
        "protocol": 1, "labels": list(DEFAULT_LABELS),
        "train": examples(synthetic_corpus(train, seed=1)),
        "val": examples(synthetic_corpus(val, seed=2)),
        "test": [{"text": t} for t, _ in synthetic_corpus(test, seed=3)],
        "outputDir": str(out), "settings": base,
    }


def write_job(tmp_path: Path, job: dict) -> Path:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job), encoding="utf-8")
    return path


def worker_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_worker(job_path: Path, timeout=120, extra_args=()) -> tuple[int, list[dict], str]:
    """Runs `python -m fewshot_worker --job …`; every stdout line must be a protocol message."""
    proc = subprocess.run([sys.executable, *extra_args, "-m", "fewshot_worker", "--job", str(job_path)],
                          capture_output=True, text=True, env=worker_env(), timeout=timeout, stdin=subprocess.DEVNULL)
    messages = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, messages, proc.stderr
