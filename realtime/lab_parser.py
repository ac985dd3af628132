"""The perception lab's subcommands on the `deepdream` parser (realtime.parser's `build_parser` calls these).

`add_replay(sub)`: `deepdream replay SESSION_DIR`, a kept session checked frame by frame or shown again
(realtime/commands/replay.py).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from realtime.dream.parameter import param
from realtime.dream.params import LIVE
from realtime.flags import flag_type
from realtime.install import pip_install

WINDOW = replace(param(LIVE, "window"), help="window size WxH (default: the kept frames' size)")


def add_replay(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "replay",
        help="a kept lab session (ID/ses-N/): check its lossless video against frames.tsv frame by frame "
        "(--check), or show its frames again at their logged times",
    )
    p.add_argument("session", metavar="SESSION_DIR", help="the session's folder, holding session.json and frames.tsv")
    p.add_argument(
        "--check",
        action="store_true",
        help="decode every frame, compare its sha256 with frames.tsv; exit 0 when all match, 1 naming the first "
        "that does not (a lossless session only)",
    )
    p.add_argument(
        "--lsl",
        action="store_true",
        help=f"send the session's markers and a frame sample over LSL after each flip ({pip_install('lab')})",
    )
    p.add_argument("--headless", action="store_true", help="no window: the frames are still paced (and logged)")
    p.add_argument("--fullscreen", action="store_true", help="show the frames fullscreen")
    p.add_argument("--window", type=flag_type(WINDOW), metavar="WxH", help=WINDOW.help)
    p.add_argument(
        "--log",
        metavar="FILE.tsv",
        help="this replay's frame log, frames.tsv's columns with its own flip times (never over an existing file)",
    )
    return p
