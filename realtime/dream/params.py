"""The parameter table: every number a command takes, once, with its type, range, default, unit and help.

CLI flags, TOML keys, playlist scenes, OSC parameters, the frame log's columns, the HUD and the
settings dataclasses (realtime.dream.settings.settings_class) are all made from these tables, and
every value, wherever it enters, goes through `Param.check`: finite, in range, one rule and one
message. `STREAM` holds what `live` and `render` dream with (the `live=True` ones change while
running: keys, OSC, scenes); `STILL` what `dream` takes; `LIVE` the show's own numbers; `OUTPUT`
every MP4's; `CLUSTER` `render --ray`'s; `SHOW` the live `model` and `mix`, bounded by the models loaded
(`steering()`: every name a running show takes, which OSC, the control page, the status and
docs/steering.md list). A name means the same thing everywhere; only the defaults
differ where a still and a stream want different ones. `param(table, name)` looks one up by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

MAX_SIDE = 7680  # 8K: a 360-degree 8K frame is 7680x3840; beyond it no step fits in memory anyway
MIN_SIDE = 75  # InceptionV3 needs at least 75 x 75 pixels
ON = ("on", "true", "yes", "1")
OFF = ("off", "false", "no", "0")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # int, float, bool, choice, size
    default: object
    help: str
    low: float | None = None
    high: float | None = None
    unit: str = ""
    live: bool = False  # changes while running (keys, OSC, playlist scenes)
    choices: tuple = ()
    off: object = None  # a value outside low..high that means "off" (0 for --tile); a choice's: on/off switch it
    optional: bool = False  # None allowed: derived from another parameter
    bound: str = ""  # the high end counts these (BOUNDS), known once the models are loaded: `within` fills it in
    by_name: bool = False  # with a bound: each of `within`'s names stands for its number too (mix: a layer's name)

    @property
    def key(self) -> str:
        """Its name in TOML, scenes and messages (a flag is `--` + key; OSC takes `name`)."""
        return self.name.replace("_", "-")

    @property
    def flag(self) -> str:
        return "--" + self.key

    def within(self, names: tuple) -> Param:
        """A row with a run-time `bound` as one stream holds it: `names` (its models, its layers) set the high end."""
        return replace(self, high=self.low + len(names) - 1, choices=tuple(names) if self.by_name else ())

    def switch(self, value, on):
        """A choice with an `off` takes on/off (or 1/0) too: off is its off, on is `on` (what was in force)."""
        if value in self.choices:
            return value
        try:
            return on if on_off(value) else self.off
        except ValueError:
            shown = ", ".join(c for c in self.choices if c != self.off)
            raise ValueError(f"{self.key} expects {shown}, on or off (or 1/0), got {value!r}") from None

    def nearest(self, value):
        """A number as the parameter holds it: whole for an int (a crossfade, a knob or the sound lands between)."""
        return round(value) if self.kind == "int" else value

    def parse(self, text: str):
        """A value written as text (a flag, a TOML value) -> the checked value."""
        text = str(text).strip()
        if self.kind == "size":
            return self.check(text)
        converters = {"int": _int_text, "float": float, "bool": on_off, "choice": str}
        try:
            value = converters[self.kind](text)
        except ValueError:
            raise ValueError(f"{self.key} expects {self.expects()}, got {text!r}") from None
        return self.check(value)

    def check(self, value):
        """A typed value (from code, TOML, a scene, OSC) -> itself, converted, or ValueError naming the rule."""
        if value is None and self.optional:
            return None
        check = {"int": self._number, "float": self._number, "bool": on_off, "choice": self._choice, "size": _size}[
            self.kind
        ]
        try:
            return check(value)
        except ValueError as exc:
            raise ValueError(f"{self.key} {exc}") from None

    def _number(self, value):
        if self.by_name and isinstance(value, str) and value in self.choices:
            value = self.low + self.choices.index(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expects {self.expects()}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):  # ints are finite (and may be too big for a float)
            raise ValueError(f"must be a finite number, got {value}")
        if self.kind == "int":
            if isinstance(value, float) and value != int(value):
                raise ValueError(f"expects a whole number, got {value}")
            value = int(value)
        elif abs(value) < 1e300:  # an int too big for a float is out of range anyway
            value = float(value)
        if self.off is not None and value == self.off:
            return value
        if not self.low <= value <= self.high:
            off = f" (or {self.off}: off)" if self.off is not None else ""
            got = f"{value:.12g}" if isinstance(value, float) else str(value)  # 2.0000001 is not "2"
            raise ValueError(f"must be within {fmt_number(self.low)}..{fmt_number(self.high)}{off}, got {got[:20]}")
        return value

    def _choice(self, value):
        if value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}, got {value!r}")
        return value

    def expects(self) -> str:
        if self.kind == "size":
            return f"WIDTHxHEIGHT, each {fmt_number(self.low)}..{MAX_SIDE}"
        if self.kind == "choice":
            return " | ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        off = " (0: off)" if self.off == 0 else ""
        high = BOUNDS[self.bound] if self.high is None else fmt_number(self.high)
        names = (
            " or the name of one" + (f" ({', '.join(self.choices)})" if self.choices else "") if self.by_name else ""
        )
        return f"{'a whole number' if self.kind == 'int' else 'a number'} {fmt_number(self.low)}..{high}{off}{names}"


def fmt_number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _int_text(text: str):
    try:
        return int(text)
    except ValueError:
        pass
    number = float(text)  # "2e3" and "2.0" are whole numbers too; nan and inf fail the check
    return int(number) if math.isfinite(number) and number == int(number) else number


def on_off(value) -> bool:
    """true/false, on/off, yes/no, 1/0 (flags, TOML, OSC) -> bool."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ON + OFF:
        return value.lower() in ON
    raise ValueError(f"expects on/off (or 1/0), got {value!r}")


