"""The asynchronous live mode: the display at the camera's rate, the dream beside it
(realtime.run.steps.BesideDisplay)."""

import csv
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from conftest import ListFrames, deepdream, wait_until

from realtime.dream.flow import Motion
from realtime.dream.reproject import Fade, carrier, fit
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.media.sinks import ListSink, VideoSink
from realtime.media.sources import CaptureSource, Frame, Latest, SyntheticSource
from realtime.run.display import NEAR, DisplayPath
from realtime.run.hud import hud
from realtime.run.loop import run
from realtime.run.steps import BesideDisplay
from realtime.run.worker import DreamUpdate, DreamWorker, StreamProxy
from realtime.steer.requests import status_pairs
from realtime.steer.show import Show


class StandIn:
    """The Engine interface DreamStream uses, taking `seconds` per step and adding a fixed pattern; with a
    `gate` (a threading.Semaphore), each step waits for the test to release one, so a dream lasts exactly as
    long as the test needs (frames offered meanwhile), not a guessed time."""

    def __init__(self, seconds: float = 0.2, gate: threading.Semaphore | None = None):
        self.seconds, self.gate = seconds, gate
        self.info = SimpleNamespace(mix_layers=(), name="stand-in", path=Path("stand-in.onnx"))
        self.provider, self.fell_back, self.last_loss = "CPUExecutionProvider", None, 0.0
        self.steps = 0

    def step(self, image, n, step_size, transform=None):
        if self.gate is not None:
            assert self.gate.acquire(timeout=120), "the test never let the dream finish"
        else:
            time.sleep(self.seconds * n)
        self.steps += n
        h, w = image.shape[:2]
        stripes = (np.arange(w)[None, :, None] // 8 % 2).astype(np.float32) * 0.2 - 0.1
        return np.clip(image + np.broadcast_to(stripes, (h, w, 1)), -1, 1)


def assemble(seconds=0.2, size=(160, 120), display=(320, 240), fade=2, gate=None, **settings):
    stream = DreamStream([StandIn(seconds, gate)], StreamSettings(size=size, **settings))
    proxy = StreamProxy(stream)
    return Show(proxy), DreamWorker(stream, proxy), DisplayPath(size, display, fade, stream.settings.flow)


def texture(h=240, w=480, seed=0):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), (0, 0), 3)


def square(size=(160, 120), x=50, y=40, side=20):
    detail = np.zeros((size[1], size[0], 3), np.float32)
    detail[y : y + side, x : x + side] = 0.6
    return detail


def centre_x(shown, camera) -> float:
    diff = np.abs(shown.astype(int) - fit(camera, shown.shape[1::-1]).astype(int)).sum(axis=2)
    xs = np.nonzero(diff > 40)[1]
    return float(xs.mean())


def panning(count, step=4, w=320, h=240):
    """Frames at 320x240 whose content moves `step` pixels right per frame."""
    big = texture(h, w + step * count + 8)
    start = step * count
    return [big[:, start - step * k : start - step * k + w].copy() for k in range(count)]


class EveryNth(ListSink):
    """A sink that lets the gated stand-in finish one step every `n` frames shown: dreams n frames long,
    whatever the machine's speed. With the `worker`, it also waits until that dream has landed before the
    next frame is shown, so a loaded machine cannot let the show run past it."""

    def __init__(self, gate: threading.Semaphore, n: int, keep: bool = False, worker=None):
        super().__init__()
        self.gate, self.n, self.keep, self.count, self.worker = gate, n, keep, 0, worker

    def write(self, frame):
        self.count += 1
        if self.keep:
            super().write(frame)
        if self.count % self.n == 0:
            self.gate.release()
            if self.worker is not None:
                landed = self.count // self.n
                wait_until(lambda: self.worker.updates >= landed, what=f"dream {landed} to land")


