"""`deepdream experiment` end to end, headless, on the test clip: the session's files agree with each other and with
the source, dose 0 shows the source exactly, the patch is in the kept video, bad input is one line."""

import csv
import hashlib
import json

import cv2
import numpy as np
import pytest
from conftest import cli, deepdream

from realtime.lab.patch import Patch

CLIP = "tests/data/pan_coffee_320x240.mp4"
PROTOCOL = """
[experiment]
rest = 0.2
rest_screen = "camera"
[dose]
full = { step-size = 0.05 }
[[block]]
doses = [0.0, 0.5, 1.0]
duration = 0.5
order = "random"
rating = "How strong?"
"""
SHORT = """
[experiment]
rest = 0.1
[[block]]
doses = [0.0, 0.25, 0.5, 0.75, 1.0]
duration = 0.1
order = "random"
"""


def run(tmp_path, model, *more, participant="P07", protocol=PROTOCOL, out=None, size="160x120"):
    path = tmp_path / "p.toml"
    path.write_text(protocol)
    args = ["experiment", path, "--participant", participant, "--source", CLIP, "--loop", "--model", model]
    args += ["--size", size, "--headless", "--seed", "1", "--output", out or tmp_path, *more]
    return cli(*args)


@pytest.fixture(scope="module")
def session(tiny_model, tmp_path_factory):
    """One session at the source's own size (so a frame shown as it came is the source's, byte for byte), with a
    photodiode patch: (its folder, the model)."""
    where = tmp_path_factory.mktemp("session")
    done = run(where, tiny_model, "--photodiode", "br,24", size="320x240")
    assert done.returncode == 0, done.stderr
    return where / "P07" / "ses-1", tiny_model


