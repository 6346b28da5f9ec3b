"""Paths off the main road: a model that is not BERT-like, out-of-memory, job checks."""

import shutil

import pytest
import torch

from conftest import make_job
from fewshot_worker import main as worker_main
from fewshot_worker.job import parse_job
from fewshot_worker.model import check_model_source
from fewshot_worker.protocol import CancelFlag, Channel, WorkerError
from fewshot_worker.tiny import DEFAULT_LABELS, vocabulary


def test_a_model_that_is_not_bert_like_trains_without_the_cache(tiny_model, tmp_path):
    from transformers import DistilBertConfig, DistilBertForSequenceClassification
    folder = tmp_path / "distil"
    folder.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(tiny_model / name, folder / name)
    torch.manual_seed(0)
    config = DistilBertConfig(vocab_size=len(vocabulary(DEFAULT_LABELS)), dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                              max_position_embeddings=64, num_labels=3)
    DistilBertForSequenceClassification(config).save_pretrained(folder)
    job = make_job(folder, tmp_path / "out", epochs=2, headEpochs=1, train=4, val=2, test=2)
    ch = Channel.memory()
    done = worker_main.run_job(parse_job(job), ch, CancelFlag())
    stages = [m for m in ch.sent if m["type"] == "stage"]
    assert [s["cachedLayers"] for s in stages] == [0, 0]
    head = sum(p.numel() for n, p in DistilBertForSequenceClassification(config).named_parameters()
               if not n.startswith("distilbert."))
    assert stages[0]["trainableParameters"] == head
    assert stages[1]["trainableParameters"] == stages[1]["totalParameters"]
    assert any("not BERT-like" in m["message"] for m in ch.sent if m["type"] == "log")
    assert done["onnxMaxAbsDiff"] <= 1e-4 and len(done["testProbabilities"]) == 6


def test_out_of_memory_becomes_an_oom_error_with_a_fix(tiny_model, tmp_path, monkeypatch):
    from fewshot_worker import train

    def run(self):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(train.Trainer, "run", run)
    with pytest.raises(WorkerError) as err:
        worker_main.run_job(parse_job(make_job(tiny_model, tmp_path / "out", batchSize=16, maxLength=64)),
                            Channel.memory(), CancelFlag())
    assert err.value.code == "oom" and "batch size (now 16)" in err.value.fix and "max length (now 64)" in err.value.fix


def test_job_checks_name_the_field(tiny_model, tmp_path):
    job = make_job(tiny_model, tmp_path / "out")
    job["train"][3]["label"] = 7
    with pytest.raises(WorkerError) as err:
        parse_job(job, tmp_path / "job.json")
    assert err.value.code == "bad-job" and "train[3].label" in err.value.message and "job.json" in err.value.message
    job = make_job(tiny_model, tmp_path / "out", classWeights=[1.0, 2.0])
    with pytest.raises(WorkerError, match="classWeights"):
        parse_job(job)


def test_hub_ids_only_when_remote_models_are_allowed(tmp_path):
    assert check_model_source("sentence-transformers/all-MiniLM-L6-v2", True) == ("sentence-transformers/all-MiniLM-L6-v2", False)
    with pytest.raises(WorkerError) as err:
        check_model_source("sentence-transformers/all-MiniLM-L6-v2", False)
    assert err.value.code == "model-missing"
    with pytest.raises(WorkerError):
        check_model_source(str(tmp_path / "a" / "b"), True)  # a path, not an id
