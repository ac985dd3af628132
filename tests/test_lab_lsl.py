"""`experiment --lsl` and `live --lsl` read by real pylsl inlets, inside a network namespace the test makes (LSL
finds streams by multicast: no packet may leave this machine): the markers arrive stamped with the flips the
session's frame log holds, within 2 ms, and every shown frame is on the frames stream."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_lsl import CONFIG, namespace  # noqa: F401 (a fixture)

HERE = Path(__file__).resolve().parent
CLIP = "tests/data/pan_coffee_320x240.mp4"
SLACK_S = 0.002
PROTOCOL = """
[experiment]
rest = 0.2
[[block]]
doses = [0.0, 1.0]
duration = 0.4
order = "fixed"
"""


def streamed(namespace, tmp_path, *args):  # noqa: F811 (the fixture's value)
    pytest.importorskip("pylsl", reason="LSL tests need the lab extra: pip install -e '.[lab]'")
    config = tmp_path / "lsl_api.cfg"
    config.write_text(CONFIG)
    env = {**os.environ, "LSLAPICFG": str(config), "SDL_VIDEODRIVER": "dummy"}
    argv = [*namespace, sys.executable, str(HERE / "lsl_session.py"), *map(str, args)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=HERE.parent, env=env)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["code"] == 0, got["stderr"]
    return got["streams"]


@pytest.mark.child
def test_experiment_markers_arrive_at_the_flips_of_the_frame_log(namespace, tiny_model, tmp_path):  # noqa: F811
    path = tmp_path / "p.toml"
    path.write_text(PROTOCOL)
    streams = streamed(
        namespace, tmp_path, "experiment", path, "--participant", "P01", "--source", CLIP, "--loop",
        "--model", tiny_model, "--size", "160x120", "--headless", "--output", tmp_path, "--lsl",
    )  # fmt: skip
    with open(tmp_path / "P01" / "ses-1" / "frames.tsv", newline="") as fh:
        log = list(csv.DictReader(fh, delimiter="\t"))
    logged = [(row["marker"], float(row["flip_time"])) for row in log if row["marker"] != "n/a"]
    markers = streams["deepdream-markers"]
    assert [text for (text,), _ in markers] == [text for text, _ in logged]
    assert logged[0][0] == "session_start trial_on trial=1 block=1 dose=0" and "session_end" in logged[-1][0]
    for (_, stamp), (_, flip) in zip(markers, logged):
        assert abs(stamp - flip) <= SLACK_S  # LSL's clock is this machine's monotonic one (to_lsl converts)
    frames = streams["deepdream-frames"]
    assert [int(sample[0]) for sample, _ in frames] == [int(row["frame"]) for row in log]
    assert max(abs(stamp - float(row["flip_time"])) for (_, stamp), row in zip(frames, log)) <= SLACK_S
    doses = {int(row["frame"]): row["dose"] for row in log}
    assert {sample[1] for sample, _ in frames if doses[int(sample[0])] == "1"} == {1.0}


@pytest.mark.child
def test_live_sends_every_shown_frame(namespace, tiny_model, tmp_path):  # noqa: F811
    streams = streamed(
        namespace, tmp_path, "live", "--source", CLIP, "--model", tiny_model, "--size", "160x120", "--headless",
        "--frames", "40", "--lsl", "--dose", "0.5",
    )  # fmt: skip
    frames = streams["deepdream-frames"]
    assert [int(sample[0]) for sample, _ in frames] == list(range(40))
    assert {sample[1] for sample, _ in frames} == {0.5}
    assert streams["deepdream-markers"] == []
    stamps = [stamp for _, stamp in frames]
    assert stamps == sorted(stamps)
