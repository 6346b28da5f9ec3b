"""Job kind 'setfit': the setfit library trains the body on pairs, the worker exports it to ONNX."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import PYTHON_DIR, make_job, run_worker, worker_env, write_job

pytest.importorskip("setfit")


def setfit_job(model, out, **settings):
    job = make_job(model, out, train=6, val=1, test=2, **{"batchSize": 8, "learningRate": 1e-3, "maxLength": 16,
                                                            "epochs": 1, "iterations": 2, **settings})
    job["kind"] = "setfit"
    return job


def test_setfit_job_streams_pair_steps_and_exports_a_matching_onnx_body(tiny_model, tmp_path):
    out = tmp_path / "body"
    code, messages, stderr = run_worker(write_job(tmp_path, setfit_job(tiny_model, out)), timeout=300)
    assert code == 0, stderr[-3000:]
    types = [m["type"] for m in messages]
    assert types[0] == "started" and types[-1] == "done", types
    assert messages[0]["device"]["kind"] == "cpu" and messages[0]["versions"]["setfit"] == "1.2.0"
    steps = [m for m in messages if m["type"] == "pair-step"]
    # 18 texts × 2 iterations × 2 (positive + negative) = 72 pairs, batch 8 → 9 optimiser steps
    assert [m["step"] for m in steps] == list(range(1, 10))
    assert all(m["steps"] == 9 and m["loss"] >= 0 and m["pairsPerSecond"] > 0 for m in steps)
    done = messages[-1]
    assert done["kind"] == "setfit" and done["pairSteps"] == 9 and done["pairs"] == 72
    assert done["onnxMaxAbsDiff"] <= 1e-3
    for f in ("config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"):
        assert (out / f).is_file(), f

    # The exported body, pooled as src/core/encoders/hf.ts does, matches the trained PyTorch body's
    # embeddings, and differs from the untrained one (so the pairs really trained it).
    import onnxruntime as ort
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer

    texts = ["billingaa billingab the", "shippingac my shippingad"]
    tok = AutoTokenizer.from_pretrained(out)
    enc = tok(texts, padding=True, return_tensors="np")
    sess = ort.InferenceSession(str(out / "onnx/model.onnx"))
    feeds = {i.name: enc[i.name].astype(np.int64) for i in sess.get_inputs()}
    hidden = sess.run(None, feeds)[0]
    mask = enc["attention_mask"][..., None]
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    before = SentenceTransformer(str(tiny_model), device="cpu").encode(texts, normalize_embeddings=True)
    assert np.abs(pooled - before).max() > 1e-3


def test_setfit_job_rejects_bad_iterations(tiny_model, tmp_path):
    code, messages, _ = run_worker(write_job(tmp_path, setfit_job(tiny_model, tmp_path / "o", iterations=0)))
    assert code == 1 and messages[-1]["code"] == "bad-job" and "settings.iterations" in messages[-1]["message"]


def test_setfit_job_cancels_within_a_second(tiny_model, tmp_path):
    job = setfit_job(tiny_model, tmp_path / "o", iterations=400, batchSize=2)
    proc = subprocess.Popen([sys.executable, "-m", "fewshot_worker", "--job", str(write_job(tmp_path, job))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=worker_env())
    try:
        seen = []
        for line in proc.stdout:
            seen.append(json.loads(line))
            if seen[-1]["type"] == "pair-step" and seen[-1]["step"] >= 2:
                break
        t0 = time.perf_counter()
        proc.stdin.write(json.dumps({"type": "cancel"}) + "\n")
        proc.stdin.flush()
        rest = [json.loads(line) for line in proc.stdout]
        assert proc.wait(timeout=10) == 0
        assert time.perf_counter() - t0 < 1.5
        assert rest[-1]["type"] == "cancelled"
        assert not (tmp_path / "o" / "onnx" / "model.onnx").exists()
    finally:
        proc.kill()
