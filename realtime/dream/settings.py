"""Settings made from the parameter table, and what a live stream reports.

`settings_class(name, params)` makes a frozen dataclass with one field per parameter of a table
(realtime.dream.params), its default the table's and every value checked by the table's rule when
an instance is made, so no dataclass restates a field, a default or a range by hand; `extra`
fields are the few that are not numbers (a source, a path). `StreamSettings` is what a live
stream is built with; `StreamFields` declares its fields' types for a type checker, which cannot see
a class made at run time (settings_class refuses a declaration of a field the table lacks, or of
another type; it may name fewer: a new live parameter is read from the stream's `values`). `Figures`
is a frozen snapshot of a stream at one moment, for the HUD, OSC status, the frame log and --stats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields, make_dataclass
from types import UnionType
from typing import TYPE_CHECKING, Any, ClassVar, Union, get_args, get_origin, get_type_hints

from realtime.dream.dose import DoseScenes
from realtime.dream.parameter import Param, check_all
from realtime.dream.params import STREAM

TYPES = {"int": int, "float": float, "bool": bool, "choice": str, "size": tuple}


def settings_class(
    name: str, params: tuple[Param, ...], doc: str, extra: tuple = (), module: str = __name__, base: type = object
) -> type:
    """A frozen dataclass of keyword-only fields: one per parameter of `params` (default from the
    table, checked on creation), then the `extra` (name, type, dataclasses.field) ones;
    `from_values(mapping)` builds one by name from any mapping that holds them (parsed flags, say),
    ignoring the rest. A `base` declares fields' types for a type checker: some or all of them, each
    one of the table's with its type (`_check_declaration`), so the declaration cannot drift from the table."""

    def __post_init__(self: Any) -> None:
        values = check_all(params, {p.name: getattr(self, p.name) for p in params})
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def from_values(cls: type, values: Mapping[str, object]) -> Any:
        return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})

    if base is not object:
        _check_declaration(base, name, params, extra)
    columns = [
        (p.name, TYPES[p.kind] | None if p.optional else TYPES[p.kind], field(default=p.default)) for p in params
    ]
    cls = make_dataclass(
        name,
        columns + list(extra),
        bases=(base,),
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


def _check_declaration(base: type, name: str, params: tuple[Param, ...], extra: tuple) -> None:
    """TypeError where `base` declares a field `name` lacks, or one with another type or default. It may
    declare fewer: a live parameter added to the table is read from the stream's `values`, by name."""
    hints = get_type_hints(base)
    hints.pop("PARAMS", None)
    made = {p.name: (TYPES[p.kind] | None if p.optional else TYPES[p.kind]) for p in params}
    made.update({e[0]: e[1] for e in extra})
    defaults = {p.name: p.default for p in params}
    for field_name, hint in hints.items():
        if field_name not in made:
            raise TypeError(f"{base.__name__} declares {field_name}, which is not a field of {name}")
        if _plain(hint) != _plain(made[field_name]):
            raise TypeError(f"{base.__name__} declares {field_name}: {hint}, but {name} makes it {made[field_name]}")
        if field_name in vars(base) and vars(base)[field_name] != defaults.get(field_name):
            raise TypeError(f"{base.__name__} gives {field_name} another default than the table's")


def _plain(hint: object) -> object:
    """A type without its parameters (tuple[int, int]: tuple), its parts for a union (float | None)."""
    if isinstance(hint, UnionType) or get_origin(hint) is Union:
        return frozenset(_plain(part) for part in get_args(hint))
    return get_origin(hint) or hint


class StreamFields:
    """The STREAM parameters' fields with their types: what a type checker knows of a StreamSettings."""

    PARAMS: tuple[Param, ...]
    size: tuple[int, int]
    steps_per_frame: int
    step_size: float
    feedback: float
    feedback_moving: float | None
    feedback_static: float | None
    flow: str
    zoom: float
    octaves: int
    octave_scale: float
    calm: bool
    wrap: bool
    dose_scenes: DoseScenes  # what `dose` moves between: [dose] of --config (realtime.dream.dose)


if TYPE_CHECKING:

    class StreamSettings(StreamFields):
        __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

        def __init__(self, **values: object) -> None: ...

        @classmethod
        def from_values(cls, values: Mapping[str, object]) -> StreamSettings: ...

else:
    StreamSettings = settings_class(
        "StreamSettings",
        STREAM,
        "What a stream is built with: the STREAM parameters (realtime.dream.params), checked, and the dose's scenes.",
        extra=(("dose_scenes", DoseScenes, field(default_factory=DoseScenes)),),
        base=StreamFields,
    )


@dataclass(frozen=True)
class Figures:
    """A stream's figures at one moment: what HUD, OSC status, the frame log and --stats read."""

    frame: int  # dreams made since prepare()
    settings: StreamSettings  # what the stream was built with
    values: dict[str, Any]  # the live parameters in force, by name
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