def _size(value) -> tuple[int, int]:
    if isinstance(value, str):
        text = value
        try:
            value = tuple(int(v) for v in text.lower().split("x"))
        except ValueError:
            value = ()
        if len(value) != 2:
            raise ValueError(f"expects WIDTHxHEIGHT such as 640x360, got {text!r}")
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ValueError(f"expects WIDTHxHEIGHT such as 640x360, got {value!r}")
    w, h = value
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise ValueError(f"must be {MIN_SIDE}..{MAX_SIDE} pixels a side (the network needs {MIN_SIDE}), got {w}x{h}")
    return int(w), int(h)


def table(params: tuple) -> dict[str, Param]:
    return {p.name: p for p in params}


def param(params: tuple, name: str) -> Param:
    """The parameter `name` of a table (KeyError names it when there is none)."""
    for p in params:
        if p.name == name:
            return p
    raise KeyError(f"no parameter {name!r} in this table")


def canonical(name: str) -> str:
    """A parameter's name as the tables hold it, however it came: TOML, [midi] and [[modulate]] write step-size."""
    return name.replace("-", "_")


def live_params() -> dict[str, Param]:
    """The STREAM parameters that change while running (keys, OSC, scenes)."""
    return {p.name: p for p in STREAM if p.live}


def steering() -> dict[str, Param]:
    """Every name a show is steered by (OSC, the control page, keys): the live STREAM parameters, then SHOW's."""
    return {**live_params(), **table(SHOW)}


def switches() -> dict[str, Param]:
    """The live choices that on/off switch (a choice row with an `off`): their name is a key command too."""
    return {name: p for name, p in live_params().items() if p.kind == "choice" and p.off is not None}


def live_numbers() -> dict[str, Param]:
    """The live parameters that take a number: what scenes, knobs and the sound can move."""
    return {name: p for name, p in live_params().items() if p.kind in ("int", "float")}


def check_all(params: tuple, values: dict) -> dict:
    """Every value of `values` checked by its parameter; unknown names are refused."""
    known = table(params)
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown parameter {sorted(unknown)[0]!r}")
    return {name: known[name].check(value) for name, value in values.items()}


# What `live` and `render` take. Ranges: beyond them the dream is black, noise or frozen, or a
# buffer no machine holds; they are generous enough for any look we have seen.
STREAM = (
    Param("size", "size", (640, 360), "processing size WxH", MIN_SIDE, MAX_SIDE, unit="px"),
    Param("steps_per_frame", "int", 1, "ascent steps per frame", 0, 100, unit="steps", live=True),
    Param("step_size", "float", 0.02, "step size of each ascent step", 1e-5, 1.0, live=True),
    Param("feedback", "float", 0.9, "share of the previous dream kept", 0.0, 1.0, live=True),
    Param(
        "feedback_moving",
        "float",
        None,
        "feedback where the image moves (default: --feedback)",
        0.0,
        1.0,
        optional=True,
    ),
    Param(
        "feedback_static", "float", None, "feedback where it is still (default: --feedback)", 0.0, 1.0, optional=True
    ),
    Param(
        "flow",
        "choice",
        "dis",
        "optical flow that carries the dream with motion",
        live=True,
        choices=("dis", "farneback", "off"),
        off="off",
    ),
    Param("zoom", "float", 1.0, "zoom into the feedback per frame, e.g. 1.02", 0.5, 2.0, unit="x", live=True),
    Param("octaves", "int", 1, "pyramid scales, one dreamed per frame", 1, 8),
    Param("octave_scale", "float", 1.4, "size ratio between octaves", 1.05, 4.0),
    Param("calm", "bool", False, "fade to the camera while people move, return when still"),
    Param("wrap", "bool", False, "360-degree equirectangular frames: no seam where the edges meet"),
)

