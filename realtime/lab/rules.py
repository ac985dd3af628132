"""The rules a protocol's values are checked by: each a function from a TOML value to the value kept, or
ValueError saying what it must be and what it got ("must be fixed, random or balanced, got "shuffle"").

The protocol (realtime.lab.protocol) puts the table and key in front and the file and line before that.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable

from realtime.errors import shown
from realtime.steer.playlist import LONGEST

Rule = Callable[[object], object]
LABEL = re.compile(r"[A-Za-z0-9]{1,64}")  # a BIDS label: letters and digits
MOST_DOSES = 100  # doses in one block: more is a typo (a study of 100 levels rates each a few times at most)


def got(value: object) -> str:
    """A value as the error quotes it, spelled as TOML spells it and on one line (escapes), cut when long."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value)  # ASCII with escapes: a newline or a line separator stays on the line
        return text if len(text) <= 60 else f'{text[:60]}..." ({len(value)} characters)'
    return shown(value, 60)


def either(options: tuple[str, ...]) -> str:
    return ", ".join(options[:-1]) + f" or {options[-1]}" if len(options) > 1 else options[0]


def choice(*options: str) -> Rule:
    def check(value: object) -> str:
        if value not in options:
            raise ValueError(f"must be {either(options)}, got {got(value)}")
        return str(value)

    return check


def _number(value: object) -> float | None:
    """A finite number as a float (TOML's integers too), or None for anything else (true is not 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def whole(low: int, high: int) -> Rule:
    def check(value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"must be a whole number {low}..{high}, got {got(value)}")
        return value

    return check


def seconds(positive: bool) -> Rule:
    """A duration: finite, at most a year (a longer trial or rest is a typo), > 0 if `positive` else >= 0."""

    def check(value: object) -> float:
        number = _number(value)
        if number is None or not 0 <= number <= LONGEST or (positive and number == 0):
            rule = "> 0" if positive else ">= 0"
            raise ValueError(f"must be seconds {rule} (at most {LONGEST:.0f}), got {got(value)}")
        return number

    return check


def text(limit: int, empty: bool = False) -> Rule:
    """Text of at most `limit` characters; blank only where `empty` says it means something (no screen)."""

    def check(value: object) -> str:
        if not isinstance(value, str) or (not empty and not value.strip()) or len(value) > limit:
            raise ValueError(f"must be text of {0 if empty else 1}..{limit} characters, got {got(value)}")
        return value

    return check


def label(value: object) -> str:
    """A BIDS label (the task's name): letters and digits, 1..64 of them."""
    if not isinstance(value, str) or not LABEL.fullmatch(value):
        raise ValueError(f"must be 1..64 letters and digits (a BIDS label), got {got(value)}")
    return value


def title(value: object) -> str:
    """A block's name: one line of up to 64 printable characters (it labels rows of tab-separated logs)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64 or not value.isprintable():
        raise ValueError(f"must be one line of 1..64 printable characters, got {got(value)}")
    return value


def doses(value: object) -> tuple[float, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MOST_DOSES:
        raise ValueError(f"must be a list of 1..{MOST_DOSES} doses, each 0..1, got {got(value)}")
    kept = []
    for dose in value:
        number = _number(dose)
        if number is None or not 0 <= number <= 1:
            raise ValueError(f"must each be a number 0..1 (0: the source, 1: the full dream), got {got(dose)}")
        kept.append(number)
    return tuple(kept)
