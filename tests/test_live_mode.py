"""`live` decides its mode once, from the opened source: a seed on a repeatable source (a video, a still photo,
or the --fallback that opened instead of --source) dreams every frame in order with exact engines; a seed with
--sync on a live source dreams exactly on the loop's thread; without a seed, a video is shown beside a dream on
its own thread, with engines built for that, and a photo is read like a camera (realtime.run.live_mode). What
`live` opened is closed again whichever way it ends."""

import json
import logging
import threading
import time
from types import SimpleNamespace

import pytest

from realtime.cli import main
from realtime.dream.engine import Engine
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.media.sources import Latest, StillSource, SyntheticSource
from realtime.run.live_mode import SPIN_US, decide
from realtime.run.loop import run
from realtime.run.steps import Inline
from realtime.run.worker import StreamProxy
from realtime.steer.show import Show

LOCKSTEP = "--seed with a file: every frame in order"


@pytest.fixture
def built(monkeypatch) -> list[bool]:
    """The `exact` flag of every Engine built from now on."""
    made, init = [], Engine.__init__

    def spy(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self.exact)

    monkeypatch.setattr(Engine, "__init__", spy)
    return made


def live(model, tmp_path, caplog, *source) -> SimpleNamespace:
    """`deepdream live` in this process on `source`: its --stats summary and whether it said it ran in lockstep."""
    stats = tmp_path / "stats.json"
    with caplog.at_level(logging.INFO, logger="deepdream.live"):
        code = main(
            [
                "live",
                *map(str, source),
                "--model",
                str(model),
                "--size",
                "96x80",
                "--headless",
                "--frames",
                "3",
                "--stats",
                str(stats),
            ]
        )
    assert code == 0
    return SimpleNamespace(summary=json.loads(stats.read_text()), lockstep=LOCKSTEP in caplog.text)


def test_a_seeded_still_photo_runs_in_lockstep_with_exact_engines(tiny_model, testdata, tmp_path, caplog, built):
    run = live(tiny_model, tmp_path, caplog, "--seed", "0", "--source", testdata / "chelsea.png")
    assert built == [True] and run.lockstep
    assert "mode" not in run.summary and run.summary["frames"] == 3  # dreamed on the loop's thread, no worker


def test_a_seeded_fallback_video_gets_the_exact_engines_of_its_lockstep(tiny_model, testdata, tmp_path, caplog, built):
    run = live(
        tiny_model,
        tmp_path,
        caplog,
        "--seed",
        "0",
        "--source",
        tmp_path / "missing.mp4",
        "--fallback",
        testdata / "pan_coffee_320x240.mp4",
    )
    assert built == [True] and run.lockstep
    assert "mode" not in run.summary and "using --fallback" in caplog.text


def test_without_a_seed_a_video_is_shown_beside_a_dream_that_is_not_exact(
    tiny_model, testdata, tmp_path, caplog, built
):
    run = live(tiny_model, tmp_path, caplog, "--source", testdata / "pan_coffee_320x240.mp4")
    assert built == [False] and not run.lockstep
    assert run.summary["mode"] == "async" and run.summary["dropped_frames"] == 0


@pytest.fixture
def read(monkeypatch) -> list[SimpleNamespace]:
    """How `live` reads each source it opens: whether every frame (`lockstep`) and whether `paced`."""
    made, init = [], Latest.__init__

    def spy(self, source, *args, **kwargs):
        init(self, source, *args, **kwargs)
        made.append(SimpleNamespace(lockstep=self.lockstep, paced=getattr(source, "paced", True)))

    monkeypatch.setattr(Latest, "__init__", spy)
    return made


@pytest.fixture
def media_time(monkeypatch) -> list[bool]:
    """Whether the sound's modulation took the frame index's time, for each frame modulated."""
    from realtime.steer.controls import Controls

    heard, modulate = [], Controls.modulate

    def spy(self, *args):
        heard.append(self.media_time)
        modulate(self, *args)

    monkeypatch.setattr(Controls, "modulate", spy)
    return heard


def test_a_seeded_still_photo_goes_as_fast_as_the_dream(tiny_model, testdata, tmp_path, caplog, read):
    live(tiny_model, tmp_path, caplog, "--seed", "0", "--source", testdata / "chelsea.png")
    assert [(r.lockstep, r.paced) for r in read] == [(True, False)]


def test_without_a_seed_a_still_photo_is_read_like_a_camera(
    tiny_model, testdata, tmp_path, caplog, built, read, media_time
):
    run = live(tiny_model, tmp_path, caplog, "--source", testdata / "chelsea.png")
    assert built == [False] and not run.lockstep and run.summary["mode"] == "async"
    assert [(r.lockstep, r.paced) for r in read] == [(False, True)]  # the newest frame wins, at the photo's rate
    assert media_time and not any(media_time)  # the sound at the wall clock's time


def test_sync_with_a_seed_on_a_live_source_dreams_with_exact_engines(tiny_model, tmp_path, caplog, built, read):
    run = live(tiny_model, tmp_path, caplog, "--sync", "--seed", "0", "--source", "synthetic")
    assert built == [True] and not run.lockstep  # on the loop's thread, but a camera's pace, not lockstep
    assert "mode" not in run.summary and [(r.lockstep, r.paced) for r in read] == [(False, True)]


