"""The worker's side of src/protocol/finetune.ts: JSON lines on stdout, errors, cancellation."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
from typing import Any, TextIO

from . import PROTOCOL_VERSION


class WorkerError(Exception):
    """An error the parent shows: `code` is one of oom | model-missing | protocol | bad-job | internal."""

    def __init__(self, code: str, message: str, fix: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.code, self.message, self.fix, self.detail = code, message, fix, detail


class Cancelled(Exception):
    pass


def _clean(value: Any) -> Any:
    """JSON has no NaN/Infinity: send them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class Channel:
    """Writes protocol messages, one JSON object per line, flushed each time.

    `Channel.take_stdout()` keeps the real stdout for messages and points file descriptor 1 at stderr,
    so whatever a library prints (Python or C) lands in the log stream, never in the protocol stream.
    Ranks other than 0 under torchrun get a silent channel (`enabled=False`).
    """

    def __init__(self, stream: TextIO | None, enabled: bool = True):
        self.stream, self.enabled = stream, enabled
        self.lock = threading.Lock()
        self.sent: list[dict] = []  # kept for in-process callers (tests)
        self.keep = stream is None
        self.finished = False  # a done / error / cancelled message went out

    @classmethod
    def take_stdout(cls, enabled: bool = True) -> "Channel":
        sys.stdout.flush()
        fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        return cls(os.fdopen(fd, "w", encoding="utf-8", buffering=1), enabled)

    @classmethod
    def memory(cls) -> "Channel":
        """A channel that only records messages (for tests that call the trainer in-process)."""
        return cls(None)

    def send(self, type_: str, **fields: Any) -> dict:
        msg = {"type": type_, "protocol": PROTOCOL_VERSION, **_clean(fields)}
        with self.lock:
            if self.finished:
                return msg  # one ending only (the cancel watchdog may race the main thread)
            self.finished = type_ in ("done", "error", "cancelled")
            if not self.enabled:  # ranks other than 0: errors still reach the log stream
                if type_ == "error":
                    sys.stderr.write(json.dumps(msg, ensure_ascii=False) + "\n")
                return msg
            if self.keep:
                self.sent.append(msg)
            else:
                self.stream.write(json.dumps(msg, ensure_ascii=False) + "\n")
                self.stream.flush()
        return msg

    def log(self, message: str, level: str = "info") -> None:
        self.send("log", level=level, message=message)


class CancelFlag:
    """Set by {"type":"cancel"} on stdin or by SIGTERM; the trainer checks it between batches.

    With `listen(channel=…)`, a watchdog also guarantees the 2 s promise when the worker is inside one
    long step (loading a model, an ONNX export): 1 s after the request, if the worker has not ended,
    it sends `cancelled` and exits 0."""

    GRACE_S = 1.0

    def __init__(self) -> None:
        self.event = threading.Event()
        self.channel: Channel | None = None

    @property
    def is_set(self) -> bool:
        return self.event.is_set()

    def set(self) -> None:
        if self.event.is_set():
            return
        self.event.set()
        if self.channel is not None:
            timer = threading.Timer(self.GRACE_S, self._force)
            timer.daemon = True
            timer.start()

    def _force(self) -> None:
        self.channel.send("cancelled")
        sys.stderr.flush()
        os._exit(0)

    def check(self) -> None:
        if self.event.is_set():
            raise Cancelled()

    def listen(self, stdin: TextIO | None = None, channel: Channel | None = None, read_stdin: bool = True) -> None:
        """SIGTERM and (when `read_stdin`) {"type":"cancel"} lines on stdin set the flag; with a `channel`
        the watchdog is armed too."""
        self.channel = channel
        signal.signal(signal.SIGTERM, lambda *_: self.set())
        if not read_stdin:
            return
        stream = stdin if stdin is not None else sys.stdin

        def read() -> None:
            try:
                for line in stream:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        msg = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(msg, dict) and msg.get("type") == "cancel":
                        self.set()
            except (OSError, ValueError):
                pass  # stdin closed: no more cancel requests, but keep going

        threading.Thread(target=read, name="fewshot-cancel", daemon=True).start()
