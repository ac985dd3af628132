"""`deepdream render`: every frame, the input's frame rate and count, reproducible, resumable."""
import signal
import subprocess
import sys
import time

import cv2
import pytest

from realtime.cli import main


def _frames(path):
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            return out, cap.get(cv2.CAP_PROP_FPS)
        out.append(bgr)


@pytest.fixture(scope="module")
def clip(testdata):
    return testdata / "pan_coffee_320x240.mp4"


def test_every_frame_at_the_input_rate_and_reproducible(tmp_path, random_model, clip):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    for out in (a, b):
        assert main(["render", str(clip), "-o", str(out), "--model", str(random_model), "--size", "100x76",
                     "--seed", "3"]) == 0
    frames, fps = _frames(a)
    source, source_fps = _frames(clip)
    assert len(frames) == len(source) == 90 and fps == source_fps
    assert frames[0].shape == (76, 100, 3)
    assert a.read_bytes() == b.read_bytes()
    assert not list(tmp_path.glob(".*partial"))


def test_an_interrupted_render_continues_where_it_stopped(tmp_path, random_model, clip):
    whole, resumed = tmp_path / "whole.mp4", tmp_path / "resumed.mp4"
    args = ["--model", str(random_model), "--size", "320x240"]
    assert main(["render", str(clip), "-o", str(whole), *args]) == 0
    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "render", str(clip), "-o", str(resumed), *args],
                            stderr=subprocess.PIPE, text=True)
    progress = tmp_path / ".resumed.mp4.partial" / "progress.json"
    deadline = time.monotonic() + 120
    while not progress.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the render finished before it could be interrupted")
    assert proc.returncode == 130 and not resumed.exists() and progress.exists()
    assert main(["render", str(clip), "-o", str(resumed), *args]) == 0
    assert resumed.read_bytes() == whole.read_bytes()


def test_bad_render_inputs(tmp_path, random_model, clip):
    (tmp_path / "not.mp4").write_text("text")
    assert main(["render", str(tmp_path / "not.mp4"), "-o", str(tmp_path / "o.mp4"), "--model", str(random_model)]) == 2
    assert main(["render", str(clip), "-o", str(tmp_path / "o.avi"), "--model", str(random_model)]) == 2
    assert main(["render", str(clip), "-o", str(clip), "--model", str(random_model)]) == 2
    assert not (tmp_path / "o.mp4").exists()
