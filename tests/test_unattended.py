"""Unattended days: GPU failure -> CPU, full disk while recording, rotating logs, the
watchdog, and a short soak (the hour-long one is run by hand: benchmarks/soak.py)."""

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from conftest import wait_until

from realtime.dream.engine import Engine
from realtime.dream.runtime import PROVIDERS
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.media.diskguard import DiskGuard
from realtime.media.sinks import ListSink, VideoSink
from realtime.media.sources import Frame, SyntheticSource
from realtime.run.eventlog import remove, setup
from realtime.run.framelog import COLUMNS, FrameLog
from realtime.run.hud import hud
from realtime.run.loop import LoopStats, run
from realtime.run.watchdog import DREAM_GRACE_S, FIRST_FRAME_S, Heartbeat, numbered
from realtime.steer.show import Show

ROOT = Path(__file__).resolve().parents[1]


class Frames:
    """A reader over a list of images: every frame, in order, then the end."""

    def __init__(self, images):
        self.items = iter(enumerate(images))

    def get(self, timeout=5.0):
        index, image = next(self.items, (None, None))
        return None if image is None else Frame(image, time.monotonic(), index)


@pytest.fixture(scope="module")
def engine(tiny_model):
    return Engine(tiny_model, "cpu")


class Failing:
    """A session whose device has gone (what onnxruntime raises when a CUDA kernel faults)."""

    def run(self, *args, **kwargs):
        from onnxruntime.capi.onnxruntime_pybind11_state import Fail

        raise Fail("CUDA failure 700: an illegal memory access was encountered")

    run_with_ort_values = run_with_iobinding = run


def test_a_failing_gpu_provider_falls_back_to_the_cpu(tiny_model, caplog):
    image = np.random.default_rng(0).uniform(-1, 1, (96, 96, 3)).astype(np.float32)
    engine = Engine(tiny_model, "cpu")
    expected = engine.step(image, 2, 0.02)
    engine.provider = PROVIDERS["cuda"]  # no GPU here: stand in a session that fails, as CUDA's does
    engine.session = engine.stepper.session = Failing()
    out = engine.step(image, 2, 0.02)
    np.testing.assert_allclose(out, expected, atol=1e-5)  # the step was redone, on the CPU
    assert engine.provider == PROVIDERS["cpu"] and "illegal memory access" in engine.fell_back
    assert "falling back to the CPU" in caplog.text
    stream = DreamStream([engine], StreamSettings(size=(96, 96)))
    assert any(line.startswith("ON CPU") for line in hud(Show(stream), LoopStats(), False))
    engine.session = engine.stepper.session = Failing()  # a failure on the CPU itself is not hidden
    with pytest.raises(Exception, match="illegal memory"):
        engine.step(image, 1, 0.02)


def test_a_full_disk_stops_the_recording_and_the_show_goes_on(engine, tmp_path, monkeypatch, caplog):
    usage = namedtuple("usage", "total used free")
    free = {"bytes": 10**12}
    monkeypatch.setattr("realtime.media.diskguard.shutil.disk_usage", lambda _: usage(0, 0, free["bytes"]))

    class FillsTheDisk:  # at the 10th frame, before the recording gets it, the disk has 1 MiB left
        count = 0

        def write(self, frame):
            self.count += 1
            if self.count == 10:
                free["bytes"] = 2**20

        def close(self):
            pass

    images = [SyntheticSource((96, 96)).render(i) for i in range(25)]
    stream = DreamStream([engine], StreamSettings(size=(96, 96), steps_per_frame=0))
    shown, recording = ListSink(), DiskGuard(VideoSink(tmp_path / "show.mp4", 30, (96, 96)), 100, every_s=0)
    run(Frames(images), Show(stream), [shown, FillsTheDisk(), recording])
    assert len(shown.frames) == 25  # every frame still shown
    assert recording.stopped and "recording stopped: disk nearly full (1 MiB free" in caplog.text
    assert int(cv2.VideoCapture(str(tmp_path / "show.mp4")).get(cv2.CAP_PROP_FRAME_COUNT)) == 9  # kept, playable
    assert not list(tmp_path.glob(".show.*"))


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux) for a real ENOSPC")
def test_a_full_disk_stops_the_experiment_log_not_the_show(engine, caplog):
    stream = DreamStream([engine], StreamSettings(size=(96, 96), steps_per_frame=0))
    log = FrameLog(Path("/dev/full"))  # every write fails with ENOSPC, as on a full disk
    frames = [Frame(SyntheticSource((96, 96)).render(i), time.monotonic(), i) for i in range(3)]
    for i, frame in enumerate(frames):
        stream(frame.image)
        log(frame, Show(stream).status(), i)
    log.close()
    assert log.failed and caplog.text.count("experiment log stopped at frame 0") == 1
    assert "No space left on device" in caplog.text