def test_a_slow_dream_leaves_the_display_at_the_source_rate():
    gate = threading.Semaphore(0)
    show, worker, path = assemble(gate=gate)
    closing = worker.close
    worker.close = lambda: (gate.release(2), closing())  # the dream in flight at the end may finish
    reader = Latest(ListFrames([SyntheticSource((160, 120)).render(i) for i in range(60)]), lockstep=True)
    sink = EveryNth(gate, 15, worker=worker)  # each dream lasts 15 shown frames
    stats = run(reader, show, [sink], max_frames=60, step=BesideDisplay(worker, path))
    reader.close()
    s = stats.summary(show)
    assert s["frames"] == 60 and s["dropped_frames"] == 0  # every camera frame shown as it came
    assert s["dream_updates"] == 4  # while the dream landed every 15 frames (the 4th with the last frame)
    assert s["display_fps"] > 10 * s["dream_hz"] and s["fps"] == pytest.approx(s["display_fps"])
    for key in ("p50", "p95"):  # a dream on screen is older than the frame it is laid on
        assert s["dream_age_ms"][key] > s["latency_ms"][key] > 0
    assert set(s["display_ms"]) == {"flow", "warp", "compose", "sinks", "total"} and s["worker"]["busy"] > 0.5
    status = dict(status_pairs(show, stats))  # what OSC's /deepdream/status replies
    assert status["display_fps"] == pytest.approx(s["display_fps"]) and status["dream_hz"] == pytest.approx(
        s["dream_hz"]
    )
    assert "fps shown" in hud(show, stats, False)[0] and "dreams/s" in hud(show, stats, False)[0]


def test_the_rates_are_the_shows_not_the_wait_for_the_last_dream_at_the_end():
    gate = threading.Semaphore(0)
    show, worker, path = assemble(gate=gate)
    finished = []
    real = worker.stream.engine.step
    worker.stream.engines[0].step = lambda *a: (real(*a), finished.append(time.monotonic()))[0]
    closing = worker.close
    worker.close = lambda: (gate.release(2), closing())  # the dream of frame 0 ends only once the show has
    reader = Latest(ListFrames([SyntheticSource((160, 120)).render(i) for i in range(30)]), lockstep=True)
    stats = run(reader, show, [ListSink()], max_frames=30, step=BesideDisplay(worker, path))
    reader.close()
    s = stats.summary(show)
    assert finished and stats.stopped < finished[0]  # the show's clock stopped before that dream ended
    assert s["dream_updates"] == 0 and s["dream_hz"] == 0  # and it is not the show's
    assert s["display_fps"] == pytest.approx(30 / (stats.stopped - stats.started))


def test_a_paced_clip_records_every_source_frame_at_its_rate_and_the_display_size(tmp_path, testdata):
    source = CaptureSource(str(testdata / "pan_coffee_320x240.mp4"))
    gate = threading.Semaphore(0)
    show, worker, path = assemble(gate=gate, size=(160, 120), display=(480, 360))
    reader = Latest(source, lockstep=True)  # a file beside the dream: every frame shown (realtime.commands.live)
    closing = worker.close
    worker.close = lambda: (gate.release(2), closing())
    stats = run(
        reader,
        show,
        [VideoSink(tmp_path / "out.mp4", source.fps, (480, 360)), EveryNth(gate, 10, worker=worker)],
        fps=source.fps,
        step=BesideDisplay(worker, path),
    )
    reader.close()
    cap = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0)
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (480, 360)
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == stats.frames
    assert stats.frames == 90 and reader.dropped == 0  # one shown frame per source frame
    assert worker.updates in (9, 10, 11)  # dreams ten frames long landed beside them (+2 let go at the end)


def test_the_shown_detail_moves_with_the_image_at_the_display_size():
    frames = panning(7)
    path = DisplayPath((160, 120), (320, 240), 0)
    proc, _ = path.frame(frames[0])
    path.frame(frames[0], update=DreamUpdate(1, proc, square(), 0, 0.0, 0.1))
    start = centre_x(path.frame(frames[0])[1], frames[0])
    for frame in frames[1:]:
        _, shown = path.frame(frame)
    assert shown.shape == (240, 320, 3)
    assert centre_x(shown, frames[-1]) - start == pytest.approx(6 * 4, abs=2)  # 4 display px a frame


