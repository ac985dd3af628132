"""A kept session played back (`deepdream replay`): its video checked against frames.tsv, or shown again.

A session folder (realtime.lab.session) holds the video shown (session.json's "video": stimulus.mkv, lossless,
or stimulus.mp4, H.264) and frames.tsv, one row per flip with the sha256 of the frame shown. `check` decodes
every frame and compares its hash with its row, so a lossless file proves it holds exactly what the participant
saw. `Player` shows the frames again at their logged times (frame i at the start plus its onset's distance from
the first, never sooner), in a window or nowhere, sending each row's marker and frame sample over LSL after
its flip and logging this replay's flips, so a yoked viewer's recording can be aligned as the session's was.
This is a player of a kept file: no dream, no show.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np

from realtime.dream.parameter import MAX_SIDE
from realtime.errors import UserError, reason
from realtime.lab.framelog import PHASES, LabFrameLog, digest, read_frame_log
from realtime.lab.lsl import LabStreams

LOSSY = {"h264": "H.264 (lossy)"}  # codec -> how a refusal names it
HEX64 = re.compile(r"[0-9a-f]{64}")
KEPT = "stimulus.sha256"  # beside an H.264 stimulus: its decoded frames' hashes (`keep_hashes`)


@dataclass(frozen=True)
class Kept:
    """A session folder's video and its codec, its frame rate, size and model, and its frames.tsv rows (typed)."""

    video: Path
    codec: str
    fps: float
    size: tuple[int, int]
    model: str
    rows: list[dict[str, Any]]


def open_session(folder: Path) -> Kept:
    """The session kept in `folder`, or a one-line UserError: no folder, no session.json, no video, no log."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a session folder (no such folder)")
    try:
        meta = json.loads((folder / "session.json").read_text(encoding="utf-8"))
        name, fps, (width, height) = meta["video"], float(meta["fps"]), meta["size"]
        size = (int(width), int(height))
        if not (0 < fps <= 1000 and all(1 <= side <= MAX_SIDE for side in size)):
            raise ValueError(f"fps {fps:g} and size {width}x{height} are not a video's")
    except OSError as exc:
        raise UserError(f"cannot read {folder / 'session.json'}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError) as exc:  # not JSON, or without a video, fps or [w, h] size
        raise UserError(f"{folder / 'session.json'} is not a session's record: {reason(exc)}") from None
    if not isinstance(name, str) or Path(name).name != name or not (folder / name).is_file():
        raise UserError(f"{folder}: the session's video {name!r} is not in the folder")
    video = folder / name
    rows = read_frame_log(folder / "frames.tsv")
    model = meta.get("model")
    return Kept(video, codec(video), fps, size, str(model.get("name", "")) if isinstance(model, dict) else "", rows)


def codec(video: Path) -> str:
    """The name of the video's codec (ffv1, h264), or a one-line UserError for a file that is not a video."""
    import av

    try:
        with av.open(str(video)) as container:
            return container.streams.video[0].codec_context.name
    except (av.FFmpegError, IndexError, OSError) as exc:  # IndexError: no video stream in it
        raise UserError(f"{video} is not a video we can read: {_why(exc)}") from None


def decoded(video: Path) -> Iterator[np.ndarray]:
    """Every frame of the video as RGB (HxWx3 uint8), in order; a damaged file is a one-line UserError."""
    import av

    count = 0
    try:
        with av.open(str(video)) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")
                count += 1
    except (av.FFmpegError, OSError) as exc:
        raise UserError(f"{video} is damaged after frame {count}: {_why(exc)}") from None


