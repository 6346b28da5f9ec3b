"""Images for job kind 'image': decoding and the model's own preprocessing (as src/core/images/preprocess.ts does it
in Node, so that PyTorch and the ONNX model served in Node see the same pixels), and the training augmentation.

  decode (Pillow) → EXIF orientation → alpha composited on white → RGB → resize the shorter side to `resizeShorter`
  (Pillow bicubic/bilinear) → centre crop `centerCrop`² → uint8 CHW tensor (kept in memory, one per image)
  training only: torchvision RandomAffine(degrees, translate, scale) (+ RandomHorizontalFlip) on the crop
  then (x − mean) / std per channel on 0..255 values → float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .protocol import WorkerError

# The seed's augmentation (TrainConfig.augment's RandomAffine in src/core/images/augment.ts).
DEFAULT_AFFINE = {"degrees": 15.0, "translate": [0.1, 0.1], "scale": [0.9, 1.1]}


@dataclass
class Preprocess:
    resizeShorter: int
    centerCrop: int
    interpolation: str
    mean: list[float]
    std: list[float]

    @classmethod
    def parse(cls, raw, where: str) -> "Preprocess":
        try:
            p = cls(int(raw["resizeShorter"]), int(raw["centerCrop"]), str(raw.get("interpolation", "bicubic")),
                    [float(v) for v in raw["mean"]], [float(v) for v in raw["std"]])
        except (KeyError, TypeError, ValueError) as e:
            raise WorkerError("bad-job", f"{where}: image.preprocess needs resizeShorter, centerCrop, mean and std ({e})",
                              "The trainer writes this file from the model's preprocess.json; re-run the training.")
        if p.interpolation not in ("bicubic", "bilinear") or len(p.mean) != 3 or len(p.std) != 3 or min(p.std) <= 0 \
                or not 1 <= p.centerCrop <= p.resizeShorter:
            raise WorkerError("bad-job", f"{where}: image.preprocess is invalid ({raw!r})",
                              "The trainer writes this file from the model's preprocess.json; re-run the training.")
        return p


def to_rgb(im):
    """EXIF orientation, then alpha composited on white, then RGB (as Node's decodeRgb)."""
    from PIL import Image, ImageOps
    im = ImageOps.exif_transpose(im)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return im.convert("RGB")


def resize_crop(im, p: Preprocess):
    """torchvision Resize(resizeShorter) + CenterCrop(centerCrop), done with Pillow (Node's resizeCrop)."""
    from PIL import Image
    w, h = im.size
    s, c = p.resizeShorter, p.centerCrop
    nw, nh = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
    im = im.resize((nw, nh), Image.BICUBIC if p.interpolation == "bicubic" else Image.BILINEAR)
    left, top = int(round((nw - c) / 2.0)), int(round((nh - c) / 2.0))
    return im.crop((left, top, left + c, top + c))


def load_crop(path: str, p: Preprocess) -> torch.Tensor:
    """One image file → its preprocessed crop as uint8 CHW. A bad file is an error naming it."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            crop = resize_crop(to_rgb(im), p)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as e:
        raise WorkerError("bad-job", f"{path}: the image cannot be read ({e})",
                          "Re-export the image as PNG or JPEG, or remove it from the dataset.")
    return torch.from_numpy(np.asarray(crop, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()


def normalise(x: torch.Tensor, p: Preprocess) -> torch.Tensor:
    """uint8 (N)CHW → float32, (x − mean) / std per channel."""
    x = x.float()
    mean = torch.tensor(p.mean, dtype=torch.float32, device=x.device).view(3, 1, 1)
    std = torch.tensor(p.std, dtype=torch.float32, device=x.device).view(3, 1, 1)
    return (x - mean) / std


def augmentation(affine: dict | None, flip: bool):
    """The training transform on uint8 CHW crops: torchvision RandomAffine (fill 0, as torchvision's default and
    Node's augment.ts), then a horizontal flip with probability ½ when `flip`. None = no augmentation."""
    from torchvision import transforms as T
    steps = []
    if affine:
        steps.append(T.RandomAffine(degrees=float(affine["degrees"]), translate=tuple(affine["translate"]),
                                    scale=tuple(affine["scale"]), interpolation=T.InterpolationMode.BILINEAR))
    if flip:
        steps.append(T.RandomHorizontalFlip())
    return T.Compose(steps) if steps else None
