"""Saving the fine-tuned model (safetensors + config + tokenizer) and its ONNX export.

The folder loads in transformers.js (`@huggingface/transformers`) from a local path: config.json,
tokenizer.json, tokenizer_config.json and onnx/model.onnx (inputs input_ids, attention_mask and
token_type_ids when the model takes them; dynamic batch and sequence axes; output `logits`).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import torch

from .protocol import WorkerError

PARITY_TOLERANCE = 1e-4
ONNX_PATH = "onnx/model.onnx"


class _Logits(torch.nn.Module):
    def __init__(self, model, names: list[str]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kw = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kw["token_type_ids"] = token_type_ids
        return self.model(**kw).logits


def input_names(model, tokenizer) -> list[str]:
    accepted = set(inspect.signature(model.forward).parameters)
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in accepted and "token_type_ids" in getattr(tokenizer, "model_input_names", []):
        names.append("token_type_ids")
    return names


def save_model(model, tokenizer, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def export_onnx(model, tokenizer, out: Path, sample_texts: list[str], max_length: int) -> tuple[str, float]:
    """Writes out/onnx/model.onnx from the CPU fp32 model and returns (relative path, max |Δlogit|) against
    onnxruntime on `sample_texts` (raises when it exceeds PARITY_TOLERANCE)."""
    import onnxruntime as ort

    model = model.to("cpu").float().eval()
    names = input_names(model, tokenizer)
    path = out / ONNX_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    # Trace with batch 2 and a sequence length of 8 (two different sizes, so neither is specialised).
    example = tokenizer(["a", "b"], padding="max_length", max_length=8, truncation=True, return_tensors="pt")
    args = tuple(example[n] for n in names)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    big = sum(p.numel() * p.element_size() for p in model.parameters()) > 1.8 * 2**30
    with torch.no_grad():
        torch.onnx.export(_Logits(model, names), args, str(path), input_names=names, output_names=["logits"],
                          dynamo=True, external_data=big, optimize=True,
                          dynamic_shapes={n: {0: batch, 1: seq} for n in names})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    texts = [t for t in sample_texts if t][:4] or ["hello world"]
    enc = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    feeds = {n: enc[n].numpy().astype(np.int64) for n in names}
    onnx_logits = session.run(["logits"], feeds)[0]
    with torch.no_grad():
        torch_logits = model(**{n: enc[n] for n in names}).logits.numpy()
    diff = float(np.abs(onnx_logits - torch_logits).max())
    if not diff <= PARITY_TOLERANCE:
        raise WorkerError("internal", f"The ONNX export disagrees with PyTorch: max |Δlogit| = {diff:.3g} > {PARITY_TOLERANCE}",
                          "Report this model; predictions need the ONNX model to match.")
    return ONNX_PATH, diff
