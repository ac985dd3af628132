"""What a live stream is built with and what it reports: `StreamSettings` (every field a STREAM
parameter of realtime.dream.params, checked there) and `Figures` (a frozen snapshot of a stream at
one moment, for the HUD, OSC status, the frame log and --stats). Plain data, no behaviour.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from realtime.dream.params import STREAM, check_all


@dataclass(frozen=True)
class StreamSettings:
    """What a stream is built with; every field is a STREAM parameter (realtime.dream.params), checked."""
    size: tuple[int, int] = (640, 360)  # processing (width, height)
    steps_per_frame: int = 1
    step_size: float = 0.02
    feedback: float = 0.9
    feedback_moving: float | None = None  # default: --feedback
    feedback_static: float | None = None
    flow: str = "dis"  # dis, farneback or off
    zoom: float = 1.0
    octaves: int = 1
    octave_scale: float = 1.4
    calm: bool = False
    wrap: bool = False  # a 360-degree equirectangular panorama: no seam where its edges meet

    def __post_init__(self):
        for name, value in check_all(STREAM, asdict(self)).items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_values(cls, values: dict) -> "StreamSettings":
        """By name, from any mapping that holds the STREAM parameters (parsed flags, say)."""
        return cls(**{p.name: values[p.name] for p in STREAM if p.name in values})


@dataclass(frozen=True)
class Figures:
    """A stream's figures at one moment: what HUD, OSC status, the frame log and --stats read."""
    frame: int  # dreams made since prepare()
    settings: StreamSettings  # what the stream was built with
    values: dict  # the live parameters in force, by name
    model: str
    model_index: int  # from 0
    models: int
    model_paths: tuple  # every model's file, in order
    provider: str
    fell_back: str | None
    loss: float
    ms_per_step: float  # moving averages
    flow_ms: float
    dream_ms: float
    last_flow_s: float  # the newest frame's
    last_dream_s: float
    calm_strength: float
    mix_layers: tuple
    mix_center: float | None
    mix_target: float | None
