"""The fine-tuning loop (plain PyTorch): staged unfreezing, frozen-layer cache, AdamW with linear
warm-up and decay over all epochs, class-weighted cross-entropy, validation every epoch, best
checkpoint by validation macro-F1, early stopping, DDP under torchrun.

Stage plan (E = epochs, h = min(headEpochs, E − 1), R = E − h):
  stage 1 — head only (pooler + classifier): h epochs;
  stage 2 — top `unfreezeTop` encoder layers + head: R epochs, or R − ⌊R/2⌋ when stage 3 runs;
  stage 3 — all layers: ⌊R/2⌋ epochs, only when len(train) > fullFinetuneAbove (and ⌊R/2⌋ ≥ 1).
Early stopping: `patience` epochs in a row without a better validation macro-F1 end the stage (the
next stage starts, with its more trainable layers, and the count starts again); in the last stage
they end the run.
"""

from __future__ import annotations

import inspect
import math
import random
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .device import Dist, peak_mib, reset_peak
from .job import Job
from .metrics import classification_metrics
from .model import (count_params, hidden_entering, layer_count, parts, set_trainable, top_only, train_mode)
from .protocol import Cancelled, CancelFlag, Channel

CACHE_BUDGET_BYTES = 4 * 2**30  # above this the cache is skipped (the frozen part then runs every batch)


def optimizer_step(loss, optim, sched, scaler) -> None:
    """One optimiser step on `loss` (through the fp16 GradScaler when there is one), then the learning-rate schedule:
    the same step for texts (Trainer) and images (image_job.ImageTrainer)."""
    optim.zero_grad(set_to_none=True)
    if scaler:
        scaler.scale(loss).backward()
        scaler.step(optim)
        scaler.update()
    else:
        loss.backward()
        optim.step()
    sched.step()


@dataclass
class Stage:
    stage: int
    name: str
    top: int | None  # encoder layers trainable (0 = head only, None = all)
    epochs: int


def plan_stages(s, n_train: int, n_layers: int) -> list[Stage]:
    E = s.epochs
    h = min(s.headEpochs, E - 1)
    rest = E - h
    full = n_train > s.fullFinetuneAbove and rest // 2 >= 1
    s3 = rest // 2 if full else 0
    top = min(s.unfreezeTop, n_layers) if n_layers else s.unfreezeTop
    out = []
    if h > 0:
        out.append(Stage(1, "head only", 0, h))
    if rest - s3 > 0:
        out.append(Stage(2, f"top {top} layers + head", top, rest - s3))
    if s3:
        out.append(Stage(3, "all layers", None, s3))
    return out


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Data:
    """Tokenized examples (no padding; each batch is padded to its longest text)."""

    def __init__(self, tokenizer, model, texts: list[str], labels: list[int] | None, max_length: int):
        accepted = set(inspect.signature(model.forward).parameters)
        enc = tokenizer(texts, truncation=True, max_length=max_length)
        self.keys = [k for k in enc.keys() if k in accepted and k in ("input_ids", "attention_mask", "token_type_ids")]
        self.rows = [{k: enc[k][i] for k in self.keys} for i in range(len(texts))]
        self.labels = labels
        self.tokenizer = tokenizer
        self.hidden: list[torch.Tensor] | None = None  # cached states entering the first trainable layer

    def __len__(self) -> int:
        return len(self.rows)

    def batch(self, idx: list[int], device) -> dict:
        b = self.tokenizer.pad([self.rows[i] for i in idx], return_tensors="pt")
        return {k: v.to(device) for k, v in b.items() if k in self.keys}

    def cached(self, idx: list[int], device) -> tuple[torch.Tensor, torch.Tensor]:
        hs = [self.hidden[i] for i in idx]
        L = max(h.shape[0] for h in hs)
        out = hs[0].new_zeros((len(hs), L, hs[0].shape[1]))
        mask = torch.zeros((len(hs), L), dtype=torch.long, device=device)
        for j, h in enumerate(hs):
            out[j, : h.shape[0]] = h
            mask[j, : h.shape[0]] = 1
        return out, mask

    def targets(self, idx: list[int], device) -> torch.Tensor:
        return torch.tensor([self.labels[i] for i in idx], dtype=torch.long, device=device)


