"""How `live` runs, decided once from the options and the opened source (`decide`).

A seed on a source that is a file (a video or a still photo) makes the run repeatable: lockstep,
every frame in order as fast as the dream goes, on the loop's thread, with exact engines and an
exact recording. `--sync` also dreams each frame on the loop's thread, from the newest frame. Else
the dream runs on a worker thread beside the display path, its engines built below the display's
priority (realtime.run.system.lowered) with `beside_display`'s options.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from realtime.media.kinds import Source, from_file

SPIN_US = 1000  # onnxruntime's idle threads spin this long, then sleep (docs/benchmarks/live.md says why)


@dataclass(frozen=True)
class LiveMode:
    file: bool  # the frames come from a file: its frame index is the media's time (the sound's, say)
    lockstep: bool  # --seed with a file: every frame in order, not real time, exact engines and recording
    sync: bool  # each frame waits for its dream on the loop's thread (--sync, or lockstep)

    @property
    def exact(self) -> bool:
        """Deterministic engines and an exact recording: two runs give the same bytes."""
        return self.lockstep

    @property
    def every_frame(self) -> bool:
        """The reader hands out every frame (lockstep, or a file shown at its rate beside the dream, so a
        recording of it has no holes); else the newest frame wins."""
        return self.lockstep or (self.file and not self.sync)

    @property
    def paced(self) -> bool:
        """A file plays at its own rate, like a camera; in lockstep as fast as the dream goes."""
        return not self.lockstep

    def engine_options(self, below: bool) -> dict:
        """The Engine's options: exact on the loop's thread; else as `beside_display(below)`."""
        return {"exact": self.exact} if self.sync else beside_display(below)


def decide(seed: int | None, sync: bool, source: Source) -> LiveMode:
    """The mode for `live --seed SEED [--sync]` on the opened `source`."""
    file = from_file(source)
    lockstep = seed is not None and file
    return LiveMode(file=file, lockstep=lockstep, sync=sync or lockstep)


def beside_display(below: bool) -> dict:
    """Engine options for a dream beside the display path. `below`: it runs at a lower priority than the
    display (built with realtime.run.system.lowered): onnxruntime's default threads; else one core left
    to the display and capture. Idle pool threads spin SPIN_US before they sleep: sleeping at once costs
    a wake-up per operator, and a short spin is as good beside the display as it is fast alone
    (measured: docs/benchmarks/live.md, "Threads beside the display")."""
    threads = 0 if below else max(1, (os.cpu_count() or 2) - 1)
    return {"threads": threads, "spin_us": SPIN_US}
