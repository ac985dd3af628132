"""Playlists of scenes with crossfaded parameters."""
import csv
import subprocess
import sys

import pytest

from realtime.errors import UserError
from realtime.show.playlist import Playlist, parse_scenes

BASE = {"steps_per_frame": 1.0, "step_size": 0.02, "feedback": 0.9, "zoom": 1.0}


def test_scenes_cycle_and_crossfade():
    scenes = parse_scenes([{"duration": 10, "step-size": 0.01, "model": "a.onnx", "name": "calm"},
                           {"duration": 5, "step_size": 0.05, "feedback": 0.5, "model": "b.onnx"}], "t")
    p = Playlist(scenes, crossfade=4, base=BASE)
    numbers, model, name = p.at(1.0)
    assert numbers["step_size"] == 0.01 and numbers["feedback"] == 0.9 and model == "a.onnx" and name == "calm"
    numbers, model, _ = p.at(7.0)  # a quarter into the fade from scene 1 to scene 2
    assert numbers["step_size"] == pytest.approx(0.02) and numbers["feedback"] == pytest.approx(0.8)
    assert model == "a.onnx"
    assert p.at(9.0)[1] == "b.onnx"  # past the middle of the fade
    assert p.at(11.0)[0]["step_size"] == 0.05  # scene 2, before its own fade
    assert p.at(16.0)[0]["step_size"] == 0.01  # and round again


@pytest.mark.parametrize("tables, needle", [
    ([{"step-size": 0.1}], "duration"), ([{"duration": 5, "speed": 2}], "unknown key 'speed'"),
    ([{"duration": 5, "feedback": "high"}], "feedback expects a number 0..1, got 'high'"),
    ([{"duration": 5, "feedback": 50}], "feedback must be within 0..1, got 50"),
    ([{"duration": float("nan")}], "duration must be seconds"), ([{"duration": float("inf")}], "duration"),
    ([{"duration": 5, "zoom": float("nan")}], "zoom must be a finite number"),
    ([{"duration": 5, "steps-per-frame": 2.5}], "whole number"), ([{"duration": 5, "model": 3}], "model must be a path")])
def test_bad_scenes(tables, needle):
    with pytest.raises(UserError, match=needle):
        parse_scenes(tables, "show.toml")


def test_live_follows_the_playlist(random_model, tmp_path):
    cfg = tmp_path / "show.toml"
    cfg.write_text(f'crossfade = 0.0\n[[scene]]\nname = "one"\nduration = 0.4\nstep-size = 0.01\n'
                   f'[[scene]]\nname = "two"\nduration = 0.4\nstep-size = 0.04\nmodel = "{random_model}"\n')
    log = tmp_path / "log.csv"
    result = subprocess.run([sys.executable, "-m", "realtime.cli", "live", "--config", str(cfg), "--source",
                             "synthetic", "--model", str(random_model), "--size", "96x80", "--headless",
                             "--frames", "30", "--log", str(log)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(log, newline="")))
    assert {r["scene"] for r in rows} == {"one", "two"}
    assert {r["step_size"] for r in rows if r["scene"] == "one"} == {"0.01"}
    assert {r["step_size"] for r in rows if r["scene"] == "two"} == {"0.04"}
