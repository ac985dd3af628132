"""Recording and snapshots started while the loop runs (the `r` and `s` keys, OSC): files named by
the time, in the --snapshots folder. A recording is guarded against a full disk (realtime.media.diskguard).
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from realtime.media.diskguard import DiskGuard

log = logging.getLogger("deepdream.live")


class Recorder:
    """Recording and snapshots started by keys or OSC, into a folder; a full disk stops the recording."""

    def __init__(self, folder: Path, fps: float, size, latest, min_free_mb: float, fmt=None):
        self.folder, self.fps, self.size, self.latest = Path(folder), fps, size, latest
        self.min_free_mb, self.fmt = min_free_mb, fmt  # fmt: a realtime.media.video.VideoFormat
        self.sink = None

    @property
    def recording(self) -> bool:
        return self.sink is not None

    def write(self, frame):
        self.latest = frame
        if self.sink is not None:
            self.sink.write(frame)
            if self.sink.stopped:
                self.sink = None

    def toggle(self):
        from realtime.errors import UserError
        from realtime.media.video import VideoFormat, VideoWriter

        if self.sink is None:
            try:
                writer = VideoWriter(self.folder / f"dream-{_stamp()}.mp4", self.fps, self.size,
                                     self.fmt or VideoFormat())
                self.sink = DiskGuard(writer, self.min_free_mb)
            except UserError as exc:
                log.warning("cannot start recording: %s", exc)
                return
            log.info("recording to %s", self.sink.path)
        else:
            self.sink.close()
            log.info("recorded %s", self.sink.path)
            self.sink = None

    def snapshot(self):
        from realtime.media.images import save_image

        if self.latest is not None:
            path = self.folder / f"snapshot-{_stamp()}.png"
            try:
                save_image(path, self.latest)
            except (OSError, ValueError) as exc:
                log.warning("snapshot failed: %s", exc)
                return
            log.info("snapshot %s", path)

    def close(self):
        if self.sink is not None:
            self.toggle()


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-%f")
