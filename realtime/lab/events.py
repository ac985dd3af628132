"""A session's events as BIDS task events: `events.tsv` and its sidecar `events.json`.

One row per event: onset and duration in seconds (onsets from the session's first frame, 4 decimals),
trial_type (trial, rest, rating, instructions, pause, abort), the trial's dose and block, and a rating's
response and response time; "n/a" where a column does not apply, as BIDS asks. Rows are sorted by onset
(BIDS: SHOULD), a pause that falls inside a trial after it.

A rating's response and response time sit on the rating's row and are copied to the row of the trial it
rated: BIDS's own examples put response_time on the row of the stimulus responded to, so a model of the
trials reads one row per trial; the rating's row keeps when the rating screen was up. response_time is
always seconds from the rating screen's onset (the sidecar says so): from the trial's onset it would
count the trial's own duration.

Both files are rewritten whole (realtime.files.write_atomic) after every event and at close: a crash keeps
every event before it, and a reader never meets half a row. They are small (a row per event).
"""

from __future__ import annotations

import json
from pathlib import Path

from realtime.files import write_atomic

COLUMNS = ("onset", "duration", "trial_type", "dose", "block", "response", "response_time")
LEVELS = {
    "trial": "A dosed stimulus: the live dream at the row's dose (0 the source exactly, 1 the full dream)",
    "rest": "The rest screen between trials",
    "rating": "The rating screen after a trial; its response is copied to that trial's row",
    "instructions": "The instructions, shown until the participant pressed space",
    "pause": "The experimenter paused the session (the pause key) until it went on",
    "abort": "The experimenter aborted the session (the abort key); nothing follows",
}
SIDECAR = {
    "onset": {"LongName": "Onset", "Description": "When the event began, from the session's first frame", "Units": "s"},
    "duration": {"LongName": "Duration", "Description": "How long the event lasted", "Units": "s"},
    "trial_type": {"LongName": "Event type", "Description": "What was on the screen", "Levels": LEVELS},
    "dose": {
        "LongName": "Dose",
        "Description": "How far the scene was from the source (0: the source exactly) to the full dream (1): "
        "the protocol's [dose] zero and full interpolated",
        "Units": "arbitrary",
    },
    "block": {"LongName": "Block", "Description": "The number of the protocol's [[block]], from 1", "Units": "n/a"},
    "response": {
        "LongName": "Rating",
        "Description": "The rating given: a key 1-9 (rating scale keys) or the slider's position 0-100 (vas)",
        "Units": "arbitrary",
    },
    "response_time": {
        "LongName": "Response time",
        "Description": "From the rating screen's onset to the response (on a trial's row: the rating that followed "
        "it); n/a where none was given",
        "Units": "s",
    },
}


class EventsWriter:
    def __init__(self, folder: Path) -> None:
        self.tsv, self.json = Path(folder) / "events.tsv", Path(folder) / "events.json"
        self.rows: list[tuple[float, dict[str, object]]] = []  # (onset, the row by column)
        self.described = False  # events.json written: it never changes

    def add(
        self,
        onset: float,
        duration: float,
        trial_type: str,
        dose: float | None = None,
        block: int | None = None,
        response: float | None = None,
        response_time: float | None = None,
    ) -> None:
        """One event, written at once with those before it. A rating's response goes to its trial's row too."""
        if trial_type not in LEVELS:
            raise ValueError(f"trial_type must be one of {', '.join(LEVELS)}, got {trial_type!r}")
        row: dict[str, object] = dict(
            zip(COLUMNS, (onset, duration, trial_type, dose, block, response, response_time), strict=True)
        )
        if trial_type == "rating":
            rated = next((r for _, r in reversed(self.rows) if r["trial_type"] == "trial"), None)
            if rated is not None:
                rated.update(response=response, response_time=response_time)
        self.rows.append((onset, row))
        self._write()

    def close(self) -> None:
        self._write()

    def _write(self) -> None:
        lines = ["\t".join(COLUMNS)]
        for _, row in sorted(self.rows, key=lambda pair: pair[0]):  # stable: one onset keeps the order added
            lines.append("\t".join(_cell(name, row[name]) for name in COLUMNS))
        write_atomic(self.tsv, ("\n".join(lines) + "\n").encode())
        if not self.described:
            write_atomic(self.json, (json.dumps(SIDECAR, indent=2) + "\n").encode())
            self.described = True


def _cell(column: str, value: object) -> str:
    if value is None:
        return "n/a"
    if column in ("onset", "duration", "response_time"):
        return f"{value:.4f}"
    return f"{value:g}" if isinstance(value, float) else str(value)
