"""Reading and checking <run>/finetune/job.json (FinetuneJob in src/protocol/finetune.ts)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from . import PROTOCOL_VERSION
from .protocol import WorkerError

DEFAULTS = {
    "allowRemote": False, "epochs": 20, "batchSize": 8, "learningRate": 2e-5, "weightDecay": 0.01,
    "warmupRatio": 0.1, "patience": 5, "unfreezeTop": 3, "fullFinetuneAbove": 500, "headEpochs": 3,
    "precision": "auto", "device": "auto", "maxLength": 128, "seed": 42, "classWeights": None,
}
# job kind 'setfit' (SetFitSettings in src/protocol/run.ts): one pass over the pairs, batch 16
SETFIT_DEFAULTS = {"epochs": 1, "batchSize": 16, "learningRate": 2e-5, "iterations": 20}


@dataclass
class Settings:
    model: str
    allowRemote: bool = False
    epochs: int = 20
    batchSize: int = 8
    learningRate: float = 2e-5
    weightDecay: float = 0.01
    warmupRatio: float = 0.1
    patience: int = 5
    unfreezeTop: int = 3
    fullFinetuneAbove: int = 500
    headEpochs: int = 3
    precision: str = "auto"
    device: str = "auto"
    maxLength: int = 128
    seed: int = 42
    classWeights: list[float] | None = None
    # job kind 'setfit': pairs generated per training text (setfit's num_iterations)
    iterations: int = 20


@dataclass
class Job:
    labels: list[str]
    train: list[tuple[str, int]]
    val: list[tuple[str, int]]
    test: list[str]
    output_dir: Path
    settings: Settings
    path: Path | None = None
    protocol: int = PROTOCOL_VERSION
    extra: dict = field(default_factory=dict)
    # 'finetune' (a classifier fine-tuned in epochs), 'setfit' (the body trained on pairs, exported alone) or
    # 'image' (a CNN fine-tuned on image files: rows carry 'file' instead of 'text'; image_job.py)
    kind: str = "finetune"


def _bad(path, what: str, fix: str | None = None) -> WorkerError:
    return WorkerError("bad-job", f"{path}: {what}", fix or "The trainer writes this file; re-run the training.")


def parse_job(raw: dict, path: Path | str = "job.json") -> Job:
    if not isinstance(raw, dict):
        raise _bad(path, "the job is not a JSON object")
    proto = raw.get("protocol")
    if proto != PROTOCOL_VERSION:
        raise WorkerError(
            "protocol", f"{path}: job protocol {proto!r}, but this worker speaks protocol {PROTOCOL_VERSION}",
            "Update the Python worker (fewshot setup) or the extension so both speak the same protocol version.")
    labels = raw.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(l, str) for l in labels):
        raise _bad(path, "'labels' must be a list of at least 2 label names")
    n = len(labels)

    kind = raw.get("kind", "finetune")
    if kind not in ("finetune", "setfit", "image"):
        raise _bad(path, f"'kind' must be 'finetune', 'setfit' or 'image', got {kind!r}")
    field_name = "file" if kind == "image" else "text"

    def examples(key: str, labelled: bool):
        rows = raw.get(key)
        if not isinstance(rows, list):
            raise _bad(path, f"'{key}' must be a list")
        out = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or not isinstance(row.get(field_name), str):
                raise _bad(path, f"{key}[{i}] needs a string '{field_name}'")
            if labelled:
                y = row.get("label")
                if not isinstance(y, int) or isinstance(y, bool) or not 0 <= y < n:
                    raise _bad(path, f"{key}[{i}].label must be a class index 0..{n - 1}, got {y!r}")
                out.append((row[field_name], y))
            else:
                out.append(row[field_name])
        return out

    train, val, test = examples("train", True), examples("val", True), examples("test", False)
    if not train:
        raise _bad(path, "'train' is empty")
    out_dir = raw.get("outputDir")
    if not isinstance(out_dir, str) or not out_dir:
        raise _bad(path, "'outputDir' must be a folder path")
    s = raw.get("settings")
    if not isinstance(s, dict) or not isinstance(s.get("model"), str) or not s["model"]:
        raise _bad(path, "'settings.model' must name a model folder or hub id")
    if kind == "image" and not isinstance(raw.get("image"), dict):
        raise _bad(path, "an 'image' job needs 'image' (preprocess, augment)")
    defaults = {**DEFAULTS, **(SETFIT_DEFAULTS if kind == "setfit" else {})}
    values = {k: s.get(k, d) if s.get(k) is not None else d for k, d in defaults.items()}
    settings = Settings(model=s["model"], **values)
    for key in ("epochs", "batchSize", "maxLength", "iterations"):
        if not isinstance(getattr(settings, key), int) or getattr(settings, key) < 1:
            raise _bad(path, f"settings.{key} must be a positive integer")
    for key in ("patience", "unfreezeTop", "fullFinetuneAbove", "headEpochs"):
        if not isinstance(getattr(settings, key), int) or getattr(settings, key) < 0:
            raise _bad(path, f"settings.{key} must be an integer ≥ 0")
    if settings.precision not in ("auto", "fp16", "bf16", "off"):
        raise _bad(path, "settings.precision must be auto, fp16, bf16 or off")
    if settings.device not in ("auto", "cuda", "mps", "cpu"):
        raise _bad(path, "settings.device must be auto, cuda, mps or cpu")
    if settings.classWeights is not None and (
            not isinstance(settings.classWeights, list) or len(settings.classWeights) != n):
        raise _bad(path, f"settings.classWeights must have one weight per label ({n})")
    out = Path(out_dir)
    if not out.is_absolute() and isinstance(path, Path):
        out = path.parent / out
    return Job(labels=labels, train=train, val=val, test=test, output_dir=out, settings=settings,
               path=Path(path), kind=kind, extra={"image": raw["image"]} if kind == "image" else {})


def load_job(path: str | Path) -> Job:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _bad(path, "no such job file")
    except ValueError as e:
        raise _bad(path, f"not valid JSON ({e})")
    return parse_job(raw, path)
