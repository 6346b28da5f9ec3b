#!/usr/bin/env python3
"""Exports scikit-learn's `load_digits` corpus as an image folder dataset for `npm run bench -- --images`.

The corpus: 1,797 grayscale 8×8 handwritten digits in 10 classes (the UCI "Optical Recognition of Handwritten
Digits" test set, CC BY 4.0), shipped inside the scikit-learn wheel (BSD-3-Clause) as
sklearn/datasets/data/digits.csv.gz; no network access is needed.

    python scripts/bench/images_corpus.py [--out bench-results/tmp/digits] [--size 64] [--wheel scikit_learn-….whl]

Writes <out>/<digit>/<index>.png: each image upscaled nearest-neighbour (8×8 → size×size, default 64×64), its
0–16 intensities mapped to 0–255, as an 8-bit grayscale PNG (written with zlib, no imaging library needed).
With --wheel the CSV is read straight from a downloaded scikit-learn wheel instead of the installed package.
The folder is generated, never committed, and never read by the shipped tests.
"""
import argparse
import csv
import gzip
import io
import os
import struct
import sys
import zipfile
import zlib

CSV_IN_WHEEL = "sklearn/datasets/data/digits.csv.gz"


def png_gray(pixels, width, height):
    """An 8-bit grayscale PNG of `pixels` (row-major list of 0–255 ints)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(pixels[y * width:(y + 1) * width]) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def upscale(values8x8, size):
    """Nearest-neighbour upscaling of 64 values (0–16) to size×size bytes (0–255)."""
    out = []
    for y in range(size):
        row = values8x8[(y * 8 // size) * 8:(y * 8 // size) * 8 + 8]
        out.extend(round(row[x * 8 // size] * 255 / 16) for x in range(size))
    return out


def read_rows(wheel):
    """(pixels, label) rows of digits.csv.gz: 64 intensities then the digit."""
    if wheel:
        with zipfile.ZipFile(wheel) as z:
            data = gzip.decompress(z.read(CSV_IN_WHEEL))
    else:
        try:
            import sklearn.datasets
        except ImportError:
            sys.exit("images_corpus.py: scikit-learn is not installed; pass --wheel <scikit_learn-*.whl> "
                     "(pip download --no-deps scikit-learn -d /tmp/skl)")
        path = os.path.join(os.path.dirname(sklearn.datasets.__file__), "data", "digits.csv.gz")
        with open(path, "rb") as f:
            data = gzip.decompress(f.read())
    for rec in csv.reader(io.StringIO(data.decode("ascii"))):
        if rec:
            vals = [int(float(v)) for v in rec]
            yield vals[:64], vals[64]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join("bench-results", "tmp", "digits"))
    ap.add_argument("--size", type=int, default=64, help="side of the written PNGs (multiple of 8; default 64)")
    ap.add_argument("--wheel", help="read digits.csv.gz from this scikit-learn wheel")
    a = ap.parse_args()
    if a.size < 8 or a.size % 8:
        sys.exit(f"images_corpus.py: --size {a.size} must be a multiple of 8")
    counts = {}
    for i, (pixels, label) in enumerate(read_rows(a.wheel)):
        folder = os.path.join(a.out, str(label))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{i:04d}.png"), "wb") as f:
            f.write(png_gray(upscale(pixels, a.size), a.size, a.size))
        counts[label] = counts.get(label, 0) + 1
    total = sum(counts.values())
    print(f"{total} images in {len(counts)} classes ({', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))}) -> {a.out}")


if __name__ == "__main__":
    main()