def test_a_finished_dream_lands_on_a_newer_frame_in_the_right_place():
    frames = panning(7)
    path = DisplayPath((160, 120), (320, 240), 0)
    made_from = fit(frames[0], (160, 120))
    for frame in frames[:-1]:
        path.frame(frame)
    _, shown = path.frame(frames[-1], update=DreamUpdate(1, made_from, square(), 0, 0.0, 0.1))
    # The square sat at x 50..70 of the 160-wide frame it was made from: 100..140 at 320, then 6 frames of 4 px.
    assert centre_x(shown, frames[-1]) == pytest.approx(120 + 24, abs=2)


def changed(shown, camera) -> int:
    return int((np.abs(shown.astype(int) - camera.astype(int)).sum(axis=2) > 40).sum())


def test_a_dream_twenty_frames_old_lands_whole_and_in_the_right_place():
    # 40 px at the flow's 160-px work size: beyond one measurement, found from the per-frame flows.
    frames = panning(21)
    path = DisplayPath((160, 120), (320, 240), 0)
    made_from, _ = path.frame(frames[0])  # the worker is handed the very array the display path returns
    _, on_its_own_frame = path.frame(frames[0], update=DreamUpdate(1, made_from, square(), 0, 0.0, 0.1))
    for frame in frames[1:-1]:
        path.frame(frame)
    _, shown = path.frame(frames[-1], update=DreamUpdate(2, made_from, square(), 0, 0.0, 0.1))
    assert centre_x(shown, frames[-1]) == pytest.approx(120 + 20 * 4, abs=2)
    assert changed(shown, frames[-1]) >= 0.9 * changed(on_its_own_frame, frames[0])  # not dropped as occluded


def test_carried_detail_is_zero_where_the_frame_shows_what_was_hidden_or_outside():
    h, w = 40, 60
    backward = np.zeros((h, w, 2), np.float32)
    backward[:, :10, 0] = -12.0  # the left band came from beyond the left edge: outside the old frame
    occluded = np.zeros((h, w), bool)
    occluded[20:30, 30:40] = True  # uncovered by a moving object
    motion = Motion(backward, occluded)
    detail = np.full((h, w, 3), 0.5, np.float32)
    moved = carrier(motion)(detail)
    assert moved.shape == detail.shape and moved.dtype == np.float32
    assert np.all(moved[:, :10] == 0) and np.all(moved[20:30, 30:40] == 0)
    rest = np.ones((h, w), bool)
    rest[:, :11], rest[20:30, 30:40] = False, False
    assert np.allclose(moved[rest], 0.5)
    assert np.array_equal(carrier(None)(detail), detail)


def test_a_dream_fades_in_over_the_given_frames():
    fade = Fade(4)
    old, new = np.zeros((2, 2, 3), np.float32), np.ones((2, 2, 3), np.float32)
    fade.land(old)
    fade.land(new)
    seen = [float(fade.step().mean()) for _ in range(5)]
    assert seen == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0])
    instant = Fade(0)
    instant.land(old)
    instant.land(new)
    assert float(instant.step().mean()) == 1.0


class Adding:
    """An engine stand-in whose every dream adds `amount` everywhere."""

    info = SimpleNamespace(mix_layers=(), name="adding", path=Path("adding.onnx"))
    provider, fell_back, last_loss = "CPUExecutionProvider", None, 0.0

    def __init__(self, amount=0.02, seconds=0.03):
        self.amount, self.seconds = amount, seconds

    def step(self, image, n, step_size, transform=None):
        time.sleep(self.seconds)
        return np.clip(image + self.amount, -1, 1)


