"""The dream worker: a thread that owns the DreamStream and dreams the newest frame, as fast as it can.

The display path `offer()`s every camera frame (at the processing size) with the motion onto it;
the worker takes the newest one, applies the parameter changes queued since its last dream, dreams
it (the stream carries its previous dream onto it along the flow and weights it by the feedback, as
in the synchronous loop: per dream update, the same feedback; each dream builds on the one just
finished, which the display has not shown yet; the flow over the frames between starts from their
motions composed, realtime.dream.chain), carries the detail onto the newest frame offered
meanwhile (so the display path only adds one frame's motion and keeps a steady time per frame;
the same flow carries the feedback when the next dream takes that frame), and posts a
`DreamUpdate` that `take()` hands back once. The worker runs below the display's priority
(realtime.run.system). Nothing mutable crosses threads: frames, motions and details are handed
off through a condition, changes through a queue, figures as frozen snapshots (`StreamProxy`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from realtime.dream.chain import FAR_ALONE, Chain
from realtime.dream.flow import Flow, Motion, following
from realtime.dream.pixels import frozen
from realtime.dream.reproject import carrier, detail_of, padded
from realtime.dream.settings import Figures
from realtime.dream.stream import DreamStream
from realtime.media.sources import Frame
from realtime.run.system import lower_this_thread

if TYPE_CHECKING:
    from realtime.dream.engine import Engine

log = logging.getLogger("deepdream.live")


@dataclass(frozen=True)
class DreamUpdate:
    number: int  # from 1
    frame: np.ndarray  # uint8, processing size: the frame the detail is aligned with (offered last)
    detail: np.ndarray  # float32, [-1, 1] units, 3 or 4 channels (reproject.padded): dream minus the frame
    # it was dreamed from, carried onto `frame`
    index: int  # the index in the source of the frame it was dreamed from
    captured: float  # that frame's capture time (time.monotonic())
    seconds: float  # how long the dream took


class StreamProxy:
    """What the Show steers in the asynchronous mode: `set` is checked at once (on a shadow stream with
    the same engines, which also answers with the newest asked values) and queued for the worker;
    `figures()` combines those values with the worker's latest snapshot."""

    def __init__(self, stream: DreamStream) -> None:
        self._shadow = DreamStream(stream.engines, stream.figures().settings)  # never dreams: checks, holds values
        self._pending: queue.SimpleQueue[tuple[str, object]] = queue.SimpleQueue()
        self._snapshot = stream.figures()

    @property
    def engines(self) -> list[Engine]:
        return self._shadow.engines

    def set(self, name: str, value: object) -> None:
        self._shadow.set(name, value)  # ValueError names what is wrong, as the stream's own set does
        self._pending.put((name, value))

    def figures(self) -> Figures:
        asked = self._shadow.figures()
        return replace(
            self._snapshot,
            values=asked.values,
            model=asked.model,
            model_index=asked.model_index,
            mix_layers=asked.mix_layers,
            mix_target=asked.mix_target,
        )

    def apply(self, stream: DreamStream) -> None:
        """On the worker's thread, between dreams: every queued change, in order."""
        while True:
            try:
                name, value = self._pending.get_nowait()
            except queue.Empty:
                return
            stream.set(name, value)

    def publish(self, stream: DreamStream) -> None:
        self._snapshot = stream.figures()  # one reference swap of a frozen object


