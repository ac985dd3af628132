"""A playlist of scenes for installations: the loop cycles through them, crossfading parameters.

A scene is a TOML table with a `duration` (seconds) and any of `model` (path), `steps-per-frame`,
`step-size`, `feedback`, `zoom`. Between two scenes the numbers glide linearly over `crossfade`
seconds (steps per frame rounded); the model switches halfway through the fade.
"""
from __future__ import annotations

from dataclasses import dataclass

from realtime.errors import UserError

NUMBERS = ("steps_per_frame", "step_size", "feedback", "zoom")


@dataclass(frozen=True)
class Scene:
    duration: float
    values: tuple  # ((name, value), ...) for the NUMBERS it sets
    model: str | None = None
    name: str = ""


def parse_scenes(tables: list, where: str) -> list[Scene]:
    scenes = []
    for i, table in enumerate(tables):
        table = {k.replace("-", "_"): v for k, v in table.items()}
        unknown = set(table) - {"duration", "model", "name", *NUMBERS}
        if unknown:
            raise UserError(f"{where}: scene {i + 1}: unknown key {sorted(unknown)[0]!r}; scenes take duration, "
                            "model, name, " + ", ".join(n.replace("_", "-") for n in NUMBERS))
        duration = table.get("duration")
        if not isinstance(duration, (int, float)) or duration <= 0:
            raise UserError(f"{where}: scene {i + 1} needs a duration in seconds > 0")
        for key in NUMBERS:
            if key in table and (isinstance(table[key], bool) or not isinstance(table[key], (int, float))):
                raise UserError(f"{where}: scene {i + 1}: {key.replace('_', '-')} must be a number")
        scenes.append(Scene(float(duration), tuple((k, float(table[k])) for k in NUMBERS if k in table),
                            table.get("model"), str(table.get("name", f"scene {i + 1}"))))
    return scenes


class Playlist:
    def __init__(self, scenes: list[Scene], crossfade: float, base: dict):
        if not scenes:
            raise UserError("a playlist needs at least one scene")
        self.scenes, self.crossfade, self.base = scenes, max(0.0, crossfade), base
        self.period = sum(s.duration for s in scenes)

    def start_of(self, ref: int | str) -> float:
        """Seconds into the cycle where a scene starts; `ref` is its number (from 1) or its name."""
        names = [s.name for s in self.scenes]
        if isinstance(ref, str) and ref in names:
            index = names.index(ref)
        elif isinstance(ref, int) and not isinstance(ref, bool) and 1 <= ref <= len(self.scenes):
            index = ref - 1
        else:
            raise ValueError(f"no scene {ref!r}: scenes are 1..{len(self.scenes)} or " + ", ".join(map(repr, names)))
        return sum(s.duration for s in self.scenes[:index])

    def _values(self, scene: Scene) -> dict:
        return {**self.base, **dict(scene.values)}

    def at(self, t: float) -> tuple[dict, str | None, str]:
        """(numbers, model, scene name) in force `t` seconds after the start."""
        t %= self.period
        for i, scene in enumerate(self.scenes):
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
