"""A running show meets values no setting means (NaN sound, arrays nested thousands deep over OSC) and goes on;
the --snapshots folder is made at the first file, and only then."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from realtime.errors import UserError

DEEP = 3000  # past Python's recursion limit


def _osc(address: str, typetags: str) -> bytes:
    def padded(text: str) -> bytes:
        raw = text.encode() + b"\0"
        return raw + b"\0" * (-len(raw) % 4)

    return padded(address) + padded("," + typetags)


def test_an_osc_array_nested_thousands_deep_is_dropped_with_a_line(caplog):
    from realtime.steer.remote import Remote

    remote = Remote("127.0.0.1", 0)
    try:
        with caplog.at_level(logging.WARNING, "deepdream.live"):
            remote.call_handlers_for_packet(_osc("/deepdream/zoom", "[" * DEEP + "]" * DEEP), ("127.0.0.1", 9))
            remote.call_handlers_for_packet(_osc("/deepdream/scene", "[" * DEEP + "]" * DEEP), ("127.0.0.1", 9))
        assert remote.messages() == []
        assert caplog.text.count("holds an array") == 2
    finally:
        remote.close()


def test_a_scene_asked_for_by_a_deep_array_is_refused_as_a_value():
    from realtime.steer.playlist import Playlist, parse_scenes

    playlist = Playlist(parse_scenes([{"duration": 5, "name": "calm"}], "test"), 0.0, {})
    deep = []
    for _ in range(DEEP):
        deep = [deep]
    with pytest.raises(ValueError, match="no scene"):
        playlist.start_of(deep)


@pytest.mark.parametrize("heard", [math.nan, math.inf, -math.inf, 7.0])
def test_a_sound_heard_as_nan_or_beyond_moves_parameters_within_their_rows(heard):
    from realtime.steer.modulate import Modulation, parse_rows

    rows = parse_rows(
        [
            {"param": "steps-per-frame", "source": "bass", "range": [1, 4], "attack": 0},
            {"param": "zoom", "source": "bass", "range": [1.0, 1.05], "curve": "exponential"},
        ],
        "show.toml",
    )
    modulation = Modulation(rows)
    for dt in (0.0, 0.04, 0.04):
        values = modulation.values({"bass": heard}, dt)
        assert 1 <= values["steps_per_frame"] <= 4 and 1.0 <= values["zoom"] <= 1.05 + 1e-12
    after = modulation.values({"bass": 0.5}, 10.0)  # and it follows real sound again
    assert after["steps_per_frame"] in (2, 3) and math.isfinite(after["zoom"])


def test_snapshots_and_recordings_make_their_folder_at_the_first_file(tmp_path):
    from realtime.media.recorder import Recorder, check_folder

    folder = tmp_path / "night" / "shots"
    check_folder(folder)
    assert not (tmp_path / "night").exists()  # a show that takes no snapshot leaves nothing
    recorder = Recorder(folder, 10.0, (96, 80), np.zeros((80, 96, 3), np.uint8), 0.0)
    recorder.snapshot()
    assert [p.suffix for p in folder.iterdir()] == [".png"]


def test_snapshots_below_a_file_is_one_line(tmp_path):
    from realtime.media.recorder import check_folder

    (tmp_path / "taken").write_text("a file")
    with pytest.raises(UserError, match="is a file, not a folder"):
        check_folder(tmp_path / "taken" / "shots")
