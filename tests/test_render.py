"""`deepdream render`: every frame, the input's frame rate and count, the same bytes in any process, resumable;
outputs checked before work and replaced only when complete; inputs that are not clips refused."""

import errno
import os
import signal
import struct
import subprocess
import sys

import cv2
import numpy as np
import pytest
from conftest import PERTURB, deepdream, run_perturbed, spawn, wait_until

from realtime.cli import main
from realtime.commands import render as render_module
from realtime.media.video import VideoWriter


def _frames(path):
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            return out, cap.get(cv2.CAP_PROP_FPS)
        out.append(bgr)


def _write_clip(path, frames, fps=30.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def clip(testdata):
    return testdata / "pan_coffee_320x240.mp4"


@pytest.fixture(scope="module")
def short_clip(clip, tmp_path_factory):
    """12 frames at 96x80: quick to render."""
    frames = [cv2.resize(f, (96, 80), interpolation=cv2.INTER_AREA) for f in _frames(clip)[0][:12]]
    return _write_clip(tmp_path_factory.mktemp("clips") / "short.mp4", frames)


def _faststart_truncated(data: bytes, keep: float) -> bytes:
    """[ftyp][free][mdat][moov] -> [ftyp][moov][free][mdat] (chunk offsets moved), the mdat cut short:
    a download that stopped part way, whose header still promises every frame."""
    boxes, pos = {}, 0
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        boxes[kind], pos = data[pos : pos + size], pos + size
    moov = bytearray(boxes[b"moov"])
    at = moov.find(b"stco")
    for i in range(struct.unpack(">I", moov[at + 8 : at + 12])[0]):
        o = at + 12 + 4 * i
        moov[o : o + 4] = struct.pack(">I", struct.unpack(">I", moov[o : o + 4])[0] + len(moov))
    return boxes[b"ftyp"] + bytes(moov) + boxes[b"free"] + boxes[b"mdat"][: int(len(boxes[b"mdat"]) * keep)]


@pytest.mark.child
@pytest.mark.exact
def test_every_frame_at_the_input_rate_and_reproducible(tmp_path, tiny_model, clip):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    for out, perturb in zip((a, b), PERTURB):  # two processes, two heaps
        run_perturbed(["render", clip, "-o", out, "--model", tiny_model, "--size", "100x76"], perturb)
    frames, fps = _frames(a)
    source, source_fps = _frames(clip)
    assert len(frames) == len(source) == 90 and fps == source_fps
    assert frames[0].shape == (76, 100, 3)
    assert a.read_bytes() == b.read_bytes()
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.child
@pytest.mark.exact
def test_an_interrupted_render_continues_where_it_stopped(tmp_path, tiny_model, clip):
    whole, resumed = tmp_path / "whole.mp4", tmp_path / "resumed.mp4"
    args = ["--model", str(tiny_model), "--size", "320x240"]
    run_perturbed(["render", clip, "-o", whole, *args], PERTURB[0])
    proc = spawn(
        [sys.executable, "-m", "realtime.cli", "render", clip, "-o", resumed, *args],
        stderr=subprocess.PIPE,
        env={"MALLOC_PERTURB_": str(PERTURB[2])},
    )
    progress = tmp_path / ".resumed.mp4.partial" / "progress.json"
    wait_until(lambda: progress.exists() or proc.poll() is not None, what="the first chunk saved")
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the render finished before it could be interrupted")
    assert proc.returncode == 130 and not resumed.exists() and progress.exists()
    run_perturbed(["render", clip, "-o", resumed, *args], PERTURB[1])
    assert resumed.read_bytes() == whole.read_bytes()


def test_bad_render_inputs(tmp_path, tiny_model, clip):
    (tmp_path / "not.mp4").write_text("text")
    assert main(["render", str(tmp_path / "not.mp4"), "-o", str(tmp_path / "o.mp4"), "--model", str(tiny_model)]) == 2
    assert main(["render", str(clip), "-o", str(tmp_path / "o.avi"), "--model", str(tiny_model)]) == 2
    assert main(["render", str(clip), "-o", str(clip), "--model", str(tiny_model)]) == 2
    assert not (tmp_path / "o.mp4").exists()


def test_seed_is_gone(tmp_path, capsys, tiny_model, short_clip):
    """It changed nothing (the dream has no randomness): a flag that does nothing is refused, not ignored."""
    with pytest.raises(SystemExit) as exited:
        main(["render", str(short_clip), "-o", str(tmp_path / "o.mp4"), "--model", str(tiny_model), "--seed", "3"])
    err = capsys.readouterr().err.strip()
    assert exited.value.code == 2 and err.splitlines() == [err]  # one line, no usage block, no traceback
    assert err.startswith("deepdream render: error: unrecognized arguments: --seed 3")
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a partial file


@pytest.mark.parametrize(
    "output, expected", [("/sys/o.mp4", "cannot write"), ("dir.mp4", "is a directory"), ("o.mkv", "must be an .mp4")]
)
def test_outputs_are_checked_before_decoding(tmp_path, monkeypatch, capsys, tiny_model, short_clip, output, expected):
    (tmp_path / "dir.mp4").mkdir()

    def refuse(*args):
        raise AssertionError("decoded before the output was checked")

    monkeypatch.setattr(render_module.Clip, "open", refuse)
    target = output if output.startswith("/") else str(tmp_path / output)
    assert main(["render", str(short_clip), "-o", target, "--model", str(tiny_model)]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1


def _tiny_clip(tmp_path, _):
    return _write_clip(tmp_path / "tiny.mp4", [np.full((40, 64, 3), 90 + i, np.uint8) for i in range(5)])


@pytest.mark.parametrize(
    "make, expected", [(lambda tmp, data: data / "chelsea.png", "still image"), (_tiny_clip, "at least 75 px")]
)
def test_inputs_that_cannot_be_rendered(tmp_path, capsys, tiny_model, testdata, make, expected):
    assert (
        main(["render", str(make(tmp_path, testdata)), "-o", str(tmp_path / "o.mp4"), "--model", str(tiny_model)]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1 and not (tmp_path / "o.mp4").exists()


def test_a_truncated_clip_renders_what_decodes_and_says_so(tmp_path, capfd, tiny_model, clip):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(_faststart_truncated(clip.read_bytes(), 0.4))
    decodable = len(_frames(cut)[0])
    assert 0 < decodable < 90
    assert main(["render", str(cut), "-o", str(tmp_path / "o.mp4"), "--model", str(tiny_model), "--size", "96x80"]) == 0
    assert len(_frames(tmp_path / "o.mp4")[0]) == decodable
    assert f"declares 90 frames but {decodable} decoded" in capfd.readouterr().err


def test_an_existing_output_is_replaced_only_when_the_render_completes(
    tmp_path, monkeypatch, capsys, tiny_model, short_clip
):
    out = tmp_path / "o.mp4"
    out.write_bytes(b"the user's earlier render")
    args = ["render", str(short_clip), "-o", str(out), "--model", str(tiny_model)]
    calls = []

    def interrupt(self, rgb):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return rgb

    monkeypatch.setattr(render_module.DreamStream, "__call__", interrupt)
    assert main(args) == 130
    assert out.read_bytes() == b"the user's earlier render"
    monkeypatch.undo()
    assert main(args) == 0
    assert "replacing existing" in capsys.readouterr().err
    assert len(_frames(out)[0]) == 12


def test_a_full_disk_while_assembling(tmp_path, monkeypatch, capsys, tiny_model, short_clip):
    class FullDisk(VideoWriter):
        def write(self, frame):
            if self.frames == 5:
                raise OSError(errno.ENOSPC, "No space left on device")
            super().write(frame)

    monkeypatch.setattr(render_module, "VideoWriter", FullDisk)
    out = tmp_path / "o.mp4"
    args = ["render", str(short_clip), "-o", str(out), "--model", str(tiny_model)]
    assert main(args) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert "No space left on device" in last and "run the same command again" in last and "Traceback" not in err
    work = tmp_path / ".o.mp4.partial"
    assert [p.name for p in tmp_path.iterdir()] == [work.name]
    assert not [p for p in work.iterdir() if "assembled" in p.name or p.suffix == ".tmp"]
    monkeypatch.setattr(render_module, "VideoWriter", VideoWriter)
    monkeypatch.setattr(render_module.DreamStream, "__call__", lambda self, rgb: pytest.fail("dreamed again"))
    assert main(args) == 0
    assert len(_frames(out)[0]) == 12 and not work.exists()


@pytest.fixture(scope="module")
def clip_160(clip, tmp_path_factory):
    """30 frames at 160x120: a size at which libx264's output depends on its thread count."""
    frames = [cv2.resize(f, (160, 120), interpolation=cv2.INTER_AREA) for f in _frames(clip)[0][:30]]
    return _write_clip(tmp_path_factory.mktemp("clips") / "c160.mp4", frames)


@pytest.mark.child
@pytest.mark.exact
@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="pinning a process to one core is Linux's")
def test_a_render_on_one_busy_core_gives_the_bytes_of_one_on_every_core(tmp_path, tiny_model, clip_160):
    """The promise is the same bytes in any process on this machine, loaded or not: a render pinned to one
    core with a busy process beside it (x264 picks its thread count from the cores it may use) matches one
    made on all of them (each in its own process, with its own heap)."""
    here, pinned = tmp_path / "here.mp4", tmp_path / "pinned.mp4"
    args = ["--model", tiny_model, "--size", "160x120"]
    run_perturbed(["render", clip_160, "-o", here, *args], PERTURB[0])
    core = min(os.sched_getaffinity(0))
    pin = lambda: os.sched_setaffinity(0, {core})  # noqa: E731
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=pin)
    try:
        result = deepdream(
            "render",
            clip_160,
            "-o",
            pinned,
            *args,
            timeout=600,
            preexec_fn=pin,
            env={"MALLOC_PERTURB_": str(PERTURB[1])},
        )
    finally:
        hog.kill()
    assert result.returncode == 0, result.stderr
    assert pinned.read_bytes() == here.read_bytes()


def _partial(tmp_path):
    return tmp_path / ".o.mp4.partial"


@pytest.mark.parametrize("leftover", ["a file", "a folder of the user's", "a symlink"])
def test_what_is_in_the_work_folders_place_and_not_ours_is_left_alone(
    tmp_path, capsys, tiny_model, short_clip, leftover
):
    work = _partial(tmp_path)
    if leftover == "a file":
        work.write_bytes(b"the user's notes")
    elif leftover == "a folder of the user's":
        work.mkdir()
        (work / "precious.txt").write_text("keep me")
    else:
        (tmp_path / "elsewhere").mkdir()
        work.symlink_to(tmp_path / "elsewhere")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    assert main(["render", str(short_clip), "-o", str(tmp_path / "o.mp4"), "--model", str(tiny_model)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(work) in err and "Traceback" not in err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # nothing deleted, nothing made


def test_an_earlier_renders_work_folder_is_cleared_and_removed(tmp_path, tiny_model, short_clip):
    out = tmp_path / "o.mp4"
    args = ["render", str(short_clip), "-o", str(out), "--model", str(tiny_model)]
    work = _partial(tmp_path)
    work.mkdir()
    (work / render_module.MARK).write_text("")
    (work / "progress.json").write_text('{"fingerprint": {"other": "render"}, "frames": 3}')
    assert main(args) == 0
    assert len(_frames(out)[0]) == 12 and not work.exists()


def test_a_frame_rate_no_video_can_have_is_refused_before_dreaming(tmp_path, monkeypatch, capsys, tiny_model):
    frames = [np.full((80, 96, 3), 20 * i, np.uint8) for i in range(4)]
    fast = _write_clip(tmp_path / "fast.mp4", frames, fps=5000.0)
    monkeypatch.setattr(render_module.DreamStream, "__call__", lambda *a: pytest.fail("dreamed"))
    assert main(["render", str(fast), "-o", str(tmp_path / "o.mp4"), "--model", str(tiny_model)]) == 2
    err = capsys.readouterr().err.strip()
    assert "frame rate 5000" in err and len(err.splitlines()) == 1 and not (tmp_path / "o.mp4").exists()


def test_sound_that_cannot_go_into_an_mp4_is_refused_before_dreaming(
    tmp_path, monkeypatch, capsys, tiny_model, short_clip
):
    import av

    from realtime.media import audio

    def broken(self, packet):
        raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")

    monkeypatch.setattr(audio.AudioTrack, "_mux", broken)
    monkeypatch.setattr(render_module.DreamStream, "__call__", lambda *a: pytest.fail("dreamed"))
    clip = _clip_with_tone(tmp_path / "tone.mp4")
    assert main(["render", str(clip), "-o", str(tmp_path / "o.mp4"), "--model", str(tiny_model)]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot carry the sound of" in err and len(err.splitlines()) == 1


def _clip_with_tone(path):
    import av

    with av.open(str(path), "w") as c:
        video, sound = c.add_stream("libx264", rate=30), c.add_stream("aac", rate=48000)
        video.width, video.height, video.pix_fmt = 96, 80, "yuv420p"
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(np.full((80, 96, 3), 30 * i, np.uint8), format="rgb24")
            frame.pts = i
            c.mux(video.encode(frame))
        tone = np.sin(np.arange(9600, dtype=np.float32) / 10)[None].astype(np.float32)
        for start in range(0, 9600, 1024):
            chunk = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(tone[:, start : start + 1024]), format="fltp", layout="mono"
            )
            chunk.sample_rate, chunk.pts = 48000, start
            c.mux(sound.encode(chunk))
        c.mux(video.encode(None))
        c.mux(sound.encode(None))
    return path


def test_wrap_on_frames_that_are_not_2_to_1_says_so_and_marks_nothing(tmp_path, capsys, tiny_model, short_clip):
    out = tmp_path / "o.mp4"
    assert main(["render", str(short_clip), "-o", str(out), "--model", str(tiny_model), "--wrap"]) == 0
    err = capsys.readouterr().err
    assert "96x80 is not 2:1, so the video is not marked as 360-degree" in err
    assert b"sv3d" not in out.read_bytes() and b"GSpherical" not in out.read_bytes()
