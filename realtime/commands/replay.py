"""`deepdream replay SESSION_DIR`: a kept lab session checked frame by frame (`--check`), or shown again.

`--check` prints "N frames: all match frames.tsv" (an H.264 session: stimulus.sha256, its decoded frames' hashes)
and exits 0, or says which frame differs (or that the counts do) and exits 1; an H.264 video without its hashes
is refused. Without it the frames go up again at their logged pace
(realtime.lab.replay `Player`) in a window (or none, `--headless`), with `--lsl` the session's markers and
frame samples sent again at this replay's flips, and with `--log FILE.tsv` this replay's own frame log (never
over an existing file, never written into the session unless asked).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from realtime.errors import UserError
from realtime.lab.lsl import LabStreams, open_streams, wait_for_recorder
from realtime.lab.replay import Kept, Player, check, open_session, record_of


def run(folder: Path, args: argparse.Namespace) -> int:
    """The command: `args` carries check, lsl, headless, fullscreen, window (WxH or None) and log (a path or None)."""
    kept = open_session(folder)
    if args.check:
        if args.lsl or args.log:
            raise UserError("--check only reads the session: leave out --lsl and --log")
        return _check(kept)
    return _play(kept, args)


def _check(kept: Kept) -> int:
    wrong = check(kept)
    if wrong is not None:
        print(f"deepdream replay: {wrong}", file=sys.stderr)
        return 1
    print(f"{len(kept.rows)} frames: all match {record_of(kept)}")
    return 0


def _play(kept: Kept, args: argparse.Namespace) -> int:
    """Open what the replay writes to (a log there already is refused before anything starts; the log is made once
    the streams are open, so a failing --lsl leaves none), play, close them all."""
    if args.log and (Path(args.log).exists() or Path(args.log).is_symlink()):
        raise UserError(f"{args.log} exists; a frame log is never overwritten")
    with ExitStack() as stack:
        streams = _streams(kept, stack) if args.lsl else None
        frame_log = None
        if args.log:
            from realtime.lab.framelog import LabFrameLog

            frame_log = LabFrameLog(Path(args.log))
            stack.callback(frame_log.close)
        window = None
        if not args.headless:
            from realtime.media.sinks import WindowSink

            window = WindowSink(args.window or kept.size, args.fullscreen, title=f"deepdream replay {kept.video}")
            stack.callback(window.close)
        shown = Player(kept, window, streams, frame_log).run()
    print(f"replayed {shown} of {len(kept.rows)} frames of {kept.video}", file=sys.stderr)
    return 0


def _streams(kept: Kept, stack: ExitStack) -> LabStreams:
    """The LSL outlets, open until the replay ends, having waited (a while) for a recorder to take both."""
    streams = stack.enter_context(open_streams(kept.fps, kept.model))
    wait_for_recorder(streams, frames=True)
    return streams
