"""The order of a session's trials (realtime.lab.order): fixed as listed, random the same for the same participant
and session and another for another, balanced across participants by a Williams Latin square."""

import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from realtime.errors import UserError
from realtime.lab.order import check_participant, check_session, number, seed, trials
from realtime.lab.protocol import read_protocol


def protocol(tmp_path: Path, doses: list[float], order: str, repeats: int = 1, extra: str = ""):
    path = tmp_path / f"{order}-{len(doses)}-{repeats}.toml"
    path.write_text(f"{extra}[[block]]\ndoses = {doses}\nduration = 4\nrepeats = {repeats}\norder = {order!r}\n")
    return read_protocol(path)


def doses(protocol, participant: str, session: int = 1) -> list[float]:
    return [t.dose for t in trials(protocol, participant, session)]


def test_fixed_repeats_the_doses_as_listed(tmp_path):
    assert doses(protocol(tmp_path, [0.0, 0.5, 1.0], "fixed", repeats=2), "P01") == [0.0, 0.5, 1.0] * 2


def test_trials_are_numbered_over_the_session_and_carry_their_block(tmp_path):
    path = tmp_path / "two.toml"
    path.write_text(
        '[experiment]\nrating_scale = "vas"\n[[block]]\ndoses = [0.0, 1.0]\nduration = 3\nrating = "How strong?"\n'
        '[[block]]\nname = "late"\ndoses = [0.5]\nduration = 7\nrepeats = 2\nrating_scale = "keys"\n'
    )
    got = [
        (t.block, t.block_name, t.trial, t.dose, t.duration, t.rating, t.rating_scale)
        for t in trials(read_protocol(path), "P01", 1)
    ]
    assert got == [
        (1, "block1", 1, 0.0, 3.0, "How strong?", "vas"),
        (1, "block1", 2, 1.0, 3.0, "How strong?", "vas"),
        (2, "late", 3, 0.5, 7.0, None, "keys"),
        (2, "late", 4, 0.5, 7.0, None, "keys"),
    ]


def test_random_is_the_same_for_a_participant_and_session_and_differs_otherwise(tmp_path):
    shuffled = protocol(tmp_path, [0.0, 0.25, 0.5, 0.75, 1.0], "random", repeats=4)
    first = doses(shuffled, "P01")
    assert sorted(first) == sorted([0.0, 0.25, 0.5, 0.75, 1.0] * 4)  # every dose, repeats times
    assert first != sorted(first)
    assert doses(shuffled, "P01") == first == doses(shuffled, "sub-P01")  # "sub-" is no part of the label
    assert doses(shuffled, "P02") != first
    assert doses(shuffled, "P01", session=2) != first
    by_participant = {tuple(doses(shuffled, f"P{n:02d}")) for n in range(1, 11)}
    assert len(by_participant) == 10


def test_random_follows_the_documented_seed(tmp_path):
    shuffled = protocol(tmp_path, [0.0, 0.5, 1.0], "random", repeats=3)
    digest = hashlib.sha256(b"P07/2/1").digest()
    expected = [[0.0, 0.5, 1.0][i % 3] for i in np.random.default_rng(int.from_bytes(digest, "big")).permutation(9)]
    assert doses(shuffled, "sub-P07", session=2) == expected


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("repeats", [1, 2])
def test_balanced_is_balanced_across_consecutive_participants(tmp_path, n, repeats):
    levels = [round(i / (n - 1), 4) for i in range(n)]
    square = protocol(tmp_path, levels, "balanced", repeats=repeats)
    people = n if n % 2 == 0 else 2 * n  # an odd n needs the square and its mirror
    for first in (1, 4):  # any run of consecutive participant numbers
        rows = [doses(square, f"sub-{p:02d}") for p in range(first, first + people)]
        for seq in rows:
            assert Counter(seq) == Counter(levels * repeats)
        for position in range(n * repeats):
            assert Counter(row[position] for row in rows) == Counter({d: people // n for d in levels})
        pairs = Counter(
            (a, b)
            for row in rows
            for r in range(repeats)
            for a, b in zip(row[r * n : (r + 1) * n], row[r * n + 1 : (r + 1) * n])
        )
        assert set(pairs) == {(a, b) for a in levels for b in levels if a != b}
        assert len(set(pairs.values())) == 1  # each ordered pair of neighbours equally often


def test_balanced_rows_depend_on_the_participant_and_the_session(tmp_path):
    square = protocol(tmp_path, [0.0, 0.5, 1.0, 0.25], "balanced")
    assert doses(square, "P01") == doses(square, "sub-01") == doses(square, "X1")  # the number decides
    assert doses(square, "P01") != doses(square, "P02")
    assert doses(square, "P01", session=2) != doses(square, "P01")
    assert doses(square, "abc") == doses(square, "abc")  # no digits: a stable number from the label


def test_participant_labels_and_numbers():
    assert check_participant("sub-P07") == check_participant("P07") == "P07"
    assert number("sub-07") == 7 and number("P0012") == 12
    assert number("abc") == number("abc") != number("abd")
    for bad in ["", "sub-", "P 01", "P-01", "P_01", "x" * 65, "Pé1", "P01\n"]:
        with pytest.raises(UserError, match=r"^--participant must be 1\.\.64 letters and digits") as caught:
            check_participant(bad)
        assert "\n" not in str(caught.value)
    for bad in [0, -1, True, 1.5, "1"]:
        with pytest.raises(UserError, match="^--session must be a whole number from 1"):
            check_session(bad)


def test_the_dream_seed_is_32_bits_per_participant_and_session():
    assert seed("sub-P01", 1) == seed("P01", 1) == int.from_bytes(hashlib.sha256(b"P01/1/dream").digest()[:4], "big")
    seeds = {seed(f"P{p:02d}", s) for p in range(1, 21) for s in (1, 2, 3)}
    assert len(seeds) == 60 and all(0 <= s < 2**32 for s in seeds)
