"""Show hours: the config's [schedule] table, and whether the show is open at a moment.

Each weekday (`monday` .. `sunday`, or `daily` for the days not named) takes one or more ranges of
local time, "10:00-13:00, 14:00-22:00", or "closed"; a day not named (and no `daily`) is closed. A
range whose stop is not after its start runs past midnight into the next day ("20:00-02:00" on
Sunday is open at Monday 01:00); "00:00-24:00" is the whole day. Local time is `timezone`'s (an IANA
name, zoneinfo: summer time included), else the machine's. Outside hours the output shows `outside`:
"black", "still" (the image `still`, relative to the config's folder) or "camera" (undreamed).
Pure: parsing and answering; the loop (realtime.run.rest) makes the pictures.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from realtime.errors import UserError, shown

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
OUTSIDE = ("black", "still", "camera")
KEYS = (*DAYS, "daily", "timezone", "outside", "still")
DAY = 24 * 60  # minutes
TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")  # ASCII digits: \d would take Arabic-Indic ones

Range = tuple[int, int]  # minutes from the day's midnight: start, stop (past DAY: into the next day)


@dataclass(frozen=True)
class Schedule:
    hours: tuple[tuple[Range, ...], ...]  # a weekday each, Monday first
    zone: ZoneInfo | None  # None: the machine's local time
    outside: str = "black"
    still: Path | None = None
    clock: Callable[[], float] | None = None  # seconds since the epoch; None: `now`, read at each call

    def open_at(self, t: float) -> bool:
        """Whether the show is open at `t` (seconds since the epoch)."""
        local = datetime.fromtimestamp(t, self.zone) if self.zone else datetime.fromtimestamp(t).astimezone()
        minute = local.hour * 60 + local.minute + local.second / 60
        today, yesterday = local.weekday(), (local.weekday() - 1) % 7
        return any(start <= minute < stop for start, stop in self.hours[today]) or any(
            minute + DAY < stop for _, stop in self.hours[yesterday]
        )

    def is_open(self) -> bool:
        """Whether the show is open now, by the schedule's clock."""
        return self.open_at((self.clock or now)())


def now() -> float:
    """The wall clock, seconds since the epoch (looked up at each call, so a test can stand in for it)."""
    return time.time()


def parse(table: object, where: str, folder: Path = Path(".")) -> Schedule:
    """The [schedule] table as a Schedule; UserError naming `where` (the file), the key and the rule."""
    if not isinstance(table, dict):
        raise UserError(f"{where}: [schedule] must be a table of weekdays and times")
    table = {str(k).replace("-", "_"): v for k, v in table.items()}
    for key in table:
        if key not in KEYS:
            raise UserError(f"{where}: [schedule]: unknown key {shown(key)}; it takes {', '.join(KEYS)}")
    default = _day(table["daily"], "daily", where) if "daily" in table else ()
    hours = tuple(_day(table[day], day, where) if day in table else default for day in DAYS)
    outside = _text(table, "outside", "black", where)
    if outside not in OUTSIDE:
        raise UserError(f"{where}: [schedule] outside: {shown(outside)} is not one of {', '.join(OUTSIDE)}")
    still = table.get("still")
    if (outside == "still") != (still is not None):
        raise UserError(f'{where}: [schedule] still: give an image with outside = "still", and only then')
    path = folder / _text(table, "still", "", where) if still is not None else None
    return Schedule(hours, _zone(table.get("timezone"), where), outside, path)


def _text(table: dict, key: str, default: str, where: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise UserError(f"{where}: [schedule] {key}: expected text, got {shown(value)}")
    return value


def _zone(name: object, where: str) -> ZoneInfo | None:
    if name is None:
        return None
    if not isinstance(name, str):
        raise UserError(f"{where}: [schedule] timezone: expected an IANA name, got {shown(name)}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: a path-like name ("../etc")
        raise UserError(
            f"{where}: [schedule] timezone: no time zone {shown(name)}; give an IANA name such as Europe/London"
        ) from None


def _day(value: object, key: str, where: str) -> tuple[Range, ...]:
    """Ranges of minutes from one or more "HH:MM-HH:MM" (comma between), or none from "closed"."""
    if not isinstance(value, str):
        raise UserError(f'{where}: [schedule] {key}: expected "HH:MM-HH:MM" ranges or "closed", got {shown(value)}')
    if value.strip() == "closed":
        return ()
    return tuple(_range(part.strip(), key, where) for part in value.split(","))


def _range(text: str, key: str, where: str) -> Range:
    parts = text.split("-")
    if len(parts) != 2:
        raise UserError(f'{where}: [schedule] {key}: {shown(text)} is not a range "HH:MM-HH:MM"')
    start, stop = (_minute(p.strip(), key, where) for p in parts)
    if start == DAY or start == stop:
        raise UserError(
            f"{where}: [schedule] {key}: {shown(text)} is empty; a range starts before 24:00 and "
            "stops at another time (the whole day: 00:00-24:00)"
        )
    return (start, stop if stop > start else stop + DAY)  # not after its start: the next day's


def _minute(text: str, key: str, where: str) -> int:
    match = TIME.fullmatch(text)
    hour, minute = (int(match[1]), int(match[2])) if match else (-1, -1)
    if not (0 <= hour < 24 and 0 <= minute < 60) and (hour, minute) != (24, 0):
        raise UserError(f"{where}: [schedule] {key}: {shown(text)} is not a time HH:MM, 00:00..24:00")
    return hour * 60 + minute
