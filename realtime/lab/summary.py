"""session.json: what a session was (who, which model, which protocol, which display) and how it ran.

Written when the session ends, before anything slow (the kept video's hashes), so a second Ctrl-C cannot lose it;
`completed` is false where the run stopped before the protocol did.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from realtime.install import version
from realtime.lab.protocol import Protocol
from realtime.lab.session import frame_intervals, sha256_file


def session_record(
    protocol: Protocol, who: dict[str, Any], model: Path, run: dict[str, Any], flips: list[float]
) -> dict[str, Any]:
    """`who`: participant, session, seeds, started; `run`: source, video, fps, size, timing, the display's refresh
    rate, lsl, photodiode, trials, completed, dropped_frames."""
    return {
        "program": "deepdream-live",
        "version": version(),
        **who,
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": {"name": model.name, "sha256": sha256_file(model)},
        "protocol": {"file": str(protocol.path), "text": protocol.text},
        **run,
        "frame_intervals": frame_intervals(flips),
        "frames": len(flips),
    }
