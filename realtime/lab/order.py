"""The order of a session's trials: `trials(protocol, participant, session)`, the same every time for the
same participant and session, so a session can be rerun, checked and replayed.

Per block, `repeats` times each of its doses:

- fixed: the doses as listed, repeated (d1 d2 d3 d1 d2 d3);
- random: all of them shuffled by a numpy Generator seeded with the SHA-256 of
  "{participant}/{session}/{block}" (the participant's label without "sub-", the block's number from 1):
  the same participant and session always get the same order, another participant another;
- balanced: rows of a balanced Latin square (Williams design: each dose follows each other dose equally
  often; for an odd number of doses n, the square and its mirror, 2n rows). The participant's number
  (the digits ending the label: sub-07 is 7; a label without any, a number from its hash) picks the
  row, shifted by the session (each session goes on where the last one left off) and each repeat takes
  the next row. Consecutive numbers take consecutive rows, so participants 1..n (1..2n for an odd n)
  see each dose at each position equally often, and each dose after each other equally often.

`seed(participant, session)` is the dream's seed for the session: the first 4 bytes of the SHA-256 of
"{participant}/{session}/dream", a 32-bit number; the same participant and session dream the same way.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from realtime.errors import UserError
from realtime.lab.protocol import Block, Protocol
from realtime.lab.rules import LABEL, got


@dataclass(frozen=True)
class Trial:
    block: int  # from 1, as the protocol lists them
    block_name: str
    trial: int  # from 1, over the session
    dose: float
    duration: float  # seconds
    rating: str | None  # the rating screen's prompt after this trial, or none
    rating_scale: str  # keys | vas


def check_participant(participant: str) -> str:
    """The participant's BIDS label (letters and digits, 1..64; a leading "sub-" dropped), or UserError."""
    label = participant.removeprefix("sub-") if isinstance(participant, str) else participant
    if not isinstance(label, str) or not LABEL.fullmatch(label):
        raise UserError(f"--participant must be 1..64 letters and digits (a BIDS label), got {got(participant)}")
    return label


def check_session(session: object) -> int:
    if isinstance(session, bool) or not isinstance(session, int) or session < 1:
        raise UserError(f"--session must be a whole number from 1, got {got(session)}")
    return session


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def seed(participant: str, session: int) -> int:
    label, session = check_participant(participant), check_session(session)
    return int.from_bytes(_digest(f"{label}/{session}/dream")[:4], "big")


def number(participant: str) -> int:
    """The participant's number: the digits that end the label (P07: 7), else a stable one from its hash."""
    label = check_participant(participant)
    digits = re.search(r"[0-9]+$", label)
    return int(digits.group()) if digits else int.from_bytes(_digest(label)[:4], "big")


def williams(n: int) -> list[list[int]]:
    """A balanced Latin square of n treatments (0..n-1): n rows for an even n, 2n (with its mirror) for odd."""
    first = [0]
    for k in range(1, n):  # 0, 1, n-1, 2, n-2, ...: the steps between neighbours are all different mod n
        first.append((k + 1) // 2 if k % 2 else n - k // 2)
    square = [[(t + row) % n for t in first] for row in range(n)]
    return square if n % 2 == 0 else square + [row[::-1] for row in square]


def _order(block: Block, index: int, label: str, session: int) -> list[int]:
    """The block's doses as indices into block.doses, in the order they are shown."""
    n = len(block.doses)
    if block.order == "random":
        rng = np.random.default_rng(int.from_bytes(_digest(f"{label}/{session}/{index}"), "big"))
        return [int(i) % n for i in rng.permutation(n * block.repeats)]
    if block.order == "balanced":
        square = williams(n)
        start = number(label) - 1 + (session - 1) * block.repeats
        return [d for repeat in range(block.repeats) for d in square[(start + repeat) % len(square)]]
    return list(range(n)) * block.repeats


def trials(protocol: Protocol, participant: str, session: int) -> list[Trial]:
    """Every trial of the session, in order (blocks as the protocol lists them)."""
    label, session = check_participant(participant), check_session(session)
    out: list[Trial] = []
    for index, block in enumerate(protocol.blocks, start=1):
        for dose in _order(block, index, label, session):
            trial = Trial(
                index, block.name, len(out) + 1, block.doses[dose], block.duration, block.rating, block.rating_scale
            )
            out.append(trial)
    return out