class Trainer:
    def __init__(self, job: Job, model, tokenizer, device: torch.device, amp: torch.dtype | None,
                 channel: Channel, cancel: CancelFlag, dist: Dist | None = None):
        self.job, self.s = job, job.settings
        self.model, self.tokenizer, self.device, self.amp = model, tokenizer, device, amp
        self.ch, self.cancel, self.dist = channel, cancel, dist or Dist()
        self.labels = job.labels
        self.train_data = Data(tokenizer, model, [t for t, _ in job.train], [y for _, y in job.train], self.s.maxLength)
        val = job.val
        self.val_on_train = not val
        if self.val_on_train:
            channel.log("No validation examples: the best epoch is chosen by macro-F1 on the training examples.", "warn")
            val = job.train
        self.val_data = Data(tokenizer, model, [t for t, _ in val], [y for _, y in val], self.s.maxLength)
        w = self.s.classWeights
        self.class_weights = torch.tensor(w, dtype=torch.float32, device=device) if w else None
        self.scaler = torch.amp.GradScaler("cuda") if amp == torch.float16 else None
        self.history: list[dict] = []
        self.stages_done: list[dict] = []
        self.best_state: dict | None = None
        self.best_epoch, self.best_f1, self.best_loss = 0, -1.0, float("inf")

    # ---------------------------------------------------------------- helpers
    def autocast(self):
        if self.amp is None:
            return torch.autocast("cpu", enabled=False)
        return torch.autocast(self.device.type, dtype=self.amp)

    def loss(self, logits, y):
        return F.cross_entropy(logits.float(), y, weight=self.class_weights)

    def check_cancel(self, collective: bool = True) -> None:
        """Between batches. Under DDP, training batches agree on the flag across ranks (all_reduce) and
        act on the agreed value only: a flag set locally after the all_reduce waits for the next batch,
        so that every rank stops at the same batch."""
        flag = self.cancel.is_set
        if self.dist.enabled and collective:
            import torch.distributed as td
            t = torch.tensor([1.0 if flag else 0.0], device=self.device if self.dist.backend == "nccl" else "cpu")
            td.all_reduce(t, op=td.ReduceOp.MAX)
            if t.item() > 0:
                self.cancel.set()
                raise Cancelled()
            return
        self.cancel.check()

    def forward(self, net, data: Data, idx: list[int], first: int, use_cache: bool):
        if use_cache:
            hidden, mask = data.cached(idx, self.device)
            with top_only(self.model, first, hidden):
                return net(input_ids=mask, attention_mask=mask).logits
        return net(**data.batch(idx, self.device)).logits

    @torch.no_grad()
    def build_cache(self, data: Data, first: int) -> None:
        """Frozen part once per stage, in eval mode (no dropout), fp32, one tensor per example."""
        self.model.eval()
        data.hidden = []
        bs = max(self.s.batchSize, 32)
        for start in range(0, len(data), bs):
            self.check_cancel(collective=False)
            idx = list(range(start, min(start + bs, len(data))))
            batch = data.batch(idx, self.device)
            with self.autocast():
                h = hidden_entering(self.model, first, batch).float()
            lengths = batch["attention_mask"].sum(1).tolist()
            data.hidden.extend(h[j, : int(n)].clone() for j, n in enumerate(lengths))

    @torch.no_grad()
    def predict_logits(self, data: Data, first: int = 0, use_cache: bool = False) -> torch.Tensor:
        self.model.eval()
        out = []
        bs = max(self.s.batchSize, 32)
        for start in range(0, len(data), bs):
            if not self.dist.enabled:  # under DDP only rank 0 evaluates: cancel waits for the next training batch
                self.check_cancel(collective=False)
            idx = list(range(start, min(start + bs, len(data))))
            with self.autocast():
                out.append(self.forward(self.model, data, idx, first, use_cache).float())
        return torch.cat(out) if out else torch.zeros((0, len(self.labels)))

    def evaluate(self, first: int, use_cache: bool) -> dict:
        logits = self.predict_logits(self.val_data, first, use_cache)
        y = torch.tensor(self.val_data.labels, dtype=torch.long, device=logits.device)
        m = classification_metrics(y.tolist(), logits.argmax(1).tolist(), self.labels)
        m["loss"] = self.loss(logits, y).item()
        return m

    def cache_fits(self) -> bool:
        hidden = int(getattr(self.model.config, "hidden_size", 0) or 0)
        tokens = sum(len(r["input_ids"]) for r in self.train_data.rows + self.val_data.rows)
        return hidden * tokens * 4 <= CACHE_BUDGET_BYTES

    # ---------------------------------------------------------------- the loop
    def run(self) -> dict:
        s, dist = self.s, self.dist
        n_layers = layer_count(self.model)
        stages = plan_stages(s, len(self.train_data), n_layers)
        bert_like = parts(self.model).bert_like
        if not bert_like:
            self.ch.log(f"{type(self.model).__name__} is not BERT-like (base_model.encoder.layer): layers are frozen by "
                        "requires_grad only, without the frozen-layer cache; stage 2 trains the whole model.", "warn")
        if dist.enabled:
            self.ch.log(f"DistributedDataParallel on {dist.world_size} processes ({dist.backend}): the frozen-layer "
                        "cache is off; each process trains batches of the batch size.")
        per_rank = math.ceil(len(self.train_data) / dist.world_size)
        steps_per_epoch = math.ceil(per_rank / s.batchSize)
        total_steps = steps_per_epoch * sum(st.epochs for st in stages)
        decay = [p for n, p in self.model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n or "layer_norm" in n or ".norm" in n)]
        no_decay = [p for n, p in self.model.named_parameters() if n.endswith("bias") or "LayerNorm" in n or "layer_norm" in n or ".norm" in n]
        optim = torch.optim.AdamW([{"params": decay, "weight_decay": s.weightDecay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=s.learningRate)
        warmup = int(round(s.warmupRatio * total_steps))
        sched = torch.optim.lr_scheduler.LambdaLR(
            optim, lambda step: (step + 1) / max(1, warmup) if step < warmup
            else max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
        rng = random.Random(s.seed)
        epoch = 0
        for si, st in enumerate(stages):
            first = set_trainable(self.model, st.top)
            if st.top == 0 and bert_like:
                first = n_layers  # head only: everything up to the last layer's output is frozen
            use_cache = bert_like and first > 0 and not dist.enabled and self.cache_fits()
            if bert_like and first > 0 and not dist.enabled and not use_cache:
                self.ch.log("The frozen-layer cache would exceed 4 GiB: the frozen layers run every batch.", "warn")
            trainable, total = count_params(self.model)
            self.ch.send("stage", stage=st.stage, name=st.name, trainableParameters=trainable, totalParameters=total,
                         epochs=st.epochs, cachedLayers=first if use_cache else 0)
            record = {"stage": st.stage, "name": st.name, "trainableParameters": trainable,
                      "firstEpoch": epoch + 1, "lastEpoch": epoch}
            self.stages_done.append(record)
            if use_cache:
                t0 = time.perf_counter()
                self.build_cache(self.train_data, first)
                self.build_cache(self.val_data, first)
                self.ch.log(f"Stage {st.stage}: cached the output of {first} frozen layer(s) for "
                            f"{len(self.train_data) + len(self.val_data)} texts in {time.perf_counter() - t0:.1f} s.")
            net = self.model
            if dist.enabled:
                from torch.nn.parallel import DistributedDataParallel as DDP
                net = DDP(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
            since_best = 0
            for _ in range(st.epochs):
                epoch += 1
                t_epoch = time.perf_counter()
                reset_peak(self.device)
                train_mode(self.model, first)
                order = list(range(len(self.train_data)))
                rng.shuffle(order)  # same order on every rank (same seed); each rank takes its slice
                if dist.enabled:
                    order = (order + order[: per_rank * dist.world_size - len(order)])[dist.rank::dist.world_size]
                total_loss, seen = 0.0, 0
                t_train = time.perf_counter()
                for start in range(0, len(order), s.batchSize):
                    self.check_cancel()
                    idx = order[start: start + s.batchSize]
                    y = self.train_data.targets(idx, self.device)
                    with self.autocast():
                        logits = self.forward(net, self.train_data, idx, first, use_cache)
                    loss = self.loss(logits, y)
                    optimizer_step(loss, optim, sched, self.scaler)
                    total_loss += loss.item() * len(idx)
                    seen += len(idx)
                train_time = time.perf_counter() - t_train
                if dist.enabled:  # the epoch's loss over all ranks' batches
                    import torch.distributed as td
                    t = torch.tensor([total_loss, float(seen)], dtype=torch.float64,
                                     device=self.device if dist.backend == "nccl" else "cpu")
                    td.all_reduce(t)
                    total_loss, seen = t[0].item(), int(t[1].item())
                mean_loss = total_loss / max(1, seen)
                samples = seen
                improved = False
                if dist.main:
                    m = self.evaluate(first, use_cache)
                    # Best by validation macro-F1; on a tie, the lower validation loss.
                    improved = m["macroF1"] > self.best_f1 or (m["macroF1"] == self.best_f1 and m["loss"] < self.best_loss)
                    if improved:
                        self.best_f1, self.best_loss, self.best_epoch = m["macroF1"], m["loss"], epoch
                        self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
                    msg = self.ch.send(
                        "epoch", epoch=epoch, stage=st.stage, epochs=s.epochs, loss=mean_loss, valLoss=m["loss"],
                        valMacroF1=m["macroF1"], valAccuracy=m["accuracy"], perClassRecall=m["perClassRecall"],
                        samplesPerSecond=samples / train_time if train_time > 0 else 0.0,
                        **({"deviceMemoryMiB": peak_mib(self.device)} if peak_mib(self.device) is not None else {}),
                        elapsedMs=(time.perf_counter() - t_epoch) * 1000, best=improved)
                    self.history.append(msg)
                record["lastEpoch"] = epoch
                since_best = 0 if improved else since_best + 1
                stop = s.patience > 0 and since_best >= s.patience
                if dist.enabled:
                    import torch.distributed as td
                    flag = torch.tensor([1.0 if stop else 0.0], device=self.device if dist.backend == "nccl" else "cpu")
                    td.broadcast(flag, src=0)
                    stop = bool(flag.item())
                if stop:
                    last = si == len(stages) - 1
                    self.ch.log(f"Early stopping in stage {st.stage} after epoch {epoch}: no better validation macro-F1 "
                                f"for {s.patience} epochs; " + ("the run ends." if last else f"stage {stages[si + 1].stage} starts."))
                    break
            self.train_data.hidden = self.val_data.hidden = None
            if dist.enabled:
                del net
        self.stages_done = [r for r in self.stages_done if r["lastEpoch"] >= r["firstEpoch"]]
        self.epochs_run = epoch
        if dist.main and self.best_state is not None:
            self.model.load_state_dict(self.best_state)
            self.ch.log(f"Restored the best checkpoint: epoch {self.best_epoch} (validation macro-F1 {self.best_f1:.4f}).")
        set_trainable(self.model, None)
        return {"bestEpoch": self.best_epoch, "epochsRun": epoch, "bestValMacroF1": self.best_f1,
                "stages": self.stages_done}

    def test_probabilities(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        data = Data(self.tokenizer, self.model, texts, None, self.s.maxLength)
        self.model.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(data), 32):
                idx = list(range(start, min(start + 32, len(data))))
                logits = self.model(**data.batch(idx, self.device)).logits.float()
                out.extend(torch.softmax(logits, -1).cpu().tolist())
        return out
