"""A session's folder and its record: `session_dir` makes ID/ses-N (and refuses one that holds a session
already: nothing of a session is ever overwritten), `frame_intervals` sums up how evenly the flips came,
`write_session` keeps session.json whole, `sha256_file` fingerprints the model that dreamed.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from realtime.errors import UserError
from realtime.files import write_atomic
from realtime.lab.order import check_participant, check_session

LATE = 1.5  # an interval over this many times the median is a late flip (at least one refresh missed)


def session_path(root: Path, participant: str, session: int) -> Path:
    """root/ID/ses-N: ID is the participant's as given, `sub-07` keeping BIDS' `sub-` (sub-07/ses-1), `P07` P07."""
    label, session = check_participant(participant), check_session(session)
    label = f"sub-{label}" if participant.strip().startswith("sub-") else label
    return Path(root) / label / f"ses-{session}"


def session_dir(root: Path, participant: str, session: int) -> Path:
    """`session_path`, created (an empty one is taken as it is); UserError when it holds anything."""
    folder = session_path(root, participant, session)
    label, session = folder.parent.name, check_session(session)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file; give another --session or move it")
    if folder.is_dir() and any(folder.iterdir()):
        raise UserError(f"{label}/ses-{session} already holds a session; give another --session")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot make {folder}: {exc.strerror or exc}") from None
    return folder


def frame_intervals(flips: list[float]) -> dict[str, float | int | None]:
    """The intervals between consecutive flips in ms: count, mean, sd, median, 95th percentile, longest,
    and how many were late (over LATE times the median). With fewer than two flips, a count of 0."""
    intervals = np.diff(np.asarray(flips, dtype=np.float64)) * 1000.0
    if intervals.size == 0:
        return {"count": 0, "mean_ms": None, "sd_ms": None, "p50_ms": None, "p95_ms": None, "max_ms": None, "late": 0}
    median = float(np.median(intervals))
    return {
        "count": int(intervals.size),
        "mean_ms": round(float(intervals.mean()), 3),
        "sd_ms": round(float(intervals.std(ddof=1)) if intervals.size > 1 else 0.0, 3),
        "p50_ms": round(median, 3),
        "p95_ms": round(float(np.percentile(intervals, 95)), 3),
        "max_ms": round(float(intervals.max()), 3),
        "late": int(np.count_nonzero(intervals > LATE * median)),
    }


def write_session(path: Path, data: dict) -> None:
    """`data` as JSON (sorted keys, indent 2), written whole: paths as text, a NaN or infinity as null."""
    text = json.dumps(_plain(data), sort_keys=True, indent=2, allow_nan=False, default=str)
    write_atomic(Path(path), (text + "\n").encode())


def _plain(value: object) -> object:
    """What strict JSON holds: a non-finite float (a figure of a session cut short) becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks (a model is hundreds of MB)."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