def test_each_dream_builds_on_the_one_just_finished_while_frames_keep_coming():
    stream = DreamStream([Adding()], StreamSettings(size=(96, 80), feedback=1.0, flow="off"))
    worker = DreamWorker(stream, StreamProxy(stream))
    frame, last = np.full((80, 96, 3), 128, np.uint8), None
    for i in range(400):  # offers every 5 ms, as a display would: one is always waiting when a dream ends
        worker.offer(Frame(frame, time.monotonic(), i))
        last = worker.take() or last
        if last is not None and last.number >= 12:
            break
        time.sleep(0.005)
    worker.close()
    # dream k carries dreams 1..k-1 (feedback 1): k steps of 0.02, give or take uint8 rounding
    assert float(last.detail.mean()) == pytest.approx(last.number * 0.02, abs=0.02)


def test_the_feedback_between_two_dreams_follows_a_pan_of_many_frames():
    gate = threading.Semaphore(0)
    _, worker, path = assemble(gate=gate, feedback=0.5)
    measured = []  # the motion each dream's feedback is carried along (given or measured), worker's thread
    stream, flow = worker.stream, worker.stream.flow
    real_carry, real_between = stream._carried_detail, flow.between
    stream._carried_detail = lambda frame, source, seed, motion, values: (
        measured.append(motion) or real_carry(frame, source, seed, motion, values)
    )
    flow.between = lambda prev, cur, seed=None: measured.append(real_between(prev, cur, seed)) or measured[-1]
    frames = panning(21)  # 4 px a frame at 320: 2 px at the 160-px processing size
    try:
        for index, image in enumerate(frames):
            proc, _ = path.frame(image)
            worker.offer(Frame(proc, time.monotonic(), index), path.motion)
            if index == 0:
                wait_until(worker.dreaming_since, what="the first dream started on frame 0")
        gate.release(2)  # the first dream ends with 20 frames offered meanwhile; the second takes the newest
        wait_until(lambda: worker.updates >= 2, what="two dreams")
        gap = worker.take().index  # the second dream's frame; the first was frame 0
    finally:
        worker.close()
    motions = [m for m in measured if m is not None]  # the first dream has nothing to carry
    assert gap == 20 and len(motions) == 1
    inner = (slice(20, 100), slice(50, 110))
    assert float(np.median(motions[0].backward[inner][..., 0])) == pytest.approx(-2 * gap, abs=1)
    assert motions[0].occluded[inner].mean() < 0.05


def test_a_stream_starts_its_flow_from_a_seed():
    stream = DreamStream([StandIn(0.0)], StreamSettings(size=(160, 120), feedback=0.5))
    big = texture(120, 240)
    stream(big[:, 60:220].copy())
    seeds = []
    real = stream.flow.between
    stream.flow.between = lambda prev, cur, seed=None: seeds.append(seed) or real(prev, cur, seed)
    stream(big[:, 20:180].copy(), seed=np.full((120, 160, 2), (-38, 0), np.float32))  # content 40 px right
    assert len(seeds) == 1 and float(seeds[0][..., 0].mean()) == -38
    assert stream.figures().values["flow"] == "dis" and stream.motion == pytest.approx(40, abs=3)


