"""What a lab session leaves (realtime.lab.events, framelog, session): BIDS events and their sidecar, the per-frame
log and its reading back, the session's folder that never replaces a session, its figures and session.json."""

import csv
import hashlib
import json

import pytest

from realtime.errors import UserError
from realtime.lab.events import COLUMNS, LEVELS, EventsWriter
from realtime.lab.framelog import LabFrameLog, read_frame_log
from realtime.lab.session import frame_intervals, session_dir, sha256_file, write_session


def rows(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh, delimiter="\t"))


def test_events_columns_n_a_and_the_rating_on_its_trial(tmp_path):
    events = EventsWriter(tmp_path)
    events.add(0.0, 5.123456, "instructions")
    events.add(5.12346, 10.0, "trial", dose=0.5, block=1)
    events.add(15.2, 4.0, "rating", block=1, response=7, response_time=1.23456)
    events.add(19.2, 2.0, "rest")
    events.close()
    table = rows(tmp_path / "events.tsv")
    assert (
        table[0] == list(COLUMNS) == ["onset", "duration", "trial_type", "dose", "block", "response", "response_time"]
    )
    assert table[1] == ["0.0000", "5.1235", "instructions", "n/a", "n/a", "n/a", "n/a"]
    assert table[2] == ["5.1235", "10.0000", "trial", "0.5", "1", "7", "1.2346"]  # the rating, copied
    assert table[3] == ["15.2000", "4.0000", "rating", "n/a", "1", "7", "1.2346"]
    assert table[4] == ["19.2000", "2.0000", "rest", "n/a", "n/a", "n/a", "n/a"]


