"""Job kind 'image' on a tiny CNN built here and shape images drawn with Pillow: staged unfreezing, augmentation,
best checkpoint, ONNX export parity, the worker end to end."""

import json
import random

import numpy as np
import pytest
import torch

from conftest import run_worker, write_job
from fewshot_worker.image_job import ImageTrainer, export_onnx
from fewshot_worker.image_model import load_image_model, make_tiny_cnn
from fewshot_worker.images import Preprocess, load_crop, normalise
from fewshot_worker.job import parse_job
from fewshot_worker.protocol import CancelFlag, Channel
from fewshot_worker.train import seed_everything

LABELS = ["disc", "square"]


def draw(path, label: int, rng: random.Random, mode="RGB"):
    from PIL import Image, ImageDraw
    w, h = rng.randint(36, 56), rng.randint(36, 56)
    im = Image.new(mode, (w, h), (255, 255, 255, 0) if mode == "RGBA" else (250, 250, 245))
    d = ImageDraw.Draw(im)
    r = rng.randint(9, 14)
    cx, cy = w // 2 + rng.randint(-4, 4), h // 2 + rng.randint(-4, 4)
    # blue discs and red squares: two cues, so that even the tiny random CNN learns them in a few epochs
    dark, bright = rng.randint(0, 90), rng.randint(150, 230)
    colour = ((dark, dark, bright) if label == 0 else (bright, dark, dark)) + ((255,) if mode == "RGBA" else ())
    (d.ellipse if label == 0 else d.rectangle)((cx - r, cy - r, cx + r, cy + r), fill=colour)
    im.save(path)
    return str(path)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgs")
    rng = random.Random(0)
    out = {}
    for split, n in (("train", 10), ("val", 4), ("test", 4)):
        rows = []
        for i in range(n):
            for y in range(2):
                rows.append((draw(root / f"{split}-{i}-{y}.png", y, rng, "RGBA" if i % 3 == 0 else "RGB"), y))
        out[split] = rows
    return out


@pytest.fixture(scope="module")
def tiny_cnn(tmp_path_factory):
    return make_tiny_cnn(tmp_path_factory.mktemp("cnn") / "model")


def image_job(model, out, images, **settings):
    base = {"model": str(model), "epochs": 4, "batchSize": 8, "learningRate": 3e-2, "weightDecay": 0.0,
            "warmupRatio": 0.0, "patience": 0, "unfreezeTop": 1, "fullFinetuneAbove": 500, "headEpochs": 1,
            "device": "cpu", "seed": 1}
    base.update(settings)
    pre = json.loads((model / "preprocess.json").read_text())
    return {"protocol": 1, "kind": "image", "labels": LABELS,
            "train": [{"file": f, "label": y} for f, y in images["train"]],
            "val": [{"file": f, "label": y} for f, y in images["val"]],
            "test": [{"file": f} for f, _ in images["test"]],
            "image": {"preprocess": pre, "augment": {"flip": True}}, "outputDir": str(out), "settings": base}


class Recorder(Channel):
    def __init__(self, model):
        super().__init__(None)
        self.model, self.snapshots = model, {}

    def send(self, type_, **fields):
        msg = super().send(type_, **fields)
        if type_ == "epoch":
            self.snapshots[fields["epoch"]] = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        return msg


def train(job_dict):
    job = parse_job(job_dict)
    seed_everything(job.settings.seed)
    model = load_image_model(job.settings.model, len(job.labels))
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
    ch = Recorder(model)
    trainer = ImageTrainer(job, model, torch.device("cpu"), None, ch, CancelFlag())
    return trainer, trainer.run(), ch, initial


def changed(a, b, prefix):
    keys = [k for k in a if k.startswith(prefix) and a[k].is_floating_point()]
    assert keys, prefix
    return any(not torch.equal(a[k], b[k]) for k in keys)


def test_staged_unfreezing_trains_head_then_top_blocks_then_all(tiny_cnn, images, tmp_path):
    _, summary, ch, initial = train(image_job(tiny_cnn, tmp_path, images, epochs=5, headEpochs=2, unfreezeTop=1,
                                              fullFinetuneAbove=0))
    stages = [m for m in ch.sent if m["type"] == "stage"]
    assert [(s["stage"], s["epochs"]) for s in stages] == [(1, 2), (2, 2), (3, 1)]
    assert stages[0]["trainableParameters"] < stages[1]["trainableParameters"] < stages[2]["trainableParameters"]
    assert stages[2]["trainableParameters"] == stages[2]["totalParameters"]
    s1, s2, s3 = ch.snapshots[2], ch.snapshots[4], ch.snapshots[5]
    # stage 1: the classifier only (BatchNorm statistics stay the pretrained ones too)
    assert changed(initial, s1, "classifier.")
    for part in ("stem.", "blocks.", "head."):
        assert not changed(initial, s1, part), part
    # stage 2: the top block and the head conv as well, not the stem or the lower blocks
    assert changed(s1, s2, "blocks.2.") and changed(s1, s2, "head.") and changed(s1, s2, "classifier.")
    for part in ("stem.", "blocks.0.", "blocks.1."):
        assert not changed(initial, s2, part), part
    # stage 3: everything
    assert changed(s2, s3, "stem.") and changed(s2, s3, "blocks.0.")
    assert all(torch.equal(initial[k], s3[k]) for k in initial if "running_" in k)  # BatchNorm statistics: pretrained
    assert [(s["stage"], s["firstEpoch"], s["lastEpoch"]) for s in summary["stages"]] == [(1, 1, 2), (2, 3, 4), (3, 5, 5)]


