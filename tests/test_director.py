"""The protocol's director with a participant at the keys: instructions, ratings on keys and on the slider, pause
(the next trial follows), abort (what was done is kept), the patch; driven frame by frame as the live loop does."""

import csv
import math

import numpy as np
import pytest

from realtime.dream.engine import Engine
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.lab.director import ProtocolDirector
from realtime.lab.order import trials
from realtime.lab.patch import Patch
from realtime.lab.protocol import read_protocol
from realtime.lab.record import Record
from realtime.media.sources import Frame
from realtime.run.director import Flip
from realtime.run.steps import Inline
from realtime.steer.show import Show

SIZE = (96, 80)
PROTOCOL = """
[experiment]
rest = 0.1
patch = "onset"
patch_frames = 2
[[block]]
doses = [0.0, 1.0]
duration = 0.2
order = "fixed"
rating = "How strong?"
"""


class Session:
    """A director over a real stream, record and show, shown frames one at a time (30 fps, timed by frames)."""

    def __init__(self, model, folder, text=PROTOCOL, scale="keys"):
        path = folder / "p.toml"
        path.write_text(text.replace('rating = "How strong?"', f'rating = "How strong?"\nrating_scale = "{scale}"'))
        protocol = read_protocol(path)
        stream = DreamStream([Engine(model, "cpu", exact=True)], StreamSettings(size=SIZE))
        self.show, self.step, self.folder = Show(stream), Inline(stream), folder
        self.record = Record(folder, None, Patch("bl", 8))
        self.director = ProtocolDirector(protocol, trials(protocol, "P01", 1), self.record, SIZE, True)
        self.director.timed(30.0, by_frames=True)
        self.count, self.phases, self.dreams = 0, [], 0
        self.image = np.random.default_rng(0).integers(0, 255, (SIZE[1], SIZE[0], 3), np.uint8)

    def frame(self, keys=()):
        d = self.director
        picture = d.cue(Frame(self.image, 0.0, self.count), self.show, self.step)
        dreamed = picture is None
        if dreamed or d.warming:  # as the loop does: the dream runs behind a screen while warming
            self.dreams += 1
            dream = self.step(Frame(self.image, 0.0, self.count))
        picture = d.mark(dream if dreamed else picture)
        d.flipped(Flip(self.count, 1000.0 + self.count / 30, self.count, 0.0, math.nan, picture))
        self.count += 1
        self.phases.append(d.phase.name)
        for key in keys:
            d.key(key)
        return picture

    def until(self, phase, limit=100):
        for _ in range(limit):
            if self.director.phase.name == phase:
                return
            self.frame()
        pytest.fail(f"never reached {phase}: {self.phases}")

    def rows(self, name):
        self.record.close()
        with open(self.folder / name, newline="") as fh:
            return list(csv.DictReader(fh, delimiter="\t"))


def test_instructions_wait_for_space_then_trials_rate_on_keys(tiny_model, tmp_path):
    s = Session(tiny_model, tmp_path)
    for _ in range(20):
        s.frame()
    assert set(s.phases) == {"instructions"}  # a participant reads at their own pace
    s.frame(["begin"])
    s.until("rating")
    s.frame(["rate 1"])
    s.until("rest")
    s.until("rating")
    for _ in range(5):
        s.frame(["less", "answer"])  # not the slider's keys on a key scale: still waiting
    assert s.director.phase.name == "rating"
    s.frame(["rate 7"])
    s.until("done")
    assert s.director.finished and not s.director.aborted
    events = s.rows("events.tsv")
    trials_ = [e for e in events if e["trial_type"] == "trial"]
    assert [(e["dose"], e["response"]) for e in trials_] == [("0", "1"), ("1", "7")]
    assert [e["trial_type"] for e in events] == ["instructions", "trial", "rating", "rest", "trial", "rating"]
    answered = [e for e in events if e["trial_type"] == "rating"]
    assert [e["response"] for e in answered] == ["1", "7"] and all(e["response_time"] != "n/a" for e in answered)
    assert [float(e["duration"]) for e in trials_] == pytest.approx([0.2, 0.2])