def check(kept: Kept) -> str | None:
    """None when every frame of the video hashes as recorded, else the one line saying where not. A lossless video's
    frames are compared with frames.tsv's sha256 (the frames as shown); an H.264 one's with `KEPT` (its frames as
    decoded, written when the session ended); an H.264 video without that file cannot be checked (UserError)."""
    against = record_of(kept)
    for index, row in enumerate(kept.rows):  # the frame log's own hashes: whole, whichever the comparison
        if not (isinstance(row["sha256"], str) and HEX64.fullmatch(row["sha256"])):
            return f"frames.tsv row {index + 1} (frame {row['frame']}) holds no sha256 of a frame"
    if against == "frames.tsv":
        expected = [row["sha256"] for row in kept.rows]
    elif (kept.video.parent / KEPT).is_file():
        expected = (kept.video.parent / KEPT).read_text(encoding="ascii").split()
    else:
        raise UserError(
            f"{kept.video.name} is {LOSSY.get(kept.codec, kept.codec)} and the session has no {KEPT}: only a lossless "
            'session (video = "lossless") or one that kept its hashes can be checked frame by frame'
        )
    if len(expected) != len(kept.rows):  # a frame log cut short or grown: not the session the video holds
        return f"{against} holds {len(expected)} frames, frames.tsv {len(kept.rows)} rows"
    frames = decoded(kept.video)
    for index, (want, rgb) in enumerate(zip_longest(expected, frames)):
        if want is None or rgb is None:  # one ran out before the other
            held = index + (sum(1 for _ in frames) + 1 if rgb is not None else 0)
            return f"{kept.video.name} holds {held} frame{'' if held == 1 else 's'}, {against} {len(expected)} rows"
        if want != digest(rgb):
            return f"frame {index} of {kept.video.name} differs from {against} (row {index + 1})"
    return None


def record_of(kept: Kept) -> str:
    """What `check` compares the video's frames with: frames.tsv for a lossless video, else `KEPT`."""
    return "frames.tsv" if kept.codec == "ffv1" else KEPT


def keep_hashes(video: Path) -> int:
    """Write `KEPT` beside an H.264 `video`: each decoded frame's sha256, a line a frame, for `check` (frames.tsv's
    are of the frames as shown, which H.264 does not keep bit for bit). The number of frames."""
    from realtime.files import write_atomic

    lines = [digest(rgb) for rgb in decoded(video)]
    write_atomic(video.parent / KEPT, ("\n".join(lines) + "\n").encode("ascii"))
    return len(lines)


class Player:
    """Shows the kept frames at their logged pace: `window` (a sink: write, close, commands) or None, `streams`
    (realtime.lab.lsl.LabStreams) or None, `log` (realtime.lab.framelog.LabFrameLog) or None."""

    def __init__(
        self, kept: Kept, window: Any = None, streams: LabStreams | None = None, log: LabFrameLog | None = None
    ) -> None:
        self.kept, self.window, self.streams, self.log = kept, window, streams, log
        for line, row in enumerate(kept.rows, start=2):  # line 1: the header
            if row["frame"] is None or row["onset"] is None or row["phase"] not in PHASES:
                raise UserError(
                    f"{kept.video.parent / 'frames.tsv'} line {line}: a row needs its frame, onset and a phase "
                    f"({', '.join(PHASES)}) to be replayed"
                )

    def run(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> int:
        """Show every frame (or until the window asks to quit) at its onset, the session's time of it (the flips', or
        frames / fps in a session timed by frames, whose flips came at the dream's pace): how many were shown."""
        rows, first, start, shown = self.kept.rows, None, 0.0, 0
        for row, rgb in zip(rows, decoded(self.kept.video)):
            if first is None:
                first, start = row["onset"], clock()
            sleep(max(0.0, start + row["onset"] - first - clock()))  # never sooner than the session showed it
            if self.window is not None:
                self.window.write(rgb)
            flip = clock()
            self._flipped(row, rgb, flip, flip - start)
            shown += 1
            if self.window is not None and "quit" in self.window.commands():
                break
        return shown

    def _flipped(self, row: dict[str, Any], rgb: np.ndarray, flip: float, onset: float) -> None:
        """After a flip: the row's marker and frame sample over LSL, and this replay's row in the log."""
        if self.streams is not None:
            if row["marker"] is not None:
                self.streams.marker(row["marker"], flip)
            self.streams.frame(row["frame"], _or_nan(row["dose"]), _or_nan(row["dream_age_ms"]), flip)
        if self.log is not None:
            same = {name: row[name] for name in ("source_frame", "phase", "trial", "block", "dose", "dream_age_ms")}
            self.log(
                row["frame"], flip, onset, **same, marker=row["marker"], patch=row["patch"] or 0, sha256=digest(rgb)
            )


def _why(exc: BaseException) -> str:
    """FFmpeg's reason without the file's name, which PyAV adds (the message names it already)."""
    if isinstance(exc, IndexError):
        return "it holds no video stream"
    return getattr(exc, "strerror", None) or reason(exc)


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
