"""The experiment log: one CSV row per displayed frame, so a study knows what was seen, and when.

Columns: wall-clock time (ISO 8601, UTC) and monotonic seconds, the displayed frame's index and
its source frame's index, every live parameter in force, the loss and the ms per step.
"""
from __future__ import annotations

import csv
import time
from datetime import datetime, timezone
from pathlib import Path

from realtime.errors import UserError

COLUMNS = ["wall_time", "monotonic", "frame", "source_frame", "model", "scene", "step_size", "steps_per_frame", "feedback",
           "feedback_moving", "feedback_static", "flow", "zoom", "octaves", "calm", "calm_strength", "wrap",
           "mix_center", "paused", "loss", "ms_per_step"]


class FrameLog:
    def __init__(self, path: Path):
        try:
            self.fh = open(path, "w", newline="")
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.writer = csv.writer(self.fh)
        self.writer.writerow(COLUMNS)

    def __call__(self, frame, stream, index: int) -> None:
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
        self.fh.close()
