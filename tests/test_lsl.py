"""The Lab Streaming Layer outlets (realtime/lab/lsl.py): the clock they stamp in, their descriptions, the one-line
error without pylsl, and a real inlet reading them, inside a network namespace so no discovery packet leaves."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import realtime.lab
from realtime.errors import UserError

HERE = Path(__file__).resolve().parent
SLACK_S = 0.002  # a marker's timestamp against the LSL-clock bracket of its flip
CONFIG = """\
[multicast]
ResolveScope = machine
Interfaces = {127.0.0.1}
[ports]
IPv6 = disable
[log]
level = -2
"""  # liblsl's lsl_api.cfg: discovery on this machine only, over IPv4 loopback; errors only in the log


def test_open_streams_without_pylsl_says_so_in_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "pylsl", None)  # an installation without the lab extra
    monkeypatch.delitem(sys.modules, "realtime.lab.lsl", raising=False)  # imported afresh, put back after
    monkeypatch.delattr(realtime.lab, "lsl", raising=False)
    from realtime.lab.lsl import open_streams  # imports without it

    with pytest.raises(UserError) as caught:
        open_streams(30.0, "tiny")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("--lsl needs the lab extra: pip install") and "[lab]" in message


@pytest.fixture
def lsl(monkeypatch):
    """realtime.lab.lsl with its clock offset measured afresh, as a new process would."""
    pytest.importorskip("pylsl", reason="LSL tests need the lab extra: pip install -e '.[lab]'")
    from realtime.lab import lsl

    lsl._offset.cache_clear()
    yield lsl
    lsl._offset.cache_clear()


def test_to_lsl_is_monotone_and_maps_now_to_lsl_now(lsl):
    before = lsl.lsl_clock()
    now = lsl.to_lsl(time.monotonic())
    after = lsl.lsl_clock()
    assert before - SLACK_S <= now <= after + SLACK_S
    stamps = [lsl.to_lsl(t) for t in (1.0, 1.0 + 1e-6, 2.0, 1000.0)]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_to_lsl_converts_between_clocks_with_different_epochs(lsl, monkeypatch):
    import pylsl

    monkeypatch.setattr(pylsl, "local_clock", lambda: time.monotonic() + 5000.0)  # Linux's share an epoch
    assert lsl.to_lsl(10.0) == pytest.approx(5010.0, abs=SLACK_S)


def test_streams_describe_themselves_for_a_recorder(lsl):
    markers, frames = lsl.describe(59.94, "inception_mixed3")
    assert (markers.name(), markers.type(), markers.channel_count()) == ("deepdream-markers", "Markers", 1)
    assert markers.nominal_srate() == 0 and markers.source_id().startswith("deepdream-markers@")
    assert (frames.name(), frames.type(), frames.nominal_srate()) == ("deepdream-frames", "Frames", 59.94)
    assert frames.get_channel_labels() == ["frame", "dose", "dream_age"]
    assert frames.get_channel_units() == ["count", "none", "ms"]
    assert frames.desc().child_value("model") == "inception_mixed3" and frames.desc().child_value("version")


@pytest.mark.parametrize("fps", [0.0, math.nan, -1.0])
def test_a_source_without_a_rate_gives_an_irregular_frames_stream(lsl, fps):
    assert lsl.describe(fps)[1].nominal_srate() == 0


@pytest.fixture
def namespace():
    """The argv prefix that runs a command in a network namespace of its own with loopback up, or a skip."""
    prefix = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    if not (shutil.which("unshare") and shutil.which("ip")):
        pytest.skip("the LSL inlet test needs unshare and ip (util-linux, iproute2) to keep LSL's discovery local")
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=60)
    if probe.returncode:
        pytest.skip(f"the LSL inlet test needs `unshare --net` (root): {probe.stderr.strip()[:120]}")
    return prefix


@pytest.mark.child
def test_a_real_inlet_gets_the_markers_at_their_flips_and_the_frames(namespace, tmp_path):
    pytest.importorskip("pylsl", reason="LSL tests need the lab extra: pip install -e '.[lab]'")
    config = tmp_path / "lsl_api.cfg"
    config.write_text(CONFIG)
    done = subprocess.run(
        [*namespace, sys.executable, str(HERE / "lsl_inlet.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=HERE.parent,
        env={**os.environ, "LSLAPICFG": str(config)},
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    texts = [text for text, _ in got["markers"]]
    assert texts == [
        "session_start",
        "trial_on dose=0.5 block=1 trial=3",
        "trial_off dose=0.5 block=1 trial=3",
        "rating 7",
    ]
    for (_, stamp), (before, after) in zip(got["markers"] + got["frames"], got["flips"]):
        assert before - SLACK_S <= stamp <= after + SLACK_S  # the flip's time, not the push's
    assert [sample for sample, _ in got["frames"]] == [[1.0, 0.0, None], [2.0, 0.5, 16.5], [3.0, 1.0, 33.25]]
    frames = got["info"]["frames"]
    assert (frames["type"], frames["rate"], frames["labels"]) == ("Frames", 30.0, ["frame", "dose", "dream_age"])
    assert frames["model"] == "tiny" and got["info"]["markers"]["source_id"].startswith("deepdream-markers@")
