"""The experiment log (--log FILE.csv) and reproducible runs (--seed with a file source)."""

import csv

import pytest
from conftest import deepdream

from realtime.run.framelog import COLUMNS


def _run(model, clip, tmp_path, tag):
    log, rec = tmp_path / f"{tag}.csv", tmp_path / f"{tag}.mp4"
    result = deepdream(
        "live",
        "--source",
        str(clip),
        "--model",
        str(model),
        "--size",
        "128x96",
        "--headless",
        "--frames",
        "15",
        "--seed",
        "7",
        "--log",
        str(log),
        "--record",
        str(rec),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    with open(log, newline="") as fh:
        return list(csv.DictReader(fh)), rec.read_bytes()


@pytest.mark.child
def test_log_rows_and_reproducible_runs(tiny_model, testdata, tmp_path):
    clip = testdata / "pan_coffee_320x240.mp4"
    rows_a, video_a = _run(tiny_model, clip, tmp_path, "a")
    rows_b, video_b = _run(tiny_model, clip, tmp_path, "b")
    assert len(rows_a) == 15 and list(rows_a[0]) == COLUMNS
    assert [r["frame"] for r in rows_a] == [str(i) for i in range(15)]
    assert [r["source_frame"] for r in rows_a] == [str(i) for i in range(15)]  # every frame, in order
    assert {(r["model"], r["paused"]) for r in rows_a} == {("mixed3_mixed5", "False")}  # the model's own name
    assert all(float(r["loss"]) > 0 for r in rows_a)
    stamps = [float(r["monotonic"]) for r in rows_a]
    assert stamps == sorted(set(stamps))  # rising: one row per frame, as it was shown
    # ms_per_step is a moving average of each frame's step time, and frame i's steps ran between rows i-1 and
    # i (every frame in order): it can only rise towards a time that fits between the two rows' stamps.
    ms, steps = [float(r["ms_per_step"]) for r in rows_a], [int(r["steps_per_frame"]) for r in rows_a]
    for i in range(1, len(rows_a)):
        assert ms[i] <= max(ms[i - 1], (stamps[i] - stamps[i - 1]) * 1e3 / steps[i]) + 0.01  # the CSV's rounding
    params = [c for c in COLUMNS if c not in ("wall_time", "monotonic", "ms_per_step")]
    assert [[r[c] for c in params] for r in rows_a] == [[r[c] for c in params] for r in rows_b]
    assert video_a == video_b
