"""`deepdream render`: every frame, the input's frame rate and count, reproducible, resumable;
outputs checked before work and replaced only when complete; inputs that are not clips refused."""
import errno
import signal
import struct
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

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
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        boxes[kind], pos = data[pos:pos + size], pos + size
    moov = bytearray(boxes[b"moov"])
    at = moov.find(b"stco")
    for i in range(struct.unpack(">I", moov[at + 8:at + 12])[0]):
        o = at + 12 + 4 * i
        moov[o:o + 4] = struct.pack(">I", struct.unpack(">I", moov[o:o + 4])[0] + len(moov))
    return boxes[b"ftyp"] + bytes(moov) + boxes[b"free"] + boxes[b"mdat"][:int(len(boxes[b"mdat"]) * keep)]


def test_every_frame_at_the_input_rate_and_reproducible(tmp_path, random_model, clip):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    for out in (a, b):
        assert main(["render", str(clip), "-o", str(out), "--model", str(random_model), "--size", "100x76"]) == 0
    frames, fps = _frames(a)
    source, source_fps = _frames(clip)
    assert len(frames) == len(source) == 90 and fps == source_fps
    assert frames[0].shape == (76, 100, 3)
    assert a.read_bytes() == b.read_bytes()
    assert not list(tmp_path.glob(".*partial"))


def test_an_interrupted_render_continues_where_it_stopped(tmp_path, random_model, clip):
    whole, resumed = tmp_path / "whole.mp4", tmp_path / "resumed.mp4"
    args = ["--model", str(random_model), "--size", "320x240"]
    assert main(["render", str(clip), "-o", str(whole), *args]) == 0
    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "render", str(clip), "-o", str(resumed), *args],
                            stderr=subprocess.PIPE, text=True)
    progress = tmp_path / ".resumed.mp4.partial" / "progress.json"
    deadline = time.monotonic() + 120
    while not progress.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the render finished before it could be interrupted")
    assert proc.returncode == 130 and not resumed.exists() and progress.exists()
    assert main(["render", str(clip), "-o", str(resumed), *args]) == 0
    assert resumed.read_bytes() == whole.read_bytes()


def test_bad_render_inputs(tmp_path, random_model, clip):
    (tmp_path / "not.mp4").write_text("text")
    assert main(["render", str(tmp_path / "not.mp4"), "-o", str(tmp_path / "o.mp4"), "--model", str(random_model)]) == 2
    assert main(["render", str(clip), "-o", str(tmp_path / "o.avi"), "--model", str(random_model)]) == 2
    assert main(["render", str(clip), "-o", str(clip), "--model", str(random_model)]) == 2
    assert not (tmp_path / "o.mp4").exists()


def test_seed_is_gone(tmp_path, random_model, short_clip):
    """It changed nothing (the dream has no randomness): a flag that does nothing is refused, not ignored."""
    with pytest.raises(SystemExit):
        main(["render", str(short_clip), "-o", str(tmp_path / "o.mp4"), "--model", str(random_model), "--seed", "3"])


@pytest.mark.parametrize("output, expected", [("/sys/o.mp4", "cannot write"), ("dir.mp4", "is a directory"),
                                              ("o.mkv", "must be an .mp4")])
def test_outputs_are_checked_before_decoding(tmp_path, monkeypatch, capsys, random_model, short_clip, output, expected):
    (tmp_path / "dir.mp4").mkdir()

    def refuse(*args):
        raise AssertionError("decoded before the output was checked")
    monkeypatch.setattr(render_module.Clip, "open", refuse)
    target = output if output.startswith("/") else str(tmp_path / output)
    assert main(["render", str(short_clip), "-o", target, "--model", str(random_model)]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1


def _tiny_clip(tmp_path, _):
    return _write_clip(tmp_path / "tiny.mp4", [np.full((40, 64, 3), 90 + i, np.uint8) for i in range(5)])


@pytest.mark.parametrize("make, expected", [(lambda tmp, data: data / "chelsea.png", "still image"),
                                            (_tiny_clip, "at least 75 px")])
def test_inputs_that_cannot_be_rendered(tmp_path, capsys, random_model, testdata, make, expected):
    assert main(["render", str(make(tmp_path, testdata)), "-o", str(tmp_path / "o.mp4"),
                 "--model", str(random_model)]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1 and not (tmp_path / "o.mp4").exists()


def test_a_truncated_clip_renders_what_decodes_and_says_so(tmp_path, capfd, random_model, clip):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(_faststart_truncated(clip.read_bytes(), 0.4))
    decodable = len(_frames(cut)[0])
    assert 0 < decodable < 90
    assert main(["render", str(cut), "-o", str(tmp_path / "o.mp4"), "--model", str(random_model),
                 "--size", "96x80"]) == 0
    assert len(_frames(tmp_path / "o.mp4")[0]) == decodable
    assert f"declares 90 frames but {decodable} decoded" in capfd.readouterr().err


def test_an_existing_output_is_replaced_only_when_the_render_completes(tmp_path, monkeypatch, capsys, random_model,
                                                                       short_clip):
    out = tmp_path / "o.mp4"
    out.write_bytes(b"the user's earlier render")
    args = ["render", str(short_clip), "-o", str(out), "--model", str(random_model)]
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


def test_a_full_disk_while_assembling(tmp_path, monkeypatch, capsys, random_model, short_clip):
    class FullDisk(VideoWriter):
        def write(self, frame):
            if self.frames == 5:
                raise OSError(errno.ENOSPC, "No space left on device")
            super().write(frame)
    monkeypatch.setattr(render_module, "VideoWriter", FullDisk)
    out = tmp_path / "o.mp4"
    args = ["render", str(short_clip), "-o", str(out), "--model", str(random_model)]
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