# The show's live choices whose high end only the loaded models give (Param.bound), so no flags: `--model`
# names files (repeated for live) and a mix needs a --mix model. A scene's `model` is a path, not this number
# (the show finds its number), and the mix a status reports is where the glide is, not where it goes.
BOUNDS = {"models": "N (N: the models loaded)", "layers": "N-1 (N: the --mix model's layers)"}
SHOW = (
    Param(
        "model",
        "int",
        1,
        "which of the models dreams, counted from 1 as on the HUD (key m: the next)",
        1,
        None,
        live=True,
        bound="models",
    ),
    Param(
        "mix",
        "float",
        None,
        "the layer a --mix model's weight glides toward (keys , and .)",
        0.0,
        None,
        live=True,
        bound="layers",
        by_name=True,
    ),
)

# What `dream` takes for a still.
STILL = (
    Param("steps", "int", 100, "ascent steps per octave", 0, 100_000, unit="steps"),
    replace(param(STREAM, "step_size"), default=0.01, live=False),
    Param("octaves", "int", 1, "number of scales", 1, 20),
    Param("octave_scale", "float", 1.3, "size ratio between octaves", 1.05, 4.0),
    Param(
        "tile",
        "int",
        0,
        "tile size for big images (smaller tiles: less memory, more steps)",
        128,
        MAX_SIDE,
        unit="px",
        off=0,
    ),
    Param("jitter", "int", 0, "random roll per step", 0, 512, unit="px"),
    Param("blur", "float", 0.0, "Gaussian sigma for the gradient (0: off)", 0.0, 50.0, unit="px"),
    Param(
        "max_dim",
        "int",
        0,
        "dream at most this many pixels a side (the image is scaled back after)",
        MIN_SIDE,
        MAX_SIDE,
        unit="px",
        off=0,
    ),
    Param("seed", "int", 0, "seed for jitter and tile offsets", 0, 2**32 - 1),
    param(STREAM, "wrap"),
)

LIVE = (  # `live`'s own numbers: the show, not the dream
    Param("window", "size", None, "window size WxH (default: twice the shown size)", MIN_SIDE, MAX_SIDE, optional=True),
    Param("frames", "int", 0, "stop after N frames (0: run until quit)", 0, 10**12),
    Param("disparity", "int", 0, "shift of the right eye in pixels (with --stereo)", -2000, 2000, unit="px"),
    Param(
        "watchdog",
        "float",
        0.0,
        "run the loop in a child process, restarted if no frame is shown for this many "
        "seconds (one dream: 60 s more) or it dies (0: off)",
        1.0,
        86400.0,
        unit="s",
        off=0.0,
    ),
    Param(
        "min_free_mb",
        "float",
        500.0,
        "stop recording (and keep showing) when the disk has less free space",
        0.0,
        10.0**7,
        unit="MiB",
    ),
    Param(
        "display_size",
        "size",
        None,
        "size of what every output shows, window, recording, stream, pipe "
        "(default: the source's, at most 1920x1080; with --sync: --size)",
        MIN_SIDE,
        MAX_SIDE,
        optional=True,
    ),
    Param("dream_fade", "int", 4, "display frames over which a finished dream fades in", 0, 60, unit="frames"),
    Param("sync", "bool", False, "each shown frame waits for its own dream (the display at the dream's rate)"),
)
OUTPUT = (  # every MP4 we write (live --record, key and OSC recordings, render)
    Param("crf", "int", 18, "H.264 quality (lower: better and bigger; 18 looks like the source)", 0, 51),
)
CLUSTER = (  # render --ray
    Param("cpus_per_task", "int", 1, "CPUs (and onnxruntime threads) per task", 1, 1024),
    Param(
        "gpus_per_task",
        "float",
        None,
        "GPUs per task (default: 1 where the cluster has GPUs, else 0)",
        0.0,
        64.0,
        optional=True,
    ),
    Param("chunk_frames", "int", 90, "frames per task; chunk borders are fixed by this, not by the cluster", 1, 10**6),
    Param(
        "warmup_frames", "int", 20, "frames dreamed before each chunk and discarded (the feedback builds up)", 0, 10**4
    ),
    Param("blend_frames", "int", 8, "frames dreamed past each chunk and crossfaded into the next", 0, 10**4),
)
