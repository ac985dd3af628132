"""Dream objectives: what the ascent makes the network do more of.

An objective is a weighted sum of terms; a term is the mean activation of one InceptionV3 layer
(`mixed0`..`mixed10`), or of one channel of it. Objectives combine like lucid's:
`0.5 * layer("mixed3") + channel("mixed5", 12)`, and parse from the CLI's string form
`mixed3:0.5,mixed5/12` (LAYER[/CHANNEL][:WEIGHT], comma-separated). Pure Python: the runtime reads
objectives back from a model's metadata without TensorFlow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from realtime.errors import UserError

LAYERS = tuple(f"mixed{i}" for i in range(11))
# Channels of each mixed block's output in InceptionV3 (Szegedy et al. 2016, Keras' layout).
CHANNELS = dict(zip(LAYERS, (256, 288, 288, 768, 768, 768, 768, 768, 1280, 2048, 2048)))


class ObjectiveError(UserError, ValueError):
    """An objective string or term that names no real layer or channel."""


@dataclass(frozen=True)
class Term:
    layer: str
    weight: float = 1.0
    channel: int | None = None

    def __post_init__(self):
        if self.layer not in CHANNELS:
            raise ObjectiveError(f"unknown layer {self.layer!r}; valid layers: {', '.join(LAYERS)}")
        if self.channel is not None and not 0 <= self.channel < CHANNELS[self.layer]:
            raise ObjectiveError(
                f"channel {self.channel} out of range for {self.layer} (0..{CHANNELS[self.layer] - 1})"
            )

    def __str__(self):
        text = self.layer if self.channel is None else f"{self.layer}/{self.channel}"
        return text if self.weight == 1.0 else f"{text}:{self.weight:g}"


@dataclass(frozen=True)
class Objective:
    terms: tuple[Term, ...]

    def __add__(self, other: Objective) -> Objective:
        return Objective(self.terms + other.terms)

    def __mul__(self, factor: float) -> Objective:
        return Objective(tuple(Term(t.layer, t.weight * factor, t.channel) for t in self.terms))

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return self * -1.0

    def __str__(self):
        return ",".join(str(t) for t in self.terms)

    @property
    def layers(self) -> tuple[str, ...]:
        """Distinct layers the objective reads, in network order."""
        used = {t.layer for t in self.terms}
        return tuple(name for name in LAYERS if name in used)

    def to_json(self) -> str:
        return json.dumps([{"layer": t.layer, "weight": t.weight, "channel": t.channel} for t in self.terms])

    @classmethod
    def from_json(cls, text: str) -> Objective:
        return cls(tuple(Term(d["layer"], float(d["weight"]), d.get("channel")) for d in json.loads(text)))

    def slug(self) -> str:
        """A file-name-safe summary, e.g. `mixed3_mixed5` or `mixed4-97`."""
        return "_".join(t.layer if t.channel is None else f"{t.layer}-{t.channel}" for t in self.terms)


def layer(name: str) -> Objective:
    return Objective((Term(name),))


def channel(name: str, index: int) -> Objective:
    return Objective((Term(name, 1.0, int(index)),))


def parse(text: str) -> Objective:
    """`mixed3:0.5,mixed5/12` -> 0.5 * layer("mixed3") + channel("mixed5", 12)."""
    terms = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        spec, _, weight = part.partition(":")
        name, _, chan = spec.partition("/")
        try:
            w = float(weight) if weight else 1.0
            c = int(chan) if chan else None
        except ValueError:
            raise ObjectiveError(f"cannot read {part!r}: expected LAYER[/CHANNEL][:WEIGHT]") from None
        terms.append(Term(name.strip(), w, c))
    if not terms:
        raise ObjectiveError(f"no layers given; valid layers: {', '.join(LAYERS)}")
    return Objective(tuple(terms))
