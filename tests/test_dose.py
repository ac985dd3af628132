"""The dose: 0 shows the source exactly, the dream's strength rises with it, its scenes are checked and read
from --config's [dose]."""

import tomllib
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import cli

from realtime.config import dose as read_dose
from realtime.dream.dose import ZERO, DoseScenes, scenes
from realtime.dream.engine import Engine
from realtime.dream.params import live_numbers
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.errors import UserError
from realtime.media.sources import Frame
from realtime.run.steps import BesideDisplay

CLIP = Path(__file__).parent / "data" / "pan_coffee_320x240.mp4"


def clip_frames(count: int, size=(160, 120)) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(CLIP))
    frames = []
    while len(frames) < count:
        ok, bgr = cap.read()
        assert ok, f"{CLIP} has fewer than {count} frames"
        frames.append(cv2.cvtColor(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
    return frames


def stream(model, size=(160, 120), **values) -> DreamStream:
    made = DreamStream([Engine(model, "cpu", exact=True)], StreamSettings(size=size, step_size=0.05))
    for name, value in values.items():
        made.set(name, value)
    return made


def strength(model, dose: float, frames: list[np.ndarray], warm: int = 6) -> float:
    """Mean absolute difference from the source, after `warm` frames of feedback building up."""
    dreaming = stream(model, dose=dose)
    out = [dreaming(f).astype(np.float32) - f for f in frames]
    return float(np.mean([np.abs(d).mean() for d in out[warm:]]))


def test_dose_zero_shows_the_source_exactly_also_after_a_full_dose(tiny_model):
    frames = clip_frames(8)
    dreaming = stream(tiny_model)
    for f in frames[:4]:
        assert not np.array_equal(dreaming(f), f)  # dose 1 dreams
    dreaming.set("dose", 0.0)
    for f in frames[4:]:
        assert np.array_equal(dreaming(f), f)


def test_dream_strength_rises_with_the_dose(tiny_model):
    frames = clip_frames(14)
    measured = [strength(tiny_model, d, frames) for d in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert measured[0] == 0.0
    assert all(a < b for a, b in zip(measured, measured[1:])), measured


def test_beside_the_display_dose_zero_shows_the_source_at_the_display_size(tiny_model):
    dreaming = stream(tiny_model, dose=0.0)
    from realtime.run.worker import StreamProxy

    step = BesideDisplay.around(dreaming, StreamProxy(dreaming), (320, 240), 4)
    try:
        for i, f in enumerate(clip_frames(6, (320, 240))):
            assert np.array_equal(step(Frame(f, float(i), i)), f)
    finally:
        step.close()


def test_the_scenes_interpolate_what_they_name_and_keep_the_rest():
    values = {"step_size": 0.04, "feedback": 0.8, "zoom": 1.02, "steps_per_frame": 3, "dose": 0.5}
    half = DoseScenes(zero={**ZERO, "steps_per_frame": 1}, full={"step_size": 0.08}).at(values, 0.5)
    assert half == {**values, "step_size": 0.04, "zoom": 1.01, "steps_per_frame": 2}  # the feedback: the live one
    assert DoseScenes(zero={**ZERO, "feedback": 0.0}).at(values, 0.25)["feedback"] == pytest.approx(0.2)
    assert DoseScenes().at(values, 1.0) == values  # the default full scene: the live values


@pytest.mark.parametrize(
    "zero, full, said",
    [
        ({"flow": 1}, None, "unknown parameter 'flow'"),
        ({"dose": 0.5}, None, "unknown parameter 'dose'"),
        (None, {"step-size": 0.0}, "step-size must be within"),  # only a zero scene may hold no ascent
        (None, {"feedback": 1.5}, "feedback must be within 0..1"),
        ({"step-size": 0.01, "step_size": 0.02}, None, "names step-size twice"),
        ([1, 2], None, "must be a table"),
    ],
)
def test_a_bad_scene_is_refused_naming_what(zero, full, said):
    with pytest.raises(ValueError, match=said):
        scenes(zero, full, live_numbers())


def test_config_dose_table_its_start_and_a_plain_dose(tmp_path):
    path = tmp_path / "show.toml"
    path.write_text("[dose]\nstart = 0.25\nzero = { feedback = 0.2 }\nfull = { step-size = 0.05 }\n")
    assert read_dose(path) == DoseScenes(zero={**ZERO, "feedback": 0.2}, full={"step_size": 0.05})
    printed = cli("live", "--config", str(path), "--dose", "0.5", "--print-config")
    assert printed.returncode == 0, printed.stderr
    again = tmp_path / "again.toml"
    again.write_text(printed.stdout)
    written = {"start": 0.5, "zero": {"feedback": 0.2}, "full": {"step-size": 0.05}}
    assert tomllib.loads(printed.stdout)["dose"] == written
    assert cli("live", "--config", str(again), "--print-config").stdout == printed.stdout
    path.write_text("dose = 0.75\n")
    assert tomllib.loads(cli("live", "--config", str(path), "--print-config").stdout)["dose"] == 0.75
    assert read_dose(path) == DoseScenes()
    path.write_text("[dose]\nstart = 2\n")
    refused = cli("live", "--config", str(path), "--print-config")
    assert refused.returncode != 0 and "dose.start" in refused.stderr and "Traceback" not in refused.stderr
    path.write_text("[dose]\nzero = { step-size = 0.0 }\nmiddle = { zoom = 1.1 }\n")
    with pytest.raises(UserError, match=r"\[dose\] takes zero and full"):
        read_dose(path)
    assert read_dose(None) == DoseScenes()
