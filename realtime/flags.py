"""Command-line flags made from parameter tables (realtime.dream.params), one rule per value.

`add_params(parser, table)` adds one flag per parameter, typed by its check, with its range and
default in the help; a bad value is argparse's one-line error naming the flag and the rule. The
commands' own numbers (frames, window size, watchdog seconds...) are parameters of the table too,
so a nan, an inf or a negative count is refused the same way wherever it is given (flag or TOML).
What is not a number (a source, a path, a switch) is an `Option`; `add_settings` builds a command's
flags from one list of both, and keeps that list on the parser (`parser.settings`: the keys its
--config file takes). `python -m realtime.flags` prints the README's tables, `--steering` the
parameters docs/steering.md lists.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field, replace

from realtime.dream.parameter import MIN_SIDE, Param, fmt_number, param
from realtime.dream.params import CLUSTER, LIVE, OUTPUT, STILL, STREAM, steering

METAVARS = {"size": "WxH", "int": "N", "float": "X"}
SEED = Param("seed", "int", None, "seed", 0, 2**32 - 1, optional=True)
GALLERY = (
    replace(param(STILL, "steps"), default=20, help="ascent steps per layer"),
    replace(param(STILL, "step_size"), default=0.02),
    Param("size", "int", 256, "tile size, longest side", MIN_SIDE, 2048, unit="px"),
)


def flag_type(p: Param):
    """argparse `type=`: text -> checked value, or argparse's error with the rule."""

    def parse(text: str):
        try:
            return p.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(p.key + " ")) from None

    parse.__name__ = p.name  # argparse names the type in some messages
    return parse


def add_params(parser: argparse.ArgumentParser, params: tuple, defaults: dict | None = None) -> None:
    defaults = defaults or {}
    for p in params:
        default = defaults.get(p.name, p.default)
        if p.kind == "bool":
            parser.add_argument(p.flag, action="store_true", help=p.help)
            continue
        shown = "" if default is None else f"; default {_text(default)}"
        parser.add_argument(
            p.flag,
            type=flag_type(p),
            default=default,
            metavar=METAVARS.get(p.kind) or "{" + ",".join(p.choices) + "}",
            help=f"{p.help} ({p.expects()}{shown})",
        )


@dataclass(frozen=True)
class Option:
    """A setting that is not a number of the parameter table. `kind`: text (a string, or `param`'s value),
    switch (a store_true flag; true or false in TOML), list (the flag repeated; an array in TOML); `file`:
    a --config file may set it too; `reads`: how argparse reads the flag (nargs, const, metavar)."""

    name: str
    help: str
    kind: str = "text"
    default: object = None
    choices: tuple = ()
    flag: str = ""  # when not --name
    param: Param | None = None
    file: bool = True
    reads: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.name.replace("_", "-")


def add_settings(parser: argparse.ArgumentParser, settings: tuple, defaults: dict | None = None) -> None:
    """One flag per setting (a Param or an Option), in order; `parser.settings`: those a --config file takes."""
    for setting in settings:
        if isinstance(setting, Param):
            add_params(parser, (setting,), defaults)
            continue
        flag, kwargs = setting.flag or "--" + setting.key, {"dest": setting.name, "help": setting.help, **setting.reads}
        if setting.kind in ("switch", "list"):
            parser.add_argument(flag, action="store_true" if setting.kind == "switch" else "append", **kwargs)
        else:
            parser.add_argument(
                flag,
                default=setting.default,
                choices=setting.choices or None,
                type=flag_type(setting.param) if setting.param else None,
                **kwargs,
            )
    parser.settings = getattr(parser, "settings", ()) + tuple(s for s in settings if isinstance(s, Param) or s.file)


def _text(value) -> str:
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)


def markdown(params: tuple) -> str:
    """The flags of a table as README rows: flag, default, range, what it does."""
    rows = ["| flag | default | range | what |", "| --- | --- | --- | --- |"]
    for p in params:
        default = (
            "(see what)"
            if p.default is None
            else (
                f"{p.default[0]}x{p.default[1]}"
                if p.kind == "size"
                else str(p.default).lower()
                if p.kind == "bool"
                else fmt_number(p.default)
            )
        )
        rows.append(
            f"| `{p.flag}` | {default} | {_cell(p.expects())}{' ' + p.unit if p.unit else ''} | "
            f"{p.help}{' (live)' if p.live else ''} |"
        )
    return "\n".join(rows)


def _cell(text: str) -> str:
    """Text for a markdown table's cell: a `|` (between choices) would end the cell."""
    return text.replace("|", "\\|")


def steering_markdown() -> str:
    """docs/steering.md's parameters (what /deepdream/set, the control page and MIDI take) and the keys of
    the OSC status reply, from the table and realtime.steer.requests (a test checks the doc holds it)."""
    from realtime.steer.requests import RATE_KEYS, STATUS_KEYS

    rows = ["| name | takes | what |", "| --- | --- | --- |"]
    for p in steering().values():
        takes = p.expects() + (" (or on/off, 1/0)" if p.kind == "choice" and p.off is not None else "")
        rows.append(f"| `{p.name}` | {_cell(takes)}{' ' + p.unit if p.unit else ''} | {p.help} |")
    keys, rates = ", ".join(STATUS_KEYS), ", ".join(RATE_KEYS)
    beside = "when the dream runs beside the display (not with `--sync`, nor with `--seed` on a file)"
    return "\n".join(rows) + f"\n\nThe status reply's keys: {keys}; {beside} also {rates}."


def readme_tables() -> str:
    """The README's parameter tables (`python -m realtime.flags` prints them; a test checks the README)."""
    return "\n\n".join(
        f"{title}\n\n{markdown(params)}"
        for title, params in (
            ("The dream of `live` and `render` (live: also keys, OSC and playlist scenes):", STREAM),
            ("`live`'s own numbers:", LIVE),
            ("Recordings (`live`) and renders:", OUTPUT),
            ("`render --ray`:", CLUSTER),
            ("`dream` (stills):", STILL),
        )
    )


if __name__ == "__main__":
    print(steering_markdown() if sys.argv[1:] == ["--steering"] else readme_tables())
