"""The experiment log: one CSV row per displayed frame, so a study knows what was seen, and when.

Columns: wall-clock time (ISO 8601, UTC) and monotonic seconds, the displayed frame's index and
its source frame's index, every live parameter in force, the loss and the ms per step.

Days-long runs: past `max_mb` the log goes on in FILE.part2.csv, FILE.part3.csv, ... (each with
the header; nothing is ever deleted: it is experiment data). A failing write (a full disk) stops
the log with a warning; the show goes on.
"""
from __future__ import annotations

import csv
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

from realtime.errors import UserError

log = logging.getLogger("deepdream.live")

COLUMNS = ["wall_time", "monotonic", "frame", "source_frame", "model", "scene", "step_size", "steps_per_frame", "feedback",
           "feedback_moving", "feedback_static", "flow", "zoom", "octaves", "calm", "calm_strength", "wrap",
           "mix_center", "paused", "loss", "ms_per_step"]


class FrameLog:
    def __init__(self, path: Path, max_mb: float = 100.0):
        self.path, self.max_bytes, self.part = Path(path), max_mb * 2**20, 1
        self.failed = False
        try:
            self._open(self.path)
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None

    def _open(self, path: Path) -> None:
        self.fh = open(path, "w", newline="")
        self.writer = csv.writer(self.fh)
        self.writer.writerow(COLUMNS)

    def __call__(self, frame, stream, index: int) -> None:
        if self.failed:
            return
        try:
            self._write(frame, stream, index)
        except OSError as exc:
            self.failed = True
            log.warning("experiment log stopped at frame %d: cannot write %s: %s; still showing", index,
                        self.fh.name, exc.strerror or exc)
            self._close_quietly()

    def _write(self, frame, stream, index: int) -> None:
        if self.fh.tell() > self.max_bytes:
            self.fh.close()
            self.part += 1
            self._open(self.path.with_name(f"{self.path.stem}.part{self.part}{self.path.suffix}"))
            log.info("experiment log continues in %s", self.fh.name)
        c, s = stream.controls, stream.settings
        steps = c.steps_per_frame
        self.writer.writerow([
            datetime.now(timezone.utc).isoformat(timespec="microseconds"), f"{time.monotonic():.6f}", index,
            frame.index, stream.engine.info.name, stream.scene, f"{c.step_size:.6g}", steps, f"{c.feedback:.6g}",
            s.feedback_moving if s.feedback_moving is not None else "", s.feedback_static
            if s.feedback_static is not None else "", "on" if c.flow_on else "off", c.zoom, s.octaves, s.calm,
            f"{stream.calm_strength:.4f}", s.wrap, "" if stream.mix_center is None else f"{stream.mix_center:.3f}",
            c.paused, f"{stream.engine.last_loss:.6g}",
            f"{stream.last['dream_s'] * 1e3 / steps:.2f}" if steps else ""])
        self.fh.flush()

    def close(self):
        if self.failed:
            return
        try:
            self.fh.close()  # closes the file even when the last flush fails
        except OSError as exc:
            log.warning("experiment log: cannot finish %s: %s", self.fh.name, exc.strerror or exc)

    def _close_quietly(self):
        try:
            self.fh.close()
        except OSError:
            pass  # the buffered rows are lost with the disk space; the warning has said so
