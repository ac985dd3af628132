"""A dream that follows the sound: the config's [[modulate]] rows map what is heard onto parameters.

A row: `param` (a live number of the table), `source` (level, bass, mid, treble, onset:
realtime.steer.features), `range = [LOW, HIGH]` within the parameter's own, `curve` (linear, or
exponential for ranges that multiply, such as zoom or step size), `attack` and `release` (seconds
to follow a rise and a fall; 0 follows at once). Per frame the source's feature (0..1) sets the
parameter to LOW + (HIGH - LOW) * f (or LOW * (HIGH / LOW) ** f), smoothed. A parameter an operator
holds is left alone, as the playlist leaves it. `Sound` does this live (a file played along, or an
input device, which, if it stops, is said once and the parameters go back to the values they had
without it); realtime.commands.steering does it for a render, from the clip's track at each frame's
timestamp, so two renders give the same bytes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from realtime.dream.params import live_numbers
from realtime.errors import UserError
from realtime.steer.features import FEATURES, WINDOW, Listener

if TYPE_CHECKING:
    from realtime.steer.show import Show

log = logging.getLogger("deepdream.live")
LONGEST_S = 60.0  # an attack or release beyond a minute is a typo


@dataclass(frozen=True)
class Row:
    param: str
    source: str
    low: float
    high: float
    curve: str = "linear"
    attack: float = 0.05
    release: float = 0.3

    def target(self, feature: float) -> float:
        if self.curve == "exponential":
            return self.low * (self.high / self.low) ** feature
        return self.low + (self.high - self.low) * feature


def parse_rows(tables: object, where: str) -> list[Row]:
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise UserError(f"{where}: [[modulate]] rows are tables with param, source and range")
    rows = [_row(table, i + 1, where) for i, table in enumerate(tables)]
    first: dict[str, int] = {}
    for number, row in enumerate(rows, 1):  # two rows on one parameter: only the last would be heard
        if row.param in first:
            raise UserError(
                f"{where}: [[modulate]] rows {first[row.param]} and {number} both move "
                f"{row.param.replace('_', '-')}; give it one row"
            )
        first[row.param] = number
    return rows


def _row(table: dict[str, Any], number: int, where: str) -> Row:
    numbers = live_numbers()
    try:
        unknown = set(table) - {"param", "source", "range", "curve", "attack", "release"}
        if unknown:
            raise ValueError(
                f"unknown key {sorted(unknown)[0]!r}; rows take param, source, range, curve, attack, release"
            )
        name = str(table.get("param", "")).replace("-", "_")
        if name not in numbers:
            raise ValueError(f"param {table.get('param')!r} is not one the sound can move ({', '.join(numbers)})")
        if table.get("source") not in FEATURES:
            raise ValueError(f"source {table.get('source')!r}: one of {', '.join(FEATURES)}")
        span = table.get("range")
        if not (isinstance(span, list) and len(span) == 2):
            raise ValueError(f"range is [LOW, HIGH], got {span!r}")
        low, high = (numbers[name].check(end) for end in span)  # finite, within the parameter's own range
        curve = table.get("curve", "linear")
        if curve not in ("linear", "exponential"):
            raise ValueError(f"curve is linear or exponential, got {curve!r}")
        if curve == "exponential" and (low <= 0 or high <= 0):
            raise ValueError(f"an exponential curve needs a range above 0, got {span}")
        attack, release = (
            _seconds(table.get(key, default), key) for key, default in (("attack", 0.05), ("release", 0.3))
        )
    except ValueError as exc:
        raise UserError(f"{where}: [[modulate]] row {number}: {exc}") from None
    return Row(name, table["source"], float(low), float(high), curve, attack, release)


def _seconds(value: object, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 <= value <= LONGEST_S
    ):
        raise ValueError(f"{what} is seconds, 0..{LONGEST_S:.0f}, got {value!r}")
    return float(value)


def _unit(feature: float) -> float:
    """A feature kept within 0..1: a sound that decodes to NaN (a broken float WAV) is heard as silence, so the
    smoothed value, and the parameter it sets, stay numbers."""
    return min(max(feature, 0.0), 1.0) if math.isfinite(feature) else 0.0


class Modulation:
    """The rows' smoothed values, frame after frame (`dt`: seconds since the previous frame)."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.smooth: list[float | None] = [None] * len(rows)
        self._params = live_numbers()  # looked up once, not every frame

    def values(self, features: Mapping[str, float], dt: float) -> dict[str, float]:
        out = {}
        for i, row in enumerate(self.rows):
            x, y = _unit(features[row.source]), self.smooth[i]
            tau = row.attack if y is None or x > y else row.release
            y = x if y is None or tau == 0 else y + (x - y) * (1 - math.exp(-max(dt, 0.0) / tau))
            self.smooth[i] = y
            value = row.target(y)
            out[row.param] = self._params[row.param].nearest(value)
        return out


class SoundSource(Protocol):
    """What is heard: realtime.media.sound's SoundTrack (a file) or Microphone (an input device)."""

    name: str

    @property
    def lost(self) -> str | None:
        """Why the sound stopped (None while it plays)."""

    def window(self, t: float, n: int) -> np.ndarray:
        """The n samples up to `t` seconds (a device: its newest n)."""

    def close(self) -> None: ...


class Sound:
    """Live: a source of samples (realtime.media.sound), heard each frame, moving the rows' parameters."""

    def __init__(self, source: SoundSource, rows: list[Row]) -> None:
        self.source, self.listener, self.modulation = source, Listener(), Modulation(rows)
        self.heard: dict[str, float] = {}
        self.last_t: float | None = None
        self.stopped = False

    def apply(self, show: Show, seconds: float) -> None:
        if self.stopped:
            return
        lost = self.source.lost
        if lost:
            self.stopped = True
            log.warning("sound input stopped (%s): the parameters return to their set values; the show goes on", lost)
            self.heard = {}
            show.modulate({})
            return
        self.heard = self.listener.hear(self.source.window(seconds, WINDOW))
        dt = 0.0 if self.last_t is None else seconds - self.last_t
        self.last_t = seconds
        show.modulate(self.modulation.values(self.heard, dt))

    def levels(self) -> dict[str, float]:
        return dict(self.heard) if self.heard else {name: 0.0 for name in FEATURES}

    def close(self) -> None:
        self.source.close()


def open_sound(audio: str | None, tables: object, where: str) -> Sound:
    """The rows checked, then the sound opened: a file (played along, round again), or an input device."""
    from realtime.media.sound import Microphone, SoundTrack

    rows = parse_rows(tables, where)
    if audio is None:
        raise UserError(f"{where} has [[modulate]] rows: give --audio (an input device, or a sound or video file)")
    if Path(audio).is_dir():
        raise UserError(f"--audio {audio} is a folder; give a sound or video file, or an input device")
    if not Path(audio).is_file() and ("/" in audio or "\\" in audio or Path(audio).suffix):
        raise UserError(f"--audio {audio}: no such file (a device is a name or a number: python -m sounddevice)")
    source: SoundSource
    if Path(audio).is_file():
        source = SoundTrack.read(Path(audio), loop=True)
    else:
        device = None if audio == "default" else int(audio) if audio.isdigit() else audio
        source = Microphone(device)
    log.info("sound from %s moves %s", source.name, ", ".join(f"{r.param} ({r.source})" for r in rows))
    return Sound(source, rows)
