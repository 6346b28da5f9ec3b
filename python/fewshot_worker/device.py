"""Device choice (CUDA, then Apple MPS, then CPU), mixed precision, distributed set-up."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from .protocol import WorkerError


@dataclass
class Dist:
    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def dist_from_env() -> Dist:
    """torchrun sets WORLD_SIZE, RANK and LOCAL_RANK."""
    ws = int(os.environ.get("WORLD_SIZE", "1") or 1)
    return Dist(ws, int(os.environ.get("RANK", "0") or 0), int(os.environ.get("LOCAL_RANK", "0") or 0))


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def choose_device(pref: str, precision: str, dist: Dist) -> tuple[torch.device, dict, torch.dtype | None]:
    """Returns (device, DeviceReport, autocast dtype or None)."""
    cuda_ok = torch.cuda.is_available()
    if pref == "cuda" and not cuda_ok:
        raise WorkerError("bad-job", "settings.device is 'cuda' but CUDA is not available here"
                          + ("" if torch.version.cuda else " (this torch was built without CUDA)"),
                          "Set the device to 'auto' or 'cpu', or install a CUDA build of torch.")
    if pref == "mps" and not _mps_available():
        raise WorkerError("bad-job", "settings.device is 'mps' but Apple MPS is not available here",
                          "Set the device to 'auto' or 'cpu'.")
    if pref in ("auto", "cuda") and cuda_ok:
        index = dist.local_rank if dist.enabled else 0
        torch.cuda.set_device(index)
        device = torch.device("cuda", index)
        name, kind = torch.cuda.get_device_name(index), "cuda"
        count = torch.cuda.device_count()
        reason = "settings.device = cuda" if pref == "cuda" else "CUDA available"
    elif pref in ("auto", "mps") and _mps_available() and not dist.enabled:
        device, name, kind, count = torch.device("mps"), "Apple MPS", "mps", 1
        reason = "settings.device = mps" if pref == "mps" else "CUDA not available; Apple MPS available"
    else:
        device, kind, count = torch.device("cpu"), "cpu", 1
        name = f"CPU ({torch.get_num_threads()} threads)"
        if pref == "cpu":
            reason = "settings.device = cpu"
        elif not torch.version.cuda:
            reason = "CUDA not available: torch was built without CUDA"
        else:
            reason = "CUDA not available: no CUDA device found"
    amp: torch.dtype | None = None
    if kind == "cuda" and precision != "off":
        if precision == "bf16" or (precision == "auto" and torch.cuda.is_bf16_supported()):
            amp = torch.bfloat16
        else:
            amp = torch.float16
    report = {
        "kind": kind, "name": name, "count": count,
        "precision": {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(amp, "fp32"),
        "reason": reason + ("" if kind == "cuda" or precision in ("off", "auto") else
                            f"; {precision} autocast is used on CUDA only, so fp32 here"),
    }
    if dist.enabled:
        report["distributed"] = {"backend": dist.backend, "worldSize": dist.world_size}
    return device, report, amp


def init_distributed(dist: Dist) -> None:
    if not dist.enabled:
        return
    import torch.distributed as td

    dist.backend = "nccl" if torch.cuda.is_available() else "gloo"
    if not td.is_initialized():
        td.init_process_group(backend=dist.backend)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_mib(device: torch.device) -> float | None:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    if device.type == "mps":
        return torch.mps.driver_allocated_memory() / 2**20  # MPS has no peak counter: current allocation
    return None


def is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "mps backend out of memory" in text)
