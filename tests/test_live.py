"""The live loop: source -> dreamer -> sinks, headless, on the test clip and on made-up sources."""

import json
import threading
import time

import cv2
import numpy as np
import pytest
from conftest import PERTURB, deepdream, run_perturbed, wait_until

from realtime.dream.engine import Engine
from realtime.dream.flow import Flow, warp
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.media.sinks import ListSink
from realtime.media.sources import Frame, Latest, SyntheticSource
from realtime.run.loop import run
from realtime.steer.show import Show


@pytest.fixture(scope="module")
def engine(tiny_model):
    return Engine(tiny_model, "cpu")


class ListSource:
    """Frames from a list; `fail_at` makes reads fail (None) from that frame until `back` is set."""

    def __init__(self, images, fail_at=None):
        self.images, self.fail_at = images, fail_at
        self.failed, self.back = False, threading.Event()

    def frames(self):
        for i, img in enumerate(self.images):
            if i == self.fail_at and not self.failed:
                self.failed = True
                yield None
                return
            yield Frame(img, time.monotonic(), i)

    def reopen(self):
        assert self.back.wait(120), "the test never brought the source back"
        self.images = self.images[self.fail_at :]
        self.fail_at = None
        return True

    def close(self):
        pass


@pytest.mark.child
def test_headless_run_on_the_clip_records_n_frames_that_differ(tmp_path, tiny_model, testdata):
    out, stats = tmp_path / "rec.mp4", tmp_path / "stats.json"
    started = time.monotonic()
    result = deepdream(
        "live",
        "--source",
        str(testdata / "pan_coffee_320x240.mp4"),
        "--loop",
        "--model",
        str(tiny_model),
        "--size",
        "160x120",
        "--headless",
        "--frames",
        "12",
        "--record",
        str(out),
        "--sync",
        "--stats",
        str(stats),
        timeout=300,
    )
    lifetime_s = time.monotonic() - started  # the loop's run and every frame's latency lie within it
    assert result.returncode == 0, result.stderr
    cap = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr)
    assert len(frames) == 12
    source = cv2.VideoCapture(str(testdata / "pan_coffee_320x240.mp4"))
    ok, first = source.read()
    first = cv2.resize(first, (160, 120), interpolation=cv2.INTER_AREA)
    assert all(np.abs(f.astype(int) - first).mean() > 2 for f in frames[1:])
    data = json.loads(stats.read_text())
    assert data["frames"] == 12 and data["fps"] >= 12 / lifetime_s  # frames over the loop's time, in seconds
    assert 0 < data["ms_per_step"] <= lifetime_s * 1e3
    assert 0 < data["latency_ms"]["p50"] <= data["latency_ms"]["p95"] <= lifetime_s * 1e3
    assert set(data["share"]) == {"capture", "flow", "dream", "display"} and min(data["share"].values()) >= 0
    assert sum(data["share"].values()) == pytest.approx(1.0) and data["share"]["dream"] > 0


@pytest.mark.child
@pytest.mark.exact
def test_a_seeded_recording_of_a_file_repeats_byte_for_byte(tmp_path, tiny_model, testdata):
    """`live --seed` on a file dreams every frame in order: the same bytes in another process with another heap."""
    outs = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    for out, perturb in zip(outs, PERTURB):
        run_perturbed(
            [
                "live",
                "--source",
                testdata / "pan_coffee_320x240.mp4",
                "--seed",
                "0",
                "--model",
                tiny_model,
                "--size",
                "112x80",
                "--headless",
                "--frames",
                "30",
                "--record",
                out,
            ],
            perturb,
        )
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert cv2.VideoCapture(str(outs[0])).get(cv2.CAP_PROP_FRAME_COUNT) == 30  # every frame, none dropped


