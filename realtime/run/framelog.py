"""The experiment log: one CSV row per displayed frame, so a study knows what was seen, and when.

Columns: wall-clock time (ISO 8601, UTC) and monotonic seconds, the displayed frame's index and
its source frame's index, every live parameter in force, the loss and the ms per step; in the
asynchronous mode also which dream update is on screen and how old it is (ms since its frame's capture);
with --audio what the sound's features were (realtime.steer.features).

Days-long runs: past `max_mb` the log goes on in FILE.part2.csv, FILE.part3.csv, ... (each with
the header; nothing is ever deleted: it is experiment data). A failing write (a full disk) stops
the log with a warning; the show goes on.
"""

from __future__ import annotations

import csv
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from realtime.dream.params import STREAM
from realtime.errors import UserError
from realtime.media.sources import Frame
from realtime.steer.features import FEATURES

log = logging.getLogger("deepdream.live")

# Every parameter of the table is a column (size aside: it is fixed for the run and in the header
# of any recording); live ones hold the value in force at that frame, the others the run's setting.
SOUND = tuple(f"sound_{name}" for name in FEATURES)  # with --audio: what the sound's features were at that frame
COLUMNS = [
    "wall_time",
    "monotonic",
    "frame",
    "source_frame",
    "model",
    "scene",
    *(p.name for p in STREAM if p.name != "size"),
    "calm_strength",
    "mix_center",
    "paused",
    "loss",
    "ms_per_step",
    "dream_update",
    "dream_age_ms",  # asynchronous mode only (the dream on screen)
    *SOUND,
]


class FrameLog:
    def __init__(self, path: Path, max_mb: float = 100.0) -> None:
        self.path, self.max_bytes, self.part = Path(path), max_mb * 2**20, 1
        self.failed = False
        try:
            self._open(self.path)
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None

    def _open(self, path: Path) -> None:
        self.fh: TextIO = open(path, "w", newline="")
        self.writer = csv.writer(self.fh)
        self.writer.writerow(COLUMNS)

    def __call__(self, frame: Frame, status: dict[str, Any], index: int, dreamed: bool = True) -> None:
        """One row: `status` is the show's (realtime.steer.show.Show.status); `dreamed` False while paused
        (the frame shown again, so no loss and no time per step)."""
        if self.failed:
            return
        try:
            self._write(frame, status, index, dreamed)
        except OSError as exc:
            self.failed = True
            log.warning(
                "experiment log stopped at frame %d: cannot write %s: %s; still showing",
                index,
                self.fh.name,
                exc.strerror or exc,
            )
            self._close_quietly()

    def _write(self, frame: Frame, status: dict[str, Any], index: int, dreamed: bool) -> None:
        if self.fh.tell() > self.max_bytes:
            self.fh.close()
            self.part += 1
            self._open(self.path.with_name(f"{self.path.stem}.part{self.part}{self.path.suffix}"))
            log.info("experiment log continues in %s", self.fh.name)
        values = [_cell(status[p.name]) for p in STREAM if p.name != "size"]
        self.writer.writerow(
            [
                datetime.now(UTC).isoformat(timespec="microseconds"),
                f"{time.monotonic():.6f}",
                index,
                frame.index,
                status["model_name"],
                status["scene"],
                *values,
                f"{status['calm_strength']:.4f}",
                _cell(status["mix"], "{:.3f}"),
                status["paused"],
                _cell(status["loss"]) if dreamed else "",
                _cell(status["ms_per_step"], "{:.2f}") if dreamed and status["steps_per_frame"] else "",
                status.get("dream_update", ""),
                _cell(status.get("dream_age_ms"), "{:.1f}"),
                *(_cell(status.get(name), "{:.4f}") for name in SOUND),
            ]
        )
        self.fh.flush()

    def close(self) -> None:
        if self.failed:
            return
        try:
            self.fh.close()  # closes the file even when the last flush fails
        except OSError as exc:
            log.warning("experiment log: cannot finish %s: %s", self.fh.name, exc.strerror or exc)

    def _close_quietly(self) -> None:
        try:
            self.fh.close()
        except OSError:
            pass  # the buffered rows are lost with the disk space; the warning has said so


def _cell(value: object, form: str = "{:.6g}") -> str:
    if value is None:
        return ""
    return form.format(value) if isinstance(value, float) else str(value)
