"""Recording that survives a full disk: a sink wrapper that stops recording before the disk fills
(or when a write fails), keeps what was recorded as a playable file, and lets the show go on.

A full disk is found out late (the encoder buffers, and finalising the file needs room too), so
the guard watches the free space itself, once a second, and stops while there is still room to
finalise the file.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

log = logging.getLogger("deepdream.live")


class DiskGuard:
    def __init__(self, sink, min_free_mb: float, every_s: float = 1.0):
        self.sink, self.min_free, self.every_s = sink, min_free_mb * 2**20, every_s
        self.folder = Path(self.path or ".").resolve().parent
        self.stopped: str | None = None  # why recording stopped, once it has
        self._checked = 0.0

    def write(self, frame) -> None:
        if self.stopped:
            return
        now = time.monotonic()
        if now - self._checked >= self.every_s:
            self._checked = now
            free = shutil.disk_usage(self.folder).free
            if free < self.min_free:
                self._stop(f"disk nearly full ({free / 2**20:.0f} MiB free in {self.folder})")
                return
        try:
            self.sink.write(frame)
        except OSError as exc:
            self._stop(f"cannot write {self.path or 'the recording'}: {exc.strerror or exc}")

    def _stop(self, why: str) -> None:
        self.stopped = why
        try:
            self.sink.close()
            kept = f"kept {self.frames} frames in {self.path or 'the recording'}"
        except OSError as exc:
            kept = f"and it could not be finalised ({exc.strerror or exc})"
        log.warning("recording stopped: %s; %s; still showing", why, kept)

    def close(self) -> None:
        if not self.stopped:
            self.sink.close()

    @property
    def path(self):
        return getattr(self.sink, "path", None)

    @property
    def frames(self):
        return getattr(self.sink, "frames", 0)
