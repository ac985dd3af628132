"""Lab Streaming Layer outlets: markers stamped with the display flip's time, and one sample per shown frame.

A lab records its EEG, its eye tracker and these streams with LabRecorder into one XDF file, lined up by each
sample's timestamp in LSL's clock (`pylsl.local_clock`). So a marker carries the time of the flip it belongs to
(a `time.monotonic()` reading taken right after the flip, converted by `to_lsl`), not the moment it was pushed.

Two outlets, found by name:
  <name>-markers  type "Markers", one string channel, irregular rate: "trial_on trial=3 block=1 dose=0.5", "pause"
  <name>-frames   type "Frames", three float64 channels (frame number, dose, dream age in ms; NaN where none) at
                  the source's fps; not "Markers", which XDF readers take for string events. Its samples come at
                  the display's pace: load them with pyxdf's `dejitter_timestamps=False` to keep each flip's time.
Their source ids name the stream and the host, so LabRecorder picks up a restarted run as the same stream.
pylsl (the `lab` extra) is imported where it is used: this module imports without it.
"""

from __future__ import annotations

import logging
import math
import socket
import time
from functools import cache
from types import ModuleType
from typing import Any

from realtime.errors import UserError, reason
from realtime.install import pip_install, version

PROBES = 9  # clock readings bracketed by time.monotonic(); the tightest bracket gives the offset
FRAME_CHANNELS = (("frame", "count"), ("dose", "none"), ("dream_age", "ms"))  # label, unit ("none": unitless)


log = logging.getLogger("deepdream.live")


def _pylsl() -> ModuleType:
    """pylsl, or a one-line UserError: not installed, or its liblsl would not load."""
    try:
        import pylsl
    except ImportError:
        raise UserError(f"--lsl needs the lab extra: {pip_install('lab')}") from None
    except (RuntimeError, OSError) as exc:  # pylsl raises RuntimeError when no liblsl loads
        raise UserError(f"--lsl: liblsl cannot start: {reason(exc)}") from None
    return pylsl


def lsl_clock() -> float:
    """Now in LSL's clock (`pylsl.local_clock()`), the one every stream of a recording is stamped in."""
    return float(_pylsl().local_clock())


@cache
def _offset() -> float:
    """LSL's clock minus time.monotonic(), measured once: each LSL reading is bracketed by two monotonic ones
    and the tightest bracket wins, so a reading the scheduler interrupted does not set the offset."""
    clock = _pylsl().local_clock
    best = (math.inf, 0.0)
    for _ in range(PROBES):
        before = time.monotonic()
        lsl = clock()
        after = time.monotonic()
        best = min(best, (after - before, lsl - (before + after) / 2))
    return best[1]


def to_lsl(monotonic_s: float) -> float:
    """A time.monotonic() reading in LSL's clock: the two need not share an epoch (they happen to on Linux)."""
    return monotonic_s + _offset()


def describe(fps: float, model: str = "", name: str = "deepdream") -> tuple[Any, Any]:
    """The two streams' StreamInfo (markers, frames), descriptions included; nothing opened yet."""
    pylsl = _pylsl()
    host = socket.gethostname()
    markers = pylsl.StreamInfo(
        f"{name}-markers", "Markers", 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, f"{name}-markers@{host}"
    )
    rate = fps if math.isfinite(fps) and fps > 0 else pylsl.IRREGULAR_RATE  # a photo, a rate the source lacks
    frames = pylsl.StreamInfo(
        f"{name}-frames", "Frames", len(FRAME_CHANNELS), rate, pylsl.cf_double64, f"{name}-frames@{host}"
    )
    channels = frames.desc().append_child("channels")
    for label, unit in FRAME_CHANNELS:
        channel = channels.append_child("channel")
        channel.append_child_value("label", label)
        channel.append_child_value("unit", unit)
        channel.append_child_value("type", "misc")  # not a signal a reader should filter or scale
    for info in (markers, frames):
        info.desc().append_child_value("program", "deepdream-live")
        info.desc().append_child_value("version", version())
        info.desc().append_child_value("model", model)
    return markers, frames


class LabStreams:
    """The markers and frames outlets, open (discoverable) from construction until close()."""

    def __init__(self, fps: float, model: str = "", name: str = "deepdream") -> None:
        pylsl = _pylsl()
        markers, frames = describe(fps, model, name)
        self._outlets: list[Any] = []
        try:
            for info in (markers, frames):
                self._outlets.append(pylsl.StreamOutlet(info))
        except (RuntimeError, OSError) as exc:  # no port to bind, no interface: liblsl says why in its log
            self.close()
            raise UserError(f"--lsl: liblsl cannot open its outlets: {reason(exc)}") from None

    def wait_for_consumers(self, timeout: float, frames: bool = True) -> bool:
        """Whether both streams (the markers alone with `frames=False`) have a recorder or other inlet taking their
        samples within `timeout` seconds: a sample pushed before one connects never reaches it, so a session waits
        here before its first marker."""
        deadline = time.monotonic() + timeout
        outlets = self._outlets if frames else self._outlets[:1]
        return bool(outlets) and all(
            outlet.wait_for_consumers(max(deadline - time.monotonic(), 0.0)) for outlet in outlets
        )

    def marker(self, text: str, flip: float) -> None:
        """Send `text`, stamped with `flip` (time.monotonic() right after the display flip it marks)."""
        if self._outlets:  # after close() there is no stream to send to
            self._outlets[0].push_sample([str(text)], to_lsl(flip))  # pylsl takes other objects for bytes

    def frame(self, number: int, dose: float, age_ms: float, flip: float) -> None:
        """Send one shown frame: its number, the dose and the dream's age in ms (NaN where none), at its flip."""
        if self._outlets:
            self._outlets[1].push_sample([float(number), float(dose), float(age_ms)], to_lsl(flip))

    def close(self) -> None:
        """Withdraw both streams (pylsl destroys an outlet with its last reference); closing twice is fine. With a
        recorder connected, first `LINGER_S` for what was pushed last (the session's end) to reach it: liblsl has
        no flush, and samples still queued in an outlet are lost with it."""
        if any(outlet.have_consumers() for outlet in self._outlets):
            time.sleep(LINGER_S)
        self._outlets.clear()

    def __enter__(self) -> LabStreams:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


LINGER_S = 0.5  # at close, for the last samples to leave (a loopback or LAN round trip is well under it)
WAIT_S = 10.0  # for a recorder at the start: LabRecorder or an EEG suite's LSL inlet connects within a second or two


def wait_for_recorder(streams: LabStreams, frames: bool) -> None:
    """Before the first frame: a sample sent before a recorder connects never reaches it, so give one `WAIT_S`
    seconds to take the markers (with `frames`, the frames), then go on either way, saying so."""
    log.info("LSL: deepdream-markers and deepdream-frames are open; waiting up to %.0f s for a recorder", WAIT_S)
    if streams.wait_for_consumers(WAIT_S, frames=frames):
        log.info("LSL: a recorder is taking the streams")
    else:
        log.warning(
            "LSL: no recorder took the streams within %.0f s; going on (what is sent before one connects is lost)",
            WAIT_S,
        )


def open_streams(fps: float, model: str = "") -> LabStreams:
    """The program's two outlets, or a one-line UserError when pylsl is missing or liblsl cannot start."""
    return LabStreams(fps, model)
