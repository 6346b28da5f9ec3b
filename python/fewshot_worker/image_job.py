"""Job kind 'image': fine-tune a CNN on image files (staged unfreezing, torchvision augmentation, best checkpoint by
validation macro-F1), then export it to ONNX (input `pixel_values` N×3×S×S, output `logits`) for Node to serve.

Stage plan: the text worker's (train.plan_stages): stage 1 the classifier, stage 2 the top `unfreezeTop` blocks +
head conv + classifier, stage 3 everything (when len(train) > fullFinetuneAbove). AdamW, linear warm-up then linear
decay over all epochs; the pretrained body learns at learningRate × BODY_LR_FACTOR, the new classifier at
learningRate. Early stopping as for text.
"""

from __future__ import annotations

import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

from .device import is_oom, peak_mib, reset_peak
from .image_model import count_trainable, load_image_model, set_trainable, train_mode
from .images import DEFAULT_AFFINE, Preprocess, augmentation, load_crop, normalise
from .job import Job
from .metrics import classification_metrics
from .protocol import CancelFlag, Channel, WorkerError
from .train import optimizer_step, plan_stages, seed_everything

BODY_LR_FACTOR = 0.1
PARITY_TOLERANCE = 1e-4
ONNX_PATH = "model.onnx"


class ImageTrainer:
    def __init__(self, job: Job, model, device: torch.device, amp, channel: Channel, cancel: CancelFlag):
        self.job, self.s = job, job.settings
        self.model, self.device, self.amp, self.ch, self.cancel = model, device, amp, channel, cancel
        self.labels = job.labels
        img = job.extra.get("image") or {}
        self.pre = Preprocess.parse(img.get("preprocess"), str(job.path))
        aug = img.get("augment", {})
        affine = aug.get("affine", DEFAULT_AFFINE) if isinstance(aug, dict) else DEFAULT_AFFINE
        self.flip = bool(isinstance(aug, dict) and aug.get("flip"))
        self.transform = augmentation(affine, self.flip)
        self.train_x = self.crops([f for f, _ in job.train])
        self.train_y = [y for _, y in job.train]
        val = job.val
        self.val_on_train = not val
        if self.val_on_train:
            channel.log("No validation images: the best epoch is chosen by macro-F1 on the training images.", "warn")
            val = job.train
        self.val_x = self.train_x if self.val_on_train else self.crops([f for f, _ in val])
        self.val_y = [y for _, y in val]
        w = self.s.classWeights
        self.class_weights = torch.tensor(w, dtype=torch.float32, device=device) if w else None
        self.scaler = torch.amp.GradScaler("cuda") if amp == torch.float16 else None
        self.best_state, self.best_epoch, self.best_f1, self.best_loss = None, 0, -1.0, float("inf")
        self.history: list[dict] = []

    def crops(self, files: list[str]) -> list[torch.Tensor]:
        out = []
        for f in files:
            self.cancel.check()
            out.append(load_crop(f, self.pre))
        return out

    def autocast(self):
        if self.amp is None:
            return torch.autocast("cpu", enabled=False)
        return torch.autocast(self.device.type, dtype=self.amp)

    def batch(self, xs: list[torch.Tensor], idx: list[int], augment: bool) -> torch.Tensor:
        ims = [self.transform(xs[i]) if augment and self.transform else xs[i] for i in idx]
        return normalise(torch.stack(ims), self.pre).to(self.device)

    @torch.no_grad()
    def logits(self, xs: list[torch.Tensor]) -> torch.Tensor:
        self.model.eval()
        out = []
        bs = max(self.s.batchSize, 32)
        for start in range(0, len(xs), bs):
            self.cancel.check()
            with self.autocast():
                out.append(self.model(self.batch(xs, list(range(start, min(start + bs, len(xs)))), False)).float())
        return torch.cat(out) if out else torch.zeros((0, len(self.labels)))

    def evaluate(self) -> dict:
        logits = self.logits(self.val_x)
        y = torch.tensor(self.val_y, dtype=torch.long, device=logits.device)
        m = classification_metrics(self.val_y, logits.argmax(1).tolist(), self.labels)
        m["loss"] = F.cross_entropy(logits, y, weight=self.class_weights).item()
        return m

    def run(self) -> dict:
        s = self.s
        stages = plan_stages(s, len(self.train_x), len(self.model.blocks))
        steps_per_epoch = math.ceil(len(self.train_x) / s.batchSize)
        total_steps = steps_per_epoch * sum(st.epochs for st in stages)
        head = list(self.model.classifier.parameters())
        head_ids = {id(p) for p in head}
        body = [p for p in self.model.parameters() if id(p) not in head_ids]
        optim = torch.optim.AdamW([{"params": head, "lr": s.learningRate},
                                   {"params": body, "lr": s.learningRate * BODY_LR_FACTOR}], weight_decay=s.weightDecay)
        warmup = int(round(s.warmupRatio * total_steps))
        sched = torch.optim.lr_scheduler.LambdaLR(
            optim, lambda step: (step + 1) / max(1, warmup) if step < warmup
            else max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
        rng = random.Random(s.seed)
        epoch, stages_done = 0, []
        for si, st in enumerate(stages):
            trainable_mods = set_trainable(self.model, st.top)
            name = {0: "classifier head", None: "all layers"}.get(st.top, f"top {min(st.top or 0, len(self.model.blocks))} blocks + head")
            trainable, total = count_trainable(self.model)
            self.ch.send("stage", stage=st.stage, name=name, trainableParameters=trainable, totalParameters=total,
                         epochs=st.epochs, cachedLayers=0)
            record = {"stage": st.stage, "name": name, "trainableParameters": trainable, "firstEpoch": epoch + 1,
                      "lastEpoch": epoch}
            stages_done.append(record)
            since_best = 0
            for _ in range(st.epochs):
                epoch += 1
                t_epoch = time.perf_counter()
                reset_peak(self.device)
                train_mode(self.model, trainable_mods)
                order = list(range(len(self.train_x)))
                rng.shuffle(order)
                total_loss, seen = 0.0, 0
                t_train = time.perf_counter()
                for start in range(0, len(order), s.batchSize):
                    self.cancel.check()
                    idx = order[start: start + s.batchSize]
                    x = self.batch(self.train_x, idx, True)
                    y = torch.tensor([self.train_y[i] for i in idx], dtype=torch.long, device=self.device)
                    with self.autocast():
                        logits = self.model(x)
                    loss = F.cross_entropy(logits.float(), y, weight=self.class_weights)
                    optimizer_step(loss, optim, sched, self.scaler)
                    total_loss += loss.item() * len(idx)
                    seen += len(idx)
                train_time = time.perf_counter() - t_train
                m = self.evaluate()
                improved = m["macroF1"] > self.best_f1 or (m["macroF1"] == self.best_f1 and m["loss"] < self.best_loss)
                if improved:
                    self.best_f1, self.best_loss, self.best_epoch = m["macroF1"], m["loss"], epoch
                    self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
                mem = peak_mib(self.device)
                self.history.append(self.ch.send(
                    "epoch", epoch=epoch, stage=st.stage, epochs=s.epochs, loss=total_loss / max(1, seen),
                    valLoss=m["loss"], valMacroF1=m["macroF1"], valAccuracy=m["accuracy"],
                    perClassRecall=m["perClassRecall"], samplesPerSecond=seen / train_time if train_time > 0 else 0.0,
                    **({"deviceMemoryMiB": mem} if mem is not None else {}),
                    elapsedMs=(time.perf_counter() - t_epoch) * 1000, best=improved))
                record["lastEpoch"] = epoch
                since_best = 0 if improved else since_best + 1
                if s.patience > 0 and since_best >= s.patience:
                    last = si == len(stages) - 1
                    self.ch.log(f"Early stopping in stage {st.stage} after epoch {epoch}: no better validation macro-F1 "
                                f"for {s.patience} epochs; " + ("the run ends." if last else f"stage {stages[si + 1].stage} starts."))
                    break
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
            self.ch.log(f"Restored the best checkpoint: epoch {self.best_epoch} (validation macro-F1 {self.best_f1:.4f}).")
        set_trainable(self.model, None)
        self.model.eval()
        return {"bestEpoch": self.best_epoch, "epochsRun": epoch, "bestValMacroF1": self.best_f1,
                "stages": [r for r in stages_done if r["lastEpoch"] >= r["firstEpoch"]]}

    def probabilities(self, xs: list[torch.Tensor]) -> list[list[float]]:
        return torch.softmax(self.logits(xs), -1).cpu().tolist() if xs else []


class _Export(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return self.model(pixel_values)


def export_onnx(model, pre: Preprocess, out, samples: torch.Tensor) -> tuple[str, float]:
    """Writes out/model.onnx (fp32, dynamic batch; input pixel_values, output logits) and returns (relative path,
    max |Δlogit| against onnxruntime on `samples`, normalised N×3×S×S); raises above PARITY_TOLERANCE."""
    import onnxruntime as ort
    model = model.to("cpu").float().eval()
    out.mkdir(parents=True, exist_ok=True)
    path = out / ONNX_PATH
    c = pre.centerCrop
    with torch.no_grad():
        torch.onnx.export(_Export(model).eval(), (torch.zeros(2, 3, c, c),), str(path), input_names=["pixel_values"],
                          output_names=["logits"], dynamo=True, optimize=True, external_data=False,
                          dynamic_shapes={"pixel_values": {0: torch.export.Dim("batch", min=1, max=1024)}})
        ref = model(samples).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["logits"], {"pixel_values": samples.numpy()})[0]
    diff = float(np.abs(got - ref).max())
    if not diff <= PARITY_TOLERANCE:
        raise WorkerError("internal", f"The ONNX export disagrees with PyTorch: max |Δlogit| = {diff:.3g} > {PARITY_TOLERANCE}",
                          "Report this model; predictions need the ONNX model to match.")
    return ONNX_PATH, diff


def run_image_job(job: Job, channel: Channel, cancel: CancelFlag) -> dict:
    from .device import Dist, choose_device
    from .main import versions
    s = job.settings
    try:
        import PIL  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        raise WorkerError("internal", f"Image fine-tuning needs torchvision and Pillow in the worker's Python ({e})",
                          "Run `fewshot setup` (it installs python/requirements.txt), or pip install torchvision pillow.")
    device, report, amp = choose_device(s.device, s.precision, Dist())
    try:
        seed_everything(s.seed)
        model = load_image_model(s.model, len(job.labels)).to(device)
        _, total = count_trainable(model)
        channel.send("started", pid=os.getpid(), device=report, versions=versions(),
                     model={"name": model.name if s.model == model.name else os.path.basename(os.path.normpath(s.model)),
                            "layers": len(model.blocks), "parameters": total})
        trainer = ImageTrainer(job, model, device, amp, channel, cancel)
        summary = trainer.run()
        cancel.check()
        test_x = trainer.crops(job.test)
        probabilities = trainer.probabilities(test_x)
        cancel.check()
        samples = (test_x[:2] + trainer.val_x[:1] + trainer.train_x[:1])[:4]
        onnx_path, diff = export_onnx(model, trainer.pre, job.output_dir, normalise(torch.stack(samples), trainer.pre))
        channel.log(f"ONNX export: {job.output_dir / onnx_path}, max |Δlogit| vs PyTorch {diff:.2e}.")
        return channel.send("done", bestEpoch=summary["bestEpoch"], epochsRun=summary["epochsRun"],
                            bestValMacroF1=summary["bestValMacroF1"], testProbabilities=probabilities,
                            onnx=onnx_path, onnxMaxAbsDiff=diff, stages=summary["stages"])
    except Exception as e:
        if is_oom(e):
            raise WorkerError("oom", f"Out of memory on {report['name']}: {str(e).splitlines()[0]}",
                              f"Lower the batch size (now {s.batchSize}).")
        raise
