"""The end of a live run: its summary said in one log line (`report`) and written for --stats (`write_stats`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("deepdream.live")


def write_stats(path: Path, summary: dict[str, Any]) -> None:
    """--stats at the end of a run: written whole or not at all (a full disk is one line, not a traceback)."""
    from realtime.files import write_atomic

    write_atomic(path, (json.dumps(summary, indent=2) + "\n").encode())


def report(summary: dict[str, Any]) -> None:
    """The run's summary in one log line, with the dream's own rate and age when it ran beside the display."""
    if "dream_hz" in summary:
        log.info(
            "%d frames, %.1f fps shown, %.1f dreams/s, %.0f ms/step, latency p50 %.0f ms p95 %.0f ms, "
            "dream age p50 %.0f ms, %d camera frames dropped",
            summary["frames"],
            summary["fps"],
            summary["dream_hz"],
            summary["ms_per_step"],
            summary["latency_ms"]["p50"],
            summary["latency_ms"]["p95"],
            summary["dream_age_ms"]["p50"],
            summary["dropped_frames"],
        )
        return
    log.info(
        "%d frames, %.1f fps, %.0f ms/step, latency p50 %.0f ms p95 %.0f ms",
        summary["frames"],
        summary["fps"],
        summary["ms_per_step"],
        summary["latency_ms"]["p50"],
        summary["latency_ms"]["p95"],
    )
