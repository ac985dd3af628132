"""What the live loop says (source, model, camera lost, recording stopped, provider fallback, OSC,
watchdog restarts): to stderr, and with `--event-log FILE` also to FILE with timestamps, rotated
at 10 MiB with five old files kept (FILE.1 .. FILE.5), so a months-long installation never fills
its disk with logs. A file that cannot be written (a full disk, /dev/full) is found out at start,
by writing a first line; one that fails later is said once on stderr and left, and the show goes on.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

from realtime.errors import UserError


def setup(tag: str, path: Path | None, max_mb: float = 10.0, backups: int = 5) -> logging.Handler | None:
    """Log INFO and up to stderr as '[tag] message' and, given a path, to a rotating file.
    Returns the file handler (to remove when done), or None."""
    logging.basicConfig(level=logging.INFO, format=f"[{tag}] %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(logging.INFO)
    if path is None:
        return None
    try:
        handler = _QuietOnFailure(path, maxBytes=int(max_mb * 2**20), backupCount=backups, encoding="utf-8")
        if handler.stream is not None:  # always: the file is opened at once (no `delay`)
            handler.stream.write(f"{datetime.now():%Y-%m-%d %H:%M:%S} deepdream {tag}: log opened\n")
            handler.stream.flush()
    except OSError as exc:
        raise UserError(f"--event-log {path}: cannot write there ({exc.strerror or exc})") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


class _QuietOnFailure(RotatingFileHandler):
    """A rotating file that, when a write fails, says so once on stderr and stops (no traceback per line)."""

    def handleError(self, record: logging.LogRecord) -> None:
        logging.getLogger().removeHandler(self)
        print(
            f"event log {self.baseFilename}: cannot write any more ({sys.exc_info()[1]}); "
            "the show goes on, logging to stderr only",
            file=sys.stderr,
            flush=True,
        )


def remove(handler: logging.Handler | None) -> None:
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()
