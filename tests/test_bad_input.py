"""Bad input answered: each case ends in one line naming the problem, a non-zero exit, no traceback."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from realtime.cli import main


def fails_with_one_line(argv, capsys, *words) -> str:
    """Run the CLI in-process; it must exit 2 with one error line, the last, holding every word
    (before it only progress bars and the command's own log lines)."""
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = err.splitlines()
    assert lines[-1].startswith("deepdream ") and ": error: " in lines[-1], err
    assert sum(": error: " in line for line in lines) == 1, err
    for word in words:
        assert word in lines[-1], err
    return lines[-1]


def png(path: Path, width: int, height: int) -> Path:
    """A real PNG of `width` x `height` black 1-bit pixels: a huge one compresses to a few KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + the bits
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", body)
        + chunk(b"IEND", b"")
    )
    return path


def photo(path: Path, width: int = 120, height: int = 90) -> Path:
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 255, (height, width, 3), np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = png(tmp_path_factory.mktemp("bomb") / "bomb.png", 20000, 20000)  # 400 Mpx, over Pillow's 179 Mpx
    assert path.stat().st_size < 100_000
    return path


def _live(model, *extra):
    return ["live", "--model", model, "--headless", "--frames", "1", "--size", "96x96", *extra]


@pytest.mark.parametrize("where", ["dream", "dream --guide", "live --source", "live --guide"])
def test_a_decompression_bomb_is_one_line(where, bomb, tiny_model, tmp_path, capsys):
    argv = {
        "dream": ["dream", bomb, "-o", tmp_path / "out.png", "--model", tiny_model],
        "dream --guide": [
            "dream",
            photo(tmp_path / "in.png"),
            "-o",
            tmp_path / "out.png",
            "--model",
            tiny_model,
            "--guide",
            bomb,
        ],
        "live --source": _live(tiny_model, "--source", bomb),
        "live --guide": _live(tiny_model, "--source", "synthetic", "--guide", bomb),
    }[where]
    fails_with_one_line(argv, capsys, str(bomb), "decompression bomb")
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("command", ["dream", "live"])
def test_a_guide_under_75_pixels_is_refused(command, tiny_model, tmp_path, capsys):
    tiny = photo(tmp_path / "tiny.png", 10, 10)
    argv = (
        ["dream", photo(tmp_path / "in.png"), "-o", tmp_path / "out.png", "--model", tiny_model]
        if command == "dream"
        else _live(tiny_model, "--source", "synthetic")
    )
    fails_with_one_line(argv + ["--guide", tiny], capsys, str(tiny), "10x10", "75")


def test_a_config_that_is_a_directory_is_one_line(tmp_path, capsys):
    fails_with_one_line(["live", "--config", tmp_path], capsys, str(tmp_path), "directory")


class FullDisk:
    """A stand-in for os.fdopen whose files take nothing: every write fails with ENOSPC."""

    def __init__(self, fdopen):
        self.fdopen = fdopen

    def __call__(self, fd, mode="r", *args, **kwargs):
        import errno
        import os

        real = self.fdopen(fd, mode, *args, **kwargs)
        if "w" not in mode:
            return real

        class Full:
            def write(self, data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                real.close()

        return Full()


def test_dream_onto_a_full_disk_is_one_line_and_leaves_nothing(tiny_model, tmp_path, capsys, monkeypatch):
    import os

    source = photo(tmp_path / "in.png", 80, 80)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    monkeypatch.setattr("realtime.files.os.fdopen", FullDisk(os.fdopen))
    fails_with_one_line(
        ["dream", source, "-o", out_dir / "dream.png", "--model", tiny_model, "--steps", "1"],
        capsys,
        str(out_dir / "dream.png"),
        "No space left",
    )
    assert list(out_dir.iterdir()) == []  # no temporary file, no half image


def _pipe_run(model, stdout):
    import subprocess
    import sys

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "realtime.cli",
            *map(str, _live(model, "--source", "synthetic")),
            "--frames",
            "30",
            "--pipe",
        ],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )
    if proc.stdout is not None:
        proc.stdout.close()  # the reader goes before the first frame
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


@pytest.mark.child
@pytest.mark.parametrize("reader", ["closed", "/dev/full"])
def test_pipe_into_a_closed_or_full_stdout_is_one_line(reader, tiny_model):
    import subprocess

    if reader == "/dev/full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    if reader == "closed":
        rc, err = _pipe_run(tiny_model, subprocess.PIPE)
    else:
        with open("/dev/full", "wb") as full:
            rc, err = _pipe_run(tiny_model, full)
    assert rc == 2, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err.strip().splitlines()[-1].startswith("deepdream live: error: --pipe: cannot write"), err


@pytest.mark.parametrize("flags, refused", [([], True), (["--max-dim", "100"], False), (["--tile", "128"], False)])
def test_a_photo_too_big_for_memory_says_to_tile_or_shrink(flags, refused, tiny_model, tmp_path, capsys, monkeypatch):
    # Stand-in for a 10000x10000 photo (a step would need ~60 GB): a 600x450 one with 100 MB free.
    # 600x450 needs ~162 MB; 100x75 (--max-dim) ~5 MB; a 128-pixel tile and its context 320x320, ~61 MB.
    monkeypatch.setattr("realtime.commands.dream.available_memory", lambda: 100 * 2**20)
    argv = [
        "dream",
        photo(tmp_path / "in.png", 600, 450),
        "-o",
        tmp_path / "out.png",
        "--model",
        tiny_model,
        "--steps",
        "1",
        *flags,
    ]
    if refused:
        fails_with_one_line(argv, capsys, "600x450", "GiB", "--tile", "--max-dim")
        assert not (tmp_path / "out.png").exists()
    else:
        assert main([str(a) for a in argv]) == 0


@pytest.mark.parametrize("flag", ["--serve", "--osc"])
def test_an_unbracketed_ipv6_address_is_one_line(flag, capsys):
    fails_with_one_line(["live", flag, "::1", "--model", "missing.onnx"], capsys, flag, "[::1]:")


@pytest.mark.parametrize("name", ["x.xyz", "x.avi", "x"])
def test_record_takes_only_mp4(name, tmp_path, capsys):
    fails_with_one_line(["live", "--record", tmp_path / name, "--model", "missing.onnx"], capsys, name, ".mp4")


@pytest.mark.parametrize(
    "output, input_flag",
    [
        ("--record", "--source"),
        ("--log", "--source"),
        ("--stats", "--model"),
        ("--log", "--guide"),
        ("--snapshots", "--source"),
        ("--stats", "--log"),
    ],
)
def test_an_output_that_is_an_input_or_another_output_is_refused(output, input_flag, tmp_path, capsys):
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"the user's clip")
    argv = ["live", "--model", tmp_path / "other.onnx", input_flag, target, output, target]
    fails_with_one_line(argv, capsys, output, str(target), input_flag)
    assert target.read_bytes() == b"the user's clip"


@pytest.mark.parametrize("name", ["model.json", "model", "model.ONNX.txt"])
def test_export_output_must_be_onnx(name, tmp_path, capsys):
    fails_with_one_line(["export", "--weights", "random", "-o", tmp_path / name], capsys, name, ".onnx")
    assert list(tmp_path.iterdir()) == []


def test_outputs_opened_before_a_failing_one_leave_nothing(tiny_model, tmp_path, capsys, monkeypatch):
    """--record opens its temporary file first; a virtual camera that cannot open must not orphan it."""
    import sys

    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)  # not installed
    fails_with_one_line(
        _live(tiny_model, "--source", "synthetic", "--record", tmp_path / "rec.mp4", "--virtualcam"),
        capsys,
        "pyvirtualcam",
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("address, words", [("0.0.0.0:18097", "--token"), ("nosuchhost.invalid:18097", "cannot serve")])
def test_serve_is_refused_before_the_model_loads(address, words, tmp_path, capsys):
    # The model does not exist: had the model loaded first, the error would be about it.
    fails_with_one_line(["live", "--model", tmp_path / "missing.onnx", "--serve", address], capsys, words)


@pytest.mark.parametrize("spec", ["webcam:²", "webcam:99999999999999999999"])
def test_odd_camera_numbers_are_one_line(spec, tiny_model, capsys):
    fails_with_one_line(_live(tiny_model, "--source", spec), capsys, "camera")


def test_a_replaced_output_is_announced(tiny_model, tmp_path, capsys):
    out = tmp_path / "out.png"
    out.write_bytes(b"yesterday's dream")
    assert (
        main(["dream", str(photo(tmp_path / "in.png")), "-o", str(out), "--model", str(tiny_model), "--steps", "1"])
        == 0
    )
    assert f"replacing existing {out}" in capsys.readouterr().err and out.read_bytes() != b"yesterday's dream"


class _Gated:
    """A source whose one frame comes once `go` is set, then stalls until `end` is set."""

    def __init__(self):
        import threading

        self.go, self.end = threading.Event(), threading.Event()

    def frames(self):
        from realtime.media.sources import Frame

        if self.go.wait(60):
            yield Frame(np.zeros((80, 80, 3), np.uint8), 0.0, 0)
        self.end.wait(60)

    def release(self):
        """Lets the capture thread end at once (before the reader closes, which waits for it)."""
        self.end.set()
        self.go.set()

    def close(self):
        self.release()


def _condition_that_sets(event):
    """A condition that sets `event` when a thread first waits on it: the reader's get() is waiting."""
    import threading

    class Heard(threading.Condition):
        def wait(self, timeout=None):
            event.set()
            return super().wait(timeout)

    return Heard()


def test_a_stalled_source_shows_its_last_frame_and_a_silent_one_is_an_error():
    """The first frame is given `first_timeout`, not the stall's `timeout`: here it comes only once get() waits,
    with no time at all allowed for a stall. Then the source stalls: the last frame again, marked lost."""
    from realtime.errors import UserError
    from realtime.media.sources import Latest

    source = _Gated()
    reader = Latest(source)
    reader._cond = _condition_that_sets(source.go)  # the capture thread waits on `go` before it takes the lock
    try:
        first = reader.get(timeout=0.0, first_timeout=60.0)
        stalled = reader.get(timeout=0.0)
    finally:
        source.release()
        reader.close()
    assert first.index == 0 and not first.lost and stalled.index == 0 and stalled.lost
    quiet = _Gated()
    silent = Latest(quiet)
    try:
        with pytest.raises(UserError, match="no frame from the source"):
            silent.get(first_timeout=0.0)
    finally:
        quiet.release()
        silent.close()


@pytest.mark.parametrize("folder, words", [("a-file/shots", "is a file, not a folder"), ("/sys", "cannot write there")])
def test_snapshots_folder_is_checked_before_work(folder, words, tiny_model, tmp_path, capsys, monkeypatch):
    from realtime.commands import live

    monkeypatch.setattr(live, "_run_live", lambda *a: pytest.fail("ran before --snapshots was checked"))
    (tmp_path / "a-file").write_text("taken")
    target = tmp_path / folder if folder.startswith("a-file") else folder
    fails_with_one_line(_live(tiny_model, "--snapshots", target), capsys, "--snapshots", words)


def test_a_snapshots_folder_that_does_not_exist_yet_is_taken(tiny_model, tmp_path, capsys):
    folder = tmp_path / "night" / "shots"
    argv = _live(tiny_model, "--source", "synthetic", "--snapshots", folder)
    assert main([str(a) for a in argv]) == 0, capsys.readouterr().err
    assert not (tmp_path / "night").exists()  # made at the first snapshot; none was taken


@pytest.mark.parametrize(
    "table, words",
    [
        ('[midi]\ncc21 = ["zoom", 0.98, 1.05]\ncc021 = ["feedback", 0.5, 0.9]\n', ["cc21 and cc021"]),
        ('[midi]\nnote1 = "scene ' + "9" * 5000 + '"\n', ["note1", "scenes count from 1"]),
        ('[midi]\ncc1 = ["zoom", ' + "9" * 5000 + ", 1]\n", ["thousands of digits"]),
    ],
)
def test_a_bad_midi_table_stops_a_show_at_start(table, words, tiny_model, tmp_path, capsys):
    cfg = tmp_path / "show.toml"
    cfg.write_text(table)
    fails_with_one_line(_live(tiny_model, "--source", "synthetic", "--config", cfg, "--midi"), capsys, str(cfg), *words)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_stats_on_a_full_device_is_one_line_at_the_end_and_the_device_stays(tiny_model, capsys):
    fails_with_one_line(
        [
            "live",
            "--source",
            "synthetic",
            "--model",
            tiny_model,
            "--size",
            "96x80",
            "--headless",
            "--frames",
            "3",
            "--stats",
            "/dev/full",
        ],
        capsys,
        "/dev/full",
        "No space left",
    )
    assert Path("/dev/full").is_char_device()  # written to, not replaced by a file


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_an_event_log_that_cannot_be_written_is_one_line_at_start(tiny_model, capsys, monkeypatch):
    from realtime.commands import live

    monkeypatch.setattr(live, "_run_live", lambda *a: pytest.fail("ran before the event log was checked"))
    fails_with_one_line(
        ["live", "--source", "synthetic", "--model", tiny_model, "--headless", "--event-log", "/dev/full"],
        capsys,
        "--event-log /dev/full",
        "No space left",
    )


def test_an_event_log_that_fails_later_is_said_once_and_the_show_goes_on(tmp_path, capsys):
    import errno
    import logging

    from realtime.run.eventlog import remove, setup

    class Full:
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def tell(self):
            return 0

        def seek(self, *args):
            return 0

        flush = close = lambda self: None

    handler = setup("live", tmp_path / "events.log")
    try:
        handler.stream = Full()  # the disk fills up after the start
        for i in range(5):
            logging.getLogger("deepdream.live").warning("line %d", i)
        assert handler not in logging.getLogger().handlers  # left, after saying so
    finally:
        remove(handler)
    err = capsys.readouterr().err
    assert err.count("cannot write any more (") == 1 and "No space left" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["live", "--feedbak", "0.5"], "--feedbak 0.5 (did you mean --feedback?)"),
        (["render", "in.mp4", "-o", "o.mp4", "--cpus-pertask", "2"], "did you mean --cpus-per-task?"),
        (["live", "--provider", "bogus"], "invalid choice: 'bogus'"),
        (["rendr"], "invalid choice: 'rendr'"),
    ],
)
def test_a_mistyped_flag_is_one_line_not_a_usage_block(argv, words, capsys):
    with pytest.raises(SystemExit) as exit:
        main(argv)
    err = capsys.readouterr().err
    assert exit.value.code == 2 and len(err.strip().splitlines()) == 1 and words in err and "usage:" not in err


def test_a_file_replaced_in_place_keeps_its_link_and_its_permissions(tmp_path):
    """A config holding a token, private to its owner and linked from elsewhere: rewritten, it stays both."""
    from realtime.files import write_atomic

    real, link = tmp_path / "real.toml", tmp_path / "link.toml"
    real.write_text('token = "s3cret"\n')
    real.chmod(0o600)
    link.symlink_to(real)
    write_atomic(link, b'token = "s3cret"\n[midi]\n')
    assert link.is_symlink() and real.read_text().endswith("[midi]\n")
    assert real.stat().st_mode & 0o777 == 0o600
