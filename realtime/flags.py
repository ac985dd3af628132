"""Command-line flags made from parameter tables (realtime.dream.params), one rule per value.

`add_params(parser, table)` adds one flag per parameter, typed by its check, with its range and
default in the help; a bad value is argparse's one-line error naming the flag and the rule. The
commands' own numbers (frames, window size, watchdog seconds...) are parameters here too, so a
nan, an inf or a negative count is refused the same way wherever it is given (flag or TOML).
"""
from __future__ import annotations

import argparse
from dataclasses import replace

from realtime.dream.params import MAX_SIDE, STILL, Param, table

LIVE = (  # `live`'s own numbers: the show, not the dream
    Param("window", "size", None, "window size WxH (default: twice the shown size)", 75, MAX_SIDE, optional=True),
    Param("frames", "int", 0, "stop after N frames (0: run until quit)", 0, 10**12),
    Param("disparity", "int", 0, "shift of the right eye in pixels (with --stereo)", -2000, 2000, unit="px"),
    Param("watchdog", "float", 0.0, "run the loop in a child process, restarted if no frame is shown for this many "
          "seconds (one dream: 60 s more) or it dies (0: off)", 1.0, 86400.0, unit="s", off=0.0),
    Param("min_free_mb", "float", 500.0, "stop recording (and keep showing) when the disk has less free space",
          0.0, 10.0**7, unit="MiB"),
    Param("display_size", "size", None, "size of what every output shows, window, recording, stream, pipe "
          "(default: the source's, at most 1920x1080; with --sync: --size)", 75, MAX_SIDE, optional=True),
    Param("dream_fade", "int", 4, "display frames over which a finished dream fades in", 0, 60, unit="frames"),
    Param("sync", "bool", False, "each shown frame waits for its own dream (the display at the dream's rate)"),
)
OUTPUT = (  # every MP4 we write (live --record, key and OSC recordings, render)
    Param("crf", "int", 18, "H.264 quality (lower: better and bigger; 18 looks like the source)", 0, 51),
)
CLUSTER = (  # render --ray
    Param("cpus_per_task", "int", 1, "CPUs (and onnxruntime threads) per task", 1, 1024),
    Param("gpus_per_task", "float", None, "GPUs per task (default: 1 where the cluster has GPUs, else 0)", 0.0, 64.0,
          optional=True),
    Param("chunk_frames", "int", 90, "frames per task; chunk borders are fixed by this, not by the cluster", 1,
          10**6),
    Param("warmup_frames", "int", 20, "frames dreamed before each chunk and discarded (the feedback builds up)", 0,
          10**4),
    Param("blend_frames", "int", 8, "frames dreamed past each chunk and crossfaded into the next", 0, 10**4),
)
METAVARS = {"size": "WxH", "int": "N", "float": "X"}
SEED = Param("seed", "int", None, "seed", 0, 2**32 - 1, optional=True)
GALLERY = (
    replace(table(STILL)["steps"], default=20, help="ascent steps per layer"),
    replace(table(STILL)["step_size"], default=0.02),
    Param("size", "int", 256, "tile size, longest side", 75, 2048, unit="px"),
)


def flag_type(param: Param):
    """argparse `type=`: text -> checked value, or argparse's error with the rule."""
    def parse(text: str):
        try:
            return param.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(param.key + " ")) from None
    parse.__name__ = param.name  # argparse names the type in some messages
    return parse


def add_params(parser: argparse.ArgumentParser, params: tuple, defaults: dict | None = None) -> None:
    defaults = defaults or {}
    for param in params:
        default = defaults.get(param.name, param.default)
        if param.kind == "bool":
            parser.add_argument(param.flag, action="store_true", help=param.help)
            continue
        shown = "" if default is None else f"; default {_text(default)}"
        parser.add_argument(param.flag, type=flag_type(param), default=default,
                            metavar=METAVARS.get(param.kind) or "{" + ",".join(param.choices) + "}",
                            help=f"{param.help} ({param.expects()}{shown})")


def _text(value) -> str:
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)


def readme_tables() -> str:
    """The README's parameter tables (`python -m realtime.flags` prints them; a test checks the README)."""
    from realtime.dream.params import STREAM, markdown

    return "\n\n".join(f"{title}\n\n{markdown(params)}" for title, params in (
        ("The dream of `live` and `render` (live: also keys, OSC and playlist scenes):", STREAM),
        ("`live`'s own numbers:", LIVE), ("Recordings (`live`) and renders:", OUTPUT),
        ("`render --ray`:", CLUSTER), ("`dream` (stills):", STILL)))


if __name__ == "__main__":
    print(readme_tables())
