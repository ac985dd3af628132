"""`deepdream replay`: a kept session's lossless video checked against its frames.tsv frame by frame, and shown
again at the session's pace with its markers, into a frame log of its own. Sessions are made here: frames through
the lossless writer, frames.tsv through LabFrameLog with the frames' hashes, a session.json."""

import hashlib
import json

import numpy as np
import pytest

pytest.importorskip("av")

from conftest import cli, deepdream  # noqa: E402

from realtime.lab.framelog import LabFrameLog, read_frame_log  # noqa: E402
from realtime.lab.replay import Player, open_session  # noqa: E402
from realtime.media.video import VideoFormat, VideoWriter  # noqa: E402

SIZE = (33, 21)  # odd sides: nothing padded
MARKERS = {1: "trial_on dose=0.5 block=1 trial=1", 4: "trial_off dose=0.5 block=1 trial=1"}
FLIPS = [100.0, 100.034, 100.067, 100.1, 100.2, 100.234]  # a late flip before frame 4


LOSSLESS = VideoFormat(lossless=True)


def frames(count=6):
    return [np.random.default_rng(i).integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8) for i in range(count)]


def write_video(path, images, fmt=LOSSLESS):
    writer = VideoWriter(path, 30, SIZE, fmt)
    for image in images:
        writer.write(image)
    writer.close()


def session(folder, images=None, video="stimulus.mkv", fmt=LOSSLESS):
    """A kept session in `folder`: the frames as `video`, frames.tsv with their hashes and markers, session.json."""
    images = frames() if images is None else images
    folder.mkdir()
    write_video(folder / video, images, fmt)
    log = LabFrameLog(folder / "frames.tsv")
    for i, (image, flip) in enumerate(zip(images, FLIPS, strict=True)):
        sha = hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
        phase = "trial" if 1 <= i < 4 else "rest"
        dose = 0.5 if phase == "trial" else None
        log(i, flip, flip - FLIPS[0], i, phase, 1, 1, dose, 12.5, MARKERS.get(i), i % 2, sha)
    log.close()
    meta = {"video": video, "fps": 30.0, "size": list(SIZE), "participant": "sub01", "session": 1}
    (folder / "session.json").write_text(json.dumps(meta))
    return folder


def test_check_passes_when_every_frame_is_the_one_logged(tmp_path):
    result = cli("replay", session(tmp_path / "ses-1"), "--check")
    assert (result.returncode, result.stdout, result.stderr) == (0, "6 frames: all match frames.tsv\n", "")


def test_check_names_the_first_frame_that_differs_by_one_pixel(tmp_path):
    folder = session(tmp_path / "ses-1")
    images = frames()
    images[3][10, 20, 1] ^= 1  # one pixel, one bit
    images[5][0, 0, 0] ^= 1
    write_video(folder / "stimulus.mkv", images)
    result = cli("replay", folder, "--check")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == ["deepdream replay: frame 3 of stimulus.mkv differs from frames.tsv (row 4)"]


@pytest.mark.parametrize("count, said", [(5, "holds 5 frames, frames.tsv 6 rows"), (8, "holds 8 frames")])
def test_check_says_when_the_video_holds_fewer_or_more_frames(tmp_path, count, said):
    folder = session(tmp_path / "ses-1")
    write_video(folder / "stimulus.mkv", frames(count))
    result = cli("replay", folder, "--check")
    assert result.returncode == 1 and said in result.stderr and len(result.stderr.splitlines()) == 1


def test_an_h264_session_is_checked_against_its_kept_hashes_and_refused_without_them(tmp_path):
    from realtime.lab.replay import KEPT, keep_hashes

    folder = session(tmp_path / "ses-1", video="stimulus.mp4", fmt=VideoFormat(exact=True))
    result = cli("replay", folder, "--check")
    assert result.returncode == 2
    assert result.stderr == (
        "deepdream replay: error: stimulus.mp4 is H.264 (lossy) and the session has no stimulus.sha256: only a "
        'lossless session (video = "lossless") or one that kept its hashes can be checked frame by frame\n'
    )
    assert keep_hashes(folder / "stimulus.mp4") == 6
    assert cli("replay", folder, "--check").stdout == "6 frames: all match stimulus.sha256\n"
    hashes = (folder / KEPT).read_text().split()
    (folder / KEPT).write_text("\n".join([*hashes[:2], "0" * 64, *hashes[3:]]) + "\n")
    spoilt = cli("replay", folder, "--check")
    assert spoilt.returncode == 1 and "frame 2 of stimulus.mp4 differs from stimulus.sha256" in spoilt.stderr
    (folder / KEPT).write_text("\n".join(hashes) + "\n")
    log = (folder / "frames.tsv").read_text().splitlines()
    (folder / "frames.tsv").write_text("\n".join(log[:-2]) + "\n")  # the frame log cut short
    cut = cli("replay", folder, "--check")
    assert cut.returncode == 1 and "stimulus.sha256 holds 6 frames, frames.tsv 4 rows" in cut.stderr