def test_a_still_source_sleeps_between_frames_only_when_paced(testdata, monkeypatch):
    here, sleep, slept = threading.current_thread(), time.sleep, []

    def record(seconds: float) -> None:  # this thread's sleeps; other tests' threads sleep as ever
        if threading.current_thread() is here:
            slept.append(seconds)
        else:
            sleep(seconds)

    monkeypatch.setattr("realtime.media.sources.time.sleep", record)
    for paced in (True, False):
        frames = StillSource(testdata / "chelsea.png", fps=25.0, paced=paced).frames()
        assert [next(frames).index for _ in range(3)] == [0, 1, 2]
    assert slept == [1 / 25] * 3


VIDEO, PHOTO, LIVE = "video", "photo", "live"


@pytest.mark.parametrize(
    "seed, sync, kind, lockstep, exact, every_frame, media_time",
    [
        (0, False, VIDEO, True, True, True, True),  # repeatable: every frame in order, on the loop's thread
        (0, True, VIDEO, True, True, True, True),
        (None, False, VIDEO, False, False, True, True),  # a video beside the dream: every frame shown at its rate
        (None, True, VIDEO, False, False, False, True),  # --sync: the newest frame wins
        (0, False, PHOTO, True, True, True, True),  # a photo repeats too
        (None, False, PHOTO, False, False, False, False),  # unseeded, read like a camera: newest, wall clock
        (None, True, PHOTO, False, False, False, False),
        (0, False, LIVE, False, False, False, False),  # a seed on a camera cannot repeat it
        (0, True, LIVE, False, True, False, False),  # ... but --sync dreams it exactly
        (None, True, LIVE, False, False, False, False),
    ],
)
def test_the_mode_follows_the_seed_the_sync_flag_and_the_source(
    seed, sync, kind, lockstep, exact, every_frame, media_time, testdata
):
    sources = {
        VIDEO: lambda: SimpleNamespace(is_file=True, fps=30.0),
        PHOTO: lambda: StillSource(testdata / "chelsea.png"),
        LIVE: SyntheticSource,
    }
    mode = decide(seed, sync, sources[kind]())
    assert (mode.lockstep, mode.exact, mode.every_frame, mode.media_time) == (lockstep, exact, every_frame, media_time)
    assert mode.sync == (sync or lockstep) and mode.paced == (not lockstep)
    assert mode.engine_options(below=True) == ({"exact": exact} if mode.sync else {"threads": 0, "spin_us": SPIN_US})


@pytest.mark.parametrize(
    "target",
    [
        "realtime.steer.show.Show",  # before the dream's thread started
        "realtime.run.loop.LoopStats",  # the loop, as it starts: the dream's thread runs
    ],
)
def test_a_run_that_fails_before_its_loop_leaves_no_recording_and_no_dream_thread(
    tiny_model, testdata, tmp_path, monkeypatch, target
):
    def fail(*args, **kwargs):
        raise RuntimeError(f"{target} failed")

    monkeypatch.setattr(target, fail)
    before = set(threading.enumerate())
    folder = tmp_path / "recordings"
    folder.mkdir()
    source = ["--source", str(testdata / "pan_coffee_320x240.mp4")]  # beside the display: a dream thread
    with pytest.raises(RuntimeError, match="failed"):
        main(
            [
                "live",
                *source,
                "--model",
                str(tiny_model),
                "--size",
                "96x80",
                "--headless",
                "--record",
                str(folder / "out.mp4"),
            ]
        )
    assert list(folder.iterdir()) == []  # the recording's temporary file closed and removed
    assert [t.name for t in set(threading.enumerate()) - before if t.name in ("dream", "capture")] == []


class Closing:
    """A sink that says whether it was closed; `fails` makes its close raise."""

    def __init__(self, fails: bool = False) -> None:
        self.fails, self.closed = fails, 0

    def write(self, frame) -> None:
        pass

    def close(self) -> None:
        self.closed += 1
        if self.fails:
            raise OSError("the disk went away")


def test_every_sink_closes_once_even_when_the_step_or_a_sink_before_it_fails(tiny_model):
    class FailingClose(Inline):
        def close(self) -> None:
            raise RuntimeError("the step failed to close")

    stream = DreamStream([Engine(tiny_model, "cpu")], StreamSettings(size=(96, 80)))
    sinks = [Closing(fails=True), Closing()]
    listed = list(sinks)
    with pytest.raises(OSError):  # the last error goes on, the step's chained to it
        run(
            Latest(SyntheticSource((96, 80), paced=False)),
            Show(stream),
            listed,
            max_frames=2,
            step=FailingClose(stream),
        )
    assert [s.closed for s in sinks] == [1, 1] and listed == []  # the list says none is left open


def test_a_show_steered_through_a_proxy_needs_its_step(tiny_model):
    stream = DreamStream([Engine(tiny_model, "cpu")], StreamSettings(size=(96, 80)))
    sink = Closing()
    with pytest.raises(TypeError, match="give run\\(\\) its step"):
        run(Latest(SyntheticSource((96, 80), paced=False)), Show(StreamProxy(stream)), [sink])
    assert sink.closed == 0  # the loop never started: what it was given is still the caller's
