"""Loading the model, staged unfreezing and the frozen-layer cache.

BERT-like models (`model.base_model.embeddings` + `model.base_model.encoder.layer`: BERT, MiniLM,
RoBERTa/XLM-R, MPNet …): the "head" is every parameter outside the embeddings and the encoder layers
(pooler + classifier). Frozen modules always run in eval mode (no dropout). While the lower layers are
frozen, the hidden states entering the first trainable layer are computed once per stage and cached,
so an epoch runs only the trainable top (see `TopRunner`). Other architectures: freezing by
requires_grad only, no cache.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .protocol import WorkerError

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model", "spiece.model", "vocab.json")


def check_model_source(model: str, allow_remote: bool) -> tuple[str, bool]:
    """Returns (source, is_local). A local folder must hold config.json, weights and a tokenizer."""
    path = Path(model).expanduser()
    if path.is_dir():
        missing = []
        if not (path / "config.json").is_file():
            missing.append("config.json")
        if not any((path / f).is_file() for f in WEIGHT_FILES):
            missing.append("weights (model.safetensors or pytorch_model.bin)")
        if not any((path / f).is_file() for f in TOKENIZER_FILES):
            missing.append("a tokenizer (tokenizer.json or vocab.txt)")
        if missing:
            raise WorkerError("model-missing", f"The model folder {path} lacks {', '.join(missing)}",
                              "Pick a folder with a saved Hugging Face model (save_pretrained of the model and its tokenizer).")
        return str(path), True
    # A hub id is "name" or "owner/name"; anything path-like that is not a folder is a missing folder.
    looks_local = model.startswith((".", "/", "~", "\\")) or model.count("/") > 1 or "\\" in model or ":" in model
    if allow_remote and not looks_local:
        return model, False
    raise WorkerError(
        "model-missing",
        f"No model folder at {path}" + ("" if allow_remote else " (remote models are off, so it is not looked up on the hub)"),
        "Pick a local folder with config.json, the weights (model.safetensors) and the tokenizer files, "
        "or allow remote models to download a hub id.")


def load_model(model: str, allow_remote: bool, labels: list[str]):
    source, _ = check_model_source(model, allow_remote)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        net = AutoModelForSequenceClassification.from_pretrained(
            source, num_labels=len(labels), id2label=dict(enumerate(labels)),
            label2id={l: i for i, l in enumerate(labels)}, ignore_mismatched_sizes=True)
    except (OSError, ValueError, KeyError) as e:
        raise WorkerError("model-missing", f"Could not load the model from {source}: {e}",
                          "Check that the folder holds a Hugging Face model for sequence classification and its tokenizer.")
    return tokenizer, net


@dataclass
class Parts:
    """The BERT-like anatomy of a classifier, or None fields when it is not BERT-like."""
    base: nn.Module
    embeddings: nn.Module | None
    layers: nn.ModuleList | None

    @property
    def bert_like(self) -> bool:
        return self.embeddings is not None and self.layers is not None


def parts(model: nn.Module) -> Parts:
    base = getattr(model, "base_model", model)
    emb = getattr(base, "embeddings", None)
    enc = getattr(base, "encoder", None)
    layers = getattr(enc, "layer", None) if enc is not None else None
    if not isinstance(layers, nn.ModuleList) or not isinstance(emb, nn.Module):
        return Parts(base, None, None)
    return Parts(base, emb, layers)


def layer_count(model: nn.Module) -> int:
    p = parts(model)
    if p.layers is not None:
        return len(p.layers)
    return int(getattr(model.config, "num_hidden_layers", 0) or 0)


def set_trainable(model: nn.Module, top: int | None) -> int:
    """Freeze the embeddings and all but the top `top` encoder layers (None = everything trainable).
    Returns the index of the first trainable encoder layer (0 = none frozen).
    Non-BERT-like models: the base model is frozen below its head by name (requires_grad only)."""
    p = parts(model)
    for param in model.parameters():
        param.requires_grad = True
    if top is None:
        return 0
    if p.bert_like:
        first = max(0, len(p.layers) - top)
        for param in p.embeddings.parameters():
            param.requires_grad = False
        for layer in list(p.layers)[:first]:
            for param in layer.parameters():
                param.requires_grad = False
        return first
    # Other architectures: freeze the whole base model in stage 1, nothing in later stages.
    if top == 0:
        for param in p.base.parameters():
            param.requires_grad = False
    return 0


def frozen_modules(model: nn.Module, first: int) -> list[nn.Module]:
    p = parts(model)
    if not p.bert_like or (first == 0 and all(x.requires_grad for x in p.embeddings.parameters())):
        return []
    return [p.embeddings, *list(p.layers)[:first]]


def train_mode(model: nn.Module, first: int) -> None:
    """model.train(), but frozen modules in eval mode: they run without dropout."""
    model.train()
    for m in frozen_modules(model, first):
        m.eval()


def count_params(model: nn.Module) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad), total


class _Feeder(nn.Module):
    """Stands in for the embeddings: returns the cached hidden states."""

    def __init__(self, value: torch.Tensor):
        super().__init__()
        self.value = value

    def forward(self, *args, **kwargs):
        return self.value


@contextmanager
def top_only(model: nn.Module, first: int, hidden: torch.Tensor):
    """Inside, model(input_ids=…, attention_mask=…) runs only encoder layers [first:] and the head on
    `hidden` (the cached states entering layer `first`). Parameters and state_dict are untouched outside."""
    p = parts(model)
    emb, layers = p.embeddings, p.layers
    enc = p.base.encoder
    p.base._modules["embeddings"] = _Feeder(hidden)
    enc._modules["layer"] = nn.ModuleList(list(layers)[first:])
    try:
        yield
    finally:
        p.base._modules["embeddings"] = emb
        enc._modules["layer"] = layers


def hidden_entering(model: nn.Module, first: int, batch: dict) -> torch.Tensor:
    """Hidden states entering encoder layer `first` (embeddings output for 0, last layer output for L)."""
    out = model.base_model(**batch, output_hidden_states=True, return_dict=True)
    return out.hidden_states[first]
