"""`live --lsl`: every shown frame (number, dose, dream age) on the LSL stream deepdream-frames, in LSL's clock.

Outside an experiment there are no trials to mark, so only the frame stream carries anything; the markers outlet
is there too (empty), so a recorder's configuration works for `live` and `experiment` alike.
"""

from __future__ import annotations

import logging

from realtime.dream.kinds import Steered
from realtime.lab.lsl import LabStreams, open_streams, wait_for_recorder
from realtime.run.director import Director, Flip

log = logging.getLogger("deepdream.live")


class FramesLead:
    """The lead of a `live --lsl` run (realtime.commands.live.Lead): no director, one listener of the flips."""

    def __init__(self) -> None:
        self.streams: LabStreams | None = None

    def start(
        self, mode: object, display: object, fps: float, outputs: object, stream: Steered
    ) -> tuple[Director | None, tuple]:
        self.streams = open_streams(fps, stream.figures().model)
        wait_for_recorder(self.streams, frames=True)
        return None, (self.frame,)

    def frame(self, flip: Flip) -> None:
        if self.streams is not None:
            self.streams.frame(flip.frame, flip.dose, flip.dream_age_ms, flip.flip)

    def finish(self, summary: dict) -> int:
        return 0

    def close(self) -> None:
        if self.streams is not None:
            self.streams.close()
