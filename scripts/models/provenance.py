"""Shared by the model conversion scripts in this folder: the sha256 their PROVENANCE.json files record."""
from __future__ import annotations

import hashlib
from pathlib import Path


def sha256(p: Path) -> str:
    """Hex sha256 of a file, read 1 MiB at a time."""
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
