"""Installation settings in TOML: any `live` flag as a key (dashes or underscores), flags override it.

`apply(parser, path)` checks every key and value against the `live` parser's own flags and makes
them that parser's defaults; `dump(parser, args)` writes the effective settings back as TOML.
"""
from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from realtime.errors import UserError

SKIP = {"help", "config", "print_config", "func", "command", "heartbeat", "run"}  # the last two: the watchdog's
TABLES = {"scene", "crossfade", "midi", "modulate"}  # read by the playlist, MIDI and the sound, not as flags


def _actions(parser: argparse.ArgumentParser) -> dict:
    return {a.dest: a for a in parser._actions if a.dest not in SKIP}


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UserError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise UserError(f"--config {path} is a directory; give a .toml file") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid TOML: {exc}") from None


def apply(parser: argparse.ArgumentParser, path: Path, also: argparse.ArgumentParser | None = None) -> None:
    """The file's keys as `parser`'s defaults. Keys that only `also` knows (live's, in a file a render shares
    with the show) are passed over with one note; a key neither knows is an error naming it."""
    data = _read(path)
    actions = _actions(parser)
    elsewhere = set(_actions(also)) - set(actions) if also is not None else set()
    defaults, passed = {}, []
    for key, value in data.items():
        if key in TABLES:
            continue
        dest = key.replace("-", "_")
        if dest in elsewhere:
            passed.append(key)
            continue
        if also is not None and dest == "model" and isinstance(value, list) and value:
            if len(value) > 1:  # live's list of models, in a file the render shares with the show
                passed.append(f"the models after the first ({', '.join(map(str, value[1:]))})")
            value = value[0]
        if dest not in actions:
            raise UserError(f"{path}: unknown setting {key!r}; settings are the {parser.prog.split()[-1]} flags: "
                            + ", ".join(sorted(a.replace("_", "-") for a in actions)))
        defaults[dest] = _convert(actions[dest], value, f"{path}: {key}")
    ignored = passed + [f"[{t}]" for t in ("scene", "midi") if also is not None and t in data]
    if ignored:
        print(f"note: {path}: {', '.join(ignored)} steer a live show; {parser.prog} leaves them", file=sys.stderr)
    parser.set_defaults(**defaults)


def tables(path: Path) -> dict:
    """The config's tables for MIDI ([midi]) and the sound ([[modulate]]), as TOML gave them."""
    data = _read(path)
    return {key: data[key] for key in ("midi", "modulate") if key in data}


def playlist(path: Path, base: dict):
    """The config's [[scene]] tables as a Playlist, or None when it has none."""
    from realtime.show.playlist import Playlist, parse_scenes, seconds

    data = _read(path)
    try:
        crossfade = seconds(data.get("crossfade", 0.0), "crossfade")  # checked with or without scenes
    except ValueError as exc:
        raise UserError(f"{path}: {exc}") from None
    if "scene" not in data:
        return None
    return Playlist(parse_scenes(data["scene"], str(path)), crossfade, base)


def _convert(action, value, where: str):
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        if not isinstance(value, bool):
            raise UserError(f"{where} must be true or false, got {value!r}")
        return value
    if isinstance(action, argparse._AppendAction):
        items = value if isinstance(value, list) else [value]
        return [_one(action, v, where) for v in items]
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        value = f"{value[0]}x{value[1]}"  # a size written as [640, 360]
    return _one(action, value, where)


def _one(action, value, where: str):
    if isinstance(value, (dict, list)):
        raise UserError(f"{where}: expected a single value, got {value!r}")
    try:
        converted = action.type(str(value)) if action.type else str(value)
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise UserError(f"{where}: bad value {value!r} ({exc})") from None
    if action.choices and converted not in action.choices:
        raise UserError(f"{where}: {value!r} is not one of {', '.join(map(str, action.choices))}")
    return converted


def dump(parser: argparse.ArgumentParser, args: argparse.Namespace, path: Path | None = None) -> str:
    """The effective settings as TOML; with the config `path`, its playlist too (crossfade, scenes)."""
    lines = ["# deepdream live settings (deepdream live --config FILE.toml)"]
    for dest in _actions(parser):
        value = getattr(args, dest, None)
        key = dest.replace("_", "-")
        if value is None:
            lines.append(f"# {key} = (not set)")
        else:
            lines.append(f"{key} = {_toml(value)}")
    data = _read(path) if path is not None else {}
    if "crossfade" in data:
        lines.append(f"crossfade = {_toml(data['crossfade'])}")
    scenes = data.get("scene") if isinstance(data.get("scene"), list) else []
    for scene in (s for s in scenes if isinstance(s, dict)):  # tables last: keys after a table belong to it
        lines += ["", "[[scene]]", *(f"{key} = {_toml(value)}" for key, value in scene.items())]
    if isinstance(data.get("midi"), dict):
        lines += ["", "[midi]", *(f"{key} = {_toml(value)}" for key, value in data["midi"].items())]
    rows = data.get("modulate") if isinstance(data.get("modulate"), list) else []
    for row in (r for r in rows if isinstance(r, dict)):  # the run itself says what is wrong with the rest
        lines += ["", "[[modulate]]", *(f"{key} = {_toml(value)}" for key, value in row.items())]
    return "\n".join(lines) + "\n"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return f'"{value[0]}x{value[1]}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
