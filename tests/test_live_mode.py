"""`live` decides its mode once, from the opened source: a seed on a file (a video, a still photo, or the
--fallback that opened instead of --source) dreams every frame in order with exact engines; without a seed,
a file is shown beside a dream on its own thread, with engines built for that (realtime.run.mode)."""

import json
import logging
from types import SimpleNamespace

import pytest

from realtime.cli import main
from realtime.dream.engine import Engine
from realtime.media.sources import SyntheticSource
from realtime.run.mode import SPIN_US, decide

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


@pytest.mark.parametrize(
    "seed, sync, file, lockstep, every_frame",
    [
        (0, False, True, True, True),  # repeatable: every frame in order, on the loop's thread
        (None, False, True, False, True),  # a file beside the dream: every frame shown at its rate
        (None, True, True, False, False),  # --sync: the newest frame wins
        (0, False, False, False, False),  # a seed on a camera cannot repeat it
    ],
)
def test_the_mode_follows_the_seed_the_sync_flag_and_the_source(seed, sync, file, lockstep, every_frame):
    source = SimpleNamespace(is_file=True, fps=30.0) if file else SyntheticSource()
    mode = decide(seed, sync, source)
    assert (mode.lockstep, mode.exact, mode.every_frame, mode.paced) == (lockstep, lockstep, every_frame, not lockstep)
    assert mode.sync == (sync or lockstep)
    assert mode.engine_options(below=True) == ({"exact": lockstep} if mode.sync else {"threads": 0, "spin_us": SPIN_US})