def test_events_are_on_disk_after_each_event_and_sorted_by_onset(tmp_path):
    events = EventsWriter(tmp_path)
    events.add(1.0, 10.0, "trial", dose=1.0, block=2)
    assert [r[2] for r in rows(tmp_path / "events.tsv")] == ["trial_type", "trial"]  # before close: a crash keeps it
    events.add(4.0, 3.0, "pause")
    events.add(11.0, 0.0, "abort")
    events.add(0.0, 1.0, "instructions")
    assert [r[2] for r in rows(tmp_path / "events.tsv")[1:]] == ["instructions", "trial", "pause", "abort"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.json", "events.tsv"]  # no temporary left
    with pytest.raises(ValueError, match="trial_type must be one of"):
        events.add(12.0, 1.0, "break")


def test_the_sidecar_describes_every_column(tmp_path):
    events = EventsWriter(tmp_path)
    events.close()
    sidecar = json.loads((tmp_path / "events.json").read_text())
    assert set(sidecar) == set(COLUMNS)
    for column in COLUMNS:
        assert sidecar[column]["LongName"] and sidecar[column]["Description"], column
        assert "Units" in sidecar[column] or column == "trial_type"
    assert (
        set(sidecar["trial_type"]["Levels"])
        == set(LEVELS)
        == {
            "trial",
            "rest",
            "rating",
            "instructions",
            "pause",
            "abort",
        }
    )
    assert sidecar["onset"]["Units"] == sidecar["response_time"]["Units"] == "s"


def flips(log):
    log(0, 100.25, 0.0, 3, "instructions", None, None, None, None, "start", 0, "a" * 64)
    log(1, 100.266667, 0.016667, 4, "trial", 1, 2, 0.25, 41.5, "trial\t1\nonset", 1, "b" * 64)
    log(2, 100.283334, 0.033334, None, "rest", None, None, None, None, None, 0, "c" * 64)


def test_the_frame_log_reads_back_typed(tmp_path):
    path = tmp_path / "frames.tsv"
    log = LabFrameLog(path)
    flips(log)
    log.close()
    lines = path.read_text().splitlines()
    assert lines[0].split("\t") == [
        "frame",
        "flip_time",
        "onset",
        "source_frame",
        "phase",
        "trial",
        "block",
        "dose",
        "dream_age_ms",
        "marker",
        "patch",
        "sha256",
    ]
    assert len(lines) == 4 and all(line.count("\t") == 11 for line in lines)  # the marker's tab and newline gone
    back = read_frame_log(path)
    assert back[0] == {
        "frame": 0,
        "flip_time": 100.25,
        "onset": 0.0,
        "source_frame": 3,
        "phase": "instructions",
        "trial": None,
        "block": None,
        "dose": None,
        "dream_age_ms": None,
        "marker": "start",
        "patch": 0,
        "sha256": "a" * 64,
    }
    assert (back[1]["trial"], back[1]["block"], back[1]["dose"], back[1]["dream_age_ms"]) == (1, 2, 0.25, 41.5)
    assert back[1]["marker"] == "trial 1 onset" and back[1]["flip_time"] == 100.266667
    assert back[2]["source_frame"] is None and back[2]["marker"] is None


def test_each_flip_is_on_disk_before_the_next(tmp_path):
    log = LabFrameLog(tmp_path / "frames.tsv")
    log(0, 1.0, 0.0, 0, "trial", 1, 1, 1.0, None, None, 1, "d" * 64)
    assert len(read_frame_log(tmp_path / "frames.tsv")) == 1  # not closed: what a crash would leave
    with pytest.raises(ValueError, match="phase must be one of"):
        log(1, 1.1, 0.1, 1, "dreaming", 1, 1, 1.0, None, None, 1, "d" * 64)
    log.close()


def test_the_frame_log_never_replaces_one_and_refuses_what_is_not_one(tmp_path):
    path = tmp_path / "frames.tsv"
    path.write_text("kept\n")
    with pytest.raises(UserError, match="exists"):
        LabFrameLog(path)
    assert path.read_text() == "kept\n"
    with pytest.raises(UserError, match="is not a frame log"):
        read_frame_log(path)
    log = LabFrameLog(tmp_path / "good.tsv")
    flips(log)
    log.close()
    text = (tmp_path / "good.tsv").read_text().splitlines()
    (tmp_path / "bad.tsv").write_text("\n".join([*text[:2], text[2].replace("\t1\t2\t", "\tone\t2\t", 1)]) + "\n")
    with pytest.raises(UserError, match=r"bad.tsv line 3: trial must be a whole number or n/a, got 'one'$"):
        read_frame_log(tmp_path / "bad.tsv")
    with pytest.raises(UserError, match="cannot read"):
        read_frame_log(tmp_path / "none.tsv")


def test_a_session_folder_is_made_once(tmp_path):
    assert session_dir(tmp_path, "sub-P01", 1) == tmp_path / "sub-P01" / "ses-1"  # BIDS' sub- kept as given
    folder = session_dir(tmp_path, "P01", 1)
    assert folder == tmp_path / "P01" / "ses-1" and folder.is_dir()
    assert session_dir(tmp_path, "P01", 1) == folder  # empty: nothing to lose
    (folder / "events.tsv").write_text("data")
    with pytest.raises(UserError) as caught:
        session_dir(tmp_path, "P01", 1)
    assert str(caught.value) == "P01/ses-1 already holds a session; give another --session"
    assert (folder / "events.tsv").read_text() == "data"
    assert session_dir(tmp_path, "P01", 2) == tmp_path / "P01" / "ses-2"
    with pytest.raises(UserError, match="--participant"):
        session_dir(tmp_path, "../P01", 3)


def test_frame_intervals():
    figures = frame_intervals([10.0, 10.010, 10.020, 10.050, 10.060])  # 10, 10, 30, 10 ms
    assert figures["count"] == 4 and figures["late"] == 1
    assert figures["mean_ms"] == pytest.approx(15.0) and figures["p50_ms"] == pytest.approx(10.0)
    assert figures["max_ms"] == pytest.approx(30.0) and figures["sd_ms"] == pytest.approx(10.0)
    assert figures["p95_ms"] == pytest.approx(27.0)
    assert frame_intervals([1.0])["count"] == 0 and frame_intervals([])["mean_ms"] is None


def test_session_json_and_the_model_hash(tmp_path):
    path = tmp_path / "session.json"
    write_session(path, {"b": 1, "a": {"d": float("nan"), "c": tmp_path}})
    text = path.read_text()
    assert json.loads(text) == {"a": {"c": str(tmp_path), "d": None}, "b": 1}
    assert text.index('"a"') < text.index('"b"') and '\n  "a": {\n    "c"' in text  # sorted, indent 2
    model = tmp_path / "model.onnx"
    model.write_bytes(bytes(range(256)) * 5000)
    assert sha256_file(model) == hashlib.sha256(model.read_bytes()).hexdigest()
