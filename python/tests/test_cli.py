"""The worker as the trainer starts it: `python -m fewshot_worker --job …` in a child process."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import make_job, run_worker, worker_env, write_job


def test_end_to_end_output_and_onnx_parity(tiny_model, tmp_path):
    out = tmp_path / "out"
    # 60 training examples > fullFinetuneAbove 50: stages 1, 2 and 3, one epoch each.
    job = make_job(tiny_model, out, epochs=3, headEpochs=1, unfreezeTop=2, fullFinetuneAbove=50)
    rc, msgs, err = run_worker(write_job(tmp_path, job))
    assert rc == 0, err[-3000:]
    types = [m["type"] for m in msgs]
    assert types[0] == "started" and types[-1] == "done", types
    assert all(m["protocol"] == 1 for m in msgs)
    started = msgs[0]
    assert started["device"]["kind"] == "cpu" and started["device"]["precision"] == "fp32"
    assert started["model"]["layers"] == 4 and "torch" in started["versions"]
    stages = [m for m in msgs if m["type"] == "stage"]
    assert [(m["stage"], m["epochs"], m["cachedLayers"]) for m in stages] == [(1, 1, 4), (2, 1, 2), (3, 1, 0)]
    assert stages[2]["trainableParameters"] == stages[2]["totalParameters"] == started["model"]["parameters"]
    assert [m["epoch"] for m in msgs if m["type"] == "epoch"] == [1, 2, 3]
    done = msgs[-1]
    assert done["onnx"] == "onnx/model.onnx" and done["onnxMaxAbsDiff"] <= 1e-4
    assert {"stage": 1, "name": "head only"}.items() <= done["stages"][0].items()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "billing", "1": "shipping", "2": "technical"}

    # Independent parity check: the saved model in PyTorch vs the ONNX file in onnxruntime, on new texts
    # of several lengths (dynamic batch and sequence axes).
    import onnxruntime as ort
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForSequenceClassification.from_pretrained(out).eval()
    session = ort.InferenceSession(str(out / "onnx/model.onnx"))
    names = [i.name for i in session.get_inputs()]
    assert names == ["input_ids", "attention_mask", "token_type_ids"]
    assert [o.name for o in session.get_outputs()] == ["logits"]
    texts = ["billingaa", "shippingab the my a technicalac now please help", "technicalaa technicalab", "x y z"]
    enc = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        ref = model(**enc).logits.numpy()
    got = session.run(["logits"], {n: enc[n].numpy() for n in names})[0]
    assert np.abs(ref - got).max() <= 1e-4

    # testProbabilities come from the restored best model, in label order.
    test_texts = [row["text"] for row in job["test"]]
    with torch.no_grad():
        probs = torch.softmax(model(**tok(test_texts, padding=True, return_tensors="pt")).logits, -1).numpy()
    assert np.abs(np.array(done["testProbabilities"]) - probs).max() < 1e-5


def test_protocol_mismatch_is_an_error(tiny_model, tmp_path):
    job = make_job(tiny_model, tmp_path / "out")
    job["protocol"] = 99
    rc, msgs, _ = run_worker(write_job(tmp_path, job))
    assert rc == 1 and len(msgs) == 1
    assert msgs[0]["type"] == "error" and msgs[0]["code"] == "protocol"
    assert "99" in msgs[0]["message"] and "1" in msgs[0]["message"]


def test_missing_model_folder(tmp_path):
    folder = tmp_path / "no-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    rc, msgs, _ = run_worker(write_job(tmp_path, make_job(folder, tmp_path / "out")))
    assert rc == 1 and msgs[-1]["type"] == "error" and msgs[-1]["code"] == "model-missing"
    assert str(folder) in msgs[-1]["message"] and "weights" in msgs[-1]["message"] and "tokenizer" in msgs[-1]["message"]
    assert "config.json" not in msgs[-1]["message"]

    rc, msgs, _ = run_worker(write_job(tmp_path, make_job(tmp_path / "nowhere", tmp_path / "out")))
    assert rc == 1 and msgs[-1]["code"] == "model-missing" and "remote models are off" in msgs[-1]["message"]


def test_bad_job_names_the_file(tmp_path):
    path = tmp_path / "job.json"
    path.write_text('{"protocol": 1, "labels": ["a"]}')
    rc, msgs, _ = run_worker(path)
    assert rc == 1 and msgs[-1]["code"] == "bad-job" and str(path) in msgs[-1]["message"]


def _start(job_path):
    return subprocess.Popen([sys.executable, "-m", "fewshot_worker", "--job", str(job_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=worker_env())


def _read_until_epoch(proc):
    for line in proc.stdout:
        msg = json.loads(line)
        if msg["type"] == "epoch":
            return msg
        assert msg["type"] not in ("error", "done"), msg
    raise AssertionError("no epoch message")


@pytest.mark.parametrize("how", ["stdin", "sigterm"])
def test_cancel_ends_with_cancelled_within_2s(tiny_model, tmp_path, how):
    job = make_job(tiny_model, tmp_path / "out", train=60, epochs=200, headEpochs=0, unfreezeTop=4, learningRate=1e-4)
    proc = _start(write_job(tmp_path, job))
    try:
        _read_until_epoch(proc)
        t0 = time.monotonic()
        if how == "stdin":
            proc.stdin.write(json.dumps({"type": "cancel"}) + "\n")
            proc.stdin.flush()
        else:
            proc.send_signal(signal.SIGTERM)
        rest = [json.loads(line) for line in proc.stdout]
        rc = proc.wait(timeout=10)
        elapsed = time.monotonic() - t0
        assert rest and rest[-1]["type"] == "cancelled", rest[-3:]
        assert rc == 0 and elapsed < 2.0, elapsed
        assert not (tmp_path / "out" / "onnx").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stdin.close()


def test_ddp_with_two_gloo_processes(tiny_model, tmp_path):
    out = tmp_path / "out"
    job = make_job(tiny_model, out, epochs=2, headEpochs=1, unfreezeTop=2, train=8, val=3)
    env = worker_env()
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "fewshot_worker", "--job", str(write_job(tmp_path, job))],
                          capture_output=True, text=True, env=env, timeout=180, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    msgs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    types = [m["type"] for m in msgs]
    assert types.count("started") == 1 and types.count("done") == 1, types  # only rank 0 speaks
    assert msgs[0]["device"]["distributed"] == {"backend": "gloo", "worldSize": 2}
    assert [m["epoch"] for m in msgs if m["type"] == "epoch"] == [1, 2]
    assert all(m["cachedLayers"] == 0 for m in msgs if m["type"] == "stage")
    assert (out / "onnx/model.onnx").is_file() and msgs[-1]["onnxMaxAbsDiff"] <= 1e-4


def test_cancel_during_a_long_step_still_ends_within_2s(tiny_model, tmp_path):
    """A cancel that arrives while the worker is busy outside the batch loop (here: still importing
    torch and loading) is honoured by the watchdog."""
    proc = _start(write_job(tmp_path, make_job(tiny_model, tmp_path / "out", epochs=50)))
    try:
        t0 = time.monotonic()
        proc.stdin.write(json.dumps({"type": "cancel"}) + "\n")
        proc.stdin.flush()
        rest = [json.loads(line) for line in proc.stdout]
        rc = proc.wait(timeout=10)
        elapsed = time.monotonic() - t0
        assert rest and rest[-1]["type"] == "cancelled" and [m["type"] for m in rest].count("cancelled") == 1
        assert rc == 0 and elapsed < 2.0, elapsed
        assert not any(m["type"] == "epoch" for m in rest)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stdin.close()


def test_env_reports_versions_and_devices():
    proc = subprocess.run([sys.executable, "-m", "fewshot_worker", "--env"], capture_output=True, text=True,
                          env=worker_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    env = json.loads(proc.stdout)
    assert env["protocol"] == 1 and env["versions"]["torch"] == torch.__version__.split("+")[0]
    assert env["cuda"] == torch.cuda.is_available() and isinstance(env["gpus"], list)


def test_ddp_cancel_through_rank_0s_stdin(tiny_model, tmp_path):
    job = make_job(tiny_model, tmp_path / "out", epochs=200, headEpochs=0, unfreezeTop=4, train=20, val=2)
    env = worker_env()
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             "-m", "fewshot_worker", "--job", str(write_job(tmp_path, job))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        for line in proc.stdout:
            if line.startswith("{") and json.loads(line)["type"] == "epoch":
                break
        t0 = time.monotonic()
        proc.stdin.write(json.dumps({"type": "cancel"}) + "\n")
        proc.stdin.flush()
        rest = [json.loads(line) for line in proc.stdout if line.startswith("{")]
        rc = proc.wait(timeout=30)
        assert rest and rest[-1]["type"] == "cancelled", rest[-3:]
        elapsed = time.monotonic() - t0
        assert rc == 0 and elapsed < 5.0, (rc, elapsed)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stdin.close()
