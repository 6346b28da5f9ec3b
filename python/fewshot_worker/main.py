"""`python -m fewshot_worker --job job.json`: the worker's entry point.

Multi-GPU: `python -m torch.distributed.run --standalone --nproc_per_node N -m fewshot_worker --job job.json`
(DistributedDataParallel; only rank 0 evaluates, writes messages and saves; the frozen-layer cache is off).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import traceback

from . import PROTOCOL_VERSION, __version__
from .protocol import Cancelled, CancelFlag, Channel, WorkerError


def versions() -> dict:
    import importlib.metadata as md

    import torch

    out = {"python": platform.python_version(), "worker": __version__}
    for pkg in ("torch", "transformers", "tokenizers", "safetensors", "onnx", "onnxruntime", "onnxscript", "numpy",
                "setfit", "sentence-transformers", "torchvision", "pillow"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    if torch.version.cuda:
        out["cuda"] = torch.version.cuda
    return out


def environment() -> dict:
    """What `fewshot env` shows: versions, and the devices this torch can use."""
    import torch

    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return {"protocol": PROTOCOL_VERSION, "versions": versions(), "cuda": bool(gpus), "gpus": gpus, "mps": mps,
            "cudaBuild": torch.version.cuda, "cpuThreads": torch.get_num_threads()}


def run_job(job, channel: Channel, cancel: CancelFlag, dist=None) -> dict:
    """Everything after the job is read. Returns the 'done' message (sent on rank 0)."""
    import torch

    from .device import choose_device, dist_from_env, init_distributed
    from .export import export_onnx, save_model
    from .model import count_params, layer_count, load_model
    from .train import Trainer, seed_everything

    s = job.settings
    dist = dist or dist_from_env()
    init_distributed(dist)
    device, report, amp = choose_device(s.device, s.precision, dist)
    try:
        seed_everything(s.seed)
        tokenizer, model = load_model(s.model, s.allowRemote, job.labels)
        model.to(device)
        _, total = count_params(model)
        channel.send("started", pid=os.getpid(), device=report, versions=versions(),
                     model={"name": os.path.basename(os.path.normpath(s.model)) or s.model,
                            "layers": layer_count(model), "parameters": total})
        trainer = Trainer(job, model, tokenizer, device, amp, channel, cancel, dist)
        summary = trainer.run()
        if not dist.main:
            return {}
        cancel.check()
        probabilities = trainer.test_probabilities(job.test)
        cancel.check()
        save_model(model, tokenizer, job.output_dir)
        samples = job.test[:2] + [t for t, _ in job.val[:1]] + [t for t, _ in job.train[:1]]
        onnx_path, diff = export_onnx(model, tokenizer, job.output_dir, samples, s.maxLength)
        channel.log(f"ONNX export: {onnx_path}, max |Δlogit| vs PyTorch {diff:.2e}.")
        return channel.send("done", bestEpoch=summary["bestEpoch"], epochsRun=summary["epochsRun"],
                            bestValMacroF1=summary["bestValMacroF1"], testProbabilities=probabilities,
                            onnx=onnx_path, onnxMaxAbsDiff=diff, stages=summary["stages"])
    except Exception as e:
        from .device import is_oom
        if is_oom(e):
            raise WorkerError("oom", f"Out of memory on {report['name']}: {str(e).splitlines()[0]}",
                              f"Lower the batch size (now {s.batchSize}) or the max length (now {s.maxLength}).",
                              traceback.format_exc())
        raise
    finally:
        if dist.enabled:
            import torch.distributed as td
            if td.is_initialized():
                try:
                    td.destroy_process_group()
                except Exception as e:  # noqa: BLE001 — a peer that already left (e.g. after a cancel)
                    print(f"destroy_process_group: {e}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fewshot_worker", description="Few-Shot Lab fine-tuning worker")
    parser.add_argument("--job", help="path of the job file (FinetuneJob JSON)")
    parser.add_argument("--env", action="store_true",
                        help="print one JSON line: protocol, package versions, CUDA/MPS devices (for `fewshot env`)")
    args = parser.parse_args(argv)
    if args.env:
        sys.stdout.write(json.dumps(environment()) + "\n")
        return 0
    if not args.job:
        parser.error("--job is required")

    # Before any heavy import (torch takes seconds): the protocol channel and the cancel listener.
    rank = int(os.environ.get("RANK", "0") or 0)
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    channel = Channel.take_stdout(enabled=rank == 0)
    cancel = CancelFlag()
    # Under torchrun only rank 0 reads stdin, and there is no watchdog: the ranks agree on the flag
    # between training batches (all_reduce) and stop together (SIGTERM reaches every rank).
    cancel.listen(channel=channel if world <= 1 else None, read_stdin=rank == 0)
    try:
        from .device import dist_from_env
        dist = dist_from_env()
        from .job import load_job
        job = load_job(args.job)
        if not job.settings.allowRemote:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if job.kind == "image":
            from .image_job import run_image_job
            run_image_job(job, channel, cancel)
            return 0
        if job.kind == "setfit":
            if job.settings.device == "cpu":
                os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the library's trainer would otherwise pick CUDA
            from .setfit_job import run_setfit_guarded
            run_setfit_guarded(job, channel, cancel)
            return 0
        run_job(job, channel, cancel, dist)
        return 0
    except Cancelled:
        channel.send("cancelled")
        return 0
    except WorkerError as e:
        channel.send("error", code=e.code, message=e.message,
                     **({"fix": e.fix} if e.fix else {}), **({"detail": e.detail} if e.detail else {}))
        return 1
    except KeyboardInterrupt:
        channel.send("cancelled")
        return 0
    except Exception as e:  # noqa: BLE001 — every failure reaches the parent as a message
        channel.send("error", code="internal", message=f"{type(e).__name__}: {e}", detail=traceback.format_exc())
        return 1
    finally:
        sys.stderr.flush()