def stripes_shift(detail: np.ndarray) -> float:
    """How far right (px, mod 16) the StandIn's stripes (8 px on, 8 off) sit in a detail's middle rows."""
    profile = detail[40:80, :, 0].mean(axis=0)
    xs = np.arange(profile.size)
    scores = [float((profile * ((xs - k) // 8 % 2 * 2 - 1)).sum()) for k in range(16)]
    return float(np.argmax(scores))


def test_the_worker_lands_its_dream_on_the_newest_frame_offered_meanwhile():
    gate = threading.Semaphore(0)
    _, worker, path = assemble(gate=gate, feedback=0.0)
    frames = panning(5)  # 2 px a frame at the 160-px processing size: 8 px over the 4 frames after the first
    procs = []
    try:
        for index, image in enumerate(frames):
            proc, _ = path.frame(image)
            procs.append(proc)
            worker.offer(Frame(proc, time.monotonic(), index), path.motion)
            if index == 0:
                wait_until(worker.dreaming_since, what="the dream started on frame 0")
        gate.release()  # the rest arrived while it ran
        wait_until(lambda: worker.updates >= 1, what="the dream")
        update = worker.take()
    finally:
        gate.release(100)  # the next dream (on frame 4) waits on the gate too: let it end, so close() need not wait
        worker.close()
    assert update.index == 0 and update.frame is procs[-1]  # made from frame 0, aligned with frame 4
    assert stripes_shift(update.detail) == pytest.approx(8, abs=1)  # carried with the pan


def test_a_dream_landed_on_the_previous_frame_takes_only_this_frames_motion():
    frames = panning(3)
    path = DisplayPath((160, 120), (320, 240), 0)
    path.frame(frames[0])
    prev, _ = path.frame(frames[1])
    measured = []
    real = path.far.between
    path.far.between = lambda *args: measured.append(args) or real(*args)
    _, shown = path.frame(frames[2], update=DreamUpdate(1, prev, square(), 0, 0.0, 0.1))
    assert measured == []  # no flow of its own: the frame's motion carries it
    assert centre_x(shown, frames[2]) == pytest.approx(120 + 4, abs=2)


def test_a_dream_a_few_frames_behind_follows_the_measured_motions_and_one_further_back_gets_its_own_flow():
    frames = panning(9)
    path = DisplayPath((160, 120), (320, 240), 0)
    procs = [path.frame(frame)[0] for frame in frames[:6]]  # the arrays the worker is handed
    measured = []
    real = path.far.between
    path.far.between = lambda *args: measured.append(args) or real(*args)
    # The square sat at x 50..70 of the 160-wide frame: 100..140 at 320, then 4 display px a frame.
    _, shown = path.frame(frames[6], update=DreamUpdate(1, procs[6 - NEAR], square(), 0, 0.0, 0.1))
    assert measured == []  # carried along the motions the display path measured anyway
    assert centre_x(shown, frames[6]) == pytest.approx(120 + 4 * NEAR, abs=2)
    _, shown = path.frame(frames[7], update=DreamUpdate(2, procs[6 - NEAR], square(), 0, 0.0, 0.1))
    assert len(measured) == 1  # NEAR + 1 frames back: one flow of its own
    assert centre_x(shown, frames[7]) == pytest.approx(120 + 4 * (NEAR + 1), abs=2)


def test_a_late_dream_takes_the_per_frame_motions_oldest_first(monkeypatch):
    import realtime.run.display as display

    applied, made = [], iter(range(100))

    def numbered(motion, around=False):  # a carrier that says when it is applied
        n = next(made)
        return lambda detail: applied.append(n) or detail

    monkeypatch.setattr(display, "carrier", numbered)
    path = DisplayPath((160, 120), (320, 240), 0)
    frames = panning(5)
    procs = [path.frame(frame)[0] for frame in frames[:4]]  # carriers 0..3 (0: onto the first frame)
    path.frame(frames[4], update=DreamUpdate(1, procs[1], square(), 0, 0.0, 0.1))  # carrier 4: this frame's
    assert applied == [2, 3, 4]  # onto frame 2, then 3, then this one


def test_a_dream_made_from_the_very_array_shown_now_stays_where_it_is():
    a, b = (fit(frame, (160, 120)) for frame in panning(2))  # already at the processing size: shown as they are
    path = DisplayPath((160, 120), (320, 240), 0)
    path.frame(a)
    path.frame(b)
    path.frame(a, update=DreamUpdate(1, a, square(), 0, 0.0, 0.1))  # a source cycling two arrays
    assert np.array_equal(path.fade.shown[..., :3], square())  # not carried a -> b -> a


def test_the_worker_says_since_when_its_dream_has_run():
    gate = threading.Semaphore(0)
    _, worker, path = assemble(gate=gate)
    try:
        assert worker.dreaming_since() is None  # waiting for a frame
        proc, _ = path.frame(texture(240, 320))
        offered = time.monotonic()
        worker.offer(Frame(proc, offered, 0))
        since = wait_until(worker.dreaming_since, what="the dream to start")
        assert offered <= since <= time.monotonic() and worker.dreaming_since() == since  # still running
        gate.release()
        wait_until(lambda: worker.updates == 1, what="the dream to end")
        assert worker.dreaming_since() is None  # ended together with the count (one lock)
    finally:
        worker.close()


def test_changes_reach_the_stream_on_the_worker_thread_only():
    gate = threading.Semaphore(0)
    stream = DreamStream([StandIn(gate=gate)], StreamSettings(size=(96, 80)))
    proxy = StreamProxy(stream)
    worker = DreamWorker(stream, proxy)
    applied, real_set = [], stream.set
    stream.set = lambda name, value: (
        applied.append((name, value, threading.current_thread().name)) or real_set(name, value)
    )
    try:
        proxy.set("feedback", 0.5)
        assert proxy.figures().values["feedback"] == 0.5 and stream.figures().values["feedback"] == 0.9
        with pytest.raises(ValueError, match="feedback"):
            proxy.set("feedback", float("nan"))  # refused at once, never queued
        assert applied == []  # nothing reaches the stream from this thread
        worker.offer(Frame(np.zeros((80, 96, 3), np.uint8), time.monotonic(), 0))
        gate.release()
        wait_until(lambda: worker.updates == 1, what="a dream")
    finally:
        worker.close()
    assert applied == [("feedback", 0.5, "dream")] and stream.figures().values["feedback"] == 0.5


def test_frames_and_details_shared_between_the_threads_are_read_only():
    gate = threading.Semaphore(1)
    _, worker, path = assemble(gate=gate)
    try:
        proc, _ = path.frame(texture(240, 320))
        worker.offer(Frame(proc, time.monotonic(), 0))
        update = wait_until(worker.take, what="a dream")
    finally:
        worker.close()
    for shared in (proc, update.frame, update.detail):
        assert not shared.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            shared[0, 0] = 0


class LosingSource:
    """Ten frames, then reads fail until `back` is set (a camera unplugged, then plugged in again), then ten more."""

    def __init__(self):
        self.images, self.failed = [SyntheticSource((160, 120)).render(i) for i in range(20)], False
        self.back = threading.Event()

    def frames(self):
        for i, img in enumerate(self.images):
            if i == 10 and not self.failed:
                self.failed = True
                yield None
                return
            time.sleep(1 / 30)
            yield Frame(img, time.monotonic(), i)

    def reopen(self):
        assert self.back.wait(120), "the test never plugged the camera back in"
        self.images = self.images[10:]
        return True

    def close(self):
        pass


def test_camera_loss_keeps_the_last_frame_and_the_worker_dreaming():
    show, worker, path = assemble(seconds=0.03)
    seen, source = [], LosingSource()

    def log(frame, status, index, dreamed):
        seen.append((frame.lost, status["dream_update"]))
        lost = [update for was_lost, update in seen if was_lost]
        if len(lost) >= 5 and lost[-1] - lost[0] >= 3:
            source.back.set()  # plugged in again once the show has gone on a while without it

    stats = run(Latest(source, retry_s=0.05), show, [ListSink()], frame_log=log, step=BesideDisplay(worker, path))
    lost_updates = [update for lost, update in seen if lost]
    assert stats.lost_frames >= 5 and len(lost_updates) == stats.lost_frames
    assert lost_updates[-1] - lost_updates[0] >= 3  # new dreams kept landing while the camera was gone
    assert not seen[-1][0]  # and the camera came back


def test_pause_holds_the_picture_and_stops_the_worker():
    show, worker, path = assemble(seconds=0.02)

    class Pausing(ListSink):
        def write(self, frame):
            super().write(frame)
            if len(self.frames) == 10:
                show.pause(True)
                self.updates = worker.updates
                self.ages = len(step.ages_ms)

    sink, step = Pausing(), BesideDisplay(worker, path)
    run(Latest(SyntheticSource((160, 120), fps=30)), show, [sink], max_frames=30, step=step)
    assert all(np.array_equal(f, sink.frames[9]) for f in sink.frames[10:])
    assert len(step.ages_ms) <= sink.ages + 1  # paused frames are no dream's: the dream's age is not counted
    assert worker.updates <= sink.updates + 2  # the dream in flight and the frame offered before may finish
    assert not np.array_equal(sink.frames[0], sink.frames[9])


@pytest.mark.child
def test_live_cli_shows_at_the_display_size_and_writes_the_async_stats(tmp_path, tiny_model, testdata):
    out, stats, log = tmp_path / "rec.mp4", tmp_path / "stats.json", tmp_path / "log.csv"
    result = deepdream(
        "live",
        "--source",
        str(testdata / "pan_coffee_320x240.mp4"),
        "--loop",
        "--model",
        str(tiny_model),
        "--size",
        "160x120",
        "--display-size",
        "320x240",
        "--headless",
        "--frames",
        "20",
        "--record",
        str(out),
        "--stats",
        str(stats),
        "--log",
        str(log),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    cap = cv2.VideoCapture(str(out))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == 20 and cap.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0)
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (320, 240)
    data = json.loads(stats.read_text())
    assert data["mode"] == "async" and data["frames"] == 20
    assert {"display_fps", "dream_hz", "ms_per_step", "latency_ms", "dream_age_ms", "dropped_frames"} <= set(data)
    rows = list(csv.DictReader(log.open()))
    assert len(rows) == 20 and {"dream_update", "dream_age_ms"} <= set(rows[0])
    # How many dreams land in 20 frames depends on the machine's load; that the figures agree does not.
    shown = [int(row["dream_update"]) for row in rows if row["dream_update"]]
    assert shown == sorted(shown) and data["dream_updates"] >= max(shown, default=0)


def test_the_display_size_is_the_sources_capped_at_1080p_and_sync_keeps_the_processing_size():
    from realtime.run.display import display_size

    camera = SimpleNamespace(size=(3840, 2160))
    assert display_size(None, False, camera, (640, 360)) == (1920, 1080)
    assert display_size(None, False, SimpleNamespace(size=(320, 240)), (640, 360)) == (320, 240)
    assert display_size(None, True, camera, (640, 360)) == (640, 360)
    assert display_size((1280, 720), True, camera, (640, 360)) == (1280, 720)


def test_sync_with_a_display_size_scales_the_dream_and_stereo_doubles_it():
    from realtime.commands.live import LiveOptions
    from realtime.commands.outputs import presenter

    frame = np.zeros((120, 160, 3), np.uint8)
    assert presenter(LiveOptions(sync=True), (160, 120), (160, 120)) is None  # as before: the dream as it is
    assert presenter(LiveOptions(sync=True), (160, 120), (320, 240))(frame).shape == (240, 320, 3)
    stereo = presenter(LiveOptions(sync=True, stereo=True), (160, 120), (320, 240))
    assert stereo(frame).shape == (240, 640, 3)
    assert presenter(LiveOptions(stereo=True), (160, 120), (320, 240))(np.zeros((240, 320, 3), np.uint8)).shape == (
        240,
        640,
        3,
    )


@pytest.mark.child
def test_a_file_beside_the_dream_records_every_frame(tmp_path, tiny_model, testdata):
    """A paced clip shown at the camera's rate with a recording beside it once kept 87-89 of its 90 frames:
    a file's frames now wait to be shown (a camera's cannot), so the recording has no hole."""
    out, stats = tmp_path / "rec.mp4", tmp_path / "stats.json"
    result = deepdream(
        "live",
        "--source",
        str(testdata / "pan_coffee_320x240.mp4"),
        "--model",
        str(tiny_model),
        "--size",
        "100x76",
        "--display-size",
        "640x480",
        "--headless",
        "--record",
        str(out),
        "--stats",
        str(stats),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(stats.read_text())
    assert data["mode"] == "async" and data["frames"] == 90 and data["dropped_frames"] == 0
    assert cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FRAME_COUNT) == 90
