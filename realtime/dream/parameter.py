"""One parameter's rule: a `Param` (type, range, default, unit, help) and how a value of it is read and checked.

Every value a command takes, wherever it enters (a flag, TOML, a scene, OSC, MIDI, the control page),
goes through `Param.parse` or `Param.check`: finite, in range, one rule and one message. The tables of
parameters themselves are realtime.dream.params.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

MAX_SIDE = 7680  # 8K: a 360-degree 8K frame is 7680x3840; beyond it no step fits in memory anyway
MIN_SIDE = 75  # InceptionV3 needs at least 75 x 75 pixels
ON = ("on", "true", "yes", "1")
OFF = ("off", "false", "no", "0")
BOUNDS = {"models": "N (N: the models loaded)", "layers": "N-1 (N: the --mix model's layers)"}  # run-time highs


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
    scale: str = "linear"  # "log": multiplicative, a ratio matters (zoom, step size): the page slides it in log space
    step: float = 0.0  # one nudge on the control page: added, or for a log row multiplied by; 0: `nudge` derives one

    @property
    def key(self) -> str:
        """Its name in TOML, scenes and messages (a flag is `--` + key; OSC takes `name`)."""
        return self.name.replace("_", "-")

    @property
    def flag(self) -> str:
        return "--" + self.key

    @property
    def nudge(self) -> float:
        """One +/- of the control page: the table's `step`; else 1 for a whole number or a named value, a log
        row's hundredth of its ratio (100 taps end to end), a hundredth of the range for the rest."""
        if self.step:
            return self.step
        if self.kind == "int" or self.bound:
            return 1
        low, high = self.span()
        return (high / low) ** 0.01 if self.scale == "log" else (high - low) / 100

    def within(self, names: tuple[str, ...]) -> Param:
        """A row with a run-time `bound` as one stream holds it: `names` (its models, its layers) set the high end."""
        return replace(
            self, high=self.span(bound=False)[0] + len(names) - 1, choices=tuple(names) if self.by_name else ()
        )

    def span(self, bound: bool = True) -> tuple[float, float]:
        """low..high of a number row (`bound`: the high end too, which a bound row has only from `within`)."""
        if self.low is None or (bound and self.high is None):
            raise ValueError(f"has no range until its {self.bound or 'ends'} are known")
        return self.low, self.high if self.high is not None else math.inf

    def switch(self, value: object, on: object) -> object:
        """A choice with an `off` takes on/off (or 1/0) too: off is its off, on is `on` (what was in force)."""
        if value in self.choices:
            return value
        try:
            return on if on_off(value) else self.off
        except ValueError:
            shown = ", ".join(c for c in self.choices if c != self.off)
            raise ValueError(f"{self.key} expects {shown}, on or off (or 1/0), got {value!r}") from None

    def nearest(self, value: float) -> float:
        """A number as the parameter holds it: whole for an int (a crossfade, a knob or the sound lands between)."""
        return round(value) if self.kind == "int" else value

    def parse(self, text: str) -> Any:
        """A value written as text (a flag, a TOML value) -> the checked value."""
        text = str(text).strip()
        if self.kind == "size":
            return self.check(text)
        converters: dict[str, Callable[[str], object]] = {
            "int": _int_text,
            "float": float,
            "bool": on_off,
            "choice": str,
        }
        try:
            value = converters[self.kind](text)
        except ValueError:
            raise ValueError(f"{self.key} expects {self.expects()}, got {text!r}") from None
        return self.check(value)

    def check(self, value: object) -> Any:
        """A typed value (from code, TOML, a scene, OSC) -> itself, converted, or ValueError naming the rule."""
        if value is None and self.optional:
            return None
        check: Callable[[Any], object] = {
            "int": self._number,
            "float": self._number,
            "bool": on_off,
            "choice": self._choice,
            "size": _size,
        }[self.kind]
        try:
            return check(value)
        except ValueError as exc:
            raise ValueError(f"{self.key} {exc}") from None

    def _number(self, value: object) -> int | float:
        low, high = self.span()
        if self.by_name and isinstance(value, str) and value in self.choices:
            value = low + self.choices.index(value)
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
        if not low <= value <= high:
            off = f" (or {self.off}: off)" if self.off is not None else ""
            got = f"{value:.12g}" if isinstance(value, float) else str(value)  # 2.0000001 is not "2"
            raise ValueError(f"must be within {fmt_number(low)}..{fmt_number(high)}{off}, got {got[:20]}")
        return value

    def _choice(self, value: object) -> str:
        if value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}, got {value!r}")
        return str(value)

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


def fmt_number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _int_text(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    number = float(text)  # "2e3" and "2.0" are whole numbers too; nan and inf fail the check
    return int(number) if math.isfinite(number) and number == int(number) else number


def on_off(value: object) -> bool:
    """true/false, on/off, yes/no, 1/0 (flags, TOML, OSC) -> bool."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ON + OFF:
        return value.lower() in ON
    raise ValueError(f"expects on/off (or 1/0), got {value!r}")


def _size(value: object) -> tuple[int, int]:
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


def table(params: tuple[Param, ...]) -> dict[str, Param]:
    return {p.name: p for p in params}


def param(params: tuple[Param, ...], name: str) -> Param:
    """The parameter `name` of a table (KeyError names it when there is none)."""
    for p in params:
        if p.name == name:
            return p
    raise KeyError(f"no parameter {name!r} in this table")


def canonical(name: str) -> str:
    """A parameter's name as the tables hold it, however it came: TOML, [midi] and [[modulate]] write step-size."""
    return name.replace("-", "_")


def check_all(params: tuple[Param, ...], values: Mapping[str, object]) -> dict[str, Any]:
    """Every value of `values` checked by its parameter; unknown names are refused."""
    known = table(params)
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown parameter {sorted(unknown)[0]!r}")
    return {name: known[name].check(value) for name, value in values.items()}
