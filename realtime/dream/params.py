"""The parameter table: every dream parameter once, with its type, range, default, unit and help.

CLI flags, TOML keys, playlist scenes, OSC parameters, the frame log's columns and the HUD are all
made from these tables, and every value, wherever it enters, goes through `Param.check`: finite, in
range, one rule and one message. `STREAM` holds what `live` and `render` take (the `live=True` ones
change while running: keys, OSC, scenes); `STILL` what `dream` takes. A name means the same thing in
both; only the defaults differ where a still and a stream want different ones.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

MAX_SIDE = 7680  # 8K: a 360-degree 8K frame is 7680x3840; beyond it no step fits in memory anyway
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
    off: object = None  # a value outside low..high that is allowed and means "off" (0 for --tile)
    optional: bool = False  # None allowed: derived from another parameter

    @property
    def key(self) -> str:
        """Its name in TOML, scenes and messages (a flag is `--` + key; OSC takes `name`)."""
        return self.name.replace("_", "-")

    @property
    def flag(self) -> str:
        return "--" + self.key

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
        check = {"int": self._number, "float": self._number, "bool": on_off, "choice": self._choice,
                 "size": _size}[self.kind]
        try:
            return check(value)
        except ValueError as exc:
            raise ValueError(f"{self.key} {exc}") from None

    def _number(self, value):
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
            raise ValueError(f"must be within {_fmt(self.low)}..{_fmt(self.high)}{off}, got {_fmt(value)[:20]}")
        return value

    def _choice(self, value):
        if value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}, got {value!r}")
        return value

    def expects(self) -> str:
        if self.kind == "size":
            return f"WIDTHxHEIGHT, each {_fmt(self.low)}..{MAX_SIDE}"
        if self.kind == "choice":
            return " | ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        off = f" (0: off)" if self.off == 0 else ""
        return f"{'a whole number' if self.kind == 'int' else 'a number'} {_fmt(self.low)}..{_fmt(self.high)}{off}"


def _fmt(value) -> str:
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
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ValueError(f"expects WIDTHxHEIGHT such as 640x360, got {value!r}")
    w, h = value
    if not (75 <= w <= MAX_SIDE and 75 <= h <= MAX_SIDE):
        raise ValueError(f"must be 75..{MAX_SIDE} pixels a side (the network needs 75), got {w}x{h}")
    return int(w), int(h)


# What `live` and `render` take. Ranges: beyond them the dream is black, noise or frozen, or a
# buffer no machine holds; they are generous enough for any look we have seen.
STREAM = (
    Param("size", "size", (640, 360), "processing size WxH", 75, MAX_SIDE, unit="px"),
    Param("steps_per_frame", "int", 1, "ascent steps per frame", 0, 100, unit="steps", live=True),
    Param("step_size", "float", 0.02, "step size of each ascent step", 1e-5, 1.0, live=True),
    Param("feedback", "float", 0.9, "share of the previous dream kept", 0.0, 1.0, live=True),
    Param("feedback_moving", "float", None, "feedback where the image moves (default: --feedback)", 0.0, 1.0,
       optional=True),
    Param("feedback_static", "float", None, "feedback where it is still (default: --feedback)", 0.0, 1.0,
       optional=True),
    Param("flow", "choice", "dis", "optical flow that carries the dream with motion", live=True,
       choices=("dis", "farneback", "off")),
    Param("zoom", "float", 1.0, "zoom into the feedback per frame, e.g. 1.02", 0.5, 2.0, unit="x", live=True),
    Param("octaves", "int", 1, "pyramid scales, one dreamed per frame", 1, 8),
    Param("octave_scale", "float", 1.4, "size ratio between octaves", 1.05, 4.0),
    Param("calm", "bool", False, "fade to the camera while people move, return when still"),
    Param("wrap", "bool", False, "360-degree equirectangular frames: no seam where the edges meet"),
)

# What `dream` takes for a still.
STILL = (
    Param("steps", "int", 100, "ascent steps per octave", 0, 100_000, unit="steps"),
    replace(STREAM[2], default=0.01, live=False),
    Param("octaves", "int", 1, "number of scales", 1, 20),
    Param("octave_scale", "float", 1.3, "size ratio between octaves", 1.05, 4.0),
    Param("tile", "int", 0, "tile size for big images (smaller tiles: less memory, more steps)", 128, MAX_SIDE,
       unit="px", off=0),
    Param("jitter", "int", 0, "random roll per step", 0, 512, unit="px"),
    Param("blur", "float", 0.0, "Gaussian sigma for the gradient (0: off)", 0.0, 50.0, unit="px"),
    Param("max_dim", "int", 0, "dream at most this many pixels a side (the image is scaled back after)", 75,
       MAX_SIDE, unit="px", off=0),
    Param("seed", "int", 0, "seed for jitter and tile offsets", 0, 2**32 - 1),
    replace(STREAM[-1], default=False),
)


def table(params: tuple) -> dict[str, Param]:
    return {p.name: p for p in params}


def defaults(params: tuple) -> dict:
    return {p.name: p.default for p in params}


def live_params() -> dict[str, Param]:
    """The STREAM parameters that change while running (keys, OSC, scenes)."""
    return {p.name: p for p in STREAM if p.live}


def check_all(params: tuple, values: dict) -> dict:
    """Every value of `values` checked by its parameter; unknown names are refused."""
    known = table(params)
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown parameter {sorted(unknown)[0]!r}")
    return {name: known[name].check(value) for name, value in values.items()}


def markdown(params: tuple) -> str:
    """The flags of a table as README rows: flag, default, range, what it does."""
    rows = ["| flag | default | range | what |", "| --- | --- | --- | --- |"]
    for p in params:
        default = "(see what)" if p.default is None else (
            f"{p.default[0]}x{p.default[1]}" if p.kind == "size" else str(p.default).lower()
            if p.kind == "bool" else _fmt(p.default))
        rows.append(f"| `{p.flag}` | {default} | {p.expects()}{' ' + p.unit if p.unit else ''} | "
                    f"{p.help}{' (live)' if p.live else ''} |")
    return "\n".join(rows)
