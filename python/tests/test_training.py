"""The training loop in-process on the tiny BERT: learning, staged unfreezing, cache, best checkpoint."""

import torch

from conftest import make_job
from fewshot_worker.job import parse_job
from fewshot_worker.model import hidden_entering, load_model, top_only
from fewshot_worker.protocol import CancelFlag, Channel
from fewshot_worker.train import Trainer, plan_stages, seed_everything


class Recorder(Channel):
    """An in-memory channel that also snapshots the model's weights at every epoch message."""

    def __init__(self):
        super().__init__(None)
        self.model = None
        self.snapshots = {}

    def send(self, type_, **fields):
        msg = super().send(type_, **fields)
        if type_ == "epoch" and self.model is not None:
            self.snapshots[fields["epoch"]] = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        return msg


def train(job_dict):
    job = parse_job(job_dict)
    seed_everything(job.settings.seed)
    tokenizer, model = load_model(job.settings.model, False, job.labels)
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
    ch = Recorder()
    ch.model = model
    trainer = Trainer(job, model, tokenizer, torch.device("cpu"), None, ch, CancelFlag())
    summary = trainer.run()
    return trainer, summary, ch, initial


def epochs(ch):
    return [m for m in ch.sent if m["type"] == "epoch"]


def changed(a, b, prefix):
    keys = [k for k in a if k.startswith(prefix)]
    assert keys, prefix
    return any(not torch.equal(a[k], b[k]) for k in keys)


def test_loss_decreases_and_messages_follow_the_protocol(tiny_model, tmp_path):
    _, summary, ch, _ = train(make_job(tiny_model, tmp_path, epochs=6, headEpochs=0, unfreezeTop=4))
    ep = epochs(ch)
    assert [m["epoch"] for m in ep] == [1, 2, 3, 4, 5, 6]
    losses = [m["loss"] for m in ep]
    assert sum(losses[-2:]) / 2 < 0.9 * losses[0], losses
    assert max(m["valMacroF1"] for m in ep) > 0.4
    for m in ep:
        assert m["protocol"] == 1 and m["samplesPerSecond"] > 0 and "deviceMemoryMiB" not in m
        assert set(m["perClassRecall"]) == {"billing", "shipping", "technical"}
    assert summary["epochsRun"] == 6 and summary["stages"][0]["stage"] == 2


def test_stage_1_leaves_the_encoder_bit_identical(tiny_model, tmp_path):
    _, summary, ch, initial = train(make_job(tiny_model, tmp_path, epochs=3, headEpochs=3))
    # headEpochs is at most epochs − 1, so stage 1 has 2 epochs; compare the weights after epoch 2.
    stages = [m for m in ch.sent if m["type"] == "stage"]
    assert stages[0]["stage"] == 1 and stages[0]["epochs"] == 2 and stages[0]["cachedLayers"] == 4
    after = ch.snapshots[2]
    assert not changed(initial, after, "bert.embeddings.")
    assert not changed(initial, after, "bert.encoder.")
    assert changed(initial, after, "classifier.") and changed(initial, after, "bert.pooler.")
    trainable = sum(p.numel() for n, p in initial.items() if n.startswith(("classifier.", "bert.pooler.")))
    assert stages[0]["trainableParameters"] == trainable


def test_stage_2_changes_only_the_top_layers_and_the_head(tiny_model, tmp_path):
    _, summary, ch, initial = train(make_job(tiny_model, tmp_path, epochs=3, headEpochs=1, unfreezeTop=2))
    stages = [m for m in ch.sent if m["type"] == "stage"]
    assert [(s["stage"], s["epochs"], s["cachedLayers"]) for s in stages] == [(1, 1, 4), (2, 2, 2)]
    assert stages[1]["trainableParameters"] > stages[0]["trainableParameters"]
    after = ch.snapshots[3]
    assert not changed(initial, after, "bert.embeddings.")
    for i in (0, 1):
        assert not changed(initial, after, f"bert.encoder.layer.{i}."), i
    for i in (2, 3):
        assert changed(ch.snapshots[1], after, f"bert.encoder.layer.{i}."), i
    assert [(s["stage"], s["firstEpoch"], s["lastEpoch"]) for s in summary["stages"]] == [(1, 1, 1), (2, 2, 3)]


