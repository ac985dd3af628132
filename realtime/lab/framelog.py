"""The lab's per-frame log, `frames.tsv`: what each flip showed, when, and in which part of the session.

One tab-separated row per flip, "n/a" where a column does not apply, each row flushed as it is written so a
crash keeps every flip before it: frame (the flip's number from 0), flip_time (time.monotonic() right
after the flip, 6 decimals), onset (seconds since the session's first flip), source_frame, phase
(instructions, trial, rest, rating, pause, done), trial, block, dose, dream_age_ms (how old the dream on
screen was), marker (the marker text sent with this flip: tabs and line breaks become spaces), patch (the
photodiode patch, 0 black or 1 white) and sha256 (of the shown frame's RGB bytes). `read_frame_log` reads
one back with its values typed (`deepdream replay`); a file that is not one is refused in one line.

The file is created new: an existing one is never overwritten. A failing write (a full disk) stops the log
with a warning and the session goes on, as realtime.run.framelog does.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import numpy as np

from realtime.errors import UserError, shown

log = logging.getLogger("deepdream.experiment")

PHASES = ("instructions", "trial", "rest", "rating", "pause", "done")
_TEXT: Callable[[str], object] = str
TYPES: dict[str, Callable[[str], object]] = {  # column -> how its text reads back
    "frame": int,
    "flip_time": float,
    "onset": float,
    "source_frame": int,
    "phase": _TEXT,
    "trial": int,
    "block": int,
    "dose": float,
    "dream_age_ms": float,
    "marker": _TEXT,
    "patch": int,
    "sha256": _TEXT,
}
COLUMNS = tuple(TYPES)
FORMATS = {"flip_time": "{:.6f}", "onset": "{:.6f}", "dose": "{:.6g}", "dream_age_ms": "{:.1f}"}
DIALECT: dict = {"delimiter": "\t", "lineterminator": "\n", "quoting": csv.QUOTE_NONE, "quotechar": None}  # plain TSV
_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")  # whatever would split a row or a line


class LabFrameLog:
    def __init__(self, path: Path) -> None:
        self.path, self.failed = Path(path), False
        try:
            self.fh: TextIO = open(self.path, "x", newline="")  # "x": a session's log is never replaced
        except FileExistsError:
            raise UserError(f"{self.path} exists; a session's frame log is never overwritten") from None
        except OSError as exc:
            raise UserError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self.writer = csv.writer(self.fh, **DIALECT)
        self._row(COLUMNS)

    def __call__(
        self,
        frame: int,
        flip: float,
        onset: float,
        source_frame: int | None,
        phase: str,
        trial: int | None,
        block: int | None,
        dose: float | None,
        dream_age_ms: float | None,
        marker: str | None,
        patch: int,
        sha256: str,
    ) -> None:
        """One flip's row, flushed."""
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
        if marker is not None:
            marker = _BREAKS.sub(" ", marker)
        values = (frame, flip, onset, source_frame, phase, trial, block, dose, dream_age_ms, marker, int(patch), sha256)
        self._row([_cell(name, value) for name, value in zip(COLUMNS, values, strict=True)])

    def _row(self, cells: tuple[str, ...] | list[str]) -> None:
        if self.failed:
            return
        try:
            self.writer.writerow(cells)
            self.fh.flush()
        except OSError as exc:
            self.failed = True
            log.warning("frame log stopped: cannot write %s: %s; the session goes on", self.path, exc.strerror or exc)
            self.close()

    def close(self) -> None:
        try:
            self.fh.close()  # closes the file even when the last flush fails
        except OSError as exc:
            log.warning("frame log: cannot finish %s: %s", self.path, exc.strerror or exc)


def _cell(column: str, value: object) -> str:
    if value is None:
        return "n/a"
    return FORMATS.get(column, "{}").format(value)


def read_frame_log(path: Path) -> list[dict[str, object]]:
    """Every row of a frames.tsv, typed (ints, floats, text; None for n/a), or UserError in one line."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh, **DIALECT)
            header = tuple(next(reader, ()))
            if header != COLUMNS:
                raise UserError(f"{path} is not a frame log: its header is not {' '.join(COLUMNS)}")
            return [_typed(row, reader.line_num, path) for row in reader]
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path} is not a frame log: {exc}") from None


def _typed(row: list[str], line: int, path: Path) -> dict[str, object]:
    if len(row) != len(COLUMNS):
        raise UserError(f"{path} line {line}: {len(row)} columns, a frame log has {len(COLUMNS)}")
    typed: dict[str, object] = {}
    for (name, kind), text in zip(TYPES.items(), row, strict=True):
        try:
            typed[name] = None if text == "n/a" else kind(text)
        except ValueError:
            wanted = "a whole number" if kind is int else "a number"  # text columns take any text
            raise UserError(f"{path} line {line}: {name} must be {wanted} or n/a, got {shown(text)}") from None
    return typed


def digest(rgb: np.ndarray) -> str:
    """A frame's sha256 as frames.tsv keeps it: of its RGB bytes, HxWx3 uint8, row by row."""
    return hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).hexdigest()
