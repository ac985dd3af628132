"""The dose: one 0..1 strength that moves the dream between a zero scene and a full scene.

A perception study grades its stimulus with one number. `dose` (a live row of the table, so flags, TOML,
scenes, OSC, MIDI, the control page and `[[modulate]]` all move it) interpolates the live numbers a scene
names, linearly, from the zero scene's value (dose 0) to the full scene's (dose 1); a number neither names
keeps its live value. The zero scene takes away the ascent and the zoom (`ZERO`; a zero scene given changes the
numbers it names and keeps the rest), so dose 0 adds nothing; the default full scene is the
dream as the live parameters make it. A number the full scene names is the dose's: a knob turning it changes
nothing.

At dose 0 the stream shows the source frame itself, whatever the zero scene says, and still dreams (with
nothing added): with the default scenes every dose costs the same time, so a condition's timing never gives it
away (a zero scene of no steps or no feedback skips that work).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from realtime.dream.parameter import Param

# No ascent and no zoom. The feedback stays: it keeps nothing when nothing is added, and scaled with the step it
# would make the strength grow as dose x 1/(1 - feedback x dose), a tenth of the full dream at half the dose
# (docs/benchmarks/lab.md); the step alone grows it about in proportion.
ZERO: Mapping[str, float] = MappingProxyType({"step_size": 0.0, "zoom": 1.0})
# Values a zero scene may hold below its row's range: no ascent at all is a step of 0, which the table's
# step size (a multiplicative row, low 1e-5) cannot hold as a live value.
BELOW_RANGE = {"step_size": 0.0}


@dataclass(frozen=True)
class DoseScenes:
    """The zero and full scenes (live number parameter -> value) that `dose` moves between."""

    zero: Mapping[str, float] = field(default_factory=lambda: dict(ZERO))
    full: Mapping[str, float] = field(default_factory=dict)

    def at(self, values: Mapping[str, Any], dose: float) -> dict[str, Any]:
        """The live values with the scenes' numbers interpolated to `dose` (whole-number rows rounded)."""
        out = dict(values)
        for name in sorted({*self.zero, *self.full}):
            low, high = self.zero.get(name, values[name]), self.full.get(name, values[name])
            value = low + dose * (high - low)
            out[name] = round(value) if isinstance(values[name], int) else value
        return out


def scene_value(row: Param, value: object, zero: bool) -> float:
    """A scene's value for `row`, checked by the row's rule (a zero scene's step size may also be 0);
    ValueError names what is wrong."""
    if zero and row.name in BELOW_RANGE and value == BELOW_RANGE[row.name] and not isinstance(value, bool):
        return float(BELOW_RANGE[row.name])
    checked = row.check(value)
    if not isinstance(checked, (int, float)):
        raise ValueError(f"{row.key} in a dose scene must be a number, got {value!r}")
    return checked


def scenes(
    zero: Mapping[str, object] | None, full: Mapping[str, object] | None, rows: Mapping[str, Param]
) -> DoseScenes:
    """DoseScenes from TOML-like tables (keys spelled with - or _), each value checked; `rows`: the live number
    rows (realtime.dream.params.live_numbers) a scene may name. ValueError names the first thing wrong."""
    made = {}
    for which, table in (("zero", zero), ("full", full)):
        if table is None:
            table = {}
        if not isinstance(table, Mapping):
            raise ValueError(f"the dose's {which} scene must be a table of parameters, got {table!r}")
        values: dict[str, float] = {}
        for key, value in table.items():
            name = str(key).replace("-", "_")
            if name not in rows or name == "dose":
                known = ", ".join(r.key for n, r in rows.items() if n != "dose")
                raise ValueError(f"the dose's {which} scene: unknown parameter {key!r}; it takes {known}")
            if name in values:
                raise ValueError(f"the dose's {which} scene names {rows[name].key} twice")
            values[name] = scene_value(rows[name], value, which == "zero")
        made[which] = values
    return DoseScenes({**ZERO, **made["zero"]}, made["full"])  # a zero scene changes the defaults it names
