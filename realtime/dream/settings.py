"""Settings made from the parameter table, and what a live stream reports.

`settings_class(name, params)` makes a frozen dataclass with one field per parameter of a table
(realtime.dream.params), its default the table's and every value checked by the table's rule when
an instance is made, so no dataclass restates a field, a default or a range by hand; `extra`
fields are the few that are not numbers (a source, a path). `StreamSettings` is what a live
stream is built with; `Figures` a frozen snapshot of a stream at one moment, for the HUD, OSC
status, the frame log and --stats.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass

from realtime.dream.params import STREAM, check_all

TYPES = {"int": int, "float": float, "bool": bool, "choice": str, "size": tuple}


def settings_class(name: str, params: tuple, doc: str, extra: tuple = (), module: str = __name__) -> type:
    """A frozen dataclass of keyword-only fields: one per parameter of `params` (default from the
    table, checked on creation), then the `extra` (name, type, dataclasses.field) ones;
    `from_values(mapping)` builds one by name from any mapping that holds them (parsed flags, say),
    ignoring the rest."""

    def __post_init__(self):
        values = check_all(params, {p.name: getattr(self, p.name) for p in params})
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def from_values(cls, values: dict):
        return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})

    columns = [
        (p.name, TYPES[p.kind] | None if p.optional else TYPES[p.kind], field(default=p.default)) for p in params
    ]
    cls = make_dataclass(
        name,
        columns + list(extra),
        frozen=True,
        kw_only=True,
        namespace={
            "__post_init__": __post_init__,
            "from_values": classmethod(from_values),
            "__doc__": doc,
            "PARAMS": params,
        },
    )
    cls.__module__ = module
    return cls


StreamSettings = settings_class(
    "StreamSettings", STREAM, "What a stream is built with: the STREAM parameters (realtime.dream.params), checked."
)


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