def table(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def source_frames():
    cap, frames = cv2.VideoCapture(CLIP), []
    while (got := cap.read())[0]:
        frames.append(cv2.cvtColor(got[1], cv2.COLOR_BGR2RGB))
    return frames


def test_a_headless_session_keeps_files_that_agree(session):
    folder, model = session
    events, frames = table(folder / "events.tsv"), table(folder / "frames.tsv")
    assert list(events[0]) == ["onset", "duration", "trial_type", "dose", "block", "response", "response_time"]
    onsets = {r["marker"].split("trial=")[1].split()[0]: float(r["onset"]) for r in frames if "trial_on" in r["marker"]}
    trials = [e for e in events if e["trial_type"] == "trial"]
    assert sorted(e["dose"] for e in trials) == ["0", "0.5", "1"]
    for number, event in enumerate(trials, start=1):
        assert float(event["onset"]) == pytest.approx(onsets[str(number)], abs=1e-4)
        assert float(event["duration"]) == pytest.approx(0.5, abs=1e-4)  # 15 frames at 30 fps
        shown = [r for r in frames if r["trial"] == str(number)]
        assert len(shown) == 15 and {r["dose"] for r in shown} == {event["dose"]}
    ratings = [e for e in events if e["trial_type"] == "rating"]
    assert len(ratings) == 3 and {e["response"] for e in ratings} == {"n/a"}  # headless: skipped, said so
    assert frames[-1]["marker"].endswith("session_end")
    kept = json.loads((folder / "session.json").read_text())
    assert kept["completed"] and kept["frames"] == len(frames) and kept["timing"] == "frames"
    assert kept["model"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert kept["photodiode"] == {"corner": "br", "size": 24}


def test_dose_zero_frames_are_the_source_and_the_rest_shows_the_camera(session):
    folder, _ = session
    frames, source, patch = table(folder / "frames.tsv"), source_frames(), Patch("br", 24)
    looked = 0
    for row in frames:
        original = patch.draw(source[int(row["source_frame"]) % len(source)], row["patch"] == "1")
        same = hashlib.sha256(np.ascontiguousarray(original).tobytes()).hexdigest() == row["sha256"]
        if row["phase"] == "rest" or row["dose"] == "0":
            assert same, row
            looked += 1
        elif row["dose"] == "1":
            assert not same
    assert looked >= 15 + 6


def test_the_photodiode_patch_is_read_back_from_the_kept_video(session):
    folder, _ = session
    frames = table(folder / "frames.tsv")
    cap = cv2.VideoCapture(str(folder / json.loads((folder / "session.json").read_text())["video"]))
    for row in frames:
        ok, bgr = cap.read()
        assert ok
        corner = bgr[-24 + 4 : -4, -24 + 4 : -4].astype(float).mean()  # inside the edge H.264 blurs
        assert corner > 230 if row["patch"] == "1" else corner < 25, (row["frame"], corner)
    assert [r["patch"] for r in frames].count("1") == 3 * 3  # three onset frames a trial


def test_the_same_participant_gets_the_same_order_another_one_another(tiny_model, tmp_path):
    def order(participant, out):
        assert run(tmp_path, tiny_model, participant=participant, out=out, protocol=SHORT).returncode == 0
        return [e["dose"] for e in table(out / participant / "ses-1" / "events.tsv") if e["trial_type"] == "trial"]

    first = order("P07", tmp_path / "a")
    assert order("P07", tmp_path / "b") == first
    assert order("P08", tmp_path / "c") != first  # drawn from another label: here another order


@pytest.mark.parametrize(
    "more, said",
    [
        (["--participant", "P 07"], "letters and digits"),
        (["--session", "0"], "--session"),
        (["--photodiode", "middle"], "--photodiode 'middle': the corner must be one of"),
    ],
)
def test_bad_input_is_one_line_and_leaves_no_session(tiny_model, tmp_path, more, said):
    done = run(tmp_path, tiny_model, *more)
    assert done.returncode != 0 and said in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "P07").exists() and not (tmp_path / "P 07").exists()


def test_a_session_is_never_overwritten_and_a_bad_protocol_names_its_line(session, tmp_path):
    folder, model = session
    kept = (folder / "events.tsv").read_bytes()
    again = run(folder.parent.parent, model, size="320x240")
    assert again.returncode != 0 and "already holds a session" in again.stderr
    assert (folder / "events.tsv").read_bytes() == kept
    bad = run(tmp_path, model, protocol=PROTOCOL.replace('order = "random"', 'order = "shuffle"'))
    assert bad.returncode != 0 and "p.toml line 10:" in bad.stderr and "shuffle" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.child
@pytest.mark.exact
def test_a_seeded_session_repeats_byte_for_byte_under_other_heaps(tiny_model, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(PROTOCOL)
    kept = []
    for perturb in ("17", "238"):
        out = tmp_path / perturb
        done = deepdream(
            "experiment", path, "--participant", "P07", "--source", CLIP, "--loop", "--model", tiny_model,
            "--size", "160x120", "--headless", "--seed", "1", "--output", out, "--photodiode", "tl",
            env={"MALLOC_PERTURB_": perturb},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        folder = out / "P07" / "ses-1"
        video = json.loads((folder / "session.json").read_text())["video"]
        hashes = [(r["frame"], r["phase"], r["marker"], r["patch"], r["sha256"]) for r in table(folder / "frames.tsv")]
        kept.append(((folder / video).read_bytes(), (folder / "events.tsv").read_bytes(), hashes))
    assert kept[0] == kept[1]


@pytest.mark.parametrize("video", ["exact", "lossless"])
def test_replay_checks_the_kept_stimulus_and_shows_the_same_frames(session, tmp_path, video):
    folder, model = session
    if video == "lossless":
        protocol = SHORT.replace("[[block]]", 'video = "lossless"\n[[block]]')
        assert run(tmp_path, model, "--photodiode", "tl", protocol=protocol).returncode == 0
        folder = tmp_path / "P07" / "ses-1"
    checked = cli("replay", folder, "--check")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip().endswith("frames.tsv" if video == "lossless" else "stimulus.sha256")
    again = cli("replay", folder, "--headless", "--log", tmp_path / "replay.tsv")
    assert again.returncode == 0, again.stderr
    replayed, kept = table(tmp_path / "replay.tsv"), table(folder / "frames.tsv")
    assert [(r["marker"], r["patch"], r["dose"]) for r in replayed] == [
        (r["marker"], r["patch"], r["dose"]) for r in kept
    ]
    if video == "lossless":  # every pixel as shown: the replay's frames are the session's
        assert [r["sha256"] for r in replayed] == [r["sha256"] for r in kept]


def test_dose_zero_is_the_source_at_the_shown_size_when_the_dream_is_smaller(tiny_model, tmp_path):
    assert run(tmp_path, tiny_model, "--display-size", "320x240", protocol=SHORT).returncode == 0  # dreams 160x120
    frames, source = table(tmp_path / "P07" / "ses-1" / "frames.tsv"), source_frames()
    zero = [r for r in frames if r["dose"] == "0"]
    assert zero and all(
        hashlib.sha256(np.ascontiguousarray(source[int(r["source_frame"]) % len(source)]).tobytes()).hexdigest()
        == r["sha256"]
        for r in zero
    )


def test_a_run_that_cannot_start_leaves_no_folder_it_made_and_keeps_ones_it_did_not(tiny_model, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(SHORT)
    base = ["experiment", path, "--participant", "P07", "--model", tiny_model, "--headless"]
    failed = cli(*base, "--source", tmp_path / "missing.mp4", "--output", tmp_path / "new" / "deep")
    assert failed.returncode != 0 and not (tmp_path / "new").exists()
    (tmp_path / "mine" / "P07" / "ses-2").mkdir(parents=True)  # a folder of the user's own, empty
    failed = cli(*base, "--session", "2", "--source", tmp_path / "missing.mp4", "--output", tmp_path / "mine")
    assert failed.returncode != 0 and (tmp_path / "mine" / "P07" / "ses-2").is_dir()


def test_a_name_too_long_or_with_a_newline_is_still_one_line(tiny_model, tmp_path):
    long = cli("experiment", tmp_path / ("x" * 300 + ".toml"), "--participant", "P07", "--headless")
    assert long.returncode == 2 and "Traceback" not in long.stderr and len(long.stderr.splitlines()) == 1
    odd = cli("experiment", tmp_path / "a\nb.toml", "--participant", "P07", "--headless")
    assert odd.returncode == 2 and len(odd.stderr.splitlines()) == 1 and "a\\nb.toml" in odd.stderr
