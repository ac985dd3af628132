"""Playlists of scenes with crossfaded parameters."""

import csv

import pytest
from conftest import deepdream

from realtime.errors import UserError
from realtime.steer.playlist import Playlist, parse_scenes

BASE = {"steps_per_frame": 1.0, "step_size": 0.02, "feedback": 0.9, "zoom": 1.0}


def test_scenes_cycle_and_crossfade():
    scenes = parse_scenes(
        [
            {"duration": 10, "step-size": 0.01, "model": "a.onnx", "name": "calm"},
            {"duration": 5, "step_size": 0.05, "feedback": 0.5, "model": "b.onnx"},
        ],
        "t",
    )
    p = Playlist(scenes, crossfade=4, base=BASE)
    numbers, model, name = p.at(1.0)
    assert numbers["step_size"] == 0.01 and numbers["feedback"] == 0.9 and model == "a.onnx" and name == "calm"
    numbers, model, _ = p.at(7.0)  # a quarter into the fade from scene 1 to scene 2
    assert numbers["step_size"] == pytest.approx(0.02) and numbers["feedback"] == pytest.approx(0.8)
    assert model == "a.onnx"
    assert p.at(9.0)[1] == "b.onnx"  # past the middle of the fade
    assert p.at(11.0)[0]["step_size"] == 0.05  # scene 2, before its own fade
    assert p.at(16.0)[0]["step_size"] == 0.01  # and round again


@pytest.mark.parametrize(
    "tables, needle",
    [
        ([{"step-size": 0.1}], "duration"),
        ([{"duration": 5, "speed": 2}], "unknown key 'speed'"),
        ([{"duration": 5, "feedback": "high"}], "feedback expects a number 0..1, got 'high'"),
        ([{"duration": 5, "feedback": 50}], "feedback must be within 0..1, got 50"),
        ([{"duration": float("nan")}], "duration must be seconds"),
        ([{"duration": float("inf")}], "duration"),
        ([{"duration": 5, "zoom": float("nan")}], "zoom must be a finite number"),
        ([{"duration": 5, "steps-per-frame": 2.5}], "whole number"),
        ([{"duration": 5, "model": 3}], "model must be a path"),
    ],
)
def test_bad_scenes(tables, needle):
    with pytest.raises(UserError, match=needle):
        parse_scenes(tables, "show.toml")


@pytest.mark.child
def test_live_follows_the_playlist(tiny_model, tmp_path):
    cfg = tmp_path / "show.toml"
    cfg.write_text(
        f'crossfade = 0.0\n[[scene]]\nname = "one"\nduration = 0.4\nstep-size = 0.01\n'
        f'[[scene]]\nname = "two"\nduration = 0.4\nstep-size = 0.04\nmodel = "{tiny_model}"\n'
    )
    log = tmp_path / "log.csv"
    result = deepdream(
        "live",
        "--config",
        str(cfg),
        "--source",
        "synthetic",
        "--model",
        str(tiny_model),
        "--size",
        "96x80",
        "--headless",
        "--frames",
        "30",
        "--log",
        str(log),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(log, newline="")))
    assert {r["scene"] for r in rows} == {"one", "two"}
    assert {r["step_size"] for r in rows if r["scene"] == "one"} == {"0.01"}
    assert {r["step_size"] for r in rows if r["scene"] == "two"} == {"0.04"}


class Recording:
    """A stream stand-in that keeps what the show sets, refusing what `refuse` says."""

    def __init__(self, refuse=lambda name, value: False):
        self.sets, self.refuse = [], refuse

    def set(self, name, value):
        if self.refuse(name, value):
            raise ValueError(f"{name} cannot take {value}")
        self.sets.append((name, value))

    def figures(self):
        from types import SimpleNamespace

        return SimpleNamespace(settings=SimpleNamespace(flow="dis"), model_paths=(), values=dict(self.sets))


def _show_in_crossfade(stream):
    from realtime.steer.show import Show

    scenes = parse_scenes(
        [{"duration": 10, "steps-per-frame": 1, "zoom": 1.0}, {"duration": 10, "steps-per-frame": 4, "zoom": 1.2}], "t"
    )
    clock = iter([0.0, 8.3, 8.9, 9.4]).__next__  # the first is the start; the rest inside the 4 s crossfade
    return Show(stream, Playlist(scenes, crossfade=4, base=BASE), clock=clock)


def test_a_crossfade_rounds_whole_numbers_by_their_kind_and_leaves_the_rest():
    stream = Recording()
    show = _show_in_crossfade(stream)
    for _ in range(3):
        show.tick()
    steps = [v for n, v in stream.sets if n == "steps_per_frame"]
    zooms = [v for n, v in stream.sets if n == "zoom"]
    assert steps == [3, 3, 4] and all(type(v) is int for v in steps)  # 3.475, 3.925, 4.3 rounded (an int param)
    assert zooms == pytest.approx([1.0 + 0.2 * w for w in (0.575, 0.725, 0.85)])  # floats glide as they are


def test_a_value_the_stream_refuses_during_a_scene_is_logged_once_and_the_show_goes_on(caplog):
    stream = Recording(refuse=lambda name, value: name == "zoom")
    show = _show_in_crossfade(stream)
    for _ in range(3):
        show.tick()  # raised out of the loop before
    assert caplog.text.count("zoom cannot take") == 3  # three different values, each said once
    assert [n for n, _ in stream.sets].count("steps_per_frame") == 3
    caplog.clear()
    show.clock = lambda: 8.3  # the first value again: not said again
    show.tick()
    assert "zoom cannot take" not in caplog.text
