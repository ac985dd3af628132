"""A playlist of scenes for installations: the loop cycles through them, crossfading parameters.

A scene is a TOML table with a `duration` (seconds) and any of `model` (path), `name`, and the live
numbers of the parameter table (`steps-per-frame`, `step-size`, `feedback`, `zoom`), each checked by
the table's rule. Between two scenes the numbers glide linearly over `crossfade` seconds (steps
per frame rounded); the model switches halfway through the fade.
"""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass

from realtime.dream.params import live_numbers
from realtime.errors import UserError

NUMBERS = tuple(live_numbers())
LONGEST = 366 * 86400.0  # a scene (or a crossfade) longer than a year is a typo


@dataclass(frozen=True)
class Scene:
    duration: float
    values: tuple  # ((name, value), ...) for the NUMBERS it sets
    model: str | None = None
    name: str = ""


def seconds(value: object, what: str) -> float:
    """A duration from TOML: a finite number of seconds, 0..a year."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 <= value <= LONGEST
    ):
        raise ValueError(f"{what} must be seconds, 0..{LONGEST:.0f}, got {value!r}")
    return float(value)


def parse_scenes(tables: object, where: str) -> list[Scene]:
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise UserError(f"{where}: scenes are [[scene]] tables")
    return [_scene(table, i + 1, where) for i, table in enumerate(tables)]


def _scene(table: dict[str, object], number: int, where: str) -> Scene:
    table = {k.replace("-", "_"): v for k, v in table.items()}
    unknown = set(table) - {"duration", "model", "name", *NUMBERS}
    if unknown:
        raise UserError(
            f"{where}: scene {number}: unknown key {sorted(unknown)[0]!r}; scenes take duration, "
            "model, name, " + ", ".join(n.replace("_", "-") for n in NUMBERS)
        )
    try:
        duration = seconds(table.get("duration"), "duration")
        if duration <= 0:
            raise ValueError("duration must be > 0 seconds")
        numbers = live_numbers()
        values = tuple((k, float(p.check(table[k]))) for k, p in numbers.items() if k in table)
    except ValueError as exc:
        raise UserError(f"{where}: scene {number}: {exc}") from None
    model = table.get("model")
    if model is not None and not isinstance(model, str):
        raise UserError(f"{where}: scene {number}: model must be a path, got {model!r}")
    name = table.get("name", f"scene {number}")
    if not isinstance(name, str):
        raise UserError(f"{where}: scene {number}: name must be text, got {name!r}")
    return Scene(duration, values, model, name)


class Playlist:
    def __init__(self, scenes: list[Scene], crossfade: float, base: dict[str, float]) -> None:
        if not scenes:
            raise UserError("a playlist needs at least one scene")
        self.scenes, self.crossfade, self.base = scenes, max(0.0, crossfade), base
        self.period = sum(s.duration for s in scenes)

    def start_of(self, ref: object) -> float:
        """Seconds into the cycle where a scene starts; `ref` is its number (from 1) or its name."""
        names = [s.name for s in self.scenes]
        if isinstance(ref, float) and ref.is_integer():  # many OSC controllers send only floats
            ref = int(ref)
        if isinstance(ref, str) and ref in names:
            index = names.index(ref)
        elif isinstance(ref, int) and not isinstance(ref, bool) and 1 <= ref <= len(self.scenes):
            index = ref - 1
        else:
            raise ValueError(
                f"no scene {reprlib.repr(ref)}: scenes are 1..{len(self.scenes)} or "  # reprlib: an
                + ", ".join(map(repr, names))
            )  # OSC array nested 3000 deep is cut, not recursed
        return sum(s.duration for s in self.scenes[:index])

    def _values(self, scene: Scene) -> dict[str, float]:
        return {**self.base, **dict(scene.values)}

    def at(self, t: float) -> tuple[dict[str, float], str | None, str]:
        """(numbers, model, scene name) in force `t` seconds after the start."""
        t %= self.period
        for i, scene in enumerate(self.scenes):  # noqa: B007 (i is the scene in force, after the loop)
            if t < scene.duration:
                break
            t -= scene.duration
        current, following = self.scenes[i], self.scenes[(i + 1) % len(self.scenes)]
        fade_start = current.duration - min(self.crossfade, current.duration)
        a = self._values(current)
        if t < fade_start or len(self.scenes) == 1:
            return a, current.model, current.name
        w = (t - fade_start) / max(current.duration - fade_start, 1e-9)
        b = self._values(following)
        mixed = {k: a[k] + w * (b[k] - a[k]) for k in a}
        return mixed, (following.model if w >= 0.5 else current.model), current.name