class DreamWorker:
    def __init__(self, stream: DreamStream, proxy: StreamProxy) -> None:
        self.stream, self.proxy = stream, proxy
        self._cond = threading.Condition()
        self._offered: Frame | None = None  # newest offered, not yet dreamed
        self._chain = Chain()  # every frame offered and the motion onto it; pushed and copied under the lock
        self._last_image: np.ndarray | None = None  # the image of the previous dream
        self._far: Flow | None = None  # from a dream's frame to the newest, at the stream's method
        self._landed: tuple[np.ndarray, Motion] | None = (
            None  # (the frame the last dream was carried onto, that motion)
        )
        self._update: DreamUpdate | None = None  # newest finished, not yet taken
        self._since: float | None = None  # when the dream in flight began (time.monotonic()); None between
        self._error: BaseException | None = None
        self._stop = False
        self.updates = 0
        self.busy_s = 0.0  # time spent dreaming (the rest: waiting for a frame)
        self._thread = threading.Thread(target=self._run, name="dream", daemon=True)
        self._thread.start()

    def offer(self, frame: Frame, motion: np.ndarray | None = None) -> None:
        """The newest camera frame (a Frame whose image is at the processing size) and the motion onto it
        from the frame offered before (a `Motion.coarse`, never changed after; None: unknown); older
        frames are dropped, their motions kept for the flow between two dreams."""
        with self._cond:
            self._offered = frame
            self._chain.push(frame.image, motion)
            self._cond.notify_all()

    def take(self) -> DreamUpdate | None:
        """The newest finished dream, once; re-raises what stopped the worker."""
        with self._cond:
            if self._error is not None:
                raise self._error
            update, self._update = self._update, None
            return update

    def dreaming_since(self) -> float | None:
        """When the dream in flight began (time.monotonic()), None while waiting for a frame: the
        watchdog's sign of life (realtime.run.watchdog.Heartbeat.watch)."""
        with self._cond:
            return self._since

    def _next(self) -> Frame | None:
        with self._cond:
            self._since = None
            while self._offered is None and not self._stop:
                self._cond.wait(0.1)
            frame, self._offered = self._offered, None
            self._since = None if frame is None else time.monotonic()
        return frame

    def _motions(self) -> Chain:
        """The offered frames' motions as of now, the worker's to compose (outside the lock)."""
        with self._cond:
            return self._chain.copy()

    def _run(self) -> None:
        try:
            lower_this_thread()  # the display comes first; onnxruntime's pool was started lowered too
            while True:
                frame = self._next()
                if frame is None:
                    return
                self._dream(frame)
        except BaseException as exc:  # handed to the display path, which stops and reports it
            with self._cond:
                self._error, self._since = exc, None

    def _dream(self, frame: Frame) -> None:
        t0 = time.perf_counter()
        self.proxy.apply(self.stream)
        if self._landed is not None and self._landed[0] is frame.image:  # the usual case: measured already
            dream = self.stream(frame.image, motion=self._landed[1])
        else:
            seed = None if self._last_image is None else self._motions().since(self._last_image)
            dream = self.stream(frame.image, seed)
        self._last_image = frame.image
        onto, detail = self._land(frame.image, detail_of(dream, frame.image))
        self.proxy.publish(self.stream)
        seconds = time.perf_counter() - t0
        with self._cond:
            self.updates += 1
            self._since = None  # with the count, so the watchdog never sees a finished first dream as running
            self.busy_s += seconds
            # `onto` is an offered frame, read-only already (and compared by identity by the display)
            self._update = DreamUpdate(self.updates, onto, frozen(detail), frame.index, frame.time, seconds)

    def _land(self, image: np.ndarray, detail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the newest frame offered while `image` was dreamed, the detail carried onto it), or
        (`image`, the detail) when none came or the flow is off."""
        figures = self.stream.figures()
        method, around = figures.values["flow"], figures.settings.wrap
        with self._cond:  # together: the chain then ends at `newest`
            newest, motions = self._offered, self._chain.copy()
        self._landed = None
        if newest is None or newest.image is image or method == "off":
            return image, detail
        self._far = following(self._far, method, around, far=True)
        motion = self._far.between(image, newest.image, motions.since(image, beyond=FAR_ALONE))
        self._landed = (newest.image, motion)  # the next dream's feedback flow, if it takes that frame
        return newest.image, carrier(motion, around)(padded(detail))

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=30.0)  # a dream in flight finishes first (seconds at most)