@pytest.mark.parametrize(
    "spoil, said",
    [
        (lambda d: (d / "session.json").unlink(), "cannot read"),
        (lambda d: (d / "session.json").write_text("{not json"), "is not a session's record"),
        (lambda d: (d / "session.json").write_text('{"video": "stimulus.mkv"}'), "is not a session's record"),
        (lambda d: (d / "session.json").write_text('{"video": "../x.mkv", "fps": 30, "size": [1, 1]}'), "not in"),
        (lambda d: (d / "session.json").write_text('{"video": "stimulus.mkv", "fps": 0, "size": [34, 22]}'), "fps 0"),
        (lambda d: (d / "stimulus.mkv").unlink(), "is not in the folder"),
        (lambda d: (d / "stimulus.mkv").write_bytes(b"\x1a\x45\xdf\xa3 not a video"), "is not a video"),
        (lambda d: (d / "frames.tsv").write_text("frame\tsha256\n0\tab\n"), "is not a frame log"),
    ],
)
def test_a_missing_or_damaged_session_is_one_line(tmp_path, spoil, said):
    folder = session(tmp_path / "ses-1")
    spoil(folder)
    for args in (("--check",), ("--headless",)):
        result = cli("replay", folder, *args)
        assert result.returncode == 2 and said in result.stderr, result.stderr
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_folder_that_is_not_there_is_one_line(tmp_path):
    result = cli("replay", tmp_path / "nowhere", "--check")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"deepdream replay: error: {tmp_path / 'nowhere'} is not a session folder (no such folder)"
    ]


def test_replay_logs_the_same_frames_and_markers_at_its_own_flips(tmp_path):
    folder = session(tmp_path / "ses-1")
    result = cli("replay", folder, "--headless", "--log", tmp_path / "replay.tsv")
    assert result.returncode == 0, result.stderr
    kept, again = read_frame_log(folder / "frames.tsv"), read_frame_log(tmp_path / "replay.tsv")
    same = ("frame", "source_frame", "phase", "trial", "block", "dose", "dream_age_ms", "marker", "patch", "sha256")
    assert [[row[c] for c in same] for row in again] == [[row[c] for c in same] for row in kept]
    assert [row["flip_time"] for row in again] != [row["flip_time"] for row in kept]  # this replay's own flips
    assert sorted(p.name for p in folder.iterdir()) == ["frames.tsv", "session.json", "stimulus.mkv"]


def test_replay_never_writes_over_an_existing_log(tmp_path):
    folder = session(tmp_path / "ses-1")
    for log in (tmp_path / "mine.tsv", folder / "frames.tsv"):
        before = log.read_bytes() if log.exists() else log.write_bytes(b"the user's") and b"the user's"
        result = cli("replay", folder, "--headless", "--log", log)
        assert result.returncode == 2 and "never overwritten" in result.stderr
        assert log.read_bytes() == before


class Clock:
    """A clock that moves only when slept on, or when a frame takes `write_s` to go up."""

    def __init__(self, now=7.0, write_s=0.0):
        self.now, self.write_s, self.sleeps, self.shown_at = now, write_s, [], []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def write(self, frame):  # the window
        self.shown_at.append(self.now)
        self.now += self.write_s

    def commands(self):
        return []


def test_frames_go_up_at_their_logged_distance_from_the_first_never_sooner(tmp_path):
    kept = open_session(session(tmp_path / "ses-1"))
    clock = Clock(write_s=0.05)  # each frame takes 50 ms to show: later than logged, never sooner
    Player(kept, window=clock).run(clock, clock.sleep)
    assert min(clock.sleeps) >= 0.0
    due = [7.0 + flip - FLIPS[0] for flip in FLIPS]
    assert all(at >= when - 1e-9 for at, when in zip(clock.shown_at, due, strict=True))
    assert clock.shown_at[4] == pytest.approx(due[4])  # after the late flip: back on the session's times
    assert clock.shown_at[1] == pytest.approx(due[0] + 0.05)  # a frame due while the last went up: straight after


class Streams:
    def __init__(self):
        self.sent = []

    def marker(self, text, flip):
        self.sent.append(("marker", text, flip))

    def frame(self, number, dose, age_ms, flip):
        self.sent.append(("frame", number, dose, flip))


def test_lsl_gets_each_rows_marker_and_frame_after_its_flip(tmp_path):
    kept = open_session(session(tmp_path / "ses-1"))
    streams, clock = Streams(), Clock()
    log = LabFrameLog(tmp_path / "replay.tsv")
    Player(kept, streams=streams, log=log).run(clock, clock.sleep)
    log.close()
    flips = [pytest.approx(row["flip_time"]) for row in read_frame_log(tmp_path / "replay.tsv")]
    assert [s for s in streams.sent if s[0] == "marker"] == [("marker", MARKERS[i], flips[i]) for i in sorted(MARKERS)]
    frames_sent = [s for s in streams.sent if s[0] == "frame"]
    assert [(n, flip) for _, n, _, flip in frames_sent] == list(enumerate(flips))
    assert frames_sent[2][2] == 0.5 and np.isnan(frames_sent[0][2])  # the dose, NaN where none
    assert streams.sent.index(("marker", MARKERS[1], flips[1])) < streams.sent.index(frames_sent[1])


def test_quit_in_the_window_stops_the_replay(tmp_path):
    kept = open_session(session(tmp_path / "ses-1"))
    clock = Clock()
    clock.commands = lambda: ["quit"] if len(clock.shown_at) == 2 else []
    assert Player(kept, window=clock).run(clock, clock.sleep) == 2


@pytest.mark.child
def test_the_command_checks_a_session_and_finds_a_changed_frame(tmp_path):
    folder = session(tmp_path / "ses-1")
    result = deepdream("replay", folder, "--check")
    assert (result.returncode, result.stdout) == (0, "6 frames: all match frames.tsv\n"), result.stderr
    images = frames()
    images[0][0, 0, 2] ^= 128
    write_video(folder / "stimulus.mkv", images)
    result = deepdream("replay", folder, "--check")
    assert result.returncode == 1 and result.stderr == (
        "deepdream replay: frame 0 of stimulus.mkv differs from frames.tsv (row 1)\n"
    )
    result = deepdream("replay", folder, "--headless", "--log", tmp_path / "replay.tsv")
    assert result.returncode == 0 and "replayed 6 of 6 frames" in result.stderr
    assert len(read_frame_log(tmp_path / "replay.tsv")) == 6