def test_the_slider_moves_and_answers(tiny_model, tmp_path):
    s = Session(tiny_model, tmp_path, scale="vas")
    s.frame(["begin"])
    s.until("rating")
    before = s.frame(["more", "more", "more", "rate 9"])  # keys 1-9 do not answer a slider
    after = s.frame()
    assert not np.array_equal(before, after)  # the mark moved on the screen
    s.frame(["answer"])
    s.until("rest")
    events = s.rows("events.tsv")
    assert [e["response"] for e in events if e["trial_type"] == "rating"] == ["56"]  # three moves of 2


def test_pause_ends_the_trial_and_goes_on_with_the_next(tiny_model, tmp_path):
    s = Session(tiny_model, tmp_path)
    s.frame(["begin"])
    s.until("trial")
    s.frame(["pause"])
    s.until("pause")
    for _ in range(10):
        s.frame()
    assert s.director.phase.name == "pause"  # until the key again
    s.frame(["pause"])
    s.until("trial")
    assert s.director.phase.trial.trial == 2  # the interrupted trial's rating and rest are not shown
    log = s.rows("frames.tsv")
    markers = [r["marker"] for r in log if r["marker"] != "n/a"]
    assert any("pause" in m for m in markers) and any("resume" in m for m in markers)
    assert "rating" not in {r["phase"] for r in log}
    assert [e["trial_type"] for e in s.rows("events.tsv")][:3] == ["instructions", "trial", "pause"]


def test_abort_shows_the_end_sends_its_markers_and_keeps_what_was_done(tiny_model, tmp_path):
    s = Session(tiny_model, tmp_path)
    s.frame(["begin"])
    s.until("trial")
    s.frame()
    s.frame(["abort"])
    assert not s.director.finished  # the abort goes out with the next flip
    s.frame()
    assert s.director.finished and s.director.aborted
    log = s.rows("frames.tsv")
    assert log[-1]["phase"] == "done" and log[-1]["marker"] == "trial_off trial=1 abort session_end"
    events = s.rows("events.tsv")
    assert [e["trial_type"] for e in events] == ["instructions", "trial", "abort"]


def test_the_onset_patch_is_white_on_a_trials_first_frames_only(tiny_model, tmp_path):
    s = Session(tiny_model, tmp_path)
    s.frame(["begin"])
    shown = [s.frame() for _ in range(12)]
    patch = Patch("bl", 8)
    white = [int(patch.region(p).min() == 255) for p in shown]
    black = [int(patch.region(p).max() == 0) for p in shown]
    assert all(w + b == 1 for w, b in zip(white, black))
    log = s.rows("frames.tsv")
    assert [int(r["patch"]) for r in log[-12:]] == white
    onsets = [i for i, r in enumerate(log) if "trial_on" in r["marker"]]
    assert [int(r["patch"]) for r in log[onsets[0] : onsets[0] + 3]] == [1, 1, 0]


def test_the_first_trial_is_dreamed_behind_the_instructions_at_its_dose(tiny_model, tmp_path):
    s = Session(tiny_model, tmp_path)
    for _ in range(5):
        s.frame()
    assert s.director.warming and s.dreams == 5  # the dream runs while the participant reads
    assert s.show.stream.figures().values["dose"] == 0.0  # the first trial's
    s.frame(["begin"])
    s.until("trial")
    s.until("rating")
    s.frame()
    assert s.director.warming and s.show.stream.figures().values["dose"] == 1.0  # the next trial's, during the rating


def test_closing_the_window_aborts_and_a_trial_on_screen_is_ended(tiny_model, tmp_path):
    s = Session(tiny_model, tmp_path)
    s.frame(["begin"])
    s.until("trial")
    s.frame(["quit"])
    s.frame()
    assert s.director.finished and s.director.aborted
    assert s.rows("frames.tsv")[-1]["marker"] == "trial_off trial=1 abort session_end"


def test_a_run_stopped_early_ends_the_phase_on_screen_in_the_events(tiny_model, tmp_path):
    s = Session(tiny_model, tmp_path)
    s.frame(["begin"])
    s.until("trial")
    for _ in range(3):
        s.frame()
    s.director.stop()  # the source ended, or Ctrl-C
    events = s.rows("events.tsv")
    assert [e["trial_type"] for e in events] == ["instructions", "trial"]
    assert float(events[-1]["duration"]) == pytest.approx(4 / 30, abs=1e-4)  # four frames, the last one's time too
