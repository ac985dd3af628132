"""Frame sources: where live frames come from, each yielding `Frame`s (RGB uint8 + capture time).

`open_source("webcam:0" | "synthetic" | path to video or image, loop=...)` builds one; `Latest`
runs any source on its own thread and keeps only the newest frame, so a slow dreamer drops frames
instead of queueing them (no growing latency), and survives a camera that vanishes: it keeps
handing out the last frame, marked `lost`, and reopens the camera until it returns.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from realtime.errors import UserError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # [H, W, 3] uint8 RGB
    time: float  # time.monotonic() at capture
    index: int  # position in the source (file frame number, or count since start)
    lost: bool = False  # the source has failed; this is the last good frame again


class CaptureSource:
    """An OpenCV capture: a camera index or device path, or a video file (looping if asked)."""

    def __init__(self, target: int | str, loop: bool = False, paced: bool | None = None):
        self.target, self.loop = target, loop
        self.is_file = isinstance(target, str) and Path(target).is_file()
        self.paced = self.is_file if paced is None else paced
        self.cap = self._open()
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 240 else 30.0

    def _open(self):
        cap = cv2.VideoCapture(self.target)
        if not cap.isOpened():
            what = "video file" if self.is_file else "camera"
            raise UserError(
                f"cannot open {what} {self.target!r}"
                + ("" if self.is_file else " (no camera there? try --source synthetic or a video file)")
            )
        return cap

    def reopen(self) -> bool:
        self.cap.release()
        try:
            self.cap = self._open()
            return True
        except UserError:
            return False

    def frames(self) -> Iterator[Frame | None]:
        """Frames; None where a read failed (a vanished camera), so the caller can decide."""
        index, start = 0, time.monotonic()
        while True:
            ok, bgr = self.cap.read()
            if not ok and self.is_file and self.loop:
                self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, bgr = self.cap.read()
            if not ok:
                if self.is_file:
                    return
                yield None
                continue
            if self.paced:  # a file plays at its own frame rate, like a camera would
                time.sleep(max(0.0, start + index / self.fps - time.monotonic()))
            yield Frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), time.monotonic(), index)
            index += 1

    def close(self):
        self.cap.release()


class StillSource:
    """One photo as a stream of frames: at `fps` like a camera, or as fast as they are taken (`paced`
    False: a seeded run, in lockstep with its dream)."""

    def __init__(self, path: Path, fps: float = 30.0, paced: bool = True):
        from realtime.media.images import load_image

        self.image, self.fps, self.paced = load_image(path), fps, paced

    def frames(self) -> Iterator[Frame]:
        index = 0
        while True:
            if self.paced:
                time.sleep(1.0 / self.fps)
            yield Frame(self.image, time.monotonic(), index)
            index += 1

    def close(self):
        pass


class SyntheticSource:
    """A moving test pattern (drifting colour bands and a travelling disc): runs with no camera."""

    def __init__(self, size=(640, 360), fps: float = 30.0, paced: bool = True):
        self.size, self.fps, self.paced = size, fps, paced

    def render(self, index: int) -> np.ndarray:
        w, h = self.size
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        t = index / self.fps
        img = np.stack([np.sin(x / 23 + t), np.sin(y / 17 - 0.7 * t), np.sin((x + y) / 31 + 0.4 * t)], -1)
        img = (img * 0.35 + 0.5) * 255
        cx, cy = w * (0.5 + 0.35 * np.sin(t * 0.8)), h * (0.5 + 0.3 * np.cos(t * 0.6))
        img[(x - cx) ** 2 + (y - cy) ** 2 < (min(w, h) / 6) ** 2] = (240, 200, 60)
        return img.astype(np.uint8)

    def frames(self) -> Iterator[Frame]:
        index, start = 0, time.monotonic()
        while True:
            if self.paced:
                time.sleep(max(0.0, start + index / self.fps - time.monotonic()))
            yield Frame(self.render(index), time.monotonic(), index)
            index += 1

    def close(self):
        pass


def open_source(spec: str, loop: bool = False, size=(640, 360)):
    if spec == "synthetic":
        return SyntheticSource(size)
    if spec.startswith("webcam:"):
        target = spec.split(":", 1)[1]
        # A device number (0-9999, ASCII digits: "²".isdigit() is true too) or a device path.
        return CaptureSource(int(target) if re.fullmatch(r"[0-9]{1,4}", target) else target)
    path = Path(spec)
    if not path.exists():
        raise UserError(f"no such source {spec!r}: use webcam:N, synthetic, or a video or image file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return StillSource(path)
    return CaptureSource(str(path), loop=loop)


class Latest:
    """Runs a source on a thread; `get()` returns the newest frame not yet handed out.

    `lockstep=True` hands out every frame instead (the reader waits for the consumer): for
    experiments on a file, where two runs must see the same frames.
    """

    def __init__(self, source, retry_s: float = 1.0, lockstep: bool = False):
        self.source, self.retry_s, self.lockstep = source, retry_s, lockstep
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._served = 0  # value of _count when a frame was last handed out
        self._count = 0  # frames captured, to tell new from seen
        self.ended = False
        self.lost = False
        self.dropped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)
        self._thread.start()

    def _run(self):
        try:
            while not self._stop.is_set():
                for frame in self.source.frames():
                    if self._stop.is_set():
                        return
                    if frame is None:
                        self._mark_lost()
                        break  # reopen below, then a fresh frames() iterator
                    self._publish(frame)
                else:
                    return  # the source ended (a file without --loop)
                while not self._stop.is_set() and not self.source.reopen():
                    self._stop.wait(self.retry_s)
        finally:
            with self._cond:
                self.ended = True
                self._cond.notify_all()

    def _mark_lost(self):
        with self._cond:
            self.lost = True
            self._cond.notify_all()

    def _publish(self, frame: Frame):
        with self._cond:
            while self.lockstep and self._served < self._count and not self._stop.is_set():
                self._cond.wait(0.1)
            if self._frame is not None and self._served < self._count:
                self.dropped += 1  # the previous frame was never handed out
            self._frame, self.lost = frame, False
            self._count += 1
            self._cond.notify_all()

    def get(self, timeout: float = 5.0, first_timeout: float = 120.0) -> Frame | None:
        """The newest unseen frame; the last one again (marked lost) if the source has failed or
        stalled for `timeout`; None when the source has ended. A source that gives no first frame
        within `first_timeout` (a huge synthetic frame takes seconds) is an error, not an end."""
        deadline = time.monotonic() + (timeout if self._frame is not None else first_timeout)
        with self._cond:
            while self._served >= self._count and not self.ended and not (self.lost and self._frame is not None):
                left = deadline - time.monotonic()
                if left <= 0:
                    if self._frame is None:
                        raise UserError(f"no frame from the source in {first_timeout:.0f} s")
                    return replace(self._frame, lost=True, time=time.monotonic())  # stalled: as if lost
                self._cond.wait(min(left, 0.1))
            if self._served >= self._count:
                if self.lost and self._frame is not None and not self.ended:
                    return replace(self._frame, lost=True, time=time.monotonic())
                return None
            self._served = self._count
            self._cond.notify_all()  # a lockstep reader waits for this
            return self._frame

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2.0)
        self.source.close()
