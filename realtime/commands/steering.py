"""What steers a render frame by frame: the sound, through the config's [[modulate]] rows.

`Steering.of(job, fps)` reads the rows from the render's --config and the track they follow (--audio,
else the clip's own sound), and `values(i)` gives frame i's parameters, computed in frame order from
the track at i / fps seconds (realtime.steer.modulate's rows, heard by realtime.steer.features), so a
render, a resumed one and `--ray` chunks get the same numbers for the same frame. Without rows it
steers nothing.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from realtime.errors import UserError
from realtime.steer.features import WINDOW, Listener
from realtime.steer.modulate import Modulation, Row, parse_rows


class Steering:
    def __init__(self, rows: list[Row], track=None, fps: float = 30.0, source: Path | None = None):
        self.rows, self.track, self.fps, self.source = rows, track, fps, source
        self._listener, self._modulation, self._values = Listener(), Modulation(rows), []

    @classmethod
    def of(cls, job, fps: float) -> Steering:
        from realtime.config import tables

        config = tables(job.config) if job.config is not None else {}
        rows = parse_rows(config["modulate"], str(job.config)) if "modulate" in config else []
        if not rows:
            if job.audio is not None:
                print(
                    f"note: --audio {job.audio}: no [[modulate]] rows in a --config, so the sound moves nothing",
                    file=sys.stderr,
                    flush=True,
                )
            return cls([])
        from realtime.media.sound import SoundTrack

        source = job.audio or job.input
        try:
            track = SoundTrack.read(source)
        except UserError as exc:
            raise UserError(f"{exc}; the [[modulate]] rows of {job.config} need a sound: give --audio FILE") from None
        return cls(rows, track, fps, source)

    def values(self, index: int) -> dict:
        """Frame `index`'s parameters (every earlier frame's computed first: the smoothing runs in order)."""
        while len(self._values) <= index and self.rows:
            i = len(self._values)
            heard = self._listener.hear(self.track.window(i / self.fps, WINDOW))
            self._values.append(self._modulation.values(heard, 1.0 / self.fps if i else 0.0))
        return self._values[index] if self.rows else {}

    def apply(self, stream, index: int) -> None:
        for name, value in self.values(index).items():
            stream.set(name, value)

    def describe(self) -> dict | None:
        """What a resumed render must find unchanged: the rows and the sound's bytes."""
        if not self.rows:
            return None
        digest = hashlib.sha256(self.track.samples.tobytes()).hexdigest()[:16]
        return {"rows": [vars(r) for r in self.rows], "sound": str(Path(self.source).resolve()), "samples": digest}
