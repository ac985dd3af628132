"""Frames to other programs: `live --ndi NAME` (realtime.media.ndi) sends what is shown as an NDI source, and
`--spout`/`--syphon` (realtime.media.texture_share) share it on Windows/macOS.

The NDI tests send and receive inside a network namespace that each makes (`unshare --net`, loopback up):
tests/ndi_roundtrip.py runs there, with a cyndilib receiver beside the sender, and no packet leaves the
machine. They skip in one line where cyndilib is missing or the namespace cannot be made (no permission).
Spout and Syphon need Windows and macOS: here only their refusal on another OS is tested.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from conftest import cli

ROUNDTRIP = Path(__file__).resolve().parent / "ndi_roundtrip.py"


@cache
def namespace_refused() -> str:
    """Why a network namespace with loopback up cannot be made here, or "" where it can."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip is not installed"
    probe = subprocess.run(
        ["unshare", "--net", "ip", "link", "set", "lo", "up"], capture_output=True, text=True, timeout=60
    )
    return "" if probe.returncode == 0 else f"unshare --net is not permitted here ({probe.stderr.strip()})"


def in_namespace(*args, timeout: float = 300) -> dict:
    """tests/ndi_roundtrip.py ARGS in a network namespace of its own: the JSON it printed."""
    pytest.importorskip("cyndilib", reason="cyndilib is not installed (pip install -e '.[ndi]')")
    if why := namespace_refused():
        pytest.skip(why)
    argv = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", sys.executable, ROUNDTRIP, *args]
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.child
def test_a_receiver_takes_the_frames_ndi_sink_sends():
    got = in_namespace("roundtrip", 160, 90)
    assert got["shape"] == [90, 160, 4]
    # NDI compresses (8-bit 4:2:2): the flat colours come back within a few levels, in RGB order, top on top
    assert got["top"][:3] == pytest.approx([200, 40, 10], abs=12)
    assert got["bottom"][:3] == pytest.approx([20, 90, 220], abs=12)
    assert got["top"][3] == got["bottom"][3] == 255


@pytest.mark.child
@pytest.mark.slow
def test_live_with_ndi_is_a_source_a_receiver_takes(tiny_model):
    argv = ["live", "--source", "synthetic", "--model", tiny_model, "--headless", "--size", "96x80"]
    got = in_namespace("live", "dream", "--", *argv, "--frames", 100000, "--ndi", "dream")
    assert got["rc"] == 0, got["stderr"]  # stopped by Ctrl-C once a frame came: a clean finish
    assert got["shape"] == [80, 96, 4] and got["alpha"] == 255
    assert got["spread"] > 0  # a picture, not a blank frame


@pytest.mark.parametrize(
    ("name", "said"),
    [("", "give the source a name"), ("x" * 101, "at most 100"), ("dream\x1b[31m", "control characters")],
)
def test_a_bad_ndi_name_is_one_line(name, said, tiny_model):
    done = cli("live", "--source", "synthetic", "--model", tiny_model, "--headless", "--frames", 1, "--ndi", name)
    assert done.returncode != 0
    assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_ndi_without_cyndilib_says_how_to_install_it(tiny_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "cyndilib", None)  # an installation without the ndi extra
    done = cli("live", "--source", "synthetic", "--model", tiny_model, "--headless", "--frames", 1, "--ndi", "x")
    assert done.returncode != 0
    assert "[ndi]" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("flag", "system"), [("--spout", "win32"), ("--syphon", "darwin")])
def test_spout_and_syphon_are_refused_on_another_os(flag, system, tiny_model):
    if sys.platform == system:
        pytest.skip(f"{flag} runs on this OS")
    done = cli("live", "--source", "synthetic", "--model", tiny_model, "--headless", "--frames", 1, flag, "x")
    assert done.returncode != 0
    assert "only" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_spout_and_syphon_names_are_checked_on_their_own_os():
    from realtime.errors import UserError
    from realtime.media.texture_share import check_sharing

    assert check_sharing("spout", "dream", platform="win32") == "dream"
    with pytest.raises(UserError, match="control characters"):
        check_sharing("syphon", "a\nb", platform="darwin")
