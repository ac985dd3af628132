"""What the live loop says (source, model, camera lost, recording stopped, provider fallback, OSC,
watchdog restarts): to stderr, and with `--event-log FILE` also to FILE with timestamps, rotated
at 10 MiB with five old files kept (FILE.1 .. FILE.5), so a months-long installation never fills
its disk with logs.
"""
from __future__ import annotations

import logging
import sys
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
        handler = RotatingFileHandler(path, maxBytes=int(max_mb * 2**20), backupCount=backups, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


def remove(handler: logging.Handler | None) -> None:
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()
