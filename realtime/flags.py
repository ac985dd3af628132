"""Command-line flags made from parameter tables (realtime.dream.params), one rule per value.

`add_params(parser, table)` adds one flag per parameter, typed by its check, with its range and
default in the help; a bad value is argparse's one-line error naming the flag and the rule. The
commands' own numbers (frames, window size, watchdog seconds...) are parameters of the table too,
so a nan, an inf or a negative count is refused the same way wherever it is given (flag or TOML).
"""
from __future__ import annotations

import argparse
from dataclasses import replace

from realtime.dream.params import CLUSTER, LIVE, OUTPUT, STILL, STREAM, MIN_SIDE, Param, fmt_number, param

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
        parser.add_argument(p.flag, type=flag_type(p), default=default,
                            metavar=METAVARS.get(p.kind) or "{" + ",".join(p.choices) + "}",
                            help=f"{p.help} ({p.expects()}{shown})")


def _text(value) -> str:
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)


def markdown(params: tuple) -> str:
    """The flags of a table as README rows: flag, default, range, what it does."""
    rows = ["| flag | default | range | what |", "| --- | --- | --- | --- |"]
    for p in params:
        default = "(see what)" if p.default is None else (
            f"{p.default[0]}x{p.default[1]}" if p.kind == "size" else str(p.default).lower()
            if p.kind == "bool" else fmt_number(p.default))
        rows.append(f"| `{p.flag}` | {default} | {p.expects()}{' ' + p.unit if p.unit else ''} | "
                    f"{p.help}{' (live)' if p.live else ''} |")
    return "\n".join(rows)


def readme_tables() -> str:
    """The README's parameter tables (`python -m realtime.flags` prints them; a test checks the README)."""
    return "\n\n".join(f"{title}\n\n{markdown(params)}" for title, params in (
        ("The dream of `live` and `render` (live: also keys, OSC and playlist scenes):", STREAM),
        ("`live`'s own numbers:", LIVE), ("Recordings (`live`) and renders:", OUTPUT),
        ("`render --ray`:", CLUSTER), ("`dream` (stills):", STILL)))


if __name__ == "__main__":
    print(readme_tables())
