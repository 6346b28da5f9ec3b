"""
Packs an fp32 ONNX model into the compact form that ships inside the .vsix (60 MB budget), and checks it.

    python scripts/models/pack_onnx_hilo.py models/efficientnet-lite0

Every float32 initializer w becomes hi = fp16(w) and lo = round((w - hi) / s) as int8, with one float32 scale s per
output channel (the first axis; one per tensor for 1-d tensors) = max |w - hi| / 127. Node rebuilds
w' = fround(hi + fround(lo * s)) (src/core/images/weights.ts), which is what this script computes too (in float64,
then rounded to float32, as JavaScript does), so the rebuilt weights' sha256 is known here and checked there.
3 bytes a parameter (≈ 8.6 MB zipped for EfficientNet-Lite0, against 12.2 MB for fp32), and the features stay within
the parity tolerance of the PyTorch model (fp16 alone differs by 1.25e-2, int8 alone by 0.45).

Writes into the folder: graph.onnx (the graph; its float initializers point at weights.bin as ONNX external data),
weights.hilo (planes: fp16 low bytes, fp16 high bytes, int8 residuals, float32 scales) and weights.json (the tensor
list and the sha256 of weights.bin); removes model.onnx. Then rebuilds weights.bin in a temporary folder, runs the
parity crops through onnxruntime and records the max |Δ| against parity.json's PyTorch features (must be ≤ tolerance)
as parity.json "shippedMaxAbsDiff" and in PROVENANCE.json.
"""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import numpy_helper
from onnx.external_data_helper import set_external_data
from PIL import Image

FORMAT = "fp16+int8-per-channel"


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def pack(folder: Path) -> dict:
    model = onnx.load(str(folder / "model.onnx"))
    his, los, scales, tensors, rebuilt = [], [], [], [], []
    offset = 0
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype != np.float32:
            continue
        h = a.astype(np.float16)
        if not np.isfinite(h).all():
            sys.exit(f"{init.name}: a weight is outside the float16 range")
        r = (a.astype(np.float64) - h.astype(np.float64)).reshape(a.shape[0] if a.ndim >= 2 else 1, -1)
        s = (np.abs(r).max(axis=1) / 127).astype(np.float32)
        s[s == 0] = 1
        lo = np.clip(np.round(r / s[:, None].astype(np.float64)), -127, 127).astype(np.int8)
        prod = (lo.astype(np.float32) * s[:, None]).astype(np.float32)  # exact in float64, then rounded: as Math.fround
        w = (h.astype(np.float64).reshape(lo.shape) + prod.astype(np.float64)).astype(np.float32).reshape(a.shape)
        his.append(h.view(np.uint16).ravel())
        los.append(lo.ravel())
        scales.append(s)
        rebuilt.append(w.ravel())
        tensors.append({"name": init.name, "count": int(a.size), "channels": int(s.size)})
        set_external_data(init, location="weights.bin", offset=offset, length=a.size * 4)
        init.ClearField("raw_data")
        init.ClearField("float_data")
        init.data_location = onnx.TensorProto.EXTERNAL
        offset += a.size * 4
    hi = np.concatenate(his)
    weights = np.concatenate(rebuilt).astype("<f4").tobytes()
    planes = [(hi & 0xFF).astype(np.uint8).tobytes(), (hi >> 8).astype(np.uint8).tobytes(),
              np.concatenate(los).tobytes(), np.concatenate(scales).astype("<f4").tobytes()]
    (folder / "weights.hilo").write_bytes(b"".join(planes))
    onnx.save(model, str(folder / "graph.onnx"))
    info = {"format": FORMAT, "params": int(hi.size), "scales": int(sum(s.size for s in scales)),
            "weightsBytes": len(weights), "weightsSha256": sha256_bytes(weights), "tensors": tensors}
    (folder / "weights.json").write_text(json.dumps(info, indent=1) + "\n")
    (folder / "model.onnx").unlink()
    return {"info": info, "weights": weights}


def parity(folder: Path, weights: bytes) -> float:
    par = json.loads((folder / "parity.json").read_text())
    x = np.stack([((np.asarray(Image.open(folder / r["crop"]).convert("RGB"), dtype=np.float32) - 127) / 128).transpose(2, 0, 1)
                  for r in par["rows"]]).astype(np.float32)
    ref = np.array([r["features"] for r in par["rows"]], dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "weights.bin").write_bytes(weights)
        (Path(tmp) / "model.onnx").write_bytes((folder / "graph.onnx").read_bytes())
        sess = onnxruntime.InferenceSession(str(Path(tmp) / "model.onnx"), providers=["CPUExecutionProvider"])
        got = sess.run(["features"], {"pixel_values": x})[0]
    delta = float(np.abs(got - ref).max())
    par["shippedMaxAbsDiff"] = delta
    par["shippedForm"] = f"graph.onnx + weights.hilo ({FORMAT}, scripts/models/pack_onnx_hilo.py)"
    (folder / "parity.json").write_text(json.dumps(par) + "\n")
    if delta > par["tolerance"]:
        sys.exit(f"the packed model differs from PyTorch by {delta:.2e} > {par['tolerance']}")
    return delta


def update_provenance(folder: Path, delta: float) -> None:
    p = folder / "PROVENANCE.json"
    prov = json.loads(p.read_text())
    steps = prov["conversion"]["steps"]
    steps[:] = [s for s in steps if "pack_onnx_hilo" not in s]
    steps.append("scripts/models/pack_onnx_hilo.py: float32 weights → fp16 + int8 residual with a float32 scale per "
                 "output channel (weights.hilo, 3 bytes a parameter), graph.onnx with external data weights.bin, which "
                 "Node rebuilds at first use (sha256 in weights.json)")
    prov["conversion"]["shippedMaxAbsDiffVsPyTorch"] = delta
    files = {str(f.relative_to(folder)): {"bytes": f.stat().st_size, "sha256": sha256_bytes(f.read_bytes())}
             for f in sorted(folder.rglob("*")) if f.is_file() and f.name != "PROVENANCE.json"}
    prov["files"] = files
    prov["totalBytes"] = sum(f["bytes"] for f in files.values())
    p.write_text(json.dumps(prov, indent=1) + "\n")


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = Path(sys.argv[1])
    packed = pack(folder)
    delta = parity(folder, packed["weights"])
    update_provenance(folder, delta)
    print(f"packed {packed['info']['params']} parameters; features vs PyTorch max |Δ| {delta:.2e}")


if __name__ == "__main__":
    main()