def test_feedback_0_with_0_steps_reproduces_the_source(engine):
    images = [SyntheticSource((160, 120)).render(i) for i in range(6)]
    stream = DreamStream([engine], StreamSettings(size=(160, 120), steps_per_frame=0, feedback=0.0))
    sink = ListSink()
    run(Latest(ListSource(images), lockstep=True), Show(stream), [sink])
    assert len(sink.frames) == len(images)  # every frame, in order, each the source's own
    for frame, image in zip(sink.frames, images):
        assert np.abs(frame.astype(int) - image).max() <= 1


def test_feedback_carries_the_dream(engine):
    images = [SyntheticSource((160, 120)).render(0)] * 4
    plain = DreamStream([engine], StreamSettings(size=(160, 120), steps_per_frame=1, feedback=0.0, flow="off"))
    fed = DreamStream([engine], StreamSettings(size=(160, 120), steps_per_frame=1, feedback=1.0, flow="off"))
    a = [plain(img) for img in images][-1].astype(int)
    b = [fed(img) for img in images][-1].astype(int)
    # With full feedback, four frames of one step each dream deeper than one step.
    assert np.abs(b - images[0]).mean() > 1.5 * np.abs(a - images[0]).mean()


def test_flow_warp_follows_a_translation():
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), (0, 0), 2)
    shifted = np.roll(texture, (3, 5), axis=(0, 1))  # content moves 5 right, 3 down
    motion = Flow("dis").between(texture, shifted)
    inner = (slice(20, -20), slice(20, -20))
    np.testing.assert_allclose(np.median(motion.backward[inner], axis=(0, 1)), [-5, -3], atol=0.5)
    warped = warp(texture.astype(np.float32), motion.backward)
    unwarped_error = np.abs(texture[inner].astype(float) - shifted[inner]).mean()
    assert np.abs(warped[inner] - shifted[inner]).mean() < 0.2 * unwarped_error


class Camera:
    """A source whose frames come when the test says (`shoot(n)`), as a camera's come whatever the reader does."""

    def __init__(self):
        self.due, self.cond, self.shot = 0, threading.Condition(), 0

    def shoot(self, n: int) -> None:
        with self.cond:
            self.due += n
            self.cond.notify_all()

    def frames(self):
        while True:
            with self.cond:
                self.cond.wait_for(lambda: self.shot < self.due)
                self.shot += 1
            yield Frame(np.full((60, 80, 3), self.shot % 256, np.uint8), time.monotonic(), self.shot - 1)

    def close(self):
        self.shoot(1)


def test_newest_frame_wins_and_nothing_queues():
    camera = Camera()
    reader = Latest(camera)
    seen = []
    for _ in range(4):
        camera.shoot(6)  # six frames while a slow dreamer works on one
        wait_until(lambda: reader._count == camera.due, what="the frames captured")
        seen.append(reader.get().index)
    reader.close()
    assert seen == [5, 11, 17, 23]  # the newest each time: frames in between were dropped, none queued
    assert reader.dropped == 4 * 5


def test_a_source_that_fails_mid_run_is_survived(engine):
    images = [SyntheticSource((160, 120)).render(i) for i in range(40)]
    stream = DreamStream([engine], StreamSettings(size=(160, 120), steps_per_frame=0, feedback=0.0))
    sink = ListSink()
    source = ListSource(images, fail_at=5)

    class Watching(ListSink):  # the source comes back once the loop has shown the last frame a few times
        def write(self, frame):
            super().write(frame)
            if len(self.frames) > 5 + 3:
                source.back.set()

    sink = Watching()
    stats = run(Latest(source, retry_s=0.05, lockstep=True), Show(stream), [sink])
    assert stats.lost_frames >= 3  # it kept showing the last frame while the source was gone
    assert stats.frames == 40 + stats.lost_frames  # and came back to every new frame
    assert all(np.array_equal(f, sink.frames[4]) for f in sink.frames[5 : 5 + stats.lost_frames])


@pytest.mark.child
def test_camera_missing_at_start_is_a_clear_error(tiny_model):
    result = deepdream(
        "live", "--source", "webcam:97", "--model", str(tiny_model), "--headless", "--frames", "1", timeout=120
    )
    assert result.returncode == 2 and "cannot open camera" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr
