"""A perception lab's protocol: `read_protocol(path)` reads the TOML file `deepdream experiment` runs.

`[experiment]` (the task's name, the instructions, the rest between trials and its screen, the rating
scale, the photodiode patch, the video kept), `[dose]` (the two scenes a trial's dose, 0..1, moves
between: `zero` shows the source, `full` the full dream) and one or more `[[block]]`s of trials (doses,
duration, repeats, order, an optional rating). examples/protocol.toml shows every key.

`[dose]` takes the table's live numbers (realtime.dream.params.live_numbers), each checked by its row, except
that zero's step-size may be 0 (no ascent). `zero` overrides the default zero scene (step-size 0, zoom 1); `full`
the live settings in force. Every error is one line naming the file and the line of the key at fault; unknown tables
and keys are refused, naming the known ones: a misspelt key never silently falls back to its default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from realtime import tomlfile
from realtime.dream import dose
from realtime.dream.params import live_numbers
from realtime.errors import UserError
from realtime.lab import rules
from realtime.lab.keylines import KeyLines, name

DEFAULT_INSTRUCTIONS = "Keep your eyes on the screen. Press space to begin."
ZERO = tuple(dose.ZERO.items())  # the dream's own default zero scene (realtime.dream.dose)
REQUIRED = object()
SCALES = ("keys", "vas")
EXPERIMENT: dict[str, tuple[rules.Rule, object]] = {
    "name": (rules.label, "dream"),
    "instructions": (rules.text(4000, empty=True), DEFAULT_INSTRUCTIONS),  # "": no instructions screen
    "rest": (rules.seconds(positive=False), 2.0),
    "rest_screen": (rules.choice("grey", "cross", "camera"), "grey"),
    "rating_scale": (rules.choice(*SCALES), "keys"),
    "patch": (rules.choice("onset", "toggle"), "onset"),
    "patch_frames": (rules.whole(1, 600), 3),
    "video": (rules.choice("exact", "lossless"), "exact"),
}
BLOCK: dict[str, tuple[rules.Rule, object]] = {
    "name": (rules.title, None),
    "doses": (rules.doses, REQUIRED),
    "duration": (rules.seconds(positive=True), REQUIRED),
    "repeats": (rules.whole(1, 1000), 1),
    "order": (rules.choice("fixed", "random", "balanced"), "fixed"),
    "rating": (rules.text(500), None),
    "rating_scale": (rules.choice(*SCALES), None),
}


@dataclass(frozen=True)
class Block:
    name: str
    doses: tuple[float, ...]
    duration: float
    repeats: int
    order: str  # fixed | random | balanced (realtime.lab.order)
    rating: str | None  # the prompt of a rating screen after each trial, or none
    rating_scale: str  # keys | vas (the experiment's where the block names none)


@dataclass(frozen=True)
class Protocol:
    path: Path
    text: str  # the file as read: session.json keeps a copy
    name: str
    instructions: str
    rest: float
    rest_screen: str
    rating_scale: str
    patch: str
    patch_frames: int
    video: str
    zero: tuple[tuple[str, float], ...]  # (live number, value) at dose 0
    full: tuple[tuple[str, float], ...]  # at dose 1, over the live settings in force
    blocks: tuple[Block, ...]

    def ends(self, live: Mapping[str, float]) -> tuple[dict[str, float], dict[str, float]]:
        """The scenes at dose 0 and 1 over the names either sets, given the live settings in force."""
        zero, full = dict(self.zero), dict(self.full)
        names = [n for n in live_numbers() if n in zero or n in full]
        return {n: zero.get(n, live[n]) for n in names}, {n: full.get(n, live[n]) for n in names}


class _Where:
    """Errors in one line: the file, the line of the key at fault (KeyLines), the message."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.keys = path, KeyLines(text)

    def fail(self, at: tuple, message: str) -> UserError:
        return UserError(f"{self.path} line {self.keys.line(at)}: {message}")


def read_protocol(path: Path | str) -> Protocol:
    """The protocol in `path`, checked whole, or UserError in one line."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"protocol not found: {path}")
    if not path.is_file():  # a folder, or a FIFO that would wait for a writer
        raise UserError(f"protocol {path} is not a regular file; give a .toml file")
    data = tomlfile.read(path)  # bounded, one-line errors (1 MiB, UTF-8, TOML syntax with its line)
    text = _text(path)
    if repr(tomllib.loads(text)) != repr(data):  # replaced between the reads: keep the text that was parsed
        raise UserError(f"{path} changed while it was read; run again")
    where = _Where(path, text)
    top = {name(k): v for k, v in data.items()}
    for key in top:
        if key not in ("experiment", "dose", "block"):
            raise where.fail((key,), f"unknown table {rules.got(key)}; a protocol has [experiment], [dose], [[block]]")
    experiment = _values(_table(top, "experiment", where), EXPERIMENT, ("experiment",), "[experiment]", where)
    zero, full = _dose(_table(top, "dose", where), where)
    blocks = _blocks(top.get("block"), str(experiment["rating_scale"]), where)
    return Protocol(path, text, **experiment, zero=zero, full=full, blocks=blocks)  # type: ignore[arg-type]


def _text(path: Path) -> str:
    """The file's text, read again for session.json and the lines of keys (tomlfile has checked it)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(tomlfile.LIMIT + 1).decode("utf-8", errors="replace")
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None


def _table(top: dict, key: str, where: _Where) -> dict:
    table = top.get(key, {})
    if not isinstance(table, dict):
        raise where.fail((key,), f"{key} must be a table ([{key}]), got {rules.got(table)}")
    return table


def _values(table: dict, spec: dict, at: tuple, title: str, where: _Where) -> dict[str, object]:
    """Every key of `spec` from `table`, checked, or its default; unknown and missing keys refused."""
    given = {name(k): v for k, v in table.items()}
    for key in given:
        if key not in spec:
            raise where.fail((*at, key), f"{title} has no key {rules.got(key)}; it takes {', '.join(spec)}")
    values = {}
    for key, (rule, default) in spec.items():
        if key not in given:
            if default is REQUIRED:
                raise where.fail(at, f"{title} needs {key}")
            values[key] = default
            continue
        try:
            values[key] = rule(given[key])
        except ValueError as exc:
            raise where.fail((*at, key), f"{title} {key} {exc}") from None
    return values


def _dose(table: dict, where: _Where) -> tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]:
    given = {name(k): v for k, v in table.items()}
    for key in given:
        if key not in ("zero", "full"):
            raise where.fail(("dose", key), f"[dose] has no key {rules.got(key)}; it takes zero, full")
    zero = {**dict(ZERO), **_scene(given.get("zero", {}), "zero", where)}
    return tuple(zero.items()), tuple(_scene(given.get("full", {}), "full", where).items())


def _scene(table: object, side: str, where: _Where) -> dict[str, float]:
    """One end of the dose: live numbers, each checked by its row of the parameter table."""
    if not isinstance(table, dict):
        raise where.fail(("dose", side), f"[dose] {side} must be a table of live numbers, got {rules.got(table)}")
    numbers = {n: p for n, p in live_numbers().items() if n != "dose"}  # a scene is what the dose moves between
    scene = {}
    for key, value in table.items():
        at, known = ("dose", side, name(key)), numbers.get(name(key))
        if known is None:
            takes = ", ".join(p.key for p in numbers.values())
            raise where.fail(at, f"[dose] {side} has no live number {rules.got(key)}; it takes {takes}")
        try:
            scene[known.name] = float(dose.scene_value(known, value, side == "zero"))
        except ValueError as exc:
            raise where.fail(at, f"[dose] {side} {exc}") from None
    return scene


def _blocks(tables: object, scale: str, where: _Where) -> tuple[Block, ...]:
    if tables is None:
        raise UserError(f"{where.path}: no [[block]]; a protocol needs at least one (doses, duration)")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise where.fail(("block",), "block must be [[block]] tables, each with doses and duration")
    blocks: list[Block] = []
    for number, table in enumerate(tables, start=1):
        at, title = ("block", number), f"[[block]] {number}"
        values = _values(table, BLOCK, at, title, where)
        values["name"] = values["name"] or f"block{number}"
        values["rating_scale"] = values["rating_scale"] or scale
        same = [b for b in blocks if b.name == values["name"]]
        if same:
            first = blocks.index(same[0]) + 1
            raise where.fail((*at, "name"), f"{title} name {rules.got(values['name'])} is block {first}'s too")
        blocks.append(Block(**values))  # type: ignore[arg-type]
    return tuple(blocks)
