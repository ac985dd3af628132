"""What the live loop shows outside the show's hours (realtime.steer.schedule): the rest picture.

`Hours` answers the loop's questions: is the show open now, and what do the sinks show for a
camera frame while it is closed: black, the still fitted inside the display size (black bars
around), or the camera frame itself, undreamed, at the display size.
"""

from __future__ import annotations

import numpy as np

from realtime.dream.reproject import fit
from realtime.media.sources import Frame
from realtime.run.steps import LostPace
from realtime.steer.schedule import Schedule


class Hours:
    def __init__(self, schedule: Schedule, size: tuple[int, int], still: np.ndarray | None = None) -> None:
        """`size`: the display's (width, height); `still`: the schedule's image, loaded (uint8 RGB)."""
        self.schedule, self.size = schedule, size
        self.pace = LostPace()  # a lost camera's last frame again, at the source's rate
        width, height = size
        self.black = np.zeros((height, width, 3), np.uint8)
        self.black.flags.writeable = False  # one picture for every closed frame: no sink may change it
        self.still = letterboxed(still, size) if still is not None else self.black

    def open(self) -> bool:
        return self.schedule.is_open()

    def picture(self, frame: Frame) -> np.ndarray:
        if self.schedule.outside == "camera":
            return fit(frame.image, self.size)
        return self.still if self.schedule.outside == "still" else self.black


def letterboxed(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` as large as fits inside `size` (width, height), its shape kept, centred on black."""
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    w, h = max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))
    out = np.zeros((height, width, 3), np.uint8)
    x, y = (width - w) // 2, (height - h) // 2
    out[y : y + h, x : x + w] = fit(image, (w, h))
    out.flags.writeable = False
    return out
