"""python/bench/setfit_default.py (the `npm run bench -- --setfit` peer anchor) on a tiny model."""

import importlib.util
import json
import subprocess
import sys

import pytest
from conftest import PYTHON_DIR, synthetic_corpus, worker_env

SCRIPT = PYTHON_DIR / "bench" / "setfit_default.py"


def run(split_text: str, *args: str):
    return subprocess.run([sys.executable, str(SCRIPT), *args], input=split_text, capture_output=True, text=True,
                          env=worker_env(), timeout=300)


def pack(rows):
    return {"texts": [t for t, _ in rows], "labels": [y for _, y in rows]}


@pytest.mark.skipif(importlib.util.find_spec("setfit") is None, reason="the setfit library is not installed")
def test_runs_the_library_recipe_with_only_the_step_cap_as_deviation(tiny_model, tmp_path):
    split = {"model": str(tiny_model), "train": pack(synthetic_corpus(4, seed=1)), "test": pack(synthetic_corpus(5, seed=3)),
             "nclasses": 3, "maxSteps": 3}
    path = tmp_path / "split.json"
    path.write_text(json.dumps(split), encoding="utf-8")
    proc = run("", "--split", str(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["steps"] == 3
    assert out["deviations"] == {"max_steps": 3}
    assert 0.0 <= out["macroF1"] <= 1.0
    assert out["seconds"] >= out["trainSeconds"] > 0
    assert not (tmp_path / "checkpoints").exists() and not (PYTHON_DIR / "checkpoints").exists()


def test_a_split_without_a_field_is_named_in_a_clear_message():
    proc = run(json.dumps({"model": "m", "train": {"texts": [], "labels": []}, "nclasses": 2}))
    assert proc.returncode == 2
    assert proc.stderr.strip() == 'setfit_default.py: the split <stdin> has no "test" field'


def test_an_unreadable_split_file_is_named(tmp_path):
    bad = tmp_path / "split.json"
    bad.write_text("{not json", encoding="utf-8")
    proc = run("", "--split", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"setfit_default.py: cannot read the split {bad}:")
    assert "Traceback" not in proc.stderr
