"""How `live` runs, decided once from the options and the opened source (`decide`).

A seed on a repeatable source (a video file or a still photo) makes the run repeatable: lockstep,
every frame in order as fast as the dream goes, on the loop's thread, with exact engines and an
exact recording. `--sync` also dreams each frame on the loop's thread, from the newest frame, with
exact engines when seeded. Else the dream runs on a worker thread beside the display path, its engines
built below the display's priority (realtime.run.system.lowered) with `beside_display`'s options.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from realtime.media.kinds import Source, is_video_file, repeatable

SPIN_US = 1000  # onnxruntime's idle threads spin this long, then sleep (docs/benchmarks/live.md says why)


@dataclass(frozen=True)
class LiveMode:
    video: bool  # the frames come from a video file: shown at its rate, its frame index the media's time
    lockstep: bool  # --seed on a repeatable source: every frame in order, not real time, an exact recording
    sync: bool  # each frame waits for its dream on the loop's thread (--sync, or lockstep)
    seeded: bool  # --seed: a dream on the loop's thread gives the same pictures for the same frames

    @property
    def exact(self) -> bool:
        """Deterministic engines: seeded, with the dream on the loop's thread (a worker's dreams land
        on whichever frame is newest, so exactness buys nothing there)."""
        return self.seeded and self.sync

    @property
    def every_frame(self) -> bool:
        """The reader hands out every frame (lockstep, or a video shown at its rate beside the dream, so a
        recording of it has no holes); else the newest frame wins."""
        return self.lockstep or (self.video and not self.sync)

    @property
    def media_time(self) -> bool:
        """The sound's modulation follows the frame index (a video's time, or a lockstep run's, which
        must repeat); else the wall clock, as a camera's or an unseeded photo's frames do."""
        return self.video or self.lockstep

    @property
    def paced(self) -> bool:
        """The source keeps its own rate (a video, a photo, the pattern); in lockstep as fast as the dream."""
        return not self.lockstep

    def engine_options(self, below: bool) -> dict:
        """The Engine's options: on the loop's thread exact when seeded; else as `beside_display(below)`."""
        return {"exact": self.exact} if self.sync else beside_display(below)


def decide(seed: int | None, sync: bool, source: Source) -> LiveMode:
    """The mode for `live --seed SEED [--sync]` on the opened `source`."""
    seeded = seed is not None
    lockstep = seeded and repeatable(source)
    return LiveMode(video=is_video_file(source), lockstep=lockstep, sync=sync or lockstep, seeded=seeded)


def beside_display(below: bool) -> dict:
    """Engine options for a dream beside the display path. `below`: it runs at a lower priority than the
    display (built with realtime.run.system.lowered): onnxruntime's default threads; else one core left
    to the display and capture. Idle pool threads spin SPIN_US before they sleep: sleeping at once costs
    a wake-up per operator, and a short spin is as good beside the display as it is fast alone
    (measured: docs/benchmarks/live.md, "Threads beside the display")."""
    threads = 0 if below else max(1, (os.cpu_count() or 2) - 1)
    return {"threads": threads, "spin_us": SPIN_US}
