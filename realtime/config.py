"""Installation settings in TOML: any `live` flag as a key (dashes or underscores), flags override it.

`apply(parser, path)` checks every key and value against the settings the command's flags were built
from (realtime.flags.add_settings: a number by its rule in the parameter table, a switch, text) and
makes them that parser's defaults (argparse's set_defaults, so flags given still win); `check(path)` checks the
playlist, [midi], [[modulate]] and [schedule] as the show would; `dump(parser, args)` writes the effective
settings back as TOML (tomli-w: any name or path, control characters too, reads back the same).
The file itself is read within bounds by realtime.tomlfile.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tomli_w

from realtime.dream.parameter import Param
from realtime.dream.params import CLUSTER, LIVE, OUTPUT, STREAM
from realtime.errors import UserError, reason, shown
from realtime.flags import Option
from realtime.tomlfile import read as _read

TABLES = {"scene", "crossfade", "midi", "modulate", "schedule", "dose"}  # playlist, MIDI, sound, hours, dose scenes


PARAMS = {p.name: p for p in STREAM + LIVE + OUTPUT + CLUSTER}


def settings(parser: argparse.ArgumentParser) -> dict:
    """The keys a command's --config file takes, by name: the settings its flags were built from
    (realtime.flags.add_settings), parameters of the table and Options."""
    return {s.name: s for s in getattr(parser, "settings", ())}


def apply(parser: argparse.ArgumentParser, path: Path, also: argparse.ArgumentParser | None = None) -> None:
    """The file's keys, checked, as `parser`'s defaults (set_defaults: flags given still win). Keys that only
    `also` knows (live's, in a file a render shares with the show) are passed over with one note; a key
    neither knows is an error naming it."""
    data = _read(path)
    known = settings(parser)
    others = settings(also) if also is not None else {}
    defaults, passed = {}, []
    for key, value in data.items():
        name = key.replace("-", "_")
        if key == "dose" and isinstance(value, dict):  # [dose]: the scenes, and maybe the dose to start at
            if "start" not in value:
                continue
            key, name, value = "dose.start", "dose", value["start"]
        elif key in TABLES and key != "dose":  # `dose = 0.5`: the parameter
            continue
        if name in others and name not in known:
            passed.append(key)
            continue
        if name not in known:
            raise UserError(
                f"{path}: unknown setting {shown(key)}; settings are the {parser.prog.split()[-1]} flags: "
                + ", ".join(sorted(a.replace("_", "-") for a in known))
            )
        if _many(others.get(name)) and not _many(known[name]) and isinstance(value, list) and value:
            if len(value) > 1:  # live's list of models, in a file the render shares with the show
                passed.append(f"the models after the first ({', '.join(map(str, value[1:]))})")
            value = value[0]
        defaults[name] = _convert(known[name], value, f"{path}: {key}")
    ignored = passed + [f"[{t}]" for t in ("scene", "midi", "schedule") if also is not None and t in data]
    if ignored:
        print(f"note: {path}: {', '.join(ignored)} steer a live show; {parser.prog} leaves them", file=sys.stderr)
    parser.set_defaults(**defaults)


def _many(setting) -> bool:
    return isinstance(setting, Option) and setting.kind == "list"


def tables(path: Path) -> dict:
    """The config's tables for MIDI ([midi]) and the sound ([[modulate]]), as TOML gave them."""
    data = _read(path)
    return {key: data[key] for key in ("midi", "modulate") if key in data}


def playlist(path: Path, base: dict):
    """The config's [[scene]] tables as a Playlist, or None when it has none."""
    from realtime.steer.playlist import Playlist, parse_scenes, seconds

    data = _read(path)
    try:
        crossfade = seconds(data.get("crossfade", 0.0), "crossfade")  # checked with or without scenes
    except ValueError as exc:
        raise UserError(f"{path}: {exc}") from None
    if "scene" not in data:
        return None
    return Playlist(parse_scenes(data["scene"], str(path)), crossfade, base)


def schedule(path: Path):
    """The config's [schedule] (realtime.steer.schedule.Schedule, its still relative to the file's folder),
    or None when it has none."""
    from realtime.steer.schedule import parse

    data = _read(path)
    return parse(data["schedule"], str(path), Path(path).parent) if "schedule" in data else None


def dose(path: Path | None):
    """The config's [dose] zero and full scenes (realtime.dream.dose.DoseScenes; the defaults without one). Its
    `start` is the dose a show starts at (a file with a [dose] table has no room for `dose = ...`: `apply` reads it)."""
    from realtime.dream.dose import DoseScenes, scenes
    from realtime.dream.params import live_numbers

    table = _read(path).get("dose") if path is not None else None
    if not isinstance(table, dict):  # none, or `dose = 0.5`: the parameter (checked as a setting)
        return DoseScenes()
    if set(table) - {"zero", "full", "start"}:
        raise UserError(f"{path}: [dose] takes zero and full (each a table of live numbers) and start (a dose)")
    try:
        return scenes(table.get("zero"), table.get("full"), live_numbers())
    except ValueError as exc:
        raise UserError(f"{path}: [dose] {exc}") from None


def check(path: Path) -> None:
    """The tables as the show reads them, refused in one line now rather than when the show opens them."""
    from realtime.steer.midi import parse_mapping
    from realtime.steer.modulate import parse_rows

    playlist(path, {name: 0.0 for name in PARAMS if PARAMS[name].live})
    found = tables(path)
    if "midi" in found:
        parse_mapping(found["midi"], str(path))
    if "modulate" in found:
        parse_rows(found["modulate"], str(path))
    schedule(path)
    dose(path)


def _convert(setting, value, where: str):
    """A TOML value as its setting holds it: a number by its row's rule, a switch true or false, text as text."""
    if getattr(setting, "kind", "") in ("bool", "switch"):
        if not isinstance(value, bool):
            raise UserError(f"{where} must be true or false, got {shown(value)}")
        return value
    if isinstance(setting, Param):  # the TOML value as it is typed, by the table's rule
        try:
            return setting.check(value)
        except ValueError as exc:
            raise UserError(f"{where}: {reason(exc, 200).removeprefix(setting.key + ' ')}") from None
    if setting.kind == "list":
        return [_one(setting, v, where) for v in (value if isinstance(value, list) else [value])]
    return _one(setting, value, where)


def _one(option: Option, value, where: str):
    if isinstance(value, (dict, list)):
        raise UserError(f"{where}: expected a single value, got {shown(value)}")
    try:
        converted = option.param.parse(str(value)) if option.param else str(value)
    except ValueError as exc:
        raise UserError(
            f"{where}: bad value {shown(value)} ({reason(exc).removeprefix(option.param.key + ' ')})"
        ) from None
    if option.choices and converted not in option.choices:
        raise UserError(f"{where}: {shown(value)} is not one of {', '.join(map(str, option.choices))}")
    return converted


def dump(parser: argparse.ArgumentParser, args: argparse.Namespace, path: Path | None = None) -> str:
    """The effective settings as TOML; with the config `path` (checked first), its playlist, [midi],
    [[modulate]], [schedule] and [dose] (holding the dose as its `start`) too. Keys come before the tables: a key
    after a table header would belong to it."""
    if path is not None:
        check(path)
    data = _read(path) if path is not None else {}
    scenes = data.get("dose") if isinstance(data.get("dose"), dict) else None  # then the dose goes in as its start
    lines = ["# deepdream live settings (deepdream live --config FILE.toml)"]
    for dest in settings(parser):
        value, key = getattr(args, dest, None), dest.replace("_", "-")
        if dest == "dose" and scenes is not None:
            continue
        lines.append(f"# {key} = (not set)" if value is None else _toml({key: _plain(value)}))
    if "crossfade" in data:
        lines.append(_toml({"crossfade": data["crossfade"]}))
    for header, tables_ in (
        ("[[scene]]", data.get("scene", [])),
        ("[midi]", [data.get("midi", {})]),
        ("[[modulate]]", data.get("modulate", [])),
        ("[schedule]", [data.get("schedule", {})]),
    ):
        for table in (t for t in tables_ if t or header.startswith("[[")):  # checked above: flat tables of values
            lines += ["", header, _toml(table)]
    if scenes is not None:
        lines += ["", _toml({"dose": {**scenes, "start": getattr(args, "dose", 1.0)}})]
    return "\n".join(lines) + "\n"


def _toml(table: dict) -> str:
    return tomli_w.dumps(table).rstrip("\n")


def _plain(value):
    """A parsed flag's value as TOML holds it: a size as its flag writes it."""
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else value