def test_the_best_checkpoint_is_restored(tiny_model, tmp_path):
    job = make_job(tiny_model, tmp_path, epochs=6, headEpochs=0, unfreezeTop=4)
    # Rig the validation set: its labels are rotated, so the better the model learns, the worse it scores.
    for row in job["val"]:
        row["label"] = (row["label"] + 1) % 3
    trainer, summary, ch, _ = train(job)
    ep = epochs(ch)
    best = max(ep, key=lambda m: (m["valMacroF1"], -m["valLoss"]))
    assert summary["bestEpoch"] == best["epoch"] and best["best"]
    assert summary["bestEpoch"] < summary["epochsRun"] and ep[-1]["valMacroF1"] < best["valMacroF1"]
    assert [m["epoch"] for m in ep if m["best"]][-1] == summary["bestEpoch"]
    final = trainer.model.state_dict()
    assert all(torch.equal(final[k], v) for k, v in ch.snapshots[summary["bestEpoch"]].items())
    assert any(not torch.equal(final[k], v) for k, v in ch.snapshots[summary["epochsRun"]].items())
    assert abs(trainer.evaluate(0, False)["macroF1"] - best["valMacroF1"]) < 1e-12


def test_early_stopping_by_patience(tiny_model, tmp_path):
    job = make_job(tiny_model, tmp_path, epochs=8, headEpochs=0, unfreezeTop=4, patience=2)
    for row in job["val"]:
        row["label"] = (row["label"] + 1) % 3
    _, summary, ch, _ = train(job)
    ep = epochs(ch)
    assert summary["epochsRun"] < 8
    assert summary["epochsRun"] - summary["bestEpoch"] == 2
    assert any("Early stopping" in m["message"] for m in ch.sent if m["type"] == "log")


def test_the_cached_top_gives_the_full_models_logits(tiny_model):
    tokenizer, model = load_model(str(tiny_model), False, ["billing", "shipping", "technical"])
    model.eval()
    batch = dict(tokenizer(["billingaa the billingab technicalac", "shippingaa a"], padding=True, return_tensors="pt"))
    with torch.no_grad():
        full = model(**batch).logits
        for first in range(5):
            hidden = hidden_entering(model, first, batch)
            with top_only(model, first, hidden):
                top = model(input_ids=batch["attention_mask"], attention_mask=batch["attention_mask"]).logits
            assert torch.allclose(full, top, atol=1e-6), first
    assert len(model.bert.encoder.layer) == 4  # restored after the context


def test_stage_plan():
    from fewshot_worker.job import Settings
    s = Settings(model="m", epochs=20, headEpochs=3, unfreezeTop=3, fullFinetuneAbove=500)
    assert [(x.stage, x.epochs) for x in plan_stages(s, 100, 12)] == [(1, 3), (2, 17)]
    assert [(x.stage, x.epochs) for x in plan_stages(s, 501, 12)] == [(1, 3), (2, 9), (3, 8)]
    s1 = Settings(model="m", epochs=1, headEpochs=3)
    assert [(x.stage, x.epochs) for x in plan_stages(s1, 10, 12)] == [(2, 1)]


def test_cancel_flag_stops_between_batches(tiny_model, tmp_path):
    from fewshot_worker.protocol import Cancelled
    job = parse_job(make_job(tiny_model, tmp_path, epochs=4))
    tokenizer, model = load_model(job.settings.model, False, job.labels)
    cancel = CancelFlag()
    ch = Channel.memory()
    trainer = Trainer(job, model, tokenizer, torch.device("cpu"), None, ch, cancel)
    original = ch.send

    def send(type_, **fields):
        if type_ == "epoch":
            cancel.set()
        return original(type_, **fields)

    ch.send = send
    try:
        trainer.run()
        raise AssertionError("not cancelled")
    except Cancelled:
        pass
    assert len(epochs(ch)) == 1


def test_early_stopping_ends_a_stage_then_the_run(tiny_model, tmp_path):
    job = make_job(tiny_model, tmp_path, epochs=12, headEpochs=5, unfreezeTop=2, patience=1)
    for row in job["val"]:  # rotated labels: learning makes validation worse, so each stage stops early
        row["label"] = (row["label"] + 1) % 3
    _, summary, ch, _ = train(job)
    logs = [m["message"] for m in ch.sent if m["type"] == "log" and "Early stopping" in m["message"]]
    stages = [m["stage"] for m in ch.sent if m["type"] == "stage"]
    assert stages == [1, 2]
    assert len(logs) == 2 and "stage 2 starts" in logs[0] and "the run ends" in logs[1]
    assert summary["epochsRun"] < 12