def test_the_experiment_log_continues_in_numbered_parts(engine, tmp_path):
    stream = DreamStream([engine], StreamSettings(size=(96, 96), steps_per_frame=0))
    path = tmp_path / "frames.csv"
    log = FrameLog(path, max_mb=600 / 2**20)  # a new part every few rows
    for i in range(12):
        frame = Frame(SyntheticSource((96, 96)).render(i), time.monotonic(), i)
        stream(frame.image)
        log(frame, Show(stream).status(), i)
    log.close()
    parts = [path] + sorted(tmp_path.glob("frames.part*.csv"), key=lambda p: int(p.stem.split("part")[1]))
    assert len(parts) >= 3
    rows = []
    for part in parts:
        lines = part.read_text().splitlines()
        assert lines[0] == ",".join(COLUMNS)
        rows += [line.split(",")[2] for line in lines[1:]]
    assert rows == [str(i) for i in range(12)]  # nothing lost or repeated across parts


def test_the_event_log_rotates(tmp_path):
    path = tmp_path / "events.log"
    handler = setup("test", path, max_mb=2000 / 2**20, backups=2)
    try:
        for i in range(200):
            logging.getLogger("deepdream.live").info("message %d of a long-running show", i)
    finally:
        remove(handler)
    assert {p.name for p in tmp_path.iterdir()} == {"events.log", "events.log.1", "events.log.2"}
    assert "message 199" in path.read_text() and path.stat().st_size <= 2000
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO deepdream.live: message", path.read_text())


def test_restarted_runs_do_not_overwrite_each_other():
    assert numbered(Path("out/show.mp4"), 1) == Path("out/show.mp4")
    assert numbered(Path("out/show.mp4"), 3) == Path("out/show-run3.mp4")
    assert numbered(None, 2) is None


def _live(model, *flags, **popen):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "realtime.cli",
            "live",
            "--source",
            "synthetic",
            "--model",
            str(model),
            "--size",
            "128x96",
            "--headless",
            *flags,
        ],
        text=True,
        **popen,
    )


def _wait_for(stream, pattern, seconds=120):
    """Read lines until one matches; returns the match and the lines read."""
    lines, deadline = [], time.monotonic() + seconds
    for line in stream:
        lines.append(line)
        found = re.search(pattern, line)
        if found or time.monotonic() > deadline:
            return found, lines
    return None, lines


def test_a_dream_that_runs_too_long_beside_the_display_holds_the_heartbeat_back(tmp_path, monkeypatch):
    from realtime.run import watchdog

    beat = tmp_path / "heartbeat"
    beat.write_bytes(b"")
    clock = SimpleNamespace(monotonic=lambda: 5000.0, time=lambda: 1.7e9)  # both clocks stand still
    monkeypatch.setattr(watchdog, "time", clock)
    dream = SimpleNamespace(updates=1, since=None)
    dream.dreaming_since = lambda: dream.since
    heart = Heartbeat(beat, every_s=0.0)
    heart.watch(dream)

    def age() -> float:
        heart.write(None)  # a frame shown
        return round(clock.time() - beat.stat().st_mtime, 3)  # what the supervisor sees, to the file's precision

    assert age() == 0  # between dreams: stamped now
    dream.since = clock.monotonic() - DREAM_GRACE_S + 20
    assert age() == 0  # slow, not stuck (the engine fell back to the CPU, more steps were asked)
    dream.since = clock.monotonic() - DREAM_GRACE_S - 30
    assert age() == 30  # stuck: the supervisor sees 30 s without a sign of life
    dream.updates = 0
    assert age() == 0  # the first dream is given the first frame's allowance more (onnxruntime warming up)
    dream.since = clock.monotonic() - DREAM_GRACE_S - FIRST_FRAME_S - 5
    assert age() == 5


