"""Recording and snapshots started while the loop runs (the `r` and `s` keys, OSC): files named by
the time, in the --snapshots folder, made (parents too) at the first file. A recording is guarded
against a full disk (realtime.media.diskguard). `check_folder` says at start whether it can be.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime
from pathlib import Path

from realtime.errors import UserError, shown
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
        from realtime.media.video import VideoFormat, VideoWriter

        if self.sink is None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                fmt = self.fmt or VideoFormat()
                writer = VideoWriter(self.folder / f"dream-{_stamp()}{fmt.suffix}", self.fps, self.size, fmt)
                self.sink = DiskGuard(writer, self.min_free_mb)
            except (UserError, OSError) as exc:
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
                self.folder.mkdir(parents=True, exist_ok=True)
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


def check_folder(folder: Path) -> None:
    """Refuse, before any work, a --snapshots that can never hold a file: a file, or below one, or a folder
    (or the nearest one that exists) that cannot be written. A missing one is made at the first file."""
    try:
        existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    except OSError as exc:  # a name too long for the system, say
        raise UserError(f"--snapshots {shown(str(folder))}: {exc.strerror or exc}") from None
    if not existing.is_dir():
        raise UserError(f"--snapshots {folder}: {existing} is a file, not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".probe-"):
            pass
    except OSError as exc:
        raise UserError(f"--snapshots {folder}: cannot write there ({exc.strerror or exc})") from None