def test_learns_the_shapes_and_reports_real_epochs(tiny_cnn, images, tmp_path):
    trainer, summary, ch, _ = train(image_job(tiny_cnn, tmp_path, images, epochs=8, headEpochs=2, unfreezeTop=3))
    ep = [m for m in ch.sent if m["type"] == "epoch"]
    assert [m["epoch"] for m in ep] == list(range(1, 9))
    assert all(m["samplesPerSecond"] > 0 and set(m["perClassRecall"]) == set(LABELS) for m in ep)
    assert max(m["valMacroF1"] for m in ep) >= 0.75, [m["valMacroF1"] for m in ep]
    assert summary["bestValMacroF1"] == max(m["valMacroF1"] for m in ep)


def test_augmentation_changes_training_batches_only(tiny_cnn, images, tmp_path):
    job = parse_job(image_job(tiny_cnn, tmp_path, images))
    trainer = ImageTrainer(job, load_image_model(str(tiny_cnn), 2), torch.device("cpu"), None, Channel.memory(), CancelFlag())
    torch.manual_seed(0)
    a, b = trainer.batch(trainer.train_x, [0, 1], True), trainer.batch(trainer.train_x, [0, 1], True)
    plain = trainer.batch(trainer.train_x, [0, 1], False)
    assert not torch.equal(a, b) and not torch.equal(a, plain)
    assert torch.equal(plain, trainer.batch(trainer.train_x, [0, 1], False))
    assert trainer.flip and len(trainer.transform.transforms) == 2


def test_the_best_checkpoint_is_restored(tiny_cnn, images, tmp_path):
    job = image_job(tiny_cnn, tmp_path, images, epochs=6, headEpochs=0, unfreezeTop=3)
    for row in job["val"]:  # rotated labels: the better the model learns, the worse it scores
        row["label"] = 1 - row["label"]
    trainer, summary, ch, _ = train(job)
    ep = [m for m in ch.sent if m["type"] == "epoch"]
    best = max(ep, key=lambda m: (m["valMacroF1"], -m["valLoss"]))
    assert summary["bestEpoch"] == best["epoch"] and best["best"]
    final = trainer.model.state_dict()
    assert all(torch.equal(final[k], v) for k, v in ch.snapshots[summary["bestEpoch"]].items())
    if summary["bestEpoch"] < summary["epochsRun"]:
        assert any(not torch.equal(final[k], v) for k, v in ch.snapshots[summary["epochsRun"]].items())
    assert abs(trainer.evaluate()["macroF1"] - best["valMacroF1"]) < 1e-12


def test_preprocessing_composites_alpha_on_white(tmp_path):
    from PIL import Image
    im = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    im.putpixel((10, 5), (0, 0, 0, 255))
    im.save(tmp_path / "a.png")
    pre = Preprocess(10, 8, "bicubic", [127.0] * 3, [128.0] * 3)
    x = load_crop(str(tmp_path / "a.png"), pre)
    assert x.shape == (3, 8, 8) and x.dtype == torch.uint8 and int(x.max()) == 255
    assert torch.allclose(normalise(x, pre)[:, 0, 0], torch.full((3,), 1.0), atol=1e-6)


def test_export_parity(tiny_cnn, images, tmp_path):
    model = load_image_model(str(tiny_cnn), 2).eval()
    pre = Preprocess.parse(json.loads((tiny_cnn / "preprocess.json").read_text()), "test")
    x = normalise(torch.stack([load_crop(f, pre) for f, _ in images["test"][:5]]), pre)
    rel, diff = export_onnx(model, pre, tmp_path, x[:2])
    import onnxruntime as ort
    got = ort.InferenceSession(str(tmp_path / rel)).run(["logits"], {"pixel_values": x.numpy()})[0]  # batch 5: dynamic
    with torch.no_grad():
        ref = model(x).numpy()
    assert diff <= 1e-4 and np.abs(got - ref).max() <= 1e-4


def test_worker_end_to_end_and_bad_image(tiny_cnn, images, tmp_path):
    job = image_job(tiny_cnn, tmp_path / "out", images, epochs=3)
    code, msgs, err = run_worker(write_job(tmp_path, job))
    assert code == 0, err
    types = [m["type"] for m in msgs]
    assert types[0] == "started" and types[-1] == "done" and types.count("epoch") == 3
    done = msgs[-1]
    assert done["onnx"] == "model.onnx" and (tmp_path / "out" / "model.onnx").exists()
    assert len(done["testProbabilities"]) == len(images["test"])
    assert all(abs(sum(p) - 1) < 1e-5 for p in done["testProbabilities"])
    assert msgs[0]["device"]["kind"] == "cpu" and msgs[0]["model"]["layers"] == 3
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    job["train"][0]["file"] = str(bad)
    code, msgs, _ = run_worker(write_job(tmp_path, job))
    assert code == 1 and msgs[-1]["type"] == "error" and msgs[-1]["code"] == "bad-job"
    assert str(bad) in msgs[-1]["message"] and "Traceback" not in msgs[-1]["message"]


def test_cancel_stops_between_batches(tiny_cnn, images, tmp_path):
    from fewshot_worker.protocol import Cancelled
    job = parse_job(image_job(tiny_cnn, tmp_path, images, epochs=5))
    cancel = CancelFlag()

    class CancelAfterEpoch1(Channel):
        def send(self, type_, **fields):
            if type_ == "epoch" and fields["epoch"] == 1:
                cancel.set()
            return super().send(type_, **fields)

    ch = CancelAfterEpoch1(None)
    trainer = ImageTrainer(job, load_image_model(str(tiny_cnn), 2), torch.device("cpu"), None, ch, cancel)
    with pytest.raises(Cancelled):
        trainer.run()
    assert [m["epoch"] for m in ch.sent if m["type"] == "epoch"] == [1]