@pytest.mark.child
def test_the_watchdog_restarts_a_loop_that_hangs(tiny_model, tmp_path):
    # The loop pipes frames to a reader that stops reading: the second frame's write blocks for ever.
    proc = _live(
        tiny_model,
        "--pipe",
        "--frames",
        "6",
        "--watchdog",
        "3",
        "--log",
        str(tmp_path / "run.csv"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        found, lines = _wait_for(
            proc.stderr, r"no frame shown \(or a dream stuck\) for 3 s; restarting in \d+ s \(run 2\)"
        )
        assert found, "".join(lines)
        threading.Thread(target=proc.stdout.buffer.read, daemon=True).start()  # the reader is back
        rest = proc.stderr.read()
        assert proc.wait(120) == 0, rest  # run 2 shows its 6 frames and ends
    finally:
        proc.kill()
    assert "Traceback" not in "".join(lines) + rest
    assert len((tmp_path / "run-run2.csv").read_text().splitlines()) == 7  # run 2 logged apart, header + 6
    assert (tmp_path / "run.csv").exists()


@pytest.mark.child
def test_the_watchdog_restarts_a_loop_that_dies(tiny_model, tmp_path):
    log = tmp_path / "frames.csv"
    proc = _live(tiny_model, "--watchdog", "30", "--log", str(log), stderr=subprocess.PIPE)
    try:
        found, lines = _wait_for(proc.stderr, r"loop running as pid (\d+) \(run 1\)")
        assert found, "".join(lines)
        dreaming, more = _wait_for(proc.stderr, r"\[live\] dreaming at")  # run 1 is up and dreaming
        assert dreaming, "".join(lines + more)
        os.kill(int(found.group(1)), signal.SIGKILL)
        found, more = _wait_for(proc.stderr, r"loop running as pid (\d+) \(run 2\)")
        assert found, "".join(lines + more)
        assert any("the loop exited with status -9" in line for line in more)
        second = tmp_path / "frames-run2.csv"
        wait_until(lambda: second.is_file() and len(second.read_text().splitlines()) > 3, what="run 2 showing frames")
    finally:
        proc.terminate()  # a service manager's stop: the watchdog ends the loop, then itself
        rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, rest
    assert "interrupted: closing" in rest  # the loop finished its files
    assert not Path(f"/proc/{found.group(1)}").exists()  # and left no orphan


@pytest.mark.child
def test_short_soak_memory_stays_flat(tiny_model, tmp_path):
    out = tmp_path / "soak.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "soak.py"),
            "--minutes",
            "0.6",
            "--every",
            "4",
            "--size",
            "128x96",
            "--model",
            str(tiny_model),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())
    assert len(rows) >= 6 and all(b["frames"] > a["frames"] for a, b in zip(rows, rows[1:]))
    assert rows[-1]["viewer_frames"] > rows[0]["viewer_frames"]  # a viewer watched all along
    assert {r["change"] for r in rows} >= {"feedback", "step_size", "release + scene"}  # steered over OSC
    settled = rows[2:]  # after warm-up (allocator pools, first-frame caches)
    # A frame-sized leak (128x96 float32 = 144 KiB a frame at ~30 fps) would add hundreds of MiB here.
    assert settled[-1]["rss_mib"] - settled[0]["rss_mib"] < 8, rows
    assert settled[-1]["threads"] == settled[0]["threads"] and settled[-1]["fds"] == settled[0]["fds"], rows
